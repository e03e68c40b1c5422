"""Build the shipped follower model, and measure it for the model card.

    python -m microfluence.authenticity.followers.training \\
        --kaggle ../shared/data/fake-accounts/kaggle-instagram \\
        --instafake ../shared/data/fake-accounts/instafake \\
        --output src/microfluence/authenticity/followers/models/follower_model.json

What it does (docs/model-card-follower.md reports the results):

1. Trains only on the Kaggle set's ``insta_train.csv`` (576 profiles, 50 % fake). Its
   ``insta_test.csv`` stays a held-out test; InstaFake (CC BY-NC 4.0) is used for evaluation only.
2. Augments each training fold with three copies in which every profile column (username, full
   name, biography, posts …) is masked at random with probability 0.3, so the model learns what to
   do when a follower file lacks a column, as InstaFake does (no full name, no external url).
3. Picks the model among logistic regressions and small gradient-boosted tree ensembles by 5-fold
   cross-validated ROC AUC, repeated twice, with the one-standard-error rule (Breiman et al.
   1984, Hastie et al. 2009 §7.10): the simplest candidate within one standard error of the best.
4. Sets the default threshold where the cross-validated TPR − FPR is largest (Youden's J; Forman
   2008's "MAX" threshold, which makes the adjusted classify-and-count estimate of a fake share
   most stable) and stores the cross-validated TPR and FPR there for that correction.
5. Fits the chosen candidate on all of ``insta_train.csv``, exports it as JSON, checks the JSON
   scorer against scikit-learn, and evaluates it on ``insta_test.csv`` and on InstaFake; then, for
   evaluation only, trains the same recipe on InstaFake and tests it on the whole Kaggle set.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold

from microfluence.authenticity.evaluation.classification import classification_metrics, roc_auc
from microfluence.authenticity.followers.features import FEATURE_SOURCES, FEATURES, MODEL_COLUMNS
from microfluence.authenticity.followers.labelled import LabelledSet, read_instafake, read_kaggle
from microfluence.authenticity.followers.model import (
    MODEL_FORMAT,
    MODEL_VERSION,
    FollowerModel,
    OperatingPoint,
)

SEED = 20191107
MASK_COPIES = 3
MASK_PROBABILITY = 0.3
FOLDS = 5
REPEATS = 2
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)
# Features from the columns InstaFake lacks: masked together to mimic a file without them.
INSTAFAKE_ABSENT = ("full_name", "external_url")


@dataclass(frozen=True)
class Candidate:
    name: str
    kind: str
    params: dict[str, Any]


# In order of complexity: the one-standard-error rule prefers the earliest.
CANDIDATES = (
    Candidate("logistic C=0.1", "logistic", {"C": 0.1}),
    Candidate("logistic C=1", "logistic", {"C": 1.0}),
    Candidate("logistic C=10", "logistic", {"C": 10.0}),
    Candidate("boosting 50 trees x 4 leaves", "gradient_boosting", {"max_iter": 50, "leaves": 4}),
    Candidate("boosting 100 trees x 4 leaves", "gradient_boosting", {"max_iter": 100, "leaves": 4}),
    Candidate("boosting 100 trees x 8 leaves", "gradient_boosting", {"max_iter": 100, "leaves": 8}),
    Candidate("boosting 200 trees x 8 leaves", "gradient_boosting", {"max_iter": 200, "leaves": 8}),
)

COLUMN_FEATURES = {
    column: [i for i, f in enumerate(FEATURES) if column in FEATURE_SOURCES[f]]
    for column in MODEL_COLUMNS
}


def mask_columns(x: np.ndarray, columns: tuple[str, ...]) -> np.ndarray:
    """``x`` with the features of the given profile columns set to missing."""
    masked = x.copy()
    for column in columns:
        masked[:, COLUMN_FEATURES[column]] = np.nan
    return masked


def augment(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The rows, plus ``MASK_COPIES`` copies with each profile column masked at random."""
    xs, ys = [x], [y]
    for _ in range(MASK_COPIES):
        copy = x.copy()
        for indices in COLUMN_FEATURES.values():
            drop = rng.random(len(x)) < MASK_PROBABILITY
            copy[np.ix_(drop, indices)] = np.nan
        xs.append(copy)
        ys.append(y)
    return np.vstack(xs), np.concatenate(ys)


def _fit_logistic(x: np.ndarray, y: np.ndarray, params: dict[str, Any]) -> dict[str, Any]:
    missing = np.isnan(x)
    with np.errstate(all="ignore"):
        center = np.where(missing.all(axis=0), 0.0, np.nanmean(x, axis=0))
        scale = np.where(missing.all(axis=0), 1.0, np.nanstd(x, axis=0))
    scale = np.where(scale > 0, scale, 1.0)
    standard = np.where(missing, 0.0, (x - center) / scale)
    model = LogisticRegression(C=params["C"], max_iter=5000)
    model.fit(np.hstack([standard, missing.astype(float)]), y)
    coef = model.coef_[0]
    return {
        "intercept": float(model.intercept_[0]),
        "coef": coef[: len(FEATURES)].tolist(),
        "center": center.tolist(),
        "scale": scale.tolist(),
        "missing_coef": coef[len(FEATURES) :].tolist(),
    }


