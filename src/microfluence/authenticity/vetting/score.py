"""The Audience Quality Score: one 0-100 number per account, from explainable components.

``AQS = Σ wᵢ sᵢ / Σ wᵢ`` over the components that are *available* for the account, where ``sᵢ``
is the component's own 0-100 score and ``wᵢ`` its weight (``DEFAULT_WEIGHTS``). A component is
not available when its data are missing (no follower sample, no comments, too few snapshots or
posts, too small a cohort); its weight is then shared out over the others by the division
(renormalisation), and the report says so. With no available component at all, the score is
NULL ("not enough data"), never a made-up number.

Red flags: a mean lets one damning finding be averaged away by clean ones (an account with a
pod writing half its comments would still score 88). So the score is also capped by the lowest
*red-flag component* (fake followers, growth, engagement rate, comment authenticity, pods):
``AQS = min(weighted mean, 50 + 0.5 · min(red-flag scores))`` — a red-flag component at 0 caps
the score at 50, one at 20 caps it at 60, one at 100 does not cap it. The report names the
component that capped the score. Content checks (sponsored saturation, brand safety) and the
weaker ratios (likes-to-comments, following) never cap it.

Each component's *contribution* is ``wᵢ / Σ wⱼ · sᵢ`` points, scaled by ``AQS / mean`` when the
cap applies, so the contributions always add up to the score. Its *points lost*
``wᵢ / Σ wⱼ · (100 − sᵢ)`` show what pulled the mean down.

A workspace can change the weights and the threshold in its settings
(``workspaces.settings["authenticity"] = {"weights": {...}, "threshold": 60}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from microfluence.kernel.errors import InputError

SETTINGS_KEY = "authenticity"


@dataclass(frozen=True)
class ComponentSpec:
    key: str
    label: str
    score_column: str
    available_column: str
    weight: float
    what: str
    # The column a red flag reads, when not the score itself (the fake-share component caps the
    # score by its interval's lower bound: see signals.fake_share).
    red_flag_column: str | None = None

    @property
    def flag_column(self) -> str:
        return self.red_flag_column or self.score_column


# The weights: the audience itself first (who follows, how it grew), then how it engages.
# Brand safety is about the creator's content and each brand's own tolerance, not the audience:
# it is reported with its score but weighs 0 unless a workspace gives it a weight.
COMPONENTS: tuple[ComponentSpec, ...] = (
    ComponentSpec(
        "fake_share",
        "Fake followers",
        "fake_share_score",
        "fake_share_available",
        0.25,
        "estimated share of fake followers in the follower sample",
        "fake_share_flag_score",
    ),
    ComponentSpec(
        "growth",
        "Follower growth",
        "growth_score",
        "growth_available",
        0.20,
        "jumps and drops in followers not explained by engagement",
    ),
    ComponentSpec(
        "engagement_rate",
        "Engagement rate",
        "engagement_score",
        "engagement_available",
        0.15,
        "median engagement rate against the platform and tier cohort",
    ),
    ComponentSpec(
        "likes_comments",
        "Likes-to-comments ratio",
        "likes_comments_score",
        "likes_comments_available",
        0.05,
        "likes per comment against the cohort",
    ),
    ComponentSpec(
        "comment_quality",
        "Comment authenticity",
        "comment_quality_score",
        "comment_quality_available",
        0.125,
        "generic, emoji-only, spam and duplicate comments, fake-looking commenters",
    ),
    ComponentSpec(
        "engagement_pods",
        "Engagement pods",
        "pod_score",
        "pod_available",
        0.125,
        "the same commenters under almost every post",
    ),
    ComponentSpec(
        "following_ratio",
        "Following / followers",
        "following_ratio_score",
        "following_ratio_available",
        0.05,
        "accounts followed per follower",
    ),
    ComponentSpec(
        "sponsored",
        "Sponsored saturation",
        "sponsored_score",
        "sponsored_available",
        0.05,
        "share of recent posts that are ads",
    ),
    ComponentSpec(
        "brand_safety",
        "Brand safety",
        "brand_safety_score",
        "brand_safety_available",
        0.0,
        "captions and bio against the workspace's word lists",
    ),
)
DEFAULT_WEIGHTS: dict[str, float] = {c.key: c.weight for c in COMPONENTS}
DEFAULT_THRESHOLD = 60.0
RED_FLAGS = ("fake_share", "growth", "engagement_rate", "comment_quality", "engagement_pods")
CAP_BASE, CAP_SLOPE = 50.0, 0.5
REVIEW_BAND = 15.0  # scores from the threshold to threshold + 15 are "review"


@dataclass(frozen=True)
class ScoreSettings:
    weights: Mapping[str, float]
    threshold: float = DEFAULT_THRESHOLD

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> ScoreSettings:
        """The defaults with a workspace's overrides (``settings["authenticity"]``)."""
        section = (settings or {}).get(SETTINGS_KEY) or {}
        if not isinstance(section, Mapping):
            raise InputError("the authenticity settings must be an object", field=SETTINGS_KEY)
        weights = dict(DEFAULT_WEIGHTS)
        for key, value in (section.get("weights") or {}).items():
            if key not in weights:
                raise InputError(
                    f"unknown score component {key!r}; expected one of {', '.join(weights)}",
                    field="weights",
                )
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise InputError(f"the weight of {key!r} must be a number >= 0", field=key)
            weights[key] = float(value)
        if not any(weights.values()):
            raise InputError("at least one score component needs a weight above 0", field="weights")
        threshold = section.get("threshold", DEFAULT_THRESHOLD)
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise InputError("the threshold must be a number from 0 to 100", field="threshold")
        if not 0 <= threshold <= 100:
            raise InputError("the threshold must be a number from 0 to 100", field="threshold")
        return cls(weights=weights, threshold=float(threshold))


