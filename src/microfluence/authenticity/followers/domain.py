"""Does a follower sample look like the data the model was trained on? (the domain check)

The fake-share correction uses error rates measured on the training sources. On an audience
whose profiles look unlike every training source, those rates may not hold, and a precise-looking
share can be confidently wrong. The check (docs/authenticity.md, "Domain check"):

* for each training source s and class (fake, genuine), the model file stores the cumulative
  distribution F of each checked feature (``CHECKED``) at fixed grid points;
* the sample's empirical distribution Fₙ is tallied batch by batch (``FeatureTally``);
* the distance to source s is the smallest, over fake shares π in 0, 0.01 … 1, of the largest
  gap between Fₙ and the mixture π·F_fake + (1 − π)·F_genuine, over every feature and grid point
  (a Kolmogorov-Smirnov distance, Massey 1951, to the closest mixture of that source);
* the sample is *out of domain* when its distance to the closest source exceeds
  ``limit(n) = tolerance + noise / √n``: ``noise`` is the 99th percentile of √n·distance for
  samples drawn from the training sources themselves, ``far`` the distance between the training
  sources (each against the other), at which the leave-one-source-out evaluation saw the error
  rates break down, and ``tolerance`` half of it (all chosen by ``followers.training`` and stored
  in the model file);
* ``severity`` grows from 0 at the limit to 1 at ``far``: how much of the largest shift of the
  error rates seen between sources the fake-share interval takes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from microfluence.authenticity.followers.features import FEATURES

# The checked features (the model's inputs) and the grid points their distributions are compared
# at. The yes/no feature is compared at 0.5 (the share of zeros); counts on the log scale.
CHECKED: dict[str, tuple[float, ...]] = {
    "log_posts": tuple(np.round(np.arange(0.25, 14.0, 0.5), 2).tolist()),
    "log_followers": tuple(np.round(np.arange(0.25, 16.0, 0.5), 2).tolist()),
    "log_following_to_followers": tuple(np.round(np.arange(-6.75, 7.0, 0.5), 2).tolist()),
    "has_profile_pic": (0.5,),
}
SHARE_GRID = np.round(np.linspace(0.0, 1.0, 101), 2)
MIN_PER_FEATURE = 20  # a feature with fewer known values in the sample is not compared


def _column(name: str) -> int:
    return FEATURES.index(name)


@dataclass
class FeatureTally:
    """How many of a sample's values fall at or below each grid point, feature by feature."""

    below: dict[str, np.ndarray] = field(
        default_factory=lambda: {f: np.zeros(len(g), dtype=np.int64) for f, g in CHECKED.items()}
    )
    known: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHECKED, 0))
    n: int = 0

    def add(self, x: np.ndarray) -> None:
        """Add a block of rows of the ``FEATURES`` matrix (NaN = missing)."""
        self.n += len(x)
        for name, grid in CHECKED.items():
            values = x[:, _column(name)]
            values = values[~np.isnan(values)]
            self.known[name] += len(values)
            # number of values <= each grid point, by one sort of the block
            self.below[name] += np.searchsorted(np.sort(values), np.asarray(grid), side="right")

    @classmethod
    def of(cls, x: np.ndarray) -> FeatureTally:
        tally = cls()
        tally.add(x)
        return tally

    def cdf(self) -> dict[str, np.ndarray]:
        """The sample's empirical distribution at the grid points (features with enough values)."""
        return {
            name: self.below[name] / self.known[name]
            for name in CHECKED
            if self.known[name] >= MIN_PER_FEATURE
        }


def class_cdfs(x: np.ndarray, y: np.ndarray) -> dict[str, dict[str, list[float]]]:
    """The stored reference of one source: each class's distribution at the grid points."""
    out: dict[str, dict[str, list[float]]] = {}
    for label, rows in (("fake", y == 1), ("genuine", y == 0)):
        cdf = FeatureTally.of(x[rows]).cdf()
        out[label] = {name: np.round(values, 5).tolist() for name, values in cdf.items()}
    return out


@dataclass(frozen=True)
class DomainCheck:
    """The outcome of the check for one sample."""

    distance: float  # to the closest training source, at its closest fake share
    limit: float  # the largest distance still in domain at this sample's size
    closest_source: str | None
    features: tuple[str, ...]  # the features compared
    far: float = 1.0  # the distance between the training sources

    @property
    def severity(self) -> float:
        """0 in domain, rising linearly to 1 at the distance between the training sources."""
        if self.distance <= self.limit:
            return 0.0
        return float(min(1.0, (self.distance - self.limit) / max(self.far - self.limit, 1e-9)))

    @property
    def in_domain(self) -> bool:
        return bool(self.distance <= self.limit)

    def as_dict(self) -> dict[str, Any]:
        return {
            "distance": round(self.distance, 4),
            "limit": round(self.limit, 4),
            "closest_source": self.closest_source,
            "in_domain": self.in_domain,
            "severity": round(self.severity, 4),
            "features": list(self.features),
        }


def source_distance(
    sample: dict[str, np.ndarray], reference: dict[str, dict[str, list[float]]]
) -> float:
    """The distance of a sample's distributions to the closest mixture of one source's classes."""
    worst = np.zeros(len(SHARE_GRID))
    for name, observed in sample.items():
        if name not in reference["fake"] or name not in reference["genuine"]:
            continue
        fake = np.asarray(reference["fake"][name])
        genuine = np.asarray(reference["genuine"][name])
        mixture = SHARE_GRID[:, None] * fake[None, :] + (1 - SHARE_GRID[:, None]) * genuine
        worst = np.maximum(worst, np.abs(mixture - observed[None, :]).max(axis=1))
    return float(worst.min())


@dataclass(frozen=True)
class DomainReference:
    """What the model file stores for the check: per-source class distributions, thresholds."""

    sources: dict[str, dict[str, dict[str, list[float]]]]
    tolerance: float
    noise: float
    far: float

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> DomainReference:
        return cls(
            spec["sources"], float(spec["tolerance"]), float(spec["noise"]), float(spec["far"])
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "grid": {name: list(grid) for name, grid in CHECKED.items()},
            "sources": self.sources,
            "tolerance": self.tolerance,
            "noise": self.noise,
            "far": self.far,
        }

    def limit(self, n: int) -> float:
        return float(self.tolerance + self.noise / np.sqrt(max(n, 1)))

    def distances(self, tally: FeatureTally) -> dict[str, float]:
        sample = tally.cdf()
        return {name: source_distance(sample, ref) for name, ref in self.sources.items()}

    def check(self, tally: FeatureTally) -> DomainCheck:
        sample = tally.cdf()
        distances = self.distances(tally)
        if not sample or not distances:
            return DomainCheck(0.0, self.limit(tally.n), None, (), self.far)
        closest = min(distances, key=distances.__getitem__)
        return DomainCheck(
            distances[closest], self.limit(tally.n), closest, tuple(sample), self.far
        )
