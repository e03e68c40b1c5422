"""An audience's fake share from its followers' fake probabilities, base rate corrected.

The model was trained on a 50/50 set, real audiences are mostly genuine (5-35 % fake is
typical), so neither the share of followers over the threshold nor the mean probability is the
fake share. Methods (docs/authenticity.md, "Follower-sample audit", gives the formulas):

* ``acc`` (default): adjusted classify-and-count, Forman (2008) "Quantifying counts and costs
  via classification", DMKD 17(2): share = (c − FPR) / (TPR − FPR), clipped to [0, 1], with c the
  share flagged at the default threshold and TPR, FPR the model's cross-validated rates there.
  The interval is the Wilson (1927) score interval of c, mapped through the same formula (it is
  increasing in c), so it reflects the sample size.
* ``em``: the prior adjustment of Saerens, Latinne & Decaestecker (2002) "Adjusting the outputs
  of a classifier to new a priori probabilities", Neural Computation 14(1): EM on the
  probabilities; interval: percentile bootstrap (1,000 resamples of the sample).
* ``cc``: plain classify-and-count c with its Wilson interval, *not* corrected (for comparison).

Probabilities are tallied in a fine histogram (``ScoreTally``), so a file of any length is
estimated in bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from microfluence.authenticity.followers.model import OperatingPoint
from microfluence.kernel.errors import InputError

METHODS = ("acc", "em", "cc")
TRAINING_PRIOR = 0.5
BINS = 10_000
BOOTSTRAP_RESAMPLES = 1_000
EM_TOLERANCE = 1e-8
EM_MAX_ITERATIONS = 1_000


@dataclass
class ScoreTally:
    """The probabilities of a sample, summed up batch by batch: count, flagged, histogram."""

    threshold: float
    n: int = 0
    flagged: int = 0
    counts: np.ndarray = field(default_factory=lambda: np.zeros(BINS, dtype=np.int64))
    sums: np.ndarray = field(default_factory=lambda: np.zeros(BINS, dtype=np.float64))

    def add(self, probabilities: np.ndarray) -> None:
        p = np.asarray(probabilities, dtype=np.float64)
        if p.size and (np.isnan(p).any() or p.min() < 0 or p.max() > 1):
            raise InputError("probabilities must lie between 0 and 1")
        bins = np.minimum((p * BINS).astype(np.int64), BINS - 1)
        self.counts += np.bincount(bins, minlength=BINS)
        self.sums += np.bincount(bins, weights=p, minlength=BINS)
        self.n += int(p.size)
        self.flagged += int((p >= self.threshold).sum())

    @classmethod
    def of(cls, probabilities: np.ndarray, threshold: float) -> ScoreTally:
        tally = cls(threshold)
        tally.add(probabilities)
        return tally


@dataclass(frozen=True)
class FakeShareEstimate:
    """The estimated share of fake followers, with its confidence interval."""

    share: float
    low: float
    high: float
    n: int
    method: str
    confidence: float
    flagged: int  # followers at or over the threshold
    flagged_share: float  # flagged / n: the uncorrected classify-and-count share
    threshold: float
    notes: tuple[str, ...] = ()  # warnings a reader of the estimate should see

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "notes": list(self.notes)}


def wilson_interval(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson (1927) score interval of a proportion."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    c = successes / n
    centre = (c + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(c * (1 - c) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def adjusted_count(c: float, tpr: float, fpr: float) -> float:
    """Forman's adjusted classify-and-count, clipped to [0, 1]."""
    return float(np.clip((c - fpr) / (tpr - fpr), 0.0, 1.0))


def em_prior(counts: np.ndarray, means: np.ndarray, prior: float = TRAINING_PRIOR) -> np.ndarray:
    """Saerens-Latinne-Decaestecker EM: the fake share(s) of one or more weighted samples.

    ``counts`` is (samples, bins) or (bins,): how many probabilities fall in each bin, ``means``
    the mean probability in each bin. Returns one share per sample.
    """
    counts = np.atleast_2d(counts).astype(np.float64)
    totals = counts.sum(axis=1)
    p = np.clip(means, 1e-12, 1 - 1e-12)[None, :]
    share = np.full(len(counts), prior)  # start from the training prior
    for _ in range(EM_MAX_ITERATIONS):
        fake = share[:, None] / prior * p
        genuine = (1 - share[:, None]) / (1 - prior) * (1 - p)
        updated = (counts * fake / (fake + genuine)).sum(axis=1) / totals
        if np.abs(updated - share).max() < EM_TOLERANCE:
            share = updated
            break
        share = updated
    return share


def estimate_fake_share(
    probabilities: np.ndarray | ScoreTally,
    operating_point: OperatingPoint,
    *,
    method: str = "acc",
    confidence: float = 0.95,
    seed: int = 0,
) -> FakeShareEstimate:
    """The fake share of the sample whose fake probabilities are given (or tallied)."""
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    if not 0.5 <= confidence < 1:
        raise InputError("confidence must be at least 0.5 and below 1", field="confidence")
    tally = (
        probabilities
        if isinstance(probabilities, ScoreTally)
        else ScoreTally.of(np.asarray(probabilities), operating_point.threshold)
    )
    if tally.n == 0:
        raise InputError("no followers in the sample: a fake share needs at least one")
    tpr, fpr = operating_point.tpr, operating_point.fpr
    c = tally.flagged / tally.n
    c_low, c_high = wilson_interval(tally.flagged, tally.n, confidence)
    notes: list[str] = []
    if method == "acc" and c_high < fpr:
        notes.append(
            "fewer followers were flagged than the model's false-positive rate "
            f"({fpr:.1%}) predicts for an all-genuine audience: the sample is unlike the "
            "training data, so treat the estimate of 0 with care"
        )
    elif method == "acc" and c_low > tpr:
        notes.append(
            f"more followers were flagged than the model's true-positive rate ({tpr:.1%}) "
            "predicts for an all-fake audience: the sample is unlike the training data"
        )
    if method == "cc":
        share, low, high = c, c_low, c_high
    elif method == "acc":
        if tpr <= fpr:
            raise InputError("the model's TPR is not above its FPR: ACC cannot correct")
        share = adjusted_count(c, tpr, fpr)
        low, high = adjusted_count(c_low, tpr, fpr), adjusted_count(c_high, tpr, fpr)
    else:
        occupied = tally.counts > 0
        counts = tally.counts[occupied]
        means = tally.sums[occupied] / counts
        share = float(em_prior(counts, means)[0])
        rng = np.random.default_rng(seed)
        resampled = rng.multinomial(tally.n, counts / tally.n, size=BOOTSTRAP_RESAMPLES)
        shares = em_prior(resampled, means)
        tail = (1 - confidence) / 2 * 100
        low, high = (float(v) for v in np.percentile(shares, [tail, 100 - tail]))
    return FakeShareEstimate(
        share=float(share),
        low=float(min(low, share)),
        high=float(max(high, share)),
        n=tally.n,
        method=method,
        confidence=confidence,
        flagged=tally.flagged,
        flagged_share=c,
        threshold=operating_point.threshold,
        notes=tuple(notes),
    )
