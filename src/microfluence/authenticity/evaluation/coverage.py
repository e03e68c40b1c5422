"""How often the fake-share interval covers the truth, on simulated audiences of known share.

``simulate_coverage`` is the service behind `microfluence eval coverage`: from one labelled
source, draw audiences of ``size`` followers with exactly ``round(share·size)`` fakes (with
replacement, seeded), estimate each one's fake share the way the audit does (the model's rates,
its rate shift and the domain check), and count how often the interval holds the planted share.
docs/authenticity.md ("How often the interval is right") shows the table for the public sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from microfluence.authenticity.followers.audit import estimate_for_model
from microfluence.authenticity.followers.domain import FeatureTally
from microfluence.authenticity.followers.fake_share import ScoreTally
from microfluence.authenticity.followers.labelled import LabelledSet
from microfluence.authenticity.followers.model import FollowerModel
from microfluence.kernel.errors import InputError

SHARES = (0.0, 0.05, 0.10, 0.20, 0.30, 0.50)
SIZE = 500
AUDIENCES = 200
SEED = 20261126


@dataclass(frozen=True)
class CoverageRow:
    share: float  # planted
    audiences: int
    size: int
    mean_estimate: float
    mean_abs_error: float
    coverage: float  # share of intervals holding the planted share
    mean_width: float
    out_of_domain: float  # share of audiences the domain check flagged

    def as_dict(self) -> dict[str, float | int]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _one_share(  # noqa: PLR0913  the audiences' definition
    data: LabelledSet,
    probabilities: np.ndarray,
    model: FollowerModel,
    share: float,
    size: int,
    audiences: int,
    rng: np.random.Generator,
    confidence: float,
) -> CoverageRow:
    fakes, genuine = np.flatnonzero(data.y == 1), np.flatnonzero(data.y == 0)
    k = int(round(share * size))
    if (k and not len(fakes)) or (k < size and not len(genuine)):
        raise InputError("the labelled data lack the fake or the genuine profiles to draw from")
    estimates, lows, highs, outside = [], [], [], 0
    for _ in range(audiences):
        rows = np.concatenate([rng.choice(fakes, k), rng.choice(genuine, size - k)])
        estimate = estimate_for_model(
            ScoreTally.of(probabilities[rows], model.threshold),
            FeatureTally.of(data.x[rows]),
            model,
            confidence=confidence,
        )
        estimates.append(estimate.share)
        lows.append(estimate.low)
        highs.append(estimate.high)
        outside += estimate.in_domain is False
    e, low, high = np.asarray(estimates), np.asarray(lows), np.asarray(highs)
    planted = k / size
    return CoverageRow(
        share=planted,
        audiences=audiences,
        size=size,
        mean_estimate=float(e.mean()),
        mean_abs_error=float(np.abs(e - planted).mean()),
        coverage=float(((low <= planted + 1e-12) & (planted - 1e-12 <= high)).mean()),
        mean_width=float((high - low).mean()),
        out_of_domain=outside / audiences,
    )


def simulate_coverage(  # noqa: PLR0913  keyword options of one simulation
    data: LabelledSet,
    model: FollowerModel,
    *,
    shares: tuple[float, ...] = SHARES,
    size: int = SIZE,
    audiences: int = AUDIENCES,
    confidence: float = 0.95,
    seed: int = SEED,
    progress: Callable[[float], None] | None = None,
) -> list[CoverageRow]:
    """One row per planted share: coverage, error and width of the interval over the audiences."""
    if size < 1 or audiences < 1:
        raise InputError("size and audiences must be at least 1", field="size")
    if any(not 0 <= s <= 1 for s in shares):
        raise InputError("shares must lie between 0 and 1", field="shares")
    probabilities = model.predict_proba(data.x)
    rng = np.random.default_rng(seed)
    rows = []
    for share in shares:
        rows.append(_one_share(data, probabilities, model, share, size, audiences, rng, confidence))
        if progress is not None:
            progress(share)
    return rows


def coverage_markdown(source: str, rows: list[CoverageRow]) -> str:
    """The docs' table for one source."""
    lines = [
        f"Audiences of {rows[0].size} followers drawn from {source}, "
        f"{rows[0].audiences} per share:",
        "",
        "| Planted share | Mean estimate | Mean abs. error | 95 % interval covers | Mean width "
        "| Flagged out of domain |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.share:.0%} | {r.mean_estimate:.1%} | {r.mean_abs_error:.1%} | {r.coverage:.0%} "
            f"| {r.mean_width:.1%} | {r.out_of_domain:.0%} |"
        )
    return "\n".join(lines)
