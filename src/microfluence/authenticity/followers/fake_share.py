"""An audience's fake share from its followers' fake probabilities, base rate corrected.

The model was trained on a 50/50 set, real audiences are mostly genuine (5-35 % fake is
typical), so neither the share of followers over the threshold nor the mean probability is the
fake share. Methods (docs/authenticity.md, "Follower-sample audit", gives the formulas):

* ``acc`` (default): adjusted classify-and-count, Forman (2008) "Quantifying counts and costs
  via classification", DMKD 17(2) — the Rogan & Gladen (1978) estimator of epidemiology:
  share = (c − FPR) / (TPR − FPR), clipped to [0, 1], with c the share flagged at the default
  threshold and TPR, FPR the model's cross-validated rates there. The interval is simulated
  (``acc_draws``): c, TPR and FPR are drawn from their Beta posteriors (c from the sample's
  count, TPR and FPR from the operating point's confusion counts), plus, when a ``RateShift`` is
  given, a normal shift of TPR and FPR between sources; the percentiles of the corrected shares
  are the interval (Lang & Reiczigel 2014; Flor et al. 2020). A sample outside the training
  domain (``followers.domain``) gets a shift growing towards the largest seen between sources,
  and a warning note.
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

from microfluence.authenticity.followers.domain import DomainCheck
from microfluence.authenticity.followers.model import OperatingPoint, RateShift
from microfluence.kernel.errors import InputError

METHODS = ("acc", "em", "cc")
TRAINING_PRIOR = 0.5
BINS = 10_000
BOOTSTRAP_RESAMPLES = 1_000
EM_TOLERANCE = 1e-8
EM_MAX_ITERATIONS = 1_000
DRAWS = 4_000  # simulated (c, TPR, FPR) triples behind the ACC interval (ends to ±0.3 points)
JEFFREYS = 0.5  # Beta(k + ½, n − k + ½): the Jeffreys posterior of a proportion


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
    in_domain: bool | None = None  # the domain check's verdict, when it was made
    domain_distance: float | None = None

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


def _beta_or_fixed(
    successes: int, failures: int, point: float, draws: int, rng: np.random.Generator
) -> np.ndarray:
    if successes + failures == 0:  # an operating point without its counts: the rate as given
        return np.full(draws, point)
    return rng.beta(successes + JEFFREYS, failures + JEFFREYS, draws)


def acc_draws(
    flagged: int,
    n: int,
    point: OperatingPoint,
    rng: np.random.Generator,
    *,
    shift: tuple[float, float] = (0.0, 0.0),
    draws: int = DRAWS,
) -> np.ndarray:
    """Simulated corrected shares: c, TPR and FPR drawn from their Beta posteriors, TPR and
    FPR moved by normal shifts of standard deviation ``shift`` (TPR's, FPR's), then corrected.

    Where a draw has TPR ≤ FPR the flags carry no information and the share is drawn uniform."""
    c = rng.beta(flagged + JEFFREYS, n - flagged + JEFFREYS, draws)
    tpr = _beta_or_fixed(point.tp, point.fn, point.tpr, draws, rng)
    fpr = _beta_or_fixed(point.fp, point.tn, point.fpr, draws, rng)
    if shift[0] > 0:
        tpr = np.clip(tpr + rng.normal(0.0, shift[0], draws), 0.0, 1.0)
    if shift[1] > 0:
        fpr = np.clip(fpr + rng.normal(0.0, shift[1], draws), 0.0, 1.0)
    gap = tpr - fpr
    informative = gap > 0
    share = np.clip((c - fpr) / np.where(informative, gap, 1.0), 0.0, 1.0)
    return np.where(informative, share, rng.random(draws))


def _shift_for(rate_shift: RateShift | None, domain: DomainCheck | None) -> tuple[float, float]:
    """The standard deviations of the TPR and FPR shifts: the typical shift between sources,
    growing to the largest one with the domain check's severity."""
    if rate_shift is None:
        return (0.0, 0.0)
    weight = 0.0 if domain is None else domain.severity
    return (
        rate_shift.tpr_typical + weight * (rate_shift.tpr_worst - rate_shift.tpr_typical),
        rate_shift.fpr_typical + weight * (rate_shift.fpr_worst - rate_shift.fpr_typical),
    )


