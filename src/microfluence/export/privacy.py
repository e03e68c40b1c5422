"""Exports for people's rights over their data: one account's follower sample, and everything
held about one creator.

* ``export_follower_sample``: the stored sample of one account (other people's profiles), as CSV,
  JSON or JSON Lines, written by the same writer as the other exports (streamed in batches).
* ``creator_record``: one JSON document with everything the workspace holds about a creator —
  the creator, their accounts with every snapshot, post (with its comments and computed
  metrics), follower-sample row, computed metric, tier and evaluation label — and where they
  appear in others' data: comments their handles wrote, and rows of other accounts' follower
  samples under their handles. Mentions inside captions are not searched. And what the
  relationship side holds (``relationship``): the relationship record (phone, postal address,
  tags, rating, do-not-contact, partner status and perks), every deal with its campaign, notes,
  events (with their details), submissions and gifts (with the shipping address), the discount
  codes and tracking links made for them, the contact audit log's entries about them, what the
  creator portal holds (``portal_personal_data``: the shipping addresses given there, the
  submissions, when their portal links were made and used), and the rows about them or their
  deals of any other table with a ``creator_id`` or ``deal_id`` column (``other_tables``, found
  in the database itself: the outreach messages sent to them with their recipient address and
  body, their sequence enrolments …).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy import Connection, Select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign, Deal, Gift
from microfluence.catalog.accounts import find_account
from microfluence.catalog.creators import find_creator
from microfluence.export.tables import _batches, _write
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import (
    Account,
    AccountSnapshot,
    Comment,
    Creator,
    EvaluationLabel,
    Follower,
    Post,
    Workspace,
    utcnow,
)
from microfluence.metrics.tables import AccountMetric, AccountTier, PostMetric
from microfluence.relationships.audit import Actor, log
from microfluence.relationships.portal import portal_personal_data
from microfluence.relationships.privacy import other_tables, rows_about
from microfluence.relationships.tables import (
    ContactAudit,
    CreatorRelation,
    DealEvent,
    Submission,
)
from microfluence.tracking.tables import DiscountCode, TrackingLink

RECORD_FORMAT = "microfluence.creator-record/1"
_HIDDEN = {"workspace_id"}


def follower_sample_query(workspace_id: int, account_id: int) -> Select:
    """Every stored field of one account's follower sample, in the order it was stored."""
    table = Follower.__table__
    columns = [c for c in table.columns if c.name not in _HIDDEN | {"account_id"}]
    return (
        sa.select(*columns)
        .where(table.c.workspace_id == workspace_id, table.c.account_id == account_id)
        .order_by(table.c.id)
    )


def export_follower_sample(
    store: Store, workspace_id: int, account_id: int, fmt: str, output: Path | IO[bytes]
) -> int:
    """Write one account's follower sample to ``output``; how many rows (NotFoundError for an
    account of another workspace)."""
    with store.session() as session:
        find_account(session, workspace_id, account_id)

    def query(_conn: Connection, ws: int) -> Select:
        return follower_sample_query(ws, account_id)

    batches = _batches(store, query, workspace_id)
    if isinstance(output, Path):
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("wb") as handle:
            return _write(batches, fmt, handle)
    return _write(batches, fmt, output)


# --- everything about one creator -----------------------------------------------------------


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat() + "Z"  # stored in UTC, without a zone
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # money, exact, as the API writes it
    return value


def _rows(session: Session, query: Select, hidden: Iterable[str] = ()) -> list[dict[str, Any]]:
    skip = _HIDDEN | set(hidden)
    return [
        {k: _value(v) for k, v in row._mapping.items() if k not in skip}
        for row in session.execute(query)
    ]


