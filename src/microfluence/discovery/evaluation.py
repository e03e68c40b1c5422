"""Measuring the niche model on labelled accounts: stratified k-fold cross-validation grouped by
account (the same handle is never in a training and a test fold), next to the keyword baseline
(taxonomy.SEEDS) in the same run.

Predictions of niches the data set does not label (gaming, tech, …) count as ``other``, the
data set's word for "none of the eight". Reported: accuracy over all nine labels, macro-F1 over
the eight named ones (``other`` left out of the average, as the issue asks), a confusion
matrix, and the same figures on two slices: accounts with one post, and accounts whose captions
look non-English (:func:`non_english`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedGroupKFold

from microfluence.discovery.features import featurise
from microfluence.discovery.taxonomy import DATASET_LABELS, MEASURED
from microfluence.discovery.training import keyword_baseline, train
from microfluence.kernel.errors import InputError

LABELS: tuple[str, ...] = tuple(DATASET_LABELS.values())
_ENGLISH = r"(?i)\b(the|and|you|for|with|this|that|my|is|are|of|to|in|it|on|so)\b"


@dataclass(frozen=True)
class Scores:
    accounts: int
    accuracy: float
    macro_f1: float
    per_niche_f1: dict[str, float]


@dataclass(frozen=True)
class NicheEvaluation:
    folds: int
    model: Scores
    baseline: Scores
    confusion: list[list[int]]  # rows: true label, columns: the model's, in LABELS order
    slices: dict[str, tuple[Scores, Scores]] = field(default_factory=dict)  # model, baseline


def non_english(accounts: pl.DataFrame) -> np.ndarray:
    """Rough: most letters outside ASCII, or at least five words and not one common English
    function word."""
    text = accounts["captions"].fill_null("")
    letters = text.str.count_matches(r"\p{L}").to_numpy()
    ascii_letters = text.str.count_matches(r"[A-Za-z]").to_numpy()
    words = text.str.count_matches(r"\p{L}{2,}").to_numpy()
    english = text.str.count_matches(_ENGLISH).to_numpy()
    mostly_foreign = ascii_letters < 0.5 * np.maximum(letters, 1)
    return (letters > 0) & (mostly_foreign | ((words >= 5) & (english == 0)))


def _scores(truth: np.ndarray, predicted: np.ndarray) -> Scores:
    per = f1_score(truth, predicted, labels=list(MEASURED), average=None, zero_division=0)
    return Scores(
        accounts=len(truth),
        accuracy=float(accuracy_score(truth, predicted)) if len(truth) else 0.0,
        macro_f1=float(np.mean(per)),
        per_niche_f1={n: float(f) for n, f in zip(MEASURED, per, strict=True)},
    )


def _as_dataset_labels(predicted: np.ndarray) -> np.ndarray:
    return np.where(np.isin(predicted, LABELS), predicted, "other")


def evaluate(accounts: pl.DataFrame, folds: int = 5, seed: int = 0) -> NicheEvaluation:
    """Cross-validate the model and the baseline on labelled accounts (dataset.read_accounts)."""
    truth = accounts["label"].to_numpy().astype(object)
    counts = np.unique(truth, return_counts=True)[1]
    if folds < 2 or counts.min() < folds:
        raise InputError(f"folds: {folds} folds need at least {max(folds, 2)} accounts per label")
    predicted = np.empty(len(truth), dtype=object)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    groups = accounts["handle"].to_numpy()
    for train_rows, test_rows in splitter.split(np.zeros(len(truth)), truth, groups):
        model = train(accounts[train_rows], version="cv", seed=seed)
        probs = model.probabilities(accounts[test_rows])
        predicted[test_rows] = np.array(model.niches, dtype=object)[probs.argmax(axis=1)]
    predicted = _as_dataset_labels(predicted)
    baseline = _as_dataset_labels(keyword_baseline(featurise(accounts)))
    slices = {
        "one post": accounts["posts"].to_numpy() == 1,
        "non-English captions": non_english(accounts),
    }
    return NicheEvaluation(
        folds=folds,
        model=_scores(truth, predicted),
        baseline=_scores(truth, baseline),
        confusion=confusion_matrix(truth, predicted, labels=list(LABELS)).tolist(),
        slices={
            name: (_scores(truth[rows], predicted[rows]), _scores(truth[rows], baseline[rows]))
            for name, rows in slices.items()
        },
    )