def _domain_note(domain: DomainCheck) -> str:
    return (
        "this sample's profiles look unlike every source the model was trained on (distance "
        f"{domain.distance:.2f} to the closest, {domain.closest_source}; at most "
        f"{domain.limit:.2f} is in domain): the error rates the correction relies on may not "
        "hold here, so the interval is widened towards the largest shift of those rates seen "
        "between sources. Read the share as a rough range; label 50 to 200 of this workspace's "
        "followers (the Labels page, or `microfluence labels import`) to measure the model's "
        "error rates on your own audiences and narrow it"
    )


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


def estimate_fake_share(  # noqa: PLR0913  keyword options of one estimate
    probabilities: np.ndarray | ScoreTally,
    operating_point: OperatingPoint,
    *,
    method: str = "acc",
    confidence: float = 0.95,
    seed: int = 0,
    rate_shift: RateShift | None = None,
    domain: DomainCheck | None = None,
) -> FakeShareEstimate:
    """The fake share of the sample whose fake probabilities are given (or tallied).

    ``rate_shift`` (the model's ``RateShift``) widens the interval by how much the error rates
    moved between sources; ``domain`` (a ``DomainCheck`` of the sample) adds a warning and the
    largest such shift when the sample is out of domain."""
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
    if method != "cc" and tpr <= fpr:
        raise InputError("the model's TPR is not above its FPR: the share cannot be corrected")
    c = tally.flagged / tally.n
    notes = _rate_notes(tally, operating_point, method, confidence)
    rng = np.random.default_rng(seed)
    tail = (1 - confidence) / 2 * 100
    shift = _shift_for(rate_shift, domain)
    if method == "cc":
        share = c
        low, high = wilson_interval(tally.flagged, tally.n, confidence)
    else:
        simulated = acc_draws(tally.flagged, tally.n, operating_point, rng, shift=shift)
        low, high = (float(v) for v in np.percentile(simulated, [tail, 100 - tail]))
        share = adjusted_count(c, tpr, fpr)
    if method == "em":
        share, em_low, em_high = _em_estimate(tally, rng, tail)
        out = domain is not None and not domain.in_domain
        # Out of domain, the EM interval is widened to cover the shifted ACC range as well.
        low, high = (min(low, em_low), max(high, em_high)) if out else (em_low, em_high)
    if domain is not None and not domain.in_domain:
        notes.append(_domain_note(domain))
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
        in_domain=None if domain is None else domain.in_domain,
        domain_distance=None if domain is None else round(domain.distance, 4),
    )


def _rate_notes(
    tally: ScoreTally, point: OperatingPoint, method: str, confidence: float
) -> list[str]:
    if method != "acc":
        return []
    c_low, c_high = wilson_interval(tally.flagged, tally.n, confidence)
    if c_high < point.fpr:
        return [
            "fewer followers were flagged than the model's false-positive rate "
            f"({point.fpr:.1%}) predicts for an all-genuine audience: the sample is unlike the "
            "training data, so treat the estimate of 0 with care"
        ]
    if c_low > point.tpr:
        return [
            f"more followers were flagged than the model's true-positive rate ({point.tpr:.1%}) "
            "predicts for an all-fake audience: the sample is unlike the training data"
        ]
    return []


def _em_estimate(
    tally: ScoreTally, rng: np.random.Generator, tail: float
) -> tuple[float, float, float]:
    occupied = tally.counts > 0
    counts = tally.counts[occupied]
    means = tally.sums[occupied] / counts
    share = float(em_prior(counts, means)[0])
    resampled = rng.multinomial(tally.n, counts / tally.n, size=BOOTSTRAP_RESAMPLES)
    shares = em_prior(resampled, means)
    low, high = (float(v) for v in np.percentile(shares, [tail, 100 - tail]))
    return share, low, high
