"""The training recipe of the follower model: fitting, cross-validation, the operating point.

``followers.training`` (the script that builds the shipped model) and ``followers.loso`` (the
leave-one-source-out evaluation) both train with these functions, so what is evaluated is what
ships:

* only the model's ``inputs`` (``followers.sources.INPUTS``) are used: the other features are set
  to missing before fitting, so the trees never split on them;
* every fold is augmented with three copies in which each profile column is masked at random with
  probability 0.3, so the model learns what to do when a follower file lacks a column;
* rows are weighted so that every (source, class) pair weighs the same: each source counts as
  much as the others whatever its size, and the probabilities are at a 50 % base rate;
* the default threshold is where the pooled out-of-fold TPR − FPR is largest (Youden's J;
  Forman 2008's "MAX" threshold, which makes the adjusted count most stable).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from microfluence.authenticity.evaluation.classification import roc_auc
from microfluence.authenticity.followers.features import FEATURE_SOURCES, FEATURES, MODEL_COLUMNS
from microfluence.authenticity.followers.model import (
    MODEL_FORMAT,
    MODEL_VERSION,
    FollowerModel,
    OperatingPoint,
)
from microfluence.authenticity.followers.sources import INPUTS, inputs_only

SEED = 20191107
MASK_COPIES = 3
MASK_PROBABILITY = 0.3
FOLDS = 5
REPEATS = 2
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


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


def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The rows, plus ``MASK_COPIES`` copies with each profile column masked at random."""
    xs = [x]
    for _ in range(MASK_COPIES):
        copy = x.copy()
        for indices in COLUMN_FEATURES.values():
            drop = rng.random(len(x)) < MASK_PROBABILITY
            copy[np.ix_(drop, indices)] = np.nan
        xs.append(copy)
    return np.vstack(xs)


