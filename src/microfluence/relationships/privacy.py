"""Erasing a creator's personal data on request (docs/relationships.md, "Privacy").

In one transaction: the creator's name becomes ``erased creator #ID``; their e-mail address,
notes, country and language are cleared; each account's handle becomes ``erased-ACCOUNT_ID``
and its former handles, URL, display name, bio, e-mail and platform id are cleared; their posts
lose caption, URL and location (the counts stay: KPIs are kept); the follower samples of their
accounts, and rows of other samples under their handles, are deleted; comments they wrote lose
author and text; the relationship record loses phone, postal address, tags, rating and perks'
note, and is do-not-contact for good; every deal keeps its money, stage and history but loses
its notes; deal events, submissions, gifts, tracking links and import summaries are scrubbed of
contact data (keys such as ``email`` or ``address``, and any text holding the name, an address,
a handle or the phone number — including the lines of every shipping address given for a gift in
the portal). What the creator portal holds goes in the same transaction
(relationships.portal.erase_portal_personal_data): their portal links are deleted, submissions
lose their notes. Keyed hashes of the e-mail addresses and handles are kept
(relationships.tombstones) so a re-import of the same person is flagged do-not-contact.

Any other table of the store with a ``creator_id`` or ``deal_id`` column (found in the database
itself, so tables of modules merged later are covered) has its text and JSON columns scrubbed
the same way in the rows about the creator or their deals, and its address columns
(:data:`ADDRESS_COLUMNS`, as the outreach messages' ``to_address``) are cleared whole. Modules
that must do more (delete rows) add their own step to :data:`ERASERS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Deal, Gift
from microfluence.catalog.creators import find_creator
from microfluence.catalog.schemas import UtcDateTime
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import (
    Account,
    Comment,
    Creator,
    Follower,
    ImportRun,
    Post,
    utcnow,
)
from microfluence.relationships.audit import Actor, log
from microfluence.relationships.contact import relation_of
from microfluence.relationships.portal import erase_portal_personal_data
from microfluence.relationships.tables import ContactAudit, DealEvent, Submission
from microfluence.relationships.tombstones import bury, identity_keys
from microfluence.tracking.tables import TrackingLink

ERASED = "[erased]"
ERASED_REASON = "personal data erased on request"
# Keys of JSON details whose values are contact data, whatever they hold.
CONTACT_KEYS = frozenset(
    {
        "email",
        "e-mail",
        "mail",
        "to",
        "from",
        "cc",
        "bcc",
        "reply_to",
        "phone",
        "address",
        "name",
        "full_name",
        "handle",
        "recipient",
        "shipping_address",
    }
)
TERM_MIN = 3  # shorter texts would erase innocent words
IDENTIFYING_ADDRESS = ("name", "line1", "line2", "postal_code", "phone")
# Columns of other modules' tables that hold nothing but an address to reach the person
# (``outreach_messages.to_address``): cleared whole in the rows about the creator, whatever they
# hold, since a message may have gone to an address the creator no longer has on file.
ADDRESS_COLUMNS = frozenset({"email", "to_address", "recipient", "phone", "address"})


@dataclass
class Erasure:
    """What an eraser step needs: who, the deals, and the texts to remove wherever found."""

    workspace_id: int
    creator_id: int
    deal_ids: list[int]
    account_ids: list[int]
    terms: list[str]
    counts: dict[str, int] = field(default_factory=dict)

    def scrub(self, value: Any) -> Any:
        """The value with contact data removed: contact keys' values, and every term."""
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, dict):
            return {
                k: (ERASED if value[k] not in (None, "", [], {}) else value[k])
                if str(k).lower() in CONTACT_KEYS
                else self.scrub(value[k])
                for k in value
            }
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value

    def _text(self, text: str) -> str:
        if not self.terms:
            return text
        # Whole words only: the handle "tom" is erased from "@tom", never from "tomato".
        pattern = "|".join(re.escape(t) for t in self.terms)
        return re.sub(rf"(?<![\w])(?:{pattern})(?![\w])", ERASED, text, flags=re.IGNORECASE)


Eraser = Callable[[Session, Erasure], None]
ERASERS: list[Eraser] = []


