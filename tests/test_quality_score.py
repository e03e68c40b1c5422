"""The Audience Quality Score: weights, renormalisation over missing components, settings."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microfluence.authenticity.signals.fake_share import fake_share_score
from microfluence.authenticity.vetting.score import (
    COMPONENTS,
    DEFAULT_WEIGHTS,
    ScoreSettings,
    score_accounts,
    verdict,
)
from microfluence.kernel.errors import InputError

DEFAULTS = ScoreSettings.from_settings(None)


def frame(rows: list[dict[str, float | None]]) -> pl.DataFrame:
    """Accounts with the given component scores (None: not available)."""
    data = []
    for i, scores in enumerate(rows):
        row: dict[str, object] = {"account_id": i + 1}
        for spec in COMPONENTS:
            value = scores.get(spec.key)
            row[spec.score_column] = value
            row[spec.available_column] = value is not None
        data.append(row)
    schema = {"account_id": pl.Int64} | {
        name: (pl.Boolean if name.endswith("_available") else pl.Float64)
        for spec in COMPONENTS
        for name in (spec.score_column, spec.available_column)
    }
    return pl.DataFrame(data, schema=schema)


def test_default_weights_add_up_to_one():
    assert math.isclose(sum(DEFAULT_WEIGHTS.values()), 1.0)
    assert DEFAULT_WEIGHTS["brand_safety"] == 0.0


def test_all_components_give_the_weighted_mean():
    scores = {
        "fake_share": 80.0,
        "growth": 20.0,
        "engagement_rate": 100.0,
        "likes_comments": 50.0,
        "comment_quality": 40.0,
        "engagement_pods": 100.0,
        "following_ratio": 100.0,
        "sponsored": 0.0,
        "brand_safety": 0.0,
    }
    expected = sum(DEFAULT_WEIGHTS[k] * v for k, v in scores.items())
    row = score_accounts(frame([scores]), DEFAULTS).row(0, named=True)
    assert row["quality_mean"] == pytest.approx(expected)  # 64.0
    # growth at 20 is a red flag: the score is capped at 50 + 0.5 * 20 = 60
    assert row["quality_score"] == pytest.approx(60.0) and row["capped_by"] == "growth"
    assert row["growth_contribution"] == pytest.approx(0.20 * 20.0 * 60.0 / expected)
    assert sum(row[f"{c.key}_contribution"] for c in COMPONENTS) == pytest.approx(60.0)
    assert row["brand_safety_weight"] == 0.0


def test_one_damning_red_flag_is_not_averaged_away():
    clean = {c.key: 100.0 for c in COMPONENTS}
    pods = score_accounts(frame([clean | {"engagement_pods": 0.0}]), DEFAULTS).row(0, named=True)
    assert pods["quality_mean"] == pytest.approx(87.5)
    assert pods["quality_score"] == 50.0 and pods["capped_by"] == "engagement_pods"
    # content checks and the weaker ratios never cap the score
    for key in ("sponsored", "brand_safety", "following_ratio", "likes_comments"):
        row = score_accounts(frame([clean | {key: 0.0}]), DEFAULTS).row(0, named=True)
        assert row["capped_by"] is None and row["quality_score"] == row["quality_mean"]
    # a red flag of weight 0 in the workspace's settings does not cap either
    no_pods = ScoreSettings.from_settings({"authenticity": {"weights": {"engagement_pods": 0}}})
    row = score_accounts(frame([clean | {"engagement_pods": 0.0}]), no_pods).row(0, named=True)
    assert row["quality_score"] == 100.0 and row["capped_by"] is None


def test_missing_components_are_renormalised_away():
    # Only growth (0.20) and pods (0.125) available: weights become 0.20/0.325 and 0.125/0.325.
    row = score_accounts(frame([{"growth": 0.0, "engagement_pods": 100.0}]), DEFAULTS).row(
        0, named=True
    )
    assert row["growth_weight"] == pytest.approx(0.20 / 0.325)
    assert row["engagement_pods_weight"] == pytest.approx(0.125 / 0.325)
    assert row["fake_share_weight"] == 0.0 and row["fake_share_contribution"] == 0.0
    assert row["quality_score"] == pytest.approx(100 * 0.125 / 0.325)


def test_nothing_available_is_no_score_not_a_made_up_one():
    row = score_accounts(frame([{}]), DEFAULTS).row(0, named=True)
    assert row["quality_score"] is None
    # brand safety alone weighs 0 by default: still no score
    assert score_accounts(frame([{"brand_safety": 10.0}]), DEFAULTS)["quality_score"][0] is None


def test_missing_columns_count_as_not_available():
    signals = pl.DataFrame({"account_id": [1], "growth_score": [50.0], "growth_available": [True]})
    assert score_accounts(signals, DEFAULTS)["quality_score"][0] == 50.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from([c.key for c in COMPONENTS]),
            st.floats(min_value=0, max_value=100),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_score_is_bounded_and_contributions_add_up(rows):
    out = score_accounts(frame(rows), DEFAULTS)
    for row in out.to_dicts():
        if row["quality_score"] is None:
            continue
        assert -1e-9 <= row["quality_score"] <= row["quality_mean"] + 1e-9 <= 100 + 2e-9
        total = sum(row[f"{c.key}_contribution"] for c in COMPONENTS)
        assert total == pytest.approx(row["quality_score"])
        assert sum(row[f"{c.key}_weight"] for c in COMPONENTS) == pytest.approx(1.0)


def test_workspace_settings_override_weights_and_threshold():
    custom = ScoreSettings.from_settings(
        {"authenticity": {"weights": {"brand_safety": 0.5}, "threshold": 70}}
    )
    assert custom.threshold == 70 and custom.weights["brand_safety"] == 0.5
    row = score_accounts(frame([{"brand_safety": 0.0, "growth": 100.0}]), custom).row(0, named=True)
    assert row["quality_score"] == pytest.approx(100 * 0.2 / 0.7)


@pytest.mark.parametrize(
    "section",
    [
        {"weights": {"charisma": 1}},
        {"weights": {"growth": -1}},
        {"weights": {"growth": "high"}},
        {"weights": {"growth": True}},
        {"weights": {c.key: 0 for c in COMPONENTS}},
        {"threshold": 150},
        {"threshold": "sixty"},
        "not an object",
    ],
)
def test_bad_settings_are_clear_errors(section):
    with pytest.raises(InputError):
        ScoreSettings.from_settings({"authenticity": section})


def test_verdict_bands():
    assert verdict(None, 60) == "not enough data"
    assert verdict(59.9, 60) == "likely inauthentic"
    assert verdict(60, 60) == "review"
    assert verdict(74.9, 60) == "review"
    assert verdict(75, 60) == "likely authentic"


def test_fake_share_scale():
    assert fake_share_score(0.02) == 100
    assert fake_share_score(0.10) == 100
    assert fake_share_score(0.25) == pytest.approx(50)
    assert fake_share_score(0.40) == 0 and fake_share_score(0.9) == 0


def test_fake_share_caps_by_its_interval_lower_bound():
    """An estimate of 36 % from a small sample (interval 25-47 %) is scored, but caps the score
    only as far as its lower bound shows: sampling noise alone is no red flag."""
    from microfluence.authenticity.followers.fake_share import FakeShareEstimate
    from microfluence.authenticity.signals.fake_share import row_from_estimate

    estimate = FakeShareEstimate(
        share=0.36,
        low=0.25,
        high=0.47,
        n=80,
        method="acc",
        confidence=0.95,
        flagged=28,
        flagged_share=0.35,
        threshold=0.64,
    )
    row = row_from_estimate(1, estimate)
    assert row["fake_share_score"] == pytest.approx(fake_share_score(0.36))
    assert row["fake_share_flag_score"] == pytest.approx(50.0)
    clean = {spec.key: 100.0 for spec in COMPONENTS} | {"fake_share": row["fake_share_score"]}
    data = frame([clean]).with_columns(
        pl.lit(row["fake_share_flag_score"]).alias("fake_share_flag_score")
    )
    out = score_accounts(data, DEFAULTS).row(0, named=True)
    assert out["capped_by"] == "fake_share"
    assert out["quality_score"] == pytest.approx(75.0)  # 50 + 0.5 · 50, not 50 + 0.5 · 13
    # Without the lower-bound column the cap reads the point estimate's score.
    plain = score_accounts(frame([clean]), DEFAULTS)
    assert plain["quality_score"][0] == pytest.approx(50 + 0.5 * fake_share_score(0.36))
