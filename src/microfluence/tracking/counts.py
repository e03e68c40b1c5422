"""Click counts per link, creator or campaign, in all or per day — one SQL group-by each.

For the clicks of a group (docs/tracking.md, "Counts"):

    clicks        = number of its clicks with is_bot = false
    unique_clicks = number of its clicks with is_unique = true   (never a bot's)
    bot_clicks    = number of its clicks with is_bot = true       (bots, previews, prefetches)

Days are UTC calendar days of ``clicked_at``. Clicks reach ``link_clicks`` from the click log
within ``click_move_seconds`` of the redirect.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from sqlalchemy import String, case, cast, false, func, select, true
from sqlalchemy.orm import Session

from microfluence.kernel.errors import InputError
from microfluence.tracking.tables import LinkClick, TrackingLink

GROUPS = {
    "link": LinkClick.link_id,
    "creator": TrackingLink.creator_id,
    "campaign": TrackingLink.campaign_id,
}
COUNT_SCHEMA = {"clicks": pl.Int64, "unique_clicks": pl.Int64, "bot_clicks": pl.Int64}


def _tally() -> list[Any]:
    return [
        func.sum(case((LinkClick.is_bot == false(), 1), else_=0)).label("clicks"),
        func.sum(case((LinkClick.is_unique == true(), 1), else_=0)).label("unique_clicks"),
        func.sum(case((LinkClick.is_bot == true(), 1), else_=0)).label("bot_clicks"),
    ]


def click_counts(
    session: Session,
    workspace_id: int,
    *,
    by: str = "link",
    daily: bool = False,
    ids: list[int] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> pl.DataFrame:
    """Counts per ``by`` id (``link``, ``creator`` or ``campaign``), and per ``day`` with
    ``daily``; ``ids`` limits the groups, ``since`` (inclusive) and ``until`` (exclusive) the
    time. Columns: ``{by}_id``, [``day``,] ``clicks``, ``unique_clicks``, ``bot_clicks``."""
    if by not in GROUPS:
        raise InputError(f"must be one of {', '.join(GROUPS)}", field="by", value=by)
    key = GROUPS[by].label(f"{by}_id")
    keys: list[Any] = [key]
    if daily:
        keys.append(cast(func.date(LinkClick.clicked_at), String).label("day"))
    query = (
        select(*keys, *_tally())
        .join(TrackingLink, TrackingLink.id == LinkClick.link_id)
        .where(LinkClick.workspace_id == workspace_id, TrackingLink.workspace_id == workspace_id)
        .group_by(*keys)
        .order_by(*keys)
    )
    if ids is not None:
        query = query.where(GROUPS[by].in_(ids))
    if since is not None:
        query = query.where(LinkClick.clicked_at >= since)
    if until is not None:
        query = query.where(LinkClick.clicked_at < until)
    rows = session.execute(query).all()
    schema: dict[str, Any] = {f"{by}_id": pl.Int64}
    if daily:
        schema["day"] = pl.String
    frame = pl.DataFrame(rows, schema={**schema, **COUNT_SCHEMA}, orient="row")
    if daily:
        frame = frame.with_columns(pl.col("day").str.slice(0, 10).str.to_date("%Y-%m-%d"))
    return frame