def _fit_boosting(x: np.ndarray, y: np.ndarray, params: dict[str, Any]) -> dict[str, Any]:
    model = HistGradientBoostingClassifier(
        max_iter=params["max_iter"],
        max_leaf_nodes=params["leaves"],
        learning_rate=0.1,
        min_samples_leaf=10,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=SEED,
    )
    # A feature never seen (InstaFake has no full name) is constant to the trees: never split on.
    x = np.where(np.isnan(x).all(axis=0), 0.0, x)
    model.fit(x, y)
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise RuntimeError("categorical splits cannot be exported")
        thresholds = [None if not np.isfinite(t) else float(t) for t in nodes["num_threshold"]]
        trees.append(
            {
                "feature": nodes["feature_idx"].astype(int).tolist(),
                "threshold": thresholds,
                "missing_left": nodes["missing_go_to_left"].astype(bool).tolist(),
                "left": nodes["left"].astype(int).tolist(),
                "right": nodes["right"].astype(int).tolist(),
                "is_leaf": nodes["is_leaf"].astype(bool).tolist(),
                "value": nodes["value"].astype(float).tolist(),
                "depth": int(nodes["depth"].max()),
            }
        )
    spec = {"baseline": float(model._baseline_prediction.ravel()[0]), "trees": trees}
    # The exported trees must score exactly as scikit-learn does, missing values included.
    exported = FollowerModel.from_dict(_wrap("gradient_boosting", spec, _NO_POINT))
    probe = np.vstack([x[:200], mask_columns(x[:200], MODEL_COLUMNS[:4])])
    gap = np.abs(exported.predict_raw(probe) - model.decision_function(probe)).max()
    if gap > 1e-9:
        raise RuntimeError(f"the exported trees disagree with scikit-learn by {gap}")
    return spec


_NO_POINT = OperatingPoint(0.5, 0.0, 0.0, 0, 0, 0, 0)


def _wrap(kind: str, spec: dict[str, Any], point: OperatingPoint) -> dict[str, Any]:
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "kind": kind,
        "features": list(FEATURES),
        "operating_point": point.__dict__,
        kind: spec,
    }


