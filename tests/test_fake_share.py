"""The fake-share estimate that knows when it may be wrong: rate uncertainty, the domain check,
coverage on simulated audiences, missing columns, and the shipped model's stored figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from microfluence.authenticity.evaluation.classification import confusion
from microfluence.authenticity.evaluation.coverage import simulate_coverage
from microfluence.authenticity.followers.audit import (
    audit_follower_file,
    estimate_for_model,
    score_followers,
)
from microfluence.authenticity.followers.domain import CHECKED, FeatureTally
from microfluence.authenticity.followers.fake_share import (
    ScoreTally,
    estimate_fake_share,
    wilson_interval,
)
from microfluence.authenticity.followers.features import FEATURES
from microfluence.authenticity.followers.labelled import LabelledSet
from microfluence.authenticity.followers.loso import (
    SourceEvaluation,
    evaluate_sources,
    rate_shift,
)
from microfluence.authenticity.followers.model import OperatingPoint, load_shipped_model
from microfluence.authenticity.followers.recipe import Candidate
from microfluence.authenticity.followers.sources import INPUTS, Source
from microfluence.authenticity.followers.training import accuracy_summary
from microfluence.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILE = ROOT / "src/microfluence/authenticity/followers/models/follower_model.json"
F = {name: i for i, name in enumerate(FEATURES)}
runner = CliRunner()


def _flags(share: float, n: int, tpr: float, fpr: float, rng: np.random.Generator) -> np.ndarray:
    """Probabilities of a classifier whose true rates are ``tpr`` and ``fpr`` at 0.5."""
    fake = rng.random(n) < share
    flagged = np.where(fake, rng.random(n) < tpr, rng.random(n) < fpr)
    return np.where(flagged, 0.75, 0.25)


def _measured_point(tpr: float, fpr: float, per_class: int, rng: np.random.Generator):
    """The operating point as a finite labelled set measures it (so its rates are noisy)."""
    tp = int(rng.binomial(per_class, tpr))
    fp = int(rng.binomial(per_class, fpr))
    return OperatingPoint(
        0.5, tp / per_class, fp / per_class, tp, per_class - tp, fp, per_class - fp
    )


# -- the interval includes the uncertainty of the error rates ---------------------------------


def test_interval_covers_when_the_rates_are_themselves_estimated() -> None:
    # Large audiences, rates measured on 150 + 150 profiles: the rates' noise dominates. An
    # interval of the audience's sampling alone (Wilson mapped through the correction, as
    # before) misses the truth far more often than 5 %; the Beta-posterior interval does not.
    rng = np.random.default_rng(11)
    runs, share, tpr, fpr = 300, 0.10, 0.85, 0.08
    covered = sampling_only = 0
    for _ in range(runs):
        point = _measured_point(tpr, fpr, 150, rng)
        p = _flags(share, 5_000, tpr, fpr, rng)
        estimate = estimate_fake_share(p, point, seed=int(rng.integers(1 << 31)))
        covered += estimate.low <= share <= estimate.high
        low, high = wilson_interval(estimate.flagged, estimate.n, 0.95)
        gap = point.tpr - point.fpr
        sampling_only += (low - point.fpr) / gap <= share <= (high - point.fpr) / gap
    assert covered / runs >= 0.90
    assert sampling_only / runs < 0.75  # what the old interval did: confidently wrong


@pytest.mark.parametrize("share", [0.0, 0.05, 0.2, 0.5])
def test_interval_coverage_across_planted_shares(share: float) -> None:
    # Each run measures the rates anew (on 400 + 400 profiles) and draws an audience of 600:
    # coverage over both sources of error, as a user meets them.
    rng = np.random.default_rng(int(share * 100) + 5)
    runs, covered = 200, 0
    for i in range(runs):
        point = _measured_point(0.9, 0.05, 400, rng)
        e = estimate_fake_share(_flags(share, 600, 0.9, 0.05, rng), point, seed=i)
        covered += e.low <= share <= e.high
    assert covered / runs >= 0.90


def test_rate_shift_widens_and_counts_without_rates_fall_back() -> None:
    model = load_shipped_model()
    assert model.rate_shift is not None
    p = _flags(0.2, 2_000, 0.9, 0.05, np.random.default_rng(2))
    point = model.operating_point
    plain = estimate_fake_share(p, point)
    widened = estimate_fake_share(p, point, rate_shift=model.rate_shift)
    assert widened.high - widened.low > plain.high - plain.low
    assert widened.share == plain.share  # the point estimate is the same Rogan-Gladen value
    # An operating point given without its counts (compatible callers) still works.
    bare = OperatingPoint(point.threshold, point.tpr, point.fpr, 0, 0, 0, 0)
    estimate = estimate_fake_share(p, bare)
    assert estimate.low <= estimate.share <= estimate.high


# -- the domain check -------------------------------------------------------------------------


def _synthetic_profiles(source: str, share: float, n: int, seed: int) -> np.ndarray:
    """Profiles drawn from a training source's stored class distributions (inverse CDF, each
    feature independently): the domain check compares these distributions only."""
    model = load_shipped_model()
    assert model.domain is not None
    rng = np.random.default_rng(seed)
    reference = model.domain.sources[source]
    fake = rng.random(n) < share
    x = np.full((n, len(FEATURES)), np.nan)
    for name, grid in CHECKED.items():
        points = np.asarray(grid)
        step = points[1] - points[0] if len(points) > 1 else 1.0
        edges = np.r_[points[0] - step, points]  # the last bin is open above: use one step
        for label, rows in (("fake", fake), ("genuine", ~fake)):
            cdf = np.r_[np.asarray(reference[label][name]), 1.0]
            bins = np.searchsorted(cdf, rng.random(rows.sum()), side="right")
            bins = np.minimum(bins, len(points))
            low = np.r_[edges, points[-1]][bins]
            x[rows, F[name]] = low + rng.random(rows.sum()) * step
            if name == "has_profile_pic":
                x[rows, F[name]] = (bins >= 1).astype(float)
    x[:, F["log_following"]] = x[:, F["log_following_to_followers"]] + x[:, F["log_followers"]]
    return x


def test_domain_check_passes_samples_like_a_training_source() -> None:
    model = load_shipped_model()
    assert model.domain is not None
    for source in model.domain.sources:
        for seed, share in enumerate((0.05, 0.3)):
            check = model.domain.check(
                FeatureTally.of(_synthetic_profiles(source, share, 800, seed))
            )
            assert check.in_domain, (source, share, check)
            assert check.closest_source == source and check.severity == 0.0


def test_domain_check_warns_and_widens_for_an_unlike_sample() -> None:
    model = load_shipped_model()
    assert model.domain is not None
    rng = np.random.default_rng(4)
    # Accounts with huge counts everywhere: unlike every training source.
    x = np.full((600, len(FEATURES)), np.nan)
    x[:, F["log_posts"]] = rng.uniform(9, 12, 600)
    x[:, F["log_followers"]] = rng.uniform(11, 14, 600)
    x[:, F["log_following_to_followers"]] = rng.uniform(-8, -6, 600)
    x[:, F["has_profile_pic"]] = 1.0
    check = model.domain.check(FeatureTally.of(x))
    assert not check.in_domain and check.severity > 0.5
    p = model.predict_proba(x)
    tally = ScoreTally.of(p, model.threshold)
    inside = estimate_fake_share(tally, model.operating_point, rate_shift=model.rate_shift)
    outside = estimate_fake_share(
        tally, model.operating_point, rate_shift=model.rate_shift, domain=check
    )
    assert outside.in_domain is False and outside.domain_distance == pytest.approx(
        check.distance, abs=1e-4
    )
    assert any("unlike every source" in note for note in outside.notes)
    assert outside.high - outside.low > inside.high - inside.low
    assert not any("unlike every source" in note for note in inside.notes)


def test_feature_tally_in_batches_equals_one_pass() -> None:
    x = _synthetic_profiles("kaggle", 0.2, 1_001, 9)
    whole = FeatureTally.of(x)
    parts = FeatureTally()
    for block in np.array_split(x, 7):
        parts.add(block)
    assert parts.n == whole.n and parts.known == whole.known
    assert all(np.array_equal(parts.below[f], whole.below[f]) for f in CHECKED)


# -- coverage on simulated audiences, as the docs' table is made --------------------------------


def test_simulated_audiences_from_a_source_are_covered() -> None:
    model = load_shipped_model()
    # A labelled source drawn from the Twitter source's stored class distributions.
    y = (np.arange(4_000) < 2_000).astype(np.int8)
    x = np.vstack(
        [
            _synthetic_profiles("twitter", 1.0, 2_000, 22),
            _synthetic_profiles("twitter", 0.0, 2_000, 23),
        ]
    )
    rows = simulate_coverage(
        LabelledSet("synthetic twitter", x, y),
        model,
        shares=(0.0, 0.1, 0.3),
        size=400,
        audiences=60,
        seed=1,
    )
    assert [r.share for r in rows] == [0.0, 0.1, 0.3]
    for r in rows:
        assert r.coverage >= 0.9, r
        assert r.out_of_domain <= 0.1, r


# -- missing columns --------------------------------------------------------------------------


def test_only_the_five_columns_of_the_independent_check_are_enough(tmp_path: Path) -> None:
    path = tmp_path / "five.csv"
    rows = ["posts,following,followers,has_profile_pic,is_private"]
    rows += ["120,300,450,true,false"] * 45 + ["0,2100,3,false,false"] * 5
    path.write_text("\n".join(rows) + "\n")
    audit = audit_follower_file(path)
    assert audit.estimate.n == 50 and audit.estimate.in_domain is not None
    assert set(audit.columns_missing) == {"username", "full_name", "biography", "external_url"}
    assert 0 <= audit.estimate.low <= audit.estimate.share <= audit.estimate.high <= 1
    # Columns the model does not use change nothing; one it uses, absent, still scores.
    frame = pl.read_csv(path, infer_schema_length=0)
    named = frame.with_columns(pl.lit("user123").alias("username"), pl.lit("").alias("biography"))
    assert np.array_equal(
        score_followers(frame)["fake_probability"].to_numpy(),
        score_followers(named)["fake_probability"].to_numpy(),
    )
    no_posts = score_followers(frame.drop("posts"))["fake_probability"].to_numpy()
    assert np.isfinite(no_posts).all()
    assert no_posts[-1] > no_posts[0]  # the bot still scores above the person


# -- the leave-one-source-out machinery -------------------------------------------------------


def _toy_source(name: str, shift: float, trainable: bool, seed: int) -> Source:
    rng = np.random.default_rng(seed)
    n = 60
    y = (np.arange(n) % 2).astype(np.int8)
    x = np.full((n, len(FEATURES)), np.nan)
    x[:, F["log_posts"]] = np.where(y == 1, 0.5, 4.0) + rng.normal(0, 0.8, n) + shift
    x[:, F["log_followers"]] = np.where(y == 1, 2.0, 5.0) + rng.normal(0, 0.8, n)
    x[:, F["log_following_to_followers"]] = np.where(y == 1, 2.5, 0.0) + rng.normal(0, 0.8, n)
    x[:, F["has_profile_pic"]] = (rng.random(n) < np.where(y == 1, 0.5, 0.98)).astype(float)
    return Source(name, LabelledSet(name, x, y), trainable, ())


def test_leave_one_source_out_rows_and_rate_shift() -> None:
    sources = {
        "a": _toy_source("a", 0.0, True, 1),
        "b": _toy_source("b", 0.7, True, 2),
        "c": _toy_source("c", -0.7, False, 3),
    }
    rows = evaluate_sources(Candidate("logistic C=1", "logistic", {"C": 1.0}), sources)
    assert [(r.source, r.setting) for r in rows] == [
        (s, setting) for s in "abc" for setting in ("in-domain", "left out")
    ]
    left = {r.source: r for r in rows if r.setting == "left out"}
    assert left["c"].trained_on == "a + b" and left["a"].trained_on == "b + c"
    for r in rows:
        assert r.roc_auc > 0.9 and 0 <= r.audience_coverage <= 1
        assert r.domain_distance is None or r.setting == "left out"
    shift = rate_shift(rows)
    assert 0 <= shift.tpr_typical <= shift.tpr_worst and 0 <= shift.fpr_typical <= shift.fpr_worst


# -- the shipped model file -------------------------------------------------------------------


def test_shipped_model_uses_the_transferable_inputs_and_stores_its_evaluation() -> None:
    spec = json.loads(MODEL_FILE.read_text())
    model = load_shipped_model()
    assert model.inputs == INPUTS and spec["inputs"] == list(INPUTS)
    # Nothing trained on InstaFake ships: the shipped model's training sources.
    assert spec["training"]["data"] == "kaggle + twitter"
    assert spec["sources"]["instafake"]["trained_on"] is False
    assert set(spec["domain"]["sources"]) == {"kaggle", "twitter"}
    assert set(model.source_points) == {"kaggle", "twitter"}
    rows = spec["evaluation"]["sources"]
    for r in rows:  # every stored rate agrees with its stored confusion counts
        y = np.r_[np.ones(r["tp"] + r["fn"]), np.zeros(r["fp"] + r["tn"])]
        flagged = np.r_[np.ones(r["tp"]), np.zeros(r["fn"]), np.ones(r["fp"]), np.zeros(r["tn"])]
        c = confusion(y, flagged, r["threshold"])
        assert (c.precision, c.recall, c.f1, c.false_positive_rate) == pytest.approx(
            (r["precision"], r["recall"], r["f1"], r["fpr"]), abs=6e-5
        ), r
        assert r["fake"] == r["tp"] + r["fn"] and r["n"] == r["fake"] + r["fp"] + r["tn"]
    # The stored rate shift and accuracy summary are what the code derives from those rows.
    stored = [SourceEvaluation(**r) for r in rows]
    assert rate_shift(stored).__dict__ == pytest.approx(spec["rate_shift"], abs=2e-4)
    assert accuracy_summary(spec) == spec["accuracy"]
    point = model.operating_point
    assert point.tpr == pytest.approx(point.tp / (point.tp + point.fn))
    for p in model.source_points.values():
        assert p.threshold == point.threshold and p.fpr == pytest.approx(p.fp / (p.fp + p.tn))


def test_eval_coverage_cli_on_a_small_labelled_file(tmp_path: Path) -> None:
    header = (
        "profile pic,nums/length username,fullname words,nums/length fullname,name==username,"
        "description length,external URL,private,#posts,#followers,#follows,fake"
    )
    rows = ["1,0,2,0,0,53,1,0,320,1500,400,0", "0,0.6,0,0,0,0,0,0,0,5,3000,1"]
    path = tmp_path / "k.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    result = runner.invoke(
        app,
        ["eval", "coverage", "--data", str(path), "--size", "40", "--audiences", "3", "--json"],
    )
    assert result.exit_code == 0, result.output
    table = json.loads(result.output)
    assert [r["share"] for r in table] == [0.0, 0.05, 0.1, 0.2, 0.3, 0.5]
    assert all(0 <= r["coverage"] <= 1 for r in table)


def test_measured_accuracy_sentence_comes_from_the_stored_figures() -> None:
    spec = json.loads(MODEL_FILE.read_text())
    sentence = load_shipped_model().measured_accuracy()
    assert sentence is not None
    aucs = spec["accuracy"]["left_out_roc_auc"].values()
    assert f"{spec['accuracy']['cross_validated_roc_auc']:.2f} cross-validated" in sentence
    assert f"ROC AUC {min(aucs):.2f}–{max(aucs):.2f}" in sentence


def test_a_workspaces_own_rates_are_used_as_they_are() -> None:
    model = load_shipped_model()
    x = _synthetic_profiles("kaggle", 0.2, 500, 31)
    tally, features = ScoreTally.of(model.predict_proba(x), model.threshold), FeatureTally.of(x)
    own = estimate_for_model(tally, features, model)
    assert own.in_domain is True
    p = model.operating_point
    calibrated = OperatingPoint(p.threshold, 0.8, 0.1, 120, 30, 60, 540)
    labelled = estimate_for_model(tally, features, model, operating_point=calibrated)
    assert labelled.in_domain is None  # measured on the workspace's followers: no domain check
    assert labelled.share == pytest.approx(
        max(0.0, (tally.flagged / tally.n - 0.1) / (0.8 - 0.1)), abs=1e-9
    )
    assert labelled == estimate_fake_share(tally, calibrated)