def verdict(score: float | None, threshold: float) -> str:
    """``likely inauthentic`` below the threshold, ``review`` just above it, else ``authentic``."""
    if score is None:
        return "not enough data"
    if score < threshold:
        return "likely inauthentic"
    if score < threshold + REVIEW_BAND:
        return "review"
    return "likely authentic"


def score_accounts(signals: pl.DataFrame, settings: ScoreSettings) -> pl.DataFrame:
    """``signals`` plus ``quality_score`` and, per component, ``<key>_weight`` (renormalised)
    and ``<key>_contribution``. Vectorised over any number of accounts."""
    frame = signals
    for spec in COMPONENTS:
        for column, dtype in (
            (spec.score_column, pl.Float64),
            (spec.flag_column, pl.Float64),
            (spec.available_column, pl.Boolean),
        ):
            if column not in frame.columns:
                frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(column))
    used = []
    for spec in COMPONENTS:
        weight = settings.weights.get(spec.key, 0.0)
        on = (
            pl.col(spec.available_column).fill_null(False) & pl.col(spec.score_column).is_not_null()
        )
        used.append(pl.when(on).then(pl.lit(weight)).otherwise(0.0).alias(f"{spec.key}_raw_weight"))
    frame = frame.with_columns(used)
    total = pl.sum_horizontal([pl.col(f"{s.key}_raw_weight") for s in COMPONENTS])
    frame = frame.with_columns(total.alias("_total_weight")).with_columns(
        [
            pl.when(pl.col("_total_weight") > 0)
            .then(pl.col(f"{s.key}_raw_weight") / pl.col("_total_weight"))
            .otherwise(0.0)
            .alias(f"{s.key}_weight")
            for s in COMPONENTS
        ]
    )
    frame = frame.with_columns(
        [
            (pl.col(f"{s.key}_weight") * pl.col(s.score_column).fill_null(0.0)).alias(
                f"{s.key}_contribution"
            )
            for s in COMPONENTS
        ]
    )
    mean = pl.sum_horizontal([pl.col(f"{s.key}_contribution") for s in COMPONENTS])
    red = [s for s in COMPONENTS if s.key in RED_FLAGS and settings.weights.get(s.key, 0) > 0]

    def flag(s: ComponentSpec) -> pl.Expr:
        return pl.col(s.flag_column).fill_null(pl.col(s.score_column))

    red_scores = [pl.when(pl.col(f"{s.key}_raw_weight") > 0).then(flag(s)) for s in red]
    lowest = pl.min_horizontal(red_scores) if red_scores else pl.lit(None, dtype=pl.Float64)
    cap = CAP_BASE + CAP_SLOPE * lowest
    frame = frame.with_columns(
        pl.when(pl.col("_total_weight") > 0).then(mean).otherwise(None).alias("quality_mean"),
        cap.alias("_cap"),
    ).with_columns(
        pl.min_horizontal("quality_mean", "_cap").alias("quality_score"),
        pl.when(pl.col("_cap") < pl.col("quality_mean"))
        .then(
            pl.coalesce(
                [
                    pl.when((pl.col(f"{s.key}_raw_weight") > 0) & (flag(s) == lowest)).then(
                        pl.lit(s.key)
                    )
                    for s in red
                ]
            )
            if red
            else pl.lit(None, dtype=pl.String)
        )
        .alias("capped_by"),
    )
    scale = (
        pl.when(pl.col("quality_mean") > 0)
        .then(pl.col("quality_score") / pl.col("quality_mean"))
        .otherwise(1.0)
    )
    return frame.with_columns([(pl.col(f"{s.key}_contribution") * scale) for s in COMPONENTS]).drop(
        "_total_weight", "_cap", *[f"{s.key}_raw_weight" for s in COMPONENTS]
    )
