"""Tier schemes: presets, gaps, overlaps, per-platform bands, validation; NumPy == SQL."""

from __future__ import annotations

import ibis
import numpy as np
import pyarrow as pa
import pytest

from microfluence.kernel.errors import InputError
from microfluence.metrics.pipeline import tier_expr
from microfluence.metrics.tiers import (
    PRESETS,
    Band,
    TierScheme,
    check_scheme,
    preset,
    scheme_from_dict,
    segments,
)


def labels(scheme: TierScheme, values, platform=None):
    return [scheme.classify_one(v, platform) for v in values]


def test_every_preset_is_valid_and_covers_the_whole_axis():
    for scheme in PRESETS.values():
        check_scheme(scheme)
        segs = scheme.segments_for(None)
        assert segs[0].start == 0 and segs[-1].end is None
        for a, b in zip(segs, segs[1:], strict=False):
            assert a.end == b.start and a.label != b.label


def test_bounds_are_inclusive_below_and_exclusive_above():
    mediakix = preset("mediakix")
    assert labels(mediakix, [0, 999, 1000, 9999, 10_000, 49_999, 50_000]) == [
        "below nano",
        "below nano",
        "nano",
        "nano",
        "micro",
        "micro",
        "mid",
    ]
    assert labels(mediakix, [499_999, 500_000, 999_999, 1_000_000, 10**9]) == [
        "mid",
        "macro",
        "macro",
        "mega",
        "mega",
    ]
    assert mediakix.classify_one(None) is None


def test_gap_between_bands_is_named_by_its_neighbours():
    scheme = preset("nano1k-micro50k-mega1m")
    assert labels(scheme, [999, 1000, 49_999, 50_000, 999_999, 1_000_000]) == [
        "nano",
        "micro",
        "micro",
        "between micro and mega",
        "between micro and mega",
        "mega",
    ]


def test_single_band_has_below_and_above():
    scheme = preset("micro2k-100k")
    assert labels(scheme, [1999, 2000, 99_999, 100_000]) == [
        "below micro",
        "micro",
        "micro",
        "above micro",
    ]


def test_overlap_goes_to_the_highest_matching_band():
    scheme = preset("nano1k-micro10k-macro100k-mega500k-celebrity1m")
    assert labels(scheme, [500_000, 999_999, 1_000_000, 5_000_000]) == [
        "mega",
        "mega",
        "celebrity",
        "celebrity",
    ]
    notes = check_scheme(scheme)
    assert any("mega and celebrity overlap" in n and "celebrity" in n for n in notes)


def test_partial_overlap_and_equal_starts():
    bands = (Band("a", 0, 100), Band("b", 50, 200), Band("c", 50, 80))
    # 50..80 is in all three; b and c start together, the later declared (c) wins.
    assert [s.label for s in segments(bands)] == ["a", "c", "b", "above b"]
    scheme = TierScheme("x", "x", "test", bands)
    notes = check_scheme(scheme)
    assert sum("overlap" in n for n in notes) == 3


def test_validator_rejects_nonsense():
    bad = [
        (),
        (Band("a", -1, 10),),
        (Band("a", 10, 10),),
        (Band("a", 0, 10), Band("a", 10, 20)),
        (Band("below x", 0, 10),),
    ]
    for bands in bad:
        with pytest.raises(InputError):
            check_scheme(TierScheme("x", "x", "test", bands))
    with pytest.raises(InputError, match="scheme name"):
        check_scheme(TierScheme("Bad Name", "x", "test", (Band("a", 0, None),)))
    with pytest.raises(InputError, match="unknown platform"):
        check_scheme(
            TierScheme("x", "x", "t", (Band("a", 0),), platform_bands={"myspace": (Band("a", 0),)})
        )


def test_custom_scheme_from_json_with_platform_bands():
    scheme = scheme_from_dict(
        {
            "name": "ours",
            "bands": [{"tier": "small", "min": 0, "max": 10000}, {"tier": "big", "min": 10000}],
            "platform_bands": {
                "tiktok": [{"tier": "small", "min": 0, "max": 50000}, {"tier": "big", "min": 50000}]
            },
        }
    )
    assert scheme.classify_one(20_000, "instagram") == "big"
    assert scheme.classify_one(20_000, "tiktok") == "small"
    assert scheme.classify_one(20_000, None) == "big"
    assert scheme.tier_names() == ["small", "big"]  # each once, across platforms
    assert list(scheme.classify([20_000, np.nan, 60_000], ["tiktok", "tiktok", "tiktok"])) == [
        "small",
        None,
        "big",
    ]
    for bad in (
        {"name": "x", "bands": "no"},
        {"name": "x", "bands": [{"min": 0}]},
        {"name": "x", "bands": [{"tier": "a", "min": "lots"}]},
        {"name": "x", "bands": [{"tier": "a", "min": 5, "max": 1}]},
        [],
    ):
        with pytest.raises(InputError):
            scheme_from_dict(bad)


def test_sql_case_expression_agrees_with_numpy():
    rng = np.random.default_rng(7)
    followers = np.concatenate(
        [
            rng.lognormal(9, 2.5, 2000).astype(np.int64),
            [0, 999, 1000, 50_000, 100_000, 500_000, 1_000_000, 1_000_001],
        ]
    )
    platforms = rng.choice(["instagram", "tiktok", "youtube"], followers.size)
    custom = scheme_from_dict(
        {
            "name": "ours",
            "bands": [{"tier": "s", "min": 1000, "max": 20000}, {"tier": "l", "min": 15000}],
            "platform_bands": {"tiktok": [{"tier": "s", "min": 0, "max": 70000}]},
        }
    )
    table = pa.table({"f": followers, "p": platforms})
    con = ibis.duckdb.connect()
    con.con.register("t", table)
    t = con.table("t")
    schemes = [*PRESETS.values(), custom]
    expr = t.select(**{s.name: tier_expr(s, t.f, t.p) for s in schemes})
    got = expr.to_pyarrow()
    for s in schemes:
        assert got[s.name].to_pylist() == list(s.classify(followers, platforms)), s.name