class ErasureReport(BaseModel):
    creator_id: int
    erased_at: UtcDateTime
    already_erased: bool
    deals_kept: int
    counts: dict[str, int]


def _terms(
    creator: Creator, accounts: list[Account], phone: str | None, addresses: list[dict[str, Any]]
) -> list[str]:
    """The texts to erase: names, e-mail addresses, handles, phones, and the identifying lines
    of every address held (the record's and the ones given for gifts in the portal)."""
    texts: list[str | None] = [creator.name, creator.email]
    for a in accounts:
        texts += [a.handle, a.email, a.display_name, *(a.previous_handles or [])]
    # The lines that identify a person; a city or country alone does not.
    for address in addresses:
        texts += [str(v) for k, v in (address or {}).items() if k in IDENTIFYING_ADDRESS and v]
    phones = [phone, *(str(a.get("phone") or "") for a in addresses if isinstance(a, dict))]
    texts += phones
    terms = {t.strip() for t in texts if t and len(t.strip()) >= TERM_MIN}
    for number in phones:
        digits = re.sub(r"\D", "", number or "")
        if len(digits) >= 5:
            terms.add(digits)
    # Longest first, so a name is erased whole before a part of it.
    return sorted(terms, key=lambda t: (-len(t), t))


def _scrub_rows(
    session: Session, erasure: Erasure, model: Any, columns: Iterable[str], *where: Any
) -> int:
    """Scrub ``columns`` of the rows of ``model`` (a mapped class or a table) matching
    ``where`` that hold a term or (JSON) a contact key; how many rows changed. Only the
    matching rows are read."""
    table = getattr(model, "__table__", model)
    columns = list(columns)
    texts = [sa.func.lower(sa.cast(table.c[c], sa.Text)) for c in columns]
    needles = [t.lower() for t in erasure.terms] + [f'"{k}"' for k in CONTACT_KEYS]
    hit = sa.or_(*(t.contains(n, autoescape=True) for t in texts for n in needles))
    rows = session.execute(
        select(table.c.id, *(table.c[c] for c in columns)).where(*where, hit)
    ).all()
    changes = []
    for row in rows:
        new = {c: erasure.scrub(row[i + 1]) for i, c in enumerate(columns)}
        if any(new[c] != row[i + 1] for i, c in enumerate(columns)):
            changes.append({"_id": row.id, **new})
    if changes:
        session.execute(update(table).where(table.c.id == sa.bindparam("_id")), changes)
    return len(changes)


# Tables whose rows about the creator are handled one by one above; any other table of the
# store with a ``creator_id`` or ``deal_id`` column (messages, portal links, tasks … added by
# other modules) is scrubbed, and exported, as it is found in the database.
HANDLED = frozenset(
    {
        "creators",
        "accounts",
        "account_snapshots",
        "posts",
        "comments",
        "followers",
        "creator_relations",
        "deals",
        "deal_events",
        "deal_submissions",
        "gifts",
        "tracking_links",
        "import_runs",
        "contact_audit",
        "creator_tombstones",
        "discount_codes",
        "orders",
        "deliverables",
        "link_clicks",
        "account_metrics",
        "account_tiers",
        "post_metrics",
        "evaluation_labels",
    }
)
TEXT_TYPES = (sa.String, sa.Text, sa.JSON)


def other_tables(session: Session) -> list[sa.Table]:
    """The store's tables, read from the database itself, that hold rows about a creator or
    their deals and are not handled one by one (:data:`HANDLED`)."""
    found = sa.MetaData()
    found.reflect(bind=session.connection())
    return [
        t
        for t in found.sorted_tables
        if t.name not in HANDLED
        and "workspace_id" in t.c
        and "id" in t.c
        and ("creator_id" in t.c or "deal_id" in t.c)
    ]


def rows_about(table: sa.Table, workspace_id: int, creator_id: int, deal_ids: list[int]) -> Any:
    """The condition selecting ``table``'s rows about the creator or one of their deals."""
    about = []
    if "creator_id" in table.c:
        about.append(table.c.creator_id == creator_id)
    if "deal_id" in table.c and deal_ids:
        about.append(table.c.deal_id.in_(deal_ids))
    return sa.and_(table.c.workspace_id == workspace_id, sa.or_(*about) if about else sa.false())


