"""Build the shipped follower model, and measure it for the model card.

    python -m microfluence.authenticity.followers.training \\
        --kaggle ../shared/data/fake-accounts/kaggle-instagram \\
        --twitter ../shared/data/fake-accounts/twitter-fake-followers \\
        --instafake ../shared/data/fake-accounts/instafake \\
        --output src/microfluence/authenticity/followers/models/follower_model.json

What it does (docs/model-card-follower.md reports the results; same data, same file):

1. Reads the sources (``followers.sources``): the Kaggle set (both files) and the Twitter
   fake-follower set are trained on; InstaFake (CC BY-NC 4.0), when given, is used only by the
   leave-one-source-out evaluation and never reaches the shipped model.
2. Picks the model among logistic regressions and small gradient-boosted tree ensembles by 5-fold
   cross-validated ROC AUC on the pooled training sources (stratified by source and class),
   repeated twice, with the one-standard-error rule (Breiman et al. 1984; Hastie et al. 2009
   §7.10), training each as ``followers.recipe`` says.
3. Sets the default threshold and the rates the fake-share correction uses from the pooled
   out-of-fold scores, and fits the chosen candidate on all the training sources.
4. Runs the leave-one-source-out evaluation (``followers.loso``) and stores its table, the shift
   of the error rates between sources (``RateShift``) and the domain check's reference
   (``followers.domain``: per-source class distributions, its noise and tolerance).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from microfluence.authenticity.evaluation.classification import classification_metrics
from microfluence.authenticity.followers.domain import (
    DomainReference,
    FeatureTally,
    class_cdfs,
    source_distance,
)
from microfluence.authenticity.followers.loso import WITHIN, evaluate_sources, pooled, rate_shift
from microfluence.authenticity.followers.model import FollowerModel
from microfluence.authenticity.followers.recipe import (
    CANDIDATES,
    MASK_COPIES,
    MASK_PROBABILITY,
    REPEATS,
    SEED,
    CrossValidation,
    cross_validate,
    fit_spec,
    one_se_choice,
    operating_point,
    source_points,
    wrap,
)
from microfluence.authenticity.followers.sources import INPUTS, Source, load_sources

NOISE_SIZES = (100, 300, 1_000)
NOISE_SAMPLES = 100  # per source and size
NOISE_QUANTILE = 99
TOLERANCE_FRACTION = 0.5


def _log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rounded(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


def domain_reference(training: list[Source]) -> DomainReference:
    """The domain check's reference: class distributions of every training source; ``noise``
    the 99th percentile of √n·distance of samples drawn from those sources; ``far`` the smallest
    distance between the training sources themselves (each against the other), a shift at which
    the leave-one-source-out evaluation saw the error rates break down; ``tolerance`` half of
    it."""
    reference = {s.name: class_cdfs(s.x, s.y) for s in training}
    rng = np.random.default_rng(SEED)
    check = DomainReference(reference, 0.0, 0.0, 1.0)
    scaled = []
    for source in training:
        fakes, genuine = np.flatnonzero(source.y == 1), np.flatnonzero(source.y == 0)
        for n in NOISE_SIZES:
            for _ in range(NOISE_SAMPLES):
                k = rng.binomial(n, rng.uniform(0.0, 0.5))
                rows = np.concatenate([rng.choice(fakes, k), rng.choice(genuine, n - k)])
                distance = min(check.distances(FeatureTally.of(source.x[rows])).values())
                scaled.append(distance * np.sqrt(n))
    between = [
        source_distance(FeatureTally.of(s.x).cdf(), reference[other.name])
        for s in training
        for other in training
        if other is not s
    ]
    return DomainReference(
        reference,
        tolerance=round(TOLERANCE_FRACTION * min(between), 4),
        noise=round(float(np.percentile(scaled, NOISE_QUANTILE)), 4),
        far=round(min(between), 4),
    )


def _select(x: np.ndarray, y: np.ndarray, strata: np.ndarray) -> list[CrossValidation]:
    results = []
    for candidate in CANDIDATES:
        result = cross_validate(candidate, x, y, strata)
        _log(f"  {candidate.name:32s} ROC AUC {result.mean_auc:.4f} ± {result.se_auc:.4f} (SE)")
        results.append(result)
    return results


def _cross_validated(
    chosen: CrossValidation, y: np.ndarray, strata: np.ndarray, names: list[str], threshold: float
) -> dict[str, Any]:
    labels = np.tile(y, REPEATS)
    pooled_metrics = classification_metrics(labels, chosen.oof.ravel(), threshold).as_dict()
    pooled_metrics |= {"roc_auc": chosen.mean_auc, "roc_auc_se": chosen.se_auc}
    out = {"pooled": _rounded(pooled_metrics)}
    for i, name in enumerate(names):
        rows = np.tile(strata == i, REPEATS)
        out[name] = _rounded(
            classification_metrics(labels[rows], chosen.oof.ravel()[rows], threshold).as_dict()
        )
    return out


def train(kaggle_dir: Path, twitter_dir: Path, instafake_dir: Path | None) -> dict[str, Any]:
    sources = load_sources(kaggle_dir, twitter_dir, instafake_dir)
    training = [s for s in sources.values() if s.trainable]
    x, y, strata = pooled(training)
    _log(f"training on {len(y)} profiles of {len(training)} sources, {len(CANDIDATES)} candidates")
    results = _select(x, y, strata)
    chosen = one_se_choice(results)
    _log(f"chosen: {chosen.candidate.name}")
    point = operating_point(y, chosen.oof, strata)
    robust = cross_validate(chosen.candidate, x, y, strata, repeats=1, robustness=True)
    spec = wrap(
        chosen.candidate.kind, fit_spec(chosen.candidate, x, y, strata, SEED), point, INPUTS
    )
    names = [s.name for s in training]
    points = source_points(y, chosen.oof, strata, point.threshold)
    spec["source_points"] = {name: p.__dict__ for name, p in zip(names, points, strict=True)}
    _log("leave-one-source-out evaluation")
    rows = evaluate_sources(chosen.candidate, sources, log=_log)
    spec["rate_shift"] = rate_shift(rows).__dict__
    spec["domain"] = domain_reference(training).as_json()
    spec["evaluation"] = {
        "cross_validated": _cross_validated(chosen, y, strata, names, point.threshold),
        "missing_columns": {k: round(float(np.mean(v)), 4) for k, v in robust.masked_auc.items()},
        "sources": [r.as_dict() for r in rows],
    }
    spec["accuracy"] = accuracy_summary(spec)
    spec["sources"] = {
        s.name: {
            "rows": len(s.y),
            "fake": int(s.y.sum()),
            "trained_on": s.trainable,
            "log_posts_shift": round(s.posts_shift, 6),
            "files_sha256": {f.name: _sha256(f) for f in s.files},
        }
        for s in sources.values()
    }
    spec["training"] = {
        "data": " + ".join(names),
        "rows": len(y),
        "mask_copies": MASK_COPIES,
        "mask_probability": MASK_PROBABILITY,
        "seed": SEED,
        "scikit_learn": sklearn.__version__,
    }
    spec["selection"] = {
        "rule": "one standard error of the best 5-fold x 2 cross-validated ROC AUC",
        "chosen": chosen.candidate.name,
        "candidates": [
            {"name": r.candidate.name, "roc_auc": round(r.mean_auc, 4), "se": round(r.se_auc, 4)}
            for r in results
        ],
    }
    FollowerModel.from_dict(spec)  # the file must load
    return spec


def accuracy_summary(spec: dict[str, Any]) -> dict[str, Any]:
    """The model's measured accuracy in a few numbers, for reports (from the stored table)."""
    rows = spec["evaluation"]["sources"]
    out = [r for r in rows if r["setting"] == "left out"]
    return {
        "cross_validated_roc_auc": spec["evaluation"]["cross_validated"]["pooled"]["roc_auc"],
        "left_out_roc_auc": {r["source"]: r["roc_auc"] for r in out},
        "left_out_share_error": {r["source"]: r["audience_mae"] for r in out},
        "left_out_within_3_points": {r["source"]: r["audience_within"] for r in out},
        "within": WITHIN,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kaggle", type=Path, required=True, help="folder with insta_train.csv")
    parser.add_argument("--twitter", type=Path, required=True, help="folder with humans.csv")
    parser.add_argument("--instafake", type=Path, help="InstaFake folder (evaluation only)")
    parser.add_argument("--output", type=Path, required=True, help="where to write the model JSON")
    args = parser.parse_args(argv)
    spec = train(args.kaggle, args.twitter, args.instafake)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    summary = {k: spec[k] for k in ("selection", "operating_point", "rate_shift", "accuracy")}
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