def _by(rows: list[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row.pop(key), []).append(row)
    return grouped


def creator_record(
    session: Session, workspace_id: int, creator_id: int, actor: Actor | None = None
) -> dict[str, Any]:
    """Everything the workspace holds about one creator, as one JSON-ready document (see the
    module's docstring); NotFoundError for a creator of another workspace. With ``actor``, the
    export is logged in the contact audit log (the faces pass who asked)."""
    find_creator(session, workspace_id, creator_id)
    if actor is not None:
        log(session, workspace_id, creator_id, actor, "export", ["record"])
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None
    tables = {
        name: model.__table__
        for name, model in (
            ("creator", Creator),
            ("account", Account),
            ("snapshot", AccountSnapshot),
            ("post", Post),
            ("comment", Comment),
            ("follower", Follower),
            ("metric", AccountMetric),
            ("tier", AccountTier),
            ("post_metric", PostMetric),
            ("label", EvaluationLabel),
        )
    }
    t = tables
    creator = _rows(session, sa.select(t["creator"]).where(t["creator"].c.id == creator_id))[0]
    account_ids = list(
        session.scalars(
            sa.select(Account.id)
            .where(Account.workspace_id == workspace_id, Account.creator_id == creator_id)
            .order_by(Account.platform, Account.handle)
        )
    )
    accounts = _rows(
        session,
        sa.select(t["account"])
        .where(t["account"].c.id.in_(account_ids))
        .order_by(t["account"].c.platform, t["account"].c.handle),
        hidden=("creator_id",),
    )

    def of_accounts(name: str, order: Any, hidden: Iterable[str] = ()) -> dict[Any, list[Any]]:
        table = t[name]
        query = (
            sa.select(table)
            .where(table.c.workspace_id == workspace_id, table.c.account_id.in_(account_ids))
            .order_by(table.c.account_id, order)
        )
        return _by(_rows(session, query, hidden), "account_id")

    snapshots = of_accounts("snapshot", t["snapshot"].c.captured_at)
    posts = of_accounts("post", t["post"].c.posted_at)
    followers = of_accounts("follower", t["follower"].c.id)
    metrics = of_accounts("metric", t["metric"].c.metric, hidden=("id", "run_id"))
    tiers = of_accounts("tier", t["tier"].c.scheme, hidden=("id", "run_id"))
    labels = of_accounts("label", t["label"].c.label, hidden=("id",))
    post_ids = [p["id"] for rows in posts.values() for p in rows]
    comment = t["comment"]
    comments = _by(
        _rows(
            session,
            sa.select(comment)
            .where(comment.c.workspace_id == workspace_id, comment.c.post_id.in_(post_ids))
            .order_by(comment.c.post_id, comment.c.posted_at, comment.c.id),
        ),
        "post_id",
    )
    post_metric = t["post_metric"]
    post_metrics = {
        row.pop("post_id"): row
        for row in _rows(
            session,
            sa.select(post_metric).where(
                post_metric.c.workspace_id == workspace_id, post_metric.c.post_id.in_(post_ids)
            ),
            hidden=("account_id", "run_id"),
        )
    }
    for account in accounts:
        aid = account["id"]
        account_posts = posts.get(aid, [])
        for post in account_posts:
            post["comments"] = comments.get(post["id"], [])
            post["metrics"] = post_metrics.get(post["id"])
        account.update(
            snapshots=snapshots.get(aid, []),
            posts=account_posts,
            follower_sample=followers.get(aid, []),
            metrics=metrics.get(aid, []),
            tiers=tiers.get(aid, []),
            evaluation_labels=labels.get(aid, []),
        )
    return {
        "format": RECORD_FORMAT,
        "exported_at": _value(utcnow()),
        "workspace": workspace.name,
        "creator": creator,
        "accounts": accounts,
        "appears_in": _appearances(session, workspace_id, account_ids),
        "relationship": _relationship(session, workspace_id, creator_id),
    }


def _appearances(
    session: Session, workspace_id: int, account_ids: list[int]
) -> dict[str, list[dict[str, Any]]]:
    """Where the creator's handles appear in data about other accounts of the workspace."""
    handles = session.execute(
        sa.select(Account.platform, Account.handle).where(Account.id.in_(account_ids))
    ).all()
    if not handles:
        return {"comments": [], "follower_samples": []}
    comment, follower = Comment.__table__, Follower.__table__
    comments = _rows(
        session,
        sa.select(
            Account.platform, Account.handle.label("on_account"), Post.platform_post_id, comment
        )
        .join(Post, Post.id == comment.c.post_id)
        .join(Account, Account.id == Post.account_id)
        .where(
            comment.c.workspace_id == workspace_id,
            comment.c.author_handle.in_({h for _, h in handles}),
            Account.id.not_in(account_ids),
        )
        .order_by(comment.c.id),
    )
    pairs = [sa.and_(Account.platform == p, follower.c.username == h) for p, h in handles]
    samples = _rows(
        session,
        sa.select(Account.platform, Account.handle.label("of_account"), follower)
        .join(Account, Account.id == follower.c.account_id)
        .where(
            follower.c.workspace_id == workspace_id,
            Account.id.not_in(account_ids),
            sa.or_(*pairs),
        )
        .order_by(follower.c.id),
        hidden=("account_id",),
    )
    return {"comments": comments, "follower_samples": samples}


def _of_creator(session: Session, model: Any, workspace_id: int, creator_id: int) -> list[Any]:
    table = model.__table__
    return _rows(
        session,
        sa.select(table)
        .where(table.c.workspace_id == workspace_id, table.c.creator_id == creator_id)
        .order_by(table.c.id),
        hidden=("creator_id",),
    )


def _of_deals(session: Session, model: Any, workspace_id: int, deal_ids: list[int]) -> dict:
    table = model.__table__
    query = (
        sa.select(table)
        .where(table.c.workspace_id == workspace_id, table.c.deal_id.in_(deal_ids))
        .order_by(table.c.deal_id, table.c.id)
    )
    return _by(_rows(session, query), "deal_id")


def _relationship(session: Session, workspace_id: int, creator_id: int) -> dict[str, Any]:
    """The relationship record, the deals with their history, codes, links and audit entries."""
    relation = _of_creator(session, CreatorRelation, workspace_id, creator_id)
    deal = Deal.__table__
    deals = _rows(
        session,
        sa.select(deal, Campaign.name.label("campaign"))
        .join(Campaign, Campaign.id == deal.c.campaign_id)
        .where(deal.c.workspace_id == workspace_id, deal.c.creator_id == creator_id)
        .order_by(deal.c.id),
        hidden=("creator_id",),
    )
    deal_ids = [d["id"] for d in deals]
    events = _of_deals(session, DealEvent, workspace_id, deal_ids)
    submissions = _of_deals(session, Submission, workspace_id, deal_ids)
    gifts = _of_deals(session, Gift, workspace_id, deal_ids)
    for d in deals:
        d.update(
            events=events.get(d["id"], []),
            submissions=submissions.get(d["id"], []),
            gifts=gifts.get(d["id"], []),
        )
    return {
        "record": relation[0] if relation else None,
        "deals": deals,
        "discount_codes": _of_creator(session, DiscountCode, workspace_id, creator_id),
        "tracking_links": _of_creator(session, TrackingLink, workspace_id, creator_id),
        "contact_audit": _of_creator(session, ContactAudit, workspace_id, creator_id),
        # What the portal holds: the shipping addresses given there, submissions, its links.
        "portal_personal_data": portal_personal_data(session, workspace_id, creator_id),
        "other_tables": {
            table.name: _rows(
                session,
                sa.select(table)
                .where(rows_about(table, workspace_id, creator_id, deal_ids))
                .order_by(table.c.id),
            )
            for table in other_tables(session)
        },
    }


def write_creator_record(record: dict[str, Any], out: IO[bytes]) -> None:
    out.write(json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8"))
    out.write(b"\n")