def _other_rows(session: Session, erasure: Erasure) -> None:
    for table in other_tables(session):
        columns = [
            c.name
            for c in table.columns
            if isinstance(c.type, TEXT_TYPES) and not c.primary_key and not c.foreign_keys
        ]
        if not columns:
            continue
        where = rows_about(table, erasure.workspace_id, erasure.creator_id, erasure.deal_ids)
        erasure.counts[table.name] = _scrub_rows(session, erasure, table, columns, where)
        addresses = [c for c in columns if c in ADDRESS_COLUMNS and table.c[c].nullable]
        if addresses:
            session.execute(
                update(table)
                .where(where, sa.or_(*(table.c[c].is_not(None) for c in addresses)))
                .values(dict.fromkeys(addresses))
            )


def _gift_addresses(session: Session, erasure: Erasure) -> list[dict[str, Any]]:
    """The shipping addresses given for the creator's gifts (in the portal or by the team)."""
    if not erasure.deal_ids:
        return []
    rows = session.scalars(
        select(Gift.address).where(
            Gift.workspace_id == erasure.workspace_id, Gift.deal_id.in_(erasure.deal_ids)
        )
    )
    return [a for a in rows if isinstance(a, dict) and a]


def _anonymise_creator(session: Session, erasure: Erasure) -> None:
    ws, cid = erasure.workspace_id, erasure.creator_id
    session.execute(
        update(Creator)
        .where(Creator.workspace_id == ws, Creator.id == cid)
        .values(
            name=f"erased creator #{cid}",
            email=None,
            notes=None,
            country=None,
            language=None,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Account)
        .where(Account.workspace_id == ws, Account.creator_id == cid)
        .values(
            handle=sa.literal("erased-") + sa.cast(Account.id, sa.String),
            previous_handles=None,
            url=None,
            display_name=None,
            bio=None,
            email=None,
            external_id=None,
            country=None,
            language=None,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    erasure.counts["accounts"] = len(erasure.account_ids)
    posts = session.execute(
        update(Post)
        .where(Post.workspace_id == ws, Post.account_id.in_(erasure.account_ids))
        .values(caption=None, url=None, location=None, tagged_handles=None, sponsor_evidence=None)
        .execution_options(synchronize_session=False)
    )
    erasure.counts["posts"] = posts.rowcount or 0


def _third_party_rows(session: Session, erasure: Erasure, handles: list[str]) -> None:
    ws = erasure.workspace_id
    own = session.execute(
        delete(Follower).where(
            Follower.workspace_id == ws, Follower.account_id.in_(erasure.account_ids)
        )
    )
    elsewhere = session.execute(
        delete(Follower).where(Follower.workspace_id == ws, Follower.username.in_(handles))
    )
    erasure.counts["follower_rows"] = (own.rowcount or 0) + (elsewhere.rowcount or 0)
    written = session.execute(
        update(Comment)
        .where(Comment.workspace_id == ws, Comment.author_handle.in_(handles))
        .values(author_handle=None, text=None)
        .execution_options(synchronize_session=False)
    )
    erasure.counts["comments_written"] = written.rowcount or 0
    erasure.counts["comments_scrubbed"] = _scrub_rows(
        session, erasure, Comment, ["text"], Comment.workspace_id == ws
    )


def _deal_rows(session: Session, erasure: Erasure) -> None:
    ws, deals = erasure.workspace_id, erasure.deal_ids
    session.execute(
        update(Deal)
        .where(Deal.workspace_id == ws, Deal.id.in_(deals))
        .values(notes=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(DealEvent)
        .where(
            DealEvent.workspace_id == ws,
            DealEvent.deal_id.in_(deals),
            DealEvent.actor_kind == "creator",
        )
        .values(actor=None)
        .execution_options(synchronize_session=False)
    )
    erasure.counts["events"] = _scrub_rows(
        session,
        erasure,
        DealEvent,
        ["detail"],
        DealEvent.workspace_id == ws,
        DealEvent.deal_id.in_(deals),
    )
    erasure.counts["submissions"] = _scrub_rows(
        session,
        erasure,
        Submission,
        ["url", "note", "review_note"],
        Submission.workspace_id == ws,
        Submission.deal_id.in_(deals),
    )
    gifts = session.execute(
        update(Gift)
        .where(Gift.workspace_id == ws, Gift.deal_id.in_(deals))
        .values(address={}, tracking_number=None)
        .execution_options(synchronize_session=False)
    )
    erasure.counts["gifts"] = gifts.rowcount or 0
    erasure.counts["links"] = _scrub_rows(
        session,
        erasure,
        TrackingLink,
        ["destination", "utm"],
        TrackingLink.workspace_id == ws,
        sa.or_(TrackingLink.creator_id == erasure.creator_id, TrackingLink.deal_id.in_(deals)),
    )
    erasure.counts["import_runs"] = _scrub_rows(
        session, erasure, ImportRun, ["summary", "error"], ImportRun.workspace_id == ws
    )
    erasure.counts["audit_reasons"] = _scrub_rows(
        session,
        erasure,
        ContactAudit,
        ["reason"],
        ContactAudit.workspace_id == ws,
        ContactAudit.creator_id == erasure.creator_id,
    )


def erase_creator(
    session: Session, workspace_id: int, creator_id: int, actor: Actor, *, reason: str
) -> ErasureReport:
    """Erase the creator's personal data (see the module's docstring); deals and KPIs stay.
    Erasing twice does nothing the second time."""
    why = (reason or "").strip()
    if not why or len(why) > 200:
        raise InputError("say why (1 to 200 characters): e.g. the person's request", field="reason")
    creator = find_creator(session, workspace_id, creator_id)
    relation = relation_of(session, workspace_id, creator_id)
    deal_ids = list(
        session.scalars(
            select(Deal.id).where(Deal.workspace_id == workspace_id, Deal.creator_id == creator_id)
        )
    )
    if relation.erased_at is not None:
        return ErasureReport(
            creator_id=creator_id,
            erased_at=relation.erased_at,
            already_erased=True,
            deals_kept=len(deal_ids),
            counts={},
        )
    accounts = list(
        session.scalars(
            select(Account).where(
                Account.workspace_id == workspace_id, Account.creator_id == creator_id
            )
        )
    )
    now = utcnow()
    handles = sorted(
        {a.handle for a in accounts} | {h for a in accounts for h in a.previous_handles or []}
    )
    keys = identity_keys(
        [creator.email, *(a.email for a in accounts)],
        [(a.platform, h) for a in accounts for h in {a.handle, *(a.previous_handles or [])}],
    )
    erasure = Erasure(
        workspace_id=workspace_id,
        creator_id=creator_id,
        deal_ids=deal_ids,
        account_ids=[a.id for a in accounts],
        terms=[],
    )
    erasure.terms = _terms(
        creator,
        accounts,
        relation.phone,
        [relation.address or {}, *_gift_addresses(session, erasure)],
    )
    session.flush()
    erasure.counts["tombstones"] = bury(session, workspace_id, creator_id, keys, now)
    _third_party_rows(session, erasure, handles)
    _deal_rows(session, erasure)
    portal = erase_portal_personal_data(session, workspace_id, creator_id)
    erasure.counts["portal_links_deleted"] = portal["portal_links"]
    _anonymise_creator(session, erasure)
    _other_rows(session, erasure)
    for step in ERASERS:
        step(session, erasure)
    perks = {k: v for k, v in (relation.perks or {}).items() if k != "note"}
    relation.phone = None
    relation.address = {}
    relation.tags = []
    relation.rating = None
    relation.perks = perks
    relation.do_not_contact = True
    relation.do_not_contact_at = relation.do_not_contact_at or now
    relation.do_not_contact_reason = ERASED_REASON
    relation.erased_at = now
    relation.updated_at = now
    log(session, workspace_id, creator_id, actor, "erase", ["record"], reason=why)
    session.flush()
    session.expire_all()
    return ErasureReport(
        creator_id=creator_id,
        erased_at=now,
        already_erased=False,
        deals_kept=len(deal_ids),
        counts=erasure.counts,
    )
