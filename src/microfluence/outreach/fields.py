"""The fields a template is given for a deal, read for many deals in a few queries.

* ``name`` — the creator's name (else the account's display name, else the handle);
  ``first_name`` its first word;
* ``handle``, ``platform`` — the deal's account (else the creator's largest account);
* ``niche`` — the account's category (else the creator's);
* ``recent_post`` — the URL and the first 140 characters of the caption of the account's
  latest post;
* ``offer`` — the deal's terms as text: fee, gifted product, commission;
* ``brand`` — the workspace's display name; ``sender`` — the From name (else address);
* ``unsubscribe_link`` — the creator's signed link (outreach.unsubscribe);
* ``portal_link`` — a new link to the deal's creator portal (relationships.portal), made
  under the public base URL when the message is composed for sending; a preview shows
  :data:`PREVIEW_PORTAL` instead and makes none.

Every value is a plain string: a template reaches nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign, Deal
from microfluence.kernel.errors import NotFoundError
from microfluence.kernel.store.tables import Account, Creator, Post, Workspace
from microfluence.outreach.settings import smtp_config
from microfluence.outreach.unsubscribe import Links
from microfluence.relationships.portal import create_portal_link

CAPTION_EXCERPT = 140
PORTAL_CREATOR = "outreach"  # portal_links.created_by of the links made for messages
PREVIEW_PORTAL = "(a new portal link for this deal, made when the message is sent)"
UNSENT_PORTAL = "(no portal link: this message is not sent)"


@dataclass(frozen=True)
class Recipient:
    """One deal to write to: who, where, and the template's fields."""

    deal_id: int
    creator_id: int
    email: str | None
    fields: dict[str, str]


def _money(value: Decimal | None, currency: str) -> str | None:
    if value is None or value == 0:
        return None
    return f"{value:.2f} {currency}"


def offer_text(flat_fee: Any, product_value: Any, commission_rate: Any, currency: str) -> str:
    """The deal's terms in words: ``a fee of 250.00 USD, gifted product worth 80.00 USD and
    10% commission on sales`` (empty when the deal has none yet)."""
    parts = []
    fee = _money(flat_fee, currency)
    if fee:
        parts.append(f"a fee of {fee}")
    product = _money(product_value, currency)
    if product:
        parts.append(f"gifted product worth {product}")
    if commission_rate:
        rate = (Decimal(commission_rate) * 100).normalize()
        parts.append(f"{rate:f}% commission on sales")
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1]
    return parts[0] if parts else ""


def _accounts(session: Session, workspace_id: int, deals: list[Any]) -> dict[int, Any]:
    """The account each deal speaks to: its own, else the creator's largest."""
    creator_ids = {d.creator_id for d in deals}
    rank = (
        func.row_number()
        .over(
            partition_by=Account.creator_id,
            order_by=(func.coalesce(Account.followers, -1).desc(), Account.id),
        )
        .label("rank")
    )
    ranked = (
        select(Account.id, Account.creator_id, rank)
        .where(Account.workspace_id == workspace_id, Account.creator_id.in_(creator_ids))
        .subquery()
    )
    largest = dict(
        session.execute(select(ranked.c.creator_id, ranked.c.id).where(ranked.c.rank == 1)).all()
    )
    wanted = {d.account_id or largest.get(d.creator_id) for d in deals} - {None}
    rows = session.execute(
        select(
            Account.id,
            Account.platform,
            Account.handle,
            Account.display_name,
            Account.category,
            Account.email,
        ).where(Account.workspace_id == workspace_id, Account.id.in_(wanted))
    ).all()
    by_id = {row.id: row for row in rows}
    return {d.id: by_id.get(d.account_id or largest.get(d.creator_id)) for d in deals}


def _latest_posts(session: Session, workspace_id: int, account_ids: set[int]) -> dict[int, Any]:
    rank = (
        func.row_number()
        .over(partition_by=Post.account_id, order_by=(Post.posted_at.desc(), Post.id.desc()))
        .label("rank")
    )
    ranked = (
        select(Post.account_id, Post.url, Post.caption, rank)
        .where(Post.workspace_id == workspace_id, Post.account_id.in_(account_ids))
        .subquery()
    )
    rows = session.execute(select(ranked).where(ranked.c.rank == 1)).all()
    return {row.account_id: row for row in rows}


def _post_text(post: Any) -> str:
    if post is None:
        return ""
    caption = " ".join((post.caption or "").split())
    if len(caption) > CAPTION_EXCERPT:
        caption = caption[: CAPTION_EXCERPT - 1].rstrip() + "…"
    parts = [post.url or "", f"“{caption}”" if caption else ""]
    return " — ".join(p for p in parts if p)


def recipients(
    session: Session,
    workspace_id: int,
    deal_ids: Sequence[int],
    links: Links,
) -> list[Recipient]:
    """The recipients of these deals of the workspace, in the order given; NotFoundError
    naming the first id that is not a deal of the workspace. ``portal_link`` is not among the
    fields: the composer adds it (:func:`portal_link`) to the messages that go out."""
    wanted = list(dict.fromkeys(deal_ids))
    deals = session.execute(
        select(
            Deal.id,
            Deal.creator_id,
            Deal.account_id,
            Deal.flat_fee,
            Deal.product_value,
            Deal.commission_rate,
            Campaign.currency,
            Creator.name,
            Creator.email,
            Creator.category,
        )
        .join(Campaign, Campaign.id == Deal.campaign_id)
        .join(Creator, Creator.id == Deal.creator_id)
        .where(Deal.workspace_id == workspace_id, Deal.id.in_(wanted))
    ).all()
    found = {d.id: d for d in deals}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFoundError(f"no deal with id {missing[0]} in this workspace")
    workspace = session.get_one(Workspace, workspace_id)
    config = smtp_config(workspace)
    sender = (config.from_name or config.from_address) if config else ""
    brand = workspace.display_name or workspace.name
    accounts = _accounts(session, workspace_id, deals)
    posts = _latest_posts(session, workspace_id, {a.id for a in accounts.values() if a})
    out = []
    for deal_id in wanted:
        deal, account = found[deal_id], accounts[deal_id]
        out.append(_recipient(workspace_id, deal, account, posts, links, brand, sender))
    return out


def portal_link(session: Session, workspace_id: int, deal_id: int, links: Links) -> str:
    """A new link to the deal's portal, under the links' public base URL (in the caller's
    transaction: a batch refused later makes none)."""
    made = create_portal_link(
        session, workspace_id, deal_id, created_by=PORTAL_CREATOR, base=links.base_url
    )
    return made.url


def _recipient(  # noqa: PLR0913  one row's pieces, read in bulk by the caller
    workspace_id: int,
    deal: Any,
    account: Any,
    posts: dict[int, Any],
    links: Links,
    brand: str,
    sender: str,
) -> Recipient:
    handle = account.handle if account else ""
    name = deal.name or (account.display_name if account else None) or handle
    values = {
        "name": name,
        "first_name": (name.split() or [""])[0],
        "handle": handle,
        "platform": account.platform if account else "",
        "niche": (account.category if account else None) or deal.category or "",
        "recent_post": _post_text(posts.get(account.id) if account else None),
        "offer": offer_text(deal.flat_fee, deal.product_value, deal.commission_rate, deal.currency),
        "unsubscribe_link": links.unsubscribe_url(workspace_id, deal.creator_id),
        "brand": brand,
        "sender": sender,
    }
    email = deal.email or (account.email if account else None)
    return Recipient(deal.id, deal.creator_id, (email or "").strip() or None, values)
