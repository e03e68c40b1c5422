"""A workspace's reminder thresholds: how many days before something needs attention.

Stored under ``workspaces.settings["reminders"]`` (JSON), so no extra table is needed and a
workspace export carries them along. A threshold the workspace has not set takes its default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Workspace

SETTINGS_KEY = "reminders"
# name -> (default days, what it means); docs/relationships.md lists the same.
THRESHOLDS: dict[str, tuple[int, str]] = {
    "task_horizon_days": (3, "open tasks due within this many days count as due soon"),
    "gift_ship_days": (5, "a gift requested this many days ago and not shipped is late"),
    "gift_delivery_days": (14, "a gift shipped this many days ago and not delivered is late"),
    "review_days": (2, "a submission pending review longer than this is late"),
    "follow_up_days": (7, "a deal contacted this long ago without a reply needs a follow-up"),
}
DEFAULTS = {name: days for name, (days, _) in THRESHOLDS.items()}
DAYS_MAX = 365


def parse_days(value: Any, *, field: str) -> int:
    """A whole number of days from 0 to 365."""
    if isinstance(value, bool):
        raise InputError("expected a whole number of days", field=field, value=value)
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise InputError(
            f"expected a whole number of days, got {str(value)[:40]!r}", field=field, value=value
        ) from None
    if not 0 <= number <= DAYS_MAX:
        raise InputError(f"must be from 0 to {DAYS_MAX} days, got {number}", field=field)
    return number


def parse_thresholds(data: Mapping[str, Any]) -> dict[str, int]:
    """Some thresholds by name; an unknown name or a bad number names its field."""
    parsed = {}
    for name, value in data.items():
        if name not in THRESHOLDS:
            raise InputError(
                f"unknown threshold {str(name)[:40]!r}; one of {', '.join(THRESHOLDS)}",
                field=str(name)[:40],
            )
        parsed[name] = parse_days(value, field=name)
    return parsed


def parse_pairs(pairs: list[str]) -> dict[str, int]:
    """``["follow_up_days=10", …]`` (the command's ``--set``) as thresholds."""
    data: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InputError(f"expected NAME=DAYS, got {pair[:60]!r}", field="set")
        data[name.strip()] = value
    return parse_thresholds(data)


def own_thresholds(workspace: Workspace) -> dict[str, int]:
    """The thresholds the workspace set itself (stored values that no longer parse are
    ignored, so a hand-edited setting cannot break every page)."""
    stored = (workspace.settings or {}).get(SETTINGS_KEY) or {}
    own = {}
    for name, value in stored.items() if isinstance(stored, dict) else ():
        try:
            own.update(parse_thresholds({name: value}))
        except InputError:
            continue
    return own


def thresholds(workspace: Workspace) -> dict[str, int]:
    """Every threshold in effect: the workspace's own over the defaults."""
    return {**DEFAULTS, **own_thresholds(workspace)}


def set_thresholds(
    session: Session, workspace: Workspace, values: Mapping[str, Any], *, reset: bool = False
) -> dict[str, int]:
    """Set some thresholds (the others keep theirs); ``reset`` first forgets the workspace's
    own. Returns every threshold as now in effect."""
    parsed = parse_thresholds(values)
    mine = {} if reset else own_thresholds(workspace)
    settings = dict(workspace.settings or {})
    settings[SETTINGS_KEY] = {**mine, **parsed}
    workspace.settings = settings
    flag_modified(workspace, "settings")
    session.flush()
    return thresholds(workspace)
