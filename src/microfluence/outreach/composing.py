"""Composing messages: a template rendered for each deal, with the unsubscribe link in every
body (appended when the template does not place ``{{ unsubscribe_link }}``), and the reason a
creator is skipped (no e-mail address, do-not-contact)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from microfluence.outreach.fields import PREVIEW_PORTAL, UNSENT_PORTAL, portal_link, recipients
from microfluence.outreach.mail import check_recipient
from microfluence.outreach.tables import MessageTemplate
from microfluence.outreach.templates import check_template, fields_used, render
from microfluence.outreach.unsubscribe import Links
from microfluence.relationships.contact import do_not_contact_ids

NO_EMAIL = "the creator has no e-mail address"
DO_NOT_CONTACT = "the creator is do-not-contact"
FOOTER = "\n\n--\nTo stop receiving these messages: {link}\n"


@dataclass(frozen=True)
class Draft:
    """A message as it would be sent: to whom, what, or why not."""

    deal_id: int
    creator_id: int
    to: str | None
    subject: str
    body: str
    unsubscribe_url: str
    skip_reason: str | None  # None: it goes out


def with_footer(body: str, link: str) -> str:
    """The body, with the unsubscribe link appended unless the template placed it."""
    if link in body:
        return body
    return body.rstrip("\n") + FOOTER.format(link=link)


def _address(email: str | None) -> str | None:
    if not email:
        return None
    try:
        return check_recipient(email)
    except (ValueError, IndexError):
        return None


def compose(
    session: Session,
    workspace_id: int,
    template: MessageTemplate,
    deal_ids: Sequence[int],
    links: Links,
    *,
    make_portal_links: bool = True,
) -> list[Draft]:
    """The template rendered for each deal (all or none: a template that cannot render for one
    deal refuses the batch); creators without an address or do-not-contact come back with the
    reason they are skipped. A template using ``{{ portal_link }}`` makes a portal link for
    each message that goes out (in the caller's transaction), none for a skipped one, and none
    at all when ``make_portal_links`` is false (a preview, a dry run)."""
    need_portal = "portal_link" in (
        fields_used(template.subject, "subject") | fields_used(template.body, "body")
    )
    people = recipients(session, workspace_id, deal_ids, links)
    blocked = do_not_contact_ids(session, workspace_id)
    drafts = []
    for person in people:
        if need_portal:
            goes = person.creator_id not in blocked and _address(person.email) is not None
            if not make_portal_links:
                person.fields["portal_link"] = PREVIEW_PORTAL
            elif goes:
                person.fields["portal_link"] = portal_link(
                    session, workspace_id, person.deal_id, links
                )
            else:
                person.fields["portal_link"] = UNSENT_PORTAL
        subject = render(template.subject, person.fields, "subject")
        link = person.fields["unsubscribe_link"]
        body = with_footer(render(template.body, person.fields, "body"), link)
        to = _address(person.email)
        reason = None
        if person.creator_id in blocked:
            reason = DO_NOT_CONTACT
        elif to is None:
            reason = NO_EMAIL
        drafts.append(
            Draft(
                deal_id=person.deal_id,
                creator_id=person.creator_id,
                to=to,
                subject=" ".join(subject.split())[:300],
                body=body,
                unsubscribe_url=link,
                skip_reason=reason,
            )
        )
    return drafts


def preview(  # noqa: PLR0913  a template (saved, or being edited) and the deal to show it for
    session: Session,
    workspace_id: int,
    deal_id: int,
    links: Links,
    *,
    template: MessageTemplate | None = None,
    subject: str | None = None,
    body: str | None = None,
) -> Draft:
    """The message a template would make for a deal, nothing sent or stored: a saved template,
    or the subject and body being edited (checked by the same rules as a save)."""
    if template is None:
        subject, body = check_template(subject or "", body or "")
        template = MessageTemplate(workspace_id=workspace_id, subject=subject, body=body)
    return compose(session, workspace_id, template, [deal_id], links, make_portal_links=False)[0]
