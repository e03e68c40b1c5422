"""EMV's CPM per platform: the documented defaults, and a workspace's own rates.

A workspace's rates are stored under ``workspaces.settings["measurement"]["emv_cpm"]`` (JSON,
platform → CPM in the campaign's currency), so no table is needed and they travel with the
workspace. A platform without a rate of its own takes the default table's; a platform in neither
takes ``other``. docs/measurement.md ("EMV") gives the sources of the defaults.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import PLATFORMS, Workspace

SETTINGS_KEY = "measurement"
# Cost per 1,000 impressions a brand would pay for the same reach as ads (USD). Midpoints of
# the typical ranges of cpm-calculator.app's 2026 benchmarks (from WebFX) for Instagram,
# Facebook, TikTok and YouTube; X's is the $5.76 average reported by unanswered.io; the others
# take the Meta average of $8.15 (same source) until a workspace sets its own.
DEFAULT_CPM: dict[str, float] = {
    "instagram": 7.50,
    "facebook": 10.00,
    "tiktok": 10.58,
    "youtube": 9.25,
    "x": 5.76,
    "snapchat": 8.15,
    "twitch": 8.15,
    "pinterest": 8.15,
    "blog": 8.15,
    "other": 8.15,
}
CPM_MAX = 10_000.0
assert set(PLATFORMS) <= set(DEFAULT_CPM)


def parse_rates(value: Any, *, field: str = "emv_cpm") -> dict[str, float]:
    """Platform → CPM, each platform known (or ``other``), each a number ≥ 0 and ≤ 10,000."""
    if not isinstance(value, Mapping):
        raise InputError("expected PLATFORM=CPM pairs (e.g. instagram=7.5)", field=field)
    rates: dict[str, float] = {}
    for raw_name, raw in value.items():
        name = str(raw_name).strip().lower()
        where = f"{field}.{str(raw_name)[:40]}"
        if name not in DEFAULT_CPM:
            raise InputError(
                f"unknown platform {str(raw_name)[:40]!r}; expected one of "
                f"{', '.join(DEFAULT_CPM)}",
                field=where,
            )
        try:
            number = float(raw) if not isinstance(raw, bool) else math.nan
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or number < 0 or number > CPM_MAX:
            raise InputError(
                f"a CPM is a number from 0 to 10000, got {str(raw)[:40]!r}", field=where
            )
        rates[name] = number
    return rates


def parse_pairs(pairs: list[str], *, field: str = "emv_cpm") -> dict[str, float]:
    """``["instagram=7.5", …]`` (the command's ``--set``) as a mapping, then :func:`parse_rates`."""
    data: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InputError(f"expected PLATFORM=CPM, got {pair[:60]!r}", field=field)
        data[name] = value
    return parse_rates(data, field=field)


def own_rates(workspace: Workspace) -> dict[str, float]:
    """The rates the workspace set itself (possibly none)."""
    stored = (workspace.settings or {}).get(SETTINGS_KEY, {}).get("emv_cpm") or {}
    return parse_rates(stored)


def emv_rates(workspace: Workspace) -> dict[str, float]:
    """Every platform's CPM for EMV in this workspace: its own rates over the defaults."""
    return {**DEFAULT_CPM, **own_rates(workspace)}


def set_emv_rates(
    session: Session, workspace: Workspace, rates: Mapping[str, Any], *, reset: bool = False
) -> dict[str, float]:
    """Set some platforms' CPMs (the others keep theirs); ``reset`` first forgets every rate the
    workspace set. Returns every platform's rate as now used."""
    parsed = parse_rates(rates)
    mine = {} if reset else own_rates(workspace)
    settings = dict(workspace.settings or {})
    section = dict(settings.get(SETTINGS_KEY) or {})
    section["emv_cpm"] = {**mine, **parsed}
    settings[SETTINGS_KEY] = section
    workspace.settings = settings
    flag_modified(workspace, "settings")
    session.flush()
    return emv_rates(workspace)
