"""Leave-one-source-out evaluation of the follower model's recipe, and its in-domain figures.

For every source (``followers.sources``):

* **in-domain**: the recipe cross-validated on that source alone (5 folds), threshold and rates
  from its own out-of-fold scores;
* **left out**: the recipe trained on every other source (InstaFake included when it is not the
  one left out: the evaluation may train on it, the shipped model never does), its threshold and
  rates from the cross-validation of those training sources, tested on the left-out source.

Reported per row: ROC AUC, precision, recall, F1 and FPR at the threshold, the fake share
estimated by the adjusted count (with the training rates) against the true share of the whole
source, and the same on ``AUDIENCES`` resampled audiences of ``AUDIENCE_SIZE`` followers at
``AUDIENCE_SHARE`` fake: mean signed error, mean absolute error, how often within 3 points, and
how often the 95 % interval (Beta posteriors of the rates, no between-source widening) covers the
truth. The left-out rows also give the shift of TPR and FPR from the training cross-validation
(the model's ``RateShift``) and the source's domain distance to the training sources.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from microfluence.authenticity.evaluation.classification import classification_metrics
from microfluence.authenticity.followers.domain import FeatureTally, class_cdfs, source_distance
from microfluence.authenticity.followers.fake_share import acc_draws, adjusted_count
from microfluence.authenticity.followers.model import OperatingPoint, RateShift
from microfluence.authenticity.followers.recipe import (
    SEED,
    Candidate,
    cross_validate,
    fit,
    operating_point,
)
from microfluence.authenticity.followers.sources import Source

AUDIENCES = 500
AUDIENCE_SIZE = 1_000
AUDIENCE_SHARE = 0.10
WITHIN = 0.03  # "share within 3 points"
INTERVAL_DRAWS = 4_000  # per resampled audience: enough for a 95 % interval's ends

Log = Callable[[str], None]


@dataclass(frozen=True)
class SourceEvaluation:
    """One row of the model card's table."""

    source: str
    setting: str  # "in-domain" or "left out"
    trained_on: str
    n: int
    fake: int
    threshold: float
    roc_auc: float
    precision: float
    recall: float
    f1: float
    fpr: float
    tp: int
    fp: int
    tn: int
    fn: int
    train_tpr: float  # the rates the correction uses
    train_fpr: float
    true_share: float
    estimated_share: float
    audience_bias: float  # mean estimated − true share over resampled audiences at 10 %
    audience_mae: float
    audience_within: float  # share of those audiences estimated within 3 points
    audience_coverage: float  # share of their 95 % intervals that cover the truth
    domain_distance: float | None  # left out: to the closest mixture of a training source

    def as_dict(self) -> dict[str, object]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def pooled(sources: list[Source]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.vstack([s.x for s in sources])
    y = np.concatenate([s.y for s in sources])
    strata = np.concatenate([np.full(len(s.y), i) for i, s in enumerate(sources)])
    return x, y, strata


def audience_errors(
    flagged: np.ndarray, y: np.ndarray, point: OperatingPoint, *, seed: int = SEED
) -> tuple[float, float, float, float]:
    """(bias, mean absolute error, share within 3 points, 95 % coverage) of the adjusted count on
    audiences resampled from labelled decisions at ``AUDIENCE_SHARE`` fake."""
    rng = np.random.default_rng(seed)
    fakes = int(round(AUDIENCE_SIZE * AUDIENCE_SHARE))
    fake_flags = flagged[y == 1]
    genuine_flags = flagged[y == 0]
    counts = (
        fake_flags[rng.integers(0, len(fake_flags), (AUDIENCES, fakes))].sum(axis=1)
        + genuine_flags[
            rng.integers(0, len(genuine_flags), (AUDIENCES, AUDIENCE_SIZE - fakes))
        ].sum(axis=1)
    ).astype(np.int64)
    c = counts / AUDIENCE_SIZE
    gap = point.tpr - point.fpr
    estimates = np.clip((c - point.fpr) / gap, 0.0, 1.0)
    errors = estimates - AUDIENCE_SHARE
    covered = 0
    for k in np.unique(counts):  # one simulation per distinct count, not per audience
        draws = acc_draws(int(k), AUDIENCE_SIZE, point, rng, draws=INTERVAL_DRAWS)
        low, high = np.percentile(draws, [2.5, 97.5])
        covered += int((counts == k).sum()) * bool(low <= AUDIENCE_SHARE <= high)
    return (
        float(errors.mean()),
        float(np.abs(errors).mean()),
        float((np.abs(errors) <= WITHIN + 1e-12).mean()),
        covered / AUDIENCES,
    )


def _row(  # noqa: PLR0913  one row's inputs
    source: Source,
    setting: str,
    trained_on: str,
    probabilities: np.ndarray,
    point: OperatingPoint,
    distance: float | None,
) -> SourceEvaluation:
    m = classification_metrics(source.y, probabilities, point.threshold)
    flagged = probabilities >= point.threshold
    bias, mae, within, coverage = audience_errors(flagged, source.y, point)
    assert m.roc_auc is not None
    return SourceEvaluation(
        source=source.name,
        setting=setting,
        trained_on=trained_on,
        n=m.n,
        fake=m.positives,
        threshold=point.threshold,
        roc_auc=m.roc_auc,
        precision=m.precision,
        recall=m.recall,
        f1=m.f1,
        fpr=m.false_positive_rate,
        tp=m.tp,
        fp=m.fp,
        tn=m.tn,
        fn=m.fn,
        train_tpr=point.tpr,
        train_fpr=point.fpr,
        true_share=float(source.y.mean()),
        estimated_share=adjusted_count(float(flagged.mean()), point.tpr, point.fpr),
        audience_bias=bias,
        audience_mae=mae,
        audience_within=within,
        audience_coverage=coverage,
        domain_distance=distance,
    )


def in_domain(candidate: Candidate, source: Source) -> SourceEvaluation:
    """The recipe cross-validated on one source alone."""
    strata = np.zeros(len(source.y), dtype=np.int64)
    cv = cross_validate(candidate, source.x, source.y, strata, repeats=1)
    point = operating_point(source.y, cv.oof)
    return _row(source, "in-domain", source.name, cv.oof[0], point, None)


def domain_distance(left_out: Source, training: list[Source]) -> float:
    """The left-out source's distance to the closest mixture of a training source."""
    sample = FeatureTally.of(left_out.x).cdf()
    return min(source_distance(sample, class_cdfs(s.x, s.y)) for s in training)


def left_out(candidate: Candidate, out: Source, training: list[Source]) -> SourceEvaluation:
    """The recipe trained on ``training``, tested on ``out``."""
    x, y, strata = pooled(training)
    cv = cross_validate(candidate, x, y, strata)  # as the training script does
    point = operating_point(y, cv.oof, strata)
    model = fit(candidate, x, y, strata, SEED)
    names = " + ".join(s.name for s in training)
    distance = domain_distance(out, training)
    return _row(out, "left out", names, model.predict_proba(out.x), point, distance)


def evaluate_sources(
    candidate: Candidate, sources: dict[str, Source], *, log: Log | None = None
) -> list[SourceEvaluation]:
    """In-domain and leave-one-source-out rows for every source, in the sources' order."""
    rows: list[SourceEvaluation] = []
    for name, source in sources.items():
        if log is not None:
            log(f"  {name}: in-domain cross-validation, then left out")
        rows.append(in_domain(candidate, source))
        training = [s for other, s in sources.items() if other != name]
        rows.append(left_out(candidate, source, training))
    return rows


def rate_shift(rows: list[SourceEvaluation]) -> RateShift:
    """How far TPR and FPR moved on the left-out sources (the model's ``RateShift``)."""
    out = [r for r in rows if r.setting == "left out"]
    return RateShift.of([r.recall - r.train_tpr for r in out], [r.fpr - r.train_fpr for r in out])


def markdown_table(rows: list[dict[str, object]]) -> str:
    """The model card's table from the rows (as stored in the model file)."""
    lines = [
        "| Source | Setting | Trained on | Profiles (fake) | ROC AUC | Precision | Recall | F1 "
        "| FPR | True share | Estimated | At 10 % fake: bias | MAE | within 3 pts "
        "| 95 % covers |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['source']} | {r['setting']} | {r['trained_on']} | {r['n']:,} ({r['fake']:,}) "
            f"| {r['roc_auc']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} "
            f"| {r['fpr']:.3f} | {r['true_share']:.1%} | {r['estimated_share']:.1%} "
            f"| {r['audience_bias']:+.1%} | {r['audience_mae']:.1%} "
            f"| {r['audience_within']:.0%} | {r['audience_coverage']:.0%} |"
        )
    return "\n".join(lines)
