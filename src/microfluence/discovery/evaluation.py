"""Measuring the niche model on labelled accounts: stratified k-fold cross-validation grouped by
account (the same handle is never in a training and a test fold), next to the other methods
of :mod:`microfluence.discovery.candidates` (the previous model, the keyword baseline, zero-shot
embeddings, embeddings into a linear model, and hashed features with embeddings) in the same run
and on the same folds.

Predictions of niches the data set does not label (gaming, tech, …) count as ``other``, the
data set's word for "none of the eight". Reported: accuracy over all nine labels, macro-F1 over
the eight named ones (``other`` left out of the average, as the issue asks), the model's
confusion matrix, and the same figures on slices, for every method:

* by rows: accounts with one post, with two, whose captions look non-English
  (:func:`non_english`), with and without alt texts;
* by input, out of domain: every test account with its alt texts removed (importers and
  platforms that give none), and with only its hashtags and handle (captions cut down to their
  hashtags; no alt text) — the models are trained on the full accounts as always.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from microfluence.discovery.candidates import (
    Method,
    all_methods,
    embeddings,
    hashtags_only,
    without_alt_texts,
)
from microfluence.discovery.features import ALT_BOILERPLATE
from microfluence.discovery.taxonomy import DATASET_LABELS, MEASURED
from microfluence.kernel.errors import InputError

LABELS: tuple[str, ...] = tuple(DATASET_LABELS.values())
_ENGLISH = r"(?i)\b(the|and|you|for|with|this|that|my|is|are|of|to|in|it|on|so)\b"


@dataclass(frozen=True)
class Scores:
    accounts: int
    accuracy: float
    macro_f1: float
    per_niche_f1: dict[str, float]


MODEL = "model"
BASELINE = "keyword baseline"
# Out-of-domain inputs: each test account changed so, then scored by every method.
VARIANTS: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {
    "alt texts removed": without_alt_texts,
    "hashtags only": hashtags_only,
}


@dataclass(frozen=True)
class NicheEvaluation:
    folds: int
    methods: dict[str, Scores]  # every method on all accounts, as they are
    confusion: list[list[int]]  # the model's; rows: true label, columns: predicted (LABELS)
    # slice → method → scores (row slices, then the out-of-domain inputs)
    slices: dict[str, dict[str, Scores]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # per method, training + scoring

    @property
    def model(self) -> Scores:
        return self.methods[MODEL]

    @property
    def baseline(self) -> Scores:
        return self.methods[BASELINE]


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


def scores_of(truth: np.ndarray, predicted: np.ndarray) -> Scores:
    # on first use: SciPy and scikit-learn cost 0.2–1 s to import
    from sklearn.metrics import accuracy_score, f1_score

    per = f1_score(truth, predicted, labels=list(MEASURED), average=None, zero_division=0)
    return Scores(
        accounts=len(truth),
        accuracy=float(accuracy_score(truth, predicted)) if len(truth) else 0.0,
        macro_f1=float(np.mean(per)),
        per_niche_f1={n: float(f) for n, f in zip(MEASURED, per, strict=True)},
    )


def as_dataset_labels(predicted: np.ndarray) -> np.ndarray:
    return np.where(np.isin(predicted, LABELS), predicted, "other")


def _row_slices(accounts: pl.DataFrame) -> dict[str, np.ndarray]:
    posts = accounts["posts"].to_numpy()
    described = (
        accounts["alt_texts"].fill_null("").str.replace_all(ALT_BOILERPLATE, "").str.strip_chars()
        != ""
    ).to_numpy()
    return {
        "one post": posts == 1,
        "two posts": posts == 2,
        "non-English captions": non_english(accounts),
        "with alt texts": described,
        "without alt texts": ~described,
    }


def _check(truth: np.ndarray, folds: int) -> None:
    counts = np.unique(truth, return_counts=True)[1]
    if folds < 2 or counts.min() < folds:
        raise InputError(f"folds: {folds} folds need at least {max(folds, 2)} accounts per label")


def fold_rows(accounts: pl.DataFrame, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(training rows, test rows) of each fold: stratified by label, grouped by handle (an
    account is never in a training and a test fold), shuffled by ``seed``."""
    from sklearn.model_selection import StratifiedGroupKFold

    truth = accounts["label"].to_numpy().astype(object)
    _check(truth, folds)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    groups = accounts["handle"].to_numpy()
    return list(splitter.split(np.zeros(len(truth)), truth, groups))


def evaluate(
    accounts: pl.DataFrame,
    folds: int = 5,
    seed: int = 0,
    methods: Sequence[Method] | None = None,
) -> NicheEvaluation:
    """Cross-validate every method (candidates.all_methods() unless given; the first is the
    model) on labelled accounts (dataset.read_accounts), as they are and out of domain."""
    # on first use: SciPy and scikit-learn cost 0.2–1 s to import
    from sklearn.metrics import confusion_matrix

    truth = accounts["label"].to_numpy().astype(object)
    rows_of_folds = fold_rows(accounts, folds, seed)
    methods = list(methods) if methods is not None else all_methods()
    inputs = {"": accounts} | {name: change(accounts) for name, change in VARIANTS.items()}
    none = np.zeros((accounts.height, 0), dtype=np.float32)
    wanted = any(m.uses_vectors for m in methods)
    vectors = {name: embeddings(frame) if wanted else none for name, frame in inputs.items()}
    predicted = {(m.name, v): np.empty(len(truth), dtype=object) for m in methods for v in inputs}
    seconds = dict.fromkeys((m.name for m in methods), 0.0)
    for train_rows, test_rows in rows_of_folds:
        for method in methods:
            started = time.perf_counter()
            method.fit(accounts[train_rows], vectors[""][train_rows], seed)
            for name, frame in inputs.items():
                guess = method.predict(frame[test_rows], vectors[name][test_rows])
                predicted[method.name, name][test_rows] = as_dataset_labels(guess)
            seconds[method.name] += time.perf_counter() - started
    slices = {
        name: {m.name: scores_of(truth[rows], predicted[m.name, ""][rows]) for m in methods}
        for name, rows in _row_slices(accounts).items()
    } | {
        name: {m.name: scores_of(truth, predicted[m.name, name]) for m in methods}
        for name in VARIANTS
    }
    model = methods[0].name
    return NicheEvaluation(
        folds=folds,
        methods={m.name: scores_of(truth, predicted[m.name, ""]) for m in methods},
        confusion=confusion_matrix(truth, predicted[model, ""], labels=list(LABELS)).tolist(),
        slices=slices,
        seconds=seconds,
    )
