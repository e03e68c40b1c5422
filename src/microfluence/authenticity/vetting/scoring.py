"""The one way signals become scores, shared by the vetting report and its evaluation.

A workspace's scoring context (score settings, brand-safety word lists, tier scheme), the
engagement cohort an account is compared with (the stored metrics of the last
`microfluence score` run when they cover it, else computed from the posts), and the signal
table scored with the Audience Quality Score. The report scores one account, the evaluation a
whole workspace; both go through here so their numbers cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from microfluence.authenticity.signals import brand_safety, engagement
from microfluence.authenticity.signals.frames import (
    AccountFrames,
    StoredEngagement,
    load_cohort_frames,
    load_stored_engagement,
)
from microfluence.authenticity.signals.table import signal_table
from microfluence.authenticity.vetting.score import ScoreSettings, score_accounts
from microfluence.metrics.settings import get_metrics_settings


@dataclass(frozen=True)
class ScoringContext:
    """What a workspace's settings say about scoring."""

    settings: ScoreSettings
    word_lists: Mapping[str, tuple[str, ...]]
    tier_scheme: Any  # the metrics pipeline's tier scheme, or None


@dataclass(frozen=True)
class Cohort:
    """The engagement cohort: per-account engagement of the accounts compared with."""

    frame: pl.DataFrame
    stored: StoredEngagement | None  # None when computed from the posts

    @property
    def source(self) -> str:
        return "computed" if self.stored is None else "stored metrics"


def tier_scheme_of(session: Session, workspace: str) -> Any:
    """The workspace's tier scheme as the metrics pipeline configures it (None if unusable)."""
    try:
        return get_metrics_settings(session, workspace).scheme
    except (AttributeError, KeyError, ValueError):
        return None


def scoring_context(
    session: Session,
    workspace: str,
    settings: Mapping[str, Any] | None,
    brand_safety_overrides: Mapping[str, Any] | None = None,
) -> ScoringContext:
    settings = settings or {}
    return ScoringContext(
        settings=ScoreSettings.from_settings(settings),
        word_lists=brand_safety.word_lists(
            brand_safety_overrides or settings.get(brand_safety.SETTINGS_KEY)
        ),
        tier_scheme=tier_scheme_of(session, workspace),
    )


def stored_cohort(
    conn: sa.Connection,
    workspace_id: int,
    tier_scheme: Any,
    platform: str | None = None,
    account_id: int | None = None,
) -> StoredEngagement | None:
    """The engagement cohort as the metrics pipeline stored it (one query), or None when it
    cannot serve: no finished metrics run, no tier scheme, or ``account_id`` not scored in it
    (imported since) — the caller then computes the cohort from the posts."""
    scheme = getattr(tier_scheme, "name", None)
    if scheme is None:
        return None
    stored = load_stored_engagement(conn, workspace_id, scheme, platform=platform)
    if stored is None:
        return None
    if account_id is not None and not stored.frame["account_id"].is_in([account_id]).any():
        return None
    return stored


def engagement_cohort(
    conn: sa.Connection,
    workspace_id: int,
    tier_scheme: Any,
    *,
    population: AccountFrames | None = None,
    platform: str | None = None,
    account_id: int | None = None,
) -> Cohort:
    """The stored cohort when it serves, else the cohort computed from ``population`` (or,
    when not given, from every account of ``platform`` in the workspace)."""
    stored = stored_cohort(conn, workspace_id, tier_scheme, platform, account_id)
    if stored is not None:
        return Cohort(stored.frame, stored)
    if population is None:
        population = load_cohort_frames(
            conn, workspace_id, platform, cohort_posts=engagement.WINDOW_POSTS
        )
    frame = engagement.account_engagement(
        population.accounts, population.posts, population.snapshots, tier_scheme
    )
    return Cohort(frame, None)


def score_frames(
    frames: AccountFrames,
    cohort: Cohort,
    fake_shares: pl.DataFrame | None,
    context: ScoringContext,
) -> pl.DataFrame:
    """Every signal of the accounts in ``frames`` and their Audience Quality Score."""
    table = signal_table(
        frames,
        word_lists=context.word_lists,
        cohort=cohort.frame,
        fake_shares=fake_shares,
        tier_scheme=context.tier_scheme,
        stored_engagement=None if cohort.stored is None else cohort.stored.frame,
    )
    return score_accounts(table, context.settings)
