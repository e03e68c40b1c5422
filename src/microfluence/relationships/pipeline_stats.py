"""Pipeline statistics of a campaign, from its deals and their stage history (``deal_events``):
deals per stage, time in stage (median and mean over every stay, an open stay counted up to
now), and conversion between consecutive stages of the main path. Formulas and their sources
are in docs/relationships.md, "Pipeline statistics".

Two queries read the deals and their stage moves; the stays, their lengths and the furthest
stage each deal reached are computed by Polars over the whole campaign at once.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import find_campaign
from microfluence.campaigns.tables import PIPELINE_STAGES, STAGES, Deal
from microfluence.kernel.store.tables import utcnow
from microfluence.relationships.schemas import Conversion, StageTime, Stats
from microfluence.relationships.tables import DealEvent

DAY_US = 86_400 * 1_000_000
RANK = {stage: rank for rank, stage in enumerate(PIPELINE_STAGES)}
_STAY = {"deal_id": pl.Int64, "stage": pl.String, "at": pl.Datetime("us"), "order": pl.Int64}


def stays(deals: pl.DataFrame, moves: pl.DataFrame, now: dt.datetime) -> pl.DataFrame:
    """Every stay of every deal in a stage: ``deal_id, stage, at, until, days, open``.

    ``deals``: ``deal_id, created_at, stage``; ``moves``: ``deal_id, id, at, from_stage,
    to_stage`` (stage events). A deal's first stay is in the stage its first move left (its
    current stage when it never moved), from its creation — or from its first move, when that
    is dated earlier (a move recorded with an earlier ``at``). Each move starts a stay in its
    ``to_stage``; a stay ends when the next one starts, or is open until ``now``.
    """
    first = (
        moves.sort("at", "id")
        .group_by("deal_id")
        .agg(
            pl.col("from_stage").first().alias("first_stage"), pl.col("at").min().alias("first_at")
        )
    )
    starts = (
        deals.join(first, on="deal_id", how="left")
        .select(
            "deal_id",
            pl.coalesce("first_stage", "stage").alias("stage"),
            pl.min_horizontal("created_at", "first_at").alias("at"),
            pl.lit(-1, pl.Int64).alias("order"),
        )
        .cast(_STAY)
    )
    entered = moves.select(
        "deal_id", pl.col("to_stage").alias("stage"), "at", pl.col("id").alias("order")
    ).cast(_STAY)
    now_us = pl.lit(now).cast(pl.Datetime("us"))
    return (
        pl.concat([starts, entered])
        .sort("deal_id", "at", "order")
        .with_columns(pl.col("at").shift(-1).over("deal_id").alias("until"))
        .with_columns(
            pl.col("until").is_null().alias("open"),
            pl.col("until").fill_null(now_us),
        )
        .with_columns(
            (
                (pl.col("until") - pl.col("at")).dt.total_microseconds().clip(lower_bound=0)
                / DAY_US
            ).alias("days")
        )
        .drop("order")
    )


def stage_times(all_stays: pl.DataFrame, current: dict[str, int]) -> list[StageTime]:
    """Median and mean days per stage over its stays, in the order of STAGES."""
    per_stage = all_stays.group_by("stage").agg(
        pl.len().alias("stays"),
        pl.col("open").sum().alias("open_stays"),
        pl.col("days").median().alias("median_days"),
        pl.col("days").mean().alias("mean_days"),
    )
    found = {row["stage"]: row for row in per_stage.iter_rows(named=True)}
    return [
        StageTime(
            stage=stage,
            deals=current.get(stage, 0),
            stays=int(found[stage]["stays"]) if stage in found else 0,
            open_stays=int(found[stage]["open_stays"]) if stage in found else 0,
            median_days=found[stage]["median_days"] if stage in found else None,
            mean_days=found[stage]["mean_days"] if stage in found else None,
        )
        for stage in STAGES
    ]


def reached_counts(all_stays: pl.DataFrame, deals: int) -> dict[str, int]:
    """How many deals reached each main stage: a deal reached stage k when the furthest main
    stage it ever entered is k or later (a deal moved straight from contacted to agreed has
    passed replied and negotiating). Every deal reached ``prospect``."""
    furthest = (
        all_stays.with_columns(
            pl.col("stage").replace_strict(RANK, default=0, return_dtype=pl.Int64).alias("rank")
        )
        .group_by("deal_id")
        .agg(pl.col("rank").max())
    )
    at_least = furthest.select(
        [(pl.col("rank") >= k).sum().alias(stage) for stage, k in RANK.items()]
    )
    counts = at_least.row(0, named=True) if furthest.height else dict.fromkeys(RANK, 0)
    counts = {stage: int(n or 0) for stage, n in counts.items()}
    counts[PIPELINE_STAGES[0]] = deals
    return counts


def conversions(reached: dict[str, int]) -> list[Conversion]:
    pairs = zip(PIPELINE_STAGES, PIPELINE_STAGES[1:], strict=False)
    return [
        Conversion(
            from_stage=a,
            to_stage=b,
            reached_from=reached[a],
            reached_to=reached[b],
            rate=reached[b] / reached[a] if reached[a] else None,
        )
        for a, b in pairs
    ]


def pipeline_stats(
    session: Session, workspace_id: int, campaign_id: int, *, now: dt.datetime | None = None
) -> Stats:
    """The campaign's pipeline statistics (docs/relationships.md, "Pipeline statistics")."""
    find_campaign(session, workspace_id, campaign_id)
    now = now or utcnow()
    in_campaign = (Deal.workspace_id == workspace_id, Deal.campaign_id == campaign_id)
    # Core execution on the session's connection: no ORM row loading for plain columns.
    run = session.connection().execute
    deals = pl.DataFrame(
        run(select(Deal.id, Deal.created_at, Deal.stage).where(*in_campaign)).all(),
        schema={"deal_id": pl.Int64, "created_at": pl.Datetime("us"), "stage": pl.String},
        orient="row",
    )
    moves = pl.DataFrame(
        run(
            select(
                DealEvent.deal_id,
                DealEvent.id,
                DealEvent.at,
                DealEvent.from_stage,
                DealEvent.to_stage,
            )
            .join(Deal, Deal.id == DealEvent.deal_id)
            .where(*in_campaign, DealEvent.workspace_id == workspace_id, DealEvent.kind == "stage")
        ).all(),
        schema={
            "deal_id": pl.Int64,
            "id": pl.Int64,
            "at": pl.Datetime("us"),
            "from_stage": pl.String,
            "to_stage": pl.String,
        },
        orient="row",
    )
    current = dict(
        run(select(Deal.stage, func.count()).where(*in_campaign).group_by(Deal.stage)).all()
    )
    all_stays = stays(deals, moves, now)
    reached = reached_counts(all_stays, deals.height)
    return Stats(
        campaign_id=campaign_id,
        deals=deals.height,
        at=now,
        stages=stage_times(all_stays, {k: int(v) for k, v in current.items()}),
        reached=reached,
        conversions=conversions(reached),
        reached_paid=reached[PIPELINE_STAGES[-1]] / deals.height if deals.height else None,
    )