def fit_spec(candidate: Candidate, x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    """Fit one candidate on masked-column-augmented data; its JSON export."""
    xa, ya = augment(x, y, np.random.default_rng(seed))
    fitter = _fit_logistic if candidate.kind == "logistic" else _fit_boosting
    return fitter(xa, ya, candidate.params)


def fit(candidate: Candidate, x: np.ndarray, y: np.ndarray, seed: int) -> FollowerModel:
    """Fit one candidate; the result scores exactly as the shipped model would."""
    spec = fit_spec(candidate, x, y, seed)
    return FollowerModel.from_dict(_wrap(candidate.kind, spec, _NO_POINT))


@dataclass
class CrossValidation:
    candidate: Candidate
    fold_auc: np.ndarray
    oof: np.ndarray  # (repeats, n) out-of-fold probabilities
    masked_auc: dict[str, list[float]]

    @property
    def mean_auc(self) -> float:
        return float(self.fold_auc.mean())

    @property
    def se_auc(self) -> float:
        return float(self.fold_auc.std(ddof=1) / np.sqrt(len(self.fold_auc)))


def cross_validate(
    candidate: Candidate, data: LabelledSet, *, repeats: int = REPEATS, robustness: bool = False
) -> CrossValidation:
    splitter = RepeatedStratifiedKFold(n_splits=FOLDS, n_repeats=repeats, random_state=SEED)
    oof = np.full((repeats, len(data)), np.nan)
    aucs: list[float] = []
    masked: dict[str, list[float]] = {}
    for fold, (train, test) in enumerate(splitter.split(data.x, data.y)):
        model = fit(candidate, data.x[train], data.y[train], SEED + fold)
        p = model.predict_proba(data.x[test])
        oof[fold // FOLDS, test] = p
        aucs.append(roc_auc(data.y[test], p))
        if robustness:
            settings = {f"without {c}": (c,) for c in MODEL_COLUMNS}
            settings["with InstaFake's columns only"] = INSTAFAKE_ABSENT
            for label, columns in settings.items():
                pm = model.predict_proba(mask_columns(data.x[test], columns))
                masked.setdefault(label, []).append(roc_auc(data.y[test], pm))
    return CrossValidation(candidate, np.asarray(aucs), oof, masked)


def operating_point(y: np.ndarray, oof: np.ndarray) -> OperatingPoint:
    """Forman's MAX threshold on pooled out-of-fold probabilities, with the rates there."""
    probabilities = oof.ravel()
    labels = np.tile(y, oof.shape[0]).astype(bool)
    best: OperatingPoint | None = None
    for threshold in THRESHOLD_GRID:
        predicted = probabilities >= threshold
        tp = int((predicted & labels).sum())
        fp = int((predicted & ~labels).sum())
        fn = int((~predicted & labels).sum())
        tn = int((~predicted & ~labels).sum())
        point = OperatingPoint(float(threshold), tp / (tp + fn), fp / (fp + tn), tp, fn, fp, tn)
        if best is None or point.tpr - point.fpr > best.tpr - best.fpr + 1e-12:
            best = point
    assert best is not None
    return best


def _one_se_choice(results: list[CrossValidation]) -> CrossValidation:
    best = max(results, key=lambda r: r.mean_auc)
    return next(r for r in results if r.mean_auc >= best.mean_auc - best.se_auc)


def _rounded(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def train(kaggle_dir: Path, instafake_dir: Path | None) -> dict[str, Any]:
    train_set = read_kaggle(kaggle_dir / "insta_train.csv")
    test_set = read_kaggle(kaggle_dir / "insta_test.csv")
    _log(f"training on {len(train_set)} profiles, {len(CANDIDATES)} candidates")
    results = []
    for candidate in CANDIDATES:
        result = cross_validate(candidate, train_set)
        _log(f"  {candidate.name:32s} ROC AUC {result.mean_auc:.4f} ± {result.se_auc:.4f} (SE)")
        results.append(result)
    chosen = _one_se_choice(results)
    _log(f"chosen: {chosen.candidate.name}")
    point = operating_point(train_set.y, chosen.oof)
    robust = cross_validate(chosen.candidate, train_set, robustness=True)

    spec = _wrap(
        chosen.candidate.kind, fit_spec(chosen.candidate, train_set.x, train_set.y, SEED), point
    )
    shipped = FollowerModel.from_dict(spec)

    cv_pooled = classification_metrics(
        np.tile(train_set.y, REPEATS), chosen.oof.ravel(), point.threshold
    ).as_dict()
    cv_pooled["roc_auc"] = chosen.mean_auc
    cv_pooled["roc_auc_se"] = chosen.se_auc
    evaluation: dict[str, Any] = {
        "kaggle_cross_validated": _rounded(cv_pooled),
        "kaggle_test": _rounded(
            classification_metrics(
                test_set.y, shipped.predict_proba(test_set.x), point.threshold
            ).as_dict()
        ),
        "kaggle_cross_validated_missing_columns": {
            label: round(float(np.mean(v)), 4) for label, v in robust.masked_auc.items()
        },
    }
    files = {
        "insta_train.csv": _sha256(kaggle_dir / "insta_train.csv"),
        "insta_test.csv": _sha256(kaggle_dir / "insta_test.csv"),
    }
    if instafake_dir is not None:
        instafake = read_instafake(instafake_dir)
        evaluation["instafake"] = _rounded(
            classification_metrics(
                instafake.y, shipped.predict_proba(instafake.x), point.threshold
            ).as_dict()
        )
        # Evaluation only (CC BY-NC): the same recipe trained on InstaFake.
        reverse_cv = cross_validate(chosen.candidate, instafake, repeats=1)
        reverse_point = operating_point(instafake.y, reverse_cv.oof)
        reverse_model = fit(chosen.candidate, instafake.x, instafake.y, SEED)
        everything = LabelledSet(
            "kaggle",
            np.vstack([train_set.x, test_set.x]),
            np.concatenate([train_set.y, test_set.y]),
        )
        reverse = classification_metrics(
            everything.y,
            reverse_model.predict_proba(mask_columns(everything.x, INSTAFAKE_ABSENT)),
            reverse_point.threshold,
        ).as_dict()
        evaluation["trained_on_instafake_tested_on_kaggle"] = _rounded(reverse)
        in_set = classification_metrics(
            instafake.y, reverse_cv.oof.ravel(), reverse_point.threshold
        ).as_dict()
        in_set["roc_auc"] = reverse_cv.mean_auc
        evaluation["instafake_cross_validated"] = _rounded(in_set)
        for name in ("fakeAccountData.json", "realAccountData.json"):
            files[name] = _sha256(instafake_dir / name)

    spec["training"] = {
        "data": "Kaggle 'Instagram fake spammer genuine accounts', insta_train.csv only",
        "rows": len(train_set),
        "fake_share": float(train_set.y.mean()),
        "files_sha256": files,
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
    spec["evaluation"] = evaluation
    return spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kaggle", type=Path, required=True, help="folder with insta_train.csv")
    parser.add_argument("--instafake", type=Path, help="folder with InstaFake's two JSON files")
    parser.add_argument("--output", type=Path, required=True, help="where to write the model JSON")
    args = parser.parse_args(argv)
    spec = train(args.kaggle, args.instafake)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    sys.stdout.write(
        json.dumps(
            {
                "selection": spec["selection"],
                "evaluation": spec["evaluation"],
                "operating_point": spec["operating_point"],
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
