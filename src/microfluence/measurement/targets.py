"""Each KPI of the campaign's targets against its actual value (docs/measurement.md,
"Targets"): percent of target = actual / target × 100. For costs per unit (CPA, CPC, CPE, CPM)
lower is better: such a target is met when the actual is at or below it; the others when at or
above it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from microfluence.measurement.schemas import TargetProgress

LOWER_IS_BETTER = frozenset({"cpa", "cpc", "cpe", "cpm"})


def progress(targets: Mapping[str, Any], actual: Mapping[str, Any]) -> list[TargetProgress]:
    """One entry per target (in the campaign's order); ``actual`` is the totals row."""
    out = []
    for kpi, raw_target in targets.items():
        target = float(raw_target)
        value = actual.get(kpi)
        value = None if value is None else float(value)
        lower = kpi in LOWER_IS_BETTER
        percent = None if value is None or target == 0 else round(value / target * 100, 2)
        met = None if value is None else (value <= target if lower else value >= target)
        out.append(
            TargetProgress(
                kpi=kpi,
                target=target,
                actual=value,
                percent=percent,
                better="lower" if lower else "higher",
                met=met,
            )
        )
    return out