def balanced_weights(y: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Weights under which every (source, class) stratum has the same total weight, mean 1."""
    _, index, counts = np.unique(strata * 2 + y, return_inverse=True, return_counts=True)
    weights = 1.0 / counts[index]
    return weights * len(y) / weights.sum()


def _fit_logistic(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, params: dict[str, Any]
) -> dict[str, Any]:
    missing = np.isnan(x)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the mean of an all-missing column
        center = np.where(missing.all(axis=0), 0.0, np.nanmean(x, axis=0))
        scale = np.where(missing.all(axis=0), 1.0, np.nanstd(x, axis=0))
    scale = np.where(scale > 0, scale, 1.0)
    standard = np.where(missing, 0.0, (x - center) / scale)
    # on first use: SciPy and scikit-learn cost 0.2–1 s to import
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=params["C"], max_iter=5000)
    model.fit(np.hstack([standard, missing.astype(float)]), y, sample_weight=w)
    coef = model.coef_[0]
    return {
        "intercept": float(model.intercept_[0]),
        "coef": coef[: len(FEATURES)].tolist(),
        "center": center.tolist(),
        "scale": scale.tolist(),
        "missing_coef": coef[len(FEATURES) :].tolist(),
    }


def _fit_boosting(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, params: dict[str, Any]
) -> dict[str, Any]:
    # on first use: SciPy and scikit-learn cost 0.2–1 s to import
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=params["max_iter"],
        max_leaf_nodes=params["leaves"],
        learning_rate=0.1,
        min_samples_leaf=10,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=SEED,
    )
    # A feature never seen (not an input) is constant to the trees: never split on.
    x = np.where(np.isnan(x).all(axis=0), 0.0, x)
    model.fit(x, y, sample_weight=w)
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
    exported = FollowerModel.from_dict(wrap("gradient_boosting", spec, _NO_POINT))
    probe = np.vstack([x[:200], mask_columns(x[:200], MODEL_COLUMNS[:4])])
    gap = np.abs(exported.predict_raw(probe) - model.decision_function(probe)).max()
    if gap > 1e-9:
        raise RuntimeError(f"the exported trees disagree with scikit-learn by {gap}")
    return spec


_NO_POINT = OperatingPoint(0.5, 0.0, 0.0, 0, 0, 0, 0)


def wrap(
    kind: str, spec: dict[str, Any], point: OperatingPoint, inputs: tuple[str, ...] = FEATURES
) -> dict[str, Any]:
    """A model file's JSON around a fitted candidate's export."""
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "kind": kind,
        "features": list(FEATURES),
        "inputs": list(inputs),
        "operating_point": point.__dict__,
        kind: spec,
    }


def fit_spec(
    candidate: Candidate, x: np.ndarray, y: np.ndarray, strata: np.ndarray, seed: int
) -> dict[str, Any]:
    """Fit one candidate on the inputs of masked-column-augmented data; its JSON export."""
    xa = augment(inputs_only(x), np.random.default_rng(seed))
    ya = np.tile(y, MASK_COPIES + 1)
    wa = np.tile(balanced_weights(y, strata), MASK_COPIES + 1)
    fitter = _fit_logistic if candidate.kind == "logistic" else _fit_boosting
    return fitter(xa, ya, wa, candidate.params)


def fit(
    candidate: Candidate, x: np.ndarray, y: np.ndarray, strata: np.ndarray, seed: int
) -> FollowerModel:
    """Fit one candidate; the result scores exactly as the shipped model would."""
    spec = fit_spec(candidate, x, y, strata, seed)
    return FollowerModel.from_dict(wrap(candidate.kind, spec, _NO_POINT, INPUTS))


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


def cross_validate(  # noqa: PLR0913  the data, its strata and three options
    candidate: Candidate,
    x: np.ndarray,
    y: np.ndarray,
    strata: np.ndarray,
    *,
    repeats: int = REPEATS,
    robustness: bool = False,
) -> CrossValidation:
    """K-fold cross-validation stratified by source and class, repeated; out-of-fold scores."""
    # on first use: SciPy and scikit-learn cost 0.2–1 s to import
    from sklearn.model_selection import RepeatedStratifiedKFold

    splitter = RepeatedStratifiedKFold(n_splits=FOLDS, n_repeats=repeats, random_state=SEED)
    oof = np.full((repeats, len(y)), np.nan)
    aucs: list[float] = []
    masked: dict[str, list[float]] = {}
    for fold, (train, test) in enumerate(splitter.split(x, strata * 2 + y)):
        model = fit(candidate, x[train], y[train], strata[train], SEED + fold)
        p = model.predict_proba(x[test])
        oof[fold // FOLDS, test] = p
        aucs.append(roc_auc(y[test], p))
        if robustness:
            for column in ("posts", "followers", "following", "has_profile_pic"):
                pm = model.predict_proba(mask_columns(x[test], (column,)))
                masked.setdefault(f"without {column}", []).append(roc_auc(y[test], pm))
            only = mask_columns(x[test], ("username", "full_name", "biography", "external_url"))
            masked.setdefault("without the text columns", []).append(
                roc_auc(y[test], model.predict_proba(only))
            )
    return CrossValidation(candidate, np.asarray(aucs), oof, masked)


def operating_point(
    y: np.ndarray, oof: np.ndarray, strata: np.ndarray | None = None
) -> OperatingPoint:
    """Forman's MAX threshold on out-of-fold probabilities, with the rates there.

    With ``strata`` (the source of each row), TPR and FPR are the means over the sources of each
    source's rates, so every source weighs the same, as in training. The counts are per profile
    (the repeats of the cross-validation averaged): those rates times the number of fake and of
    genuine profiles, which is what the Beta posteriors of the fake-share interval use."""
    strata = np.zeros(len(y), dtype=np.int64) if strata is None else strata
    labels = np.tile(y, oof.shape[0]).astype(bool)
    groups = np.tile(strata, oof.shape[0])
    # flagged[threshold, row]: one comparison per grid point, rates per source by grouping
    flagged = oof.ravel()[None, :] >= THRESHOLD_GRID[:, None]
    tprs, fprs = [], []
    for group in np.unique(groups):
        rows = groups == group
        tprs.append(flagged[:, rows & labels].mean(axis=1))
        fprs.append(flagged[:, rows & ~labels].mean(axis=1))
    tpr, fpr = np.mean(tprs, axis=0), np.mean(fprs, axis=0)
    best = int(np.argmax(np.round(tpr - fpr, 12)))  # the first (lowest) threshold of the best J
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    tp, fp = int(round(tpr[best] * positives)), int(round(fpr[best] * negatives))
    return OperatingPoint(
        float(THRESHOLD_GRID[best]),
        tp / positives,
        fp / negatives,
        tp,
        positives - tp,
        fp,
        negatives - fp,
    )


def source_points(
    y: np.ndarray, oof: np.ndarray, strata: np.ndarray, threshold: float
) -> list[OperatingPoint]:
    """Each source's own out-of-fold rates at ``threshold``, counts per profile (repeats
    averaged): the rates the fake share is corrected with for a sample like that source."""
    repeats = oof.shape[0]
    flagged = oof >= threshold
    points = []
    for group in np.unique(strata):
        fake, genuine = (strata == group) & (y == 1), (strata == group) & (y == 0)
        tp = int(round(flagged[:, fake].sum() / repeats))
        fp = int(round(flagged[:, genuine].sum() / repeats))
        positives, negatives = int(fake.sum()), int(genuine.sum())
        points.append(
            OperatingPoint(
                threshold, tp / positives, fp / negatives, tp, positives - tp, fp, negatives - fp
            )
        )
    return points


def one_se_choice(results: list[CrossValidation]) -> CrossValidation:
    """The simplest candidate within one standard error of the best (Breiman et al. 1984)."""
    best = max(results, key=lambda r: r.mean_auc)
    return next(r for r in results if r.mean_auc >= best.mean_auc - best.se_auc)
