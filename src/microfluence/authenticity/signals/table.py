"""Every signal for a set of accounts, in one frame: one row per account, one column per value.

The vetting report reads one row of it; the evaluation scores a whole workspace with it; both go
through :func:`signal_table`, so a report and the evaluation can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from microfluence.authenticity.signals.brand_safety import brand_safety_signal
from microfluence.authenticity.signals.comments import comment_signal
from microfluence.authenticity.signals.engagement import engagement_signal
from microfluence.authenticity.signals.fake_share import SCHEMA as FAKE_SHARE_SCHEMA
from microfluence.authenticity.signals.following_ratio import following_ratio_signal
from microfluence.authenticity.signals.frames import AccountFrames
from microfluence.authenticity.signals.growth import growth_signal
from microfluence.authenticity.signals.sponsored import sponsored_signal


def signal_table(
    frames: AccountFrames,
    *,
    word_lists: Mapping[str, tuple[str, ...]],
    cohort: pl.DataFrame | None = None,
    fake_shares: pl.DataFrame | None = None,
    tier_scheme: Any = None,
    stored_engagement: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per account of ``frames.accounts`` with every signal's values and 0-100 score.

    ``cohort``: :func:`engagement.account_engagement` of the cohort population (default:
    the accounts in ``frames``); ``fake_shares``: :func:`fake_share.stored_fake_shares`
    (default: no follower sample for any account); ``stored_engagement``:
    :func:`frames.load_stored_engagement`'s frame, when the cohort comes from the stored
    metrics (see :func:`engagement.engagement_signal`).
    """
    base = frames.accounts.select("account_id", "platform", "handle")
    parts = [
        growth_signal(frames.snapshots, frames.posts).drop("latest_following"),
        engagement_signal(
            frames.accounts,
            frames.posts,
            frames.snapshots,
            cohort,
            tier_scheme=tier_scheme,
            stored=stored_engagement,
        ),
        comment_signal(frames.comments),
        following_ratio_signal(frames.snapshots),
        sponsored_signal(frames.posts),
        brand_safety_signal(frames.accounts, frames.posts, word_lists),
        fake_shares if fake_shares is not None else pl.DataFrame(schema=FAKE_SHARE_SCHEMA),
    ]
    table = base
    for part in parts:
        table = table.join(part, on="account_id", how="left")
    flags = [c for c in table.columns if c.endswith("_available")]
    return table.with_columns(pl.col(flags).fill_null(False)).sort("account_id")
