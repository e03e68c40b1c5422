"""A workspace's metric settings: window, what counts as an interaction, its tier schemes.

Stored under ``workspaces.settings["metrics"]`` (JSON), so no extra table is needed and a
workspace export carries them along.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Workspace
from microfluence.kernel.workspaces import get_workspace
from microfluence.metrics.tiers import DEFAULT_SCHEME, PRESETS, TierScheme, scheme_from_dict

COMPONENTS = ("likes", "comments", "shares", "saves")
# Without likes and comments a post's interactions are unknown; shares and saves are only
# counted by some platforms, so a missing one adds nothing instead of hiding the post.
REQUIRED_COMPONENTS = ("likes", "comments")


@dataclass(frozen=True)
class MetricsSettings:
    window_posts: int | None = 30
    window_days: int | None = None
    components: tuple[str, ...] = COMPONENTS
    tier_scheme: str = DEFAULT_SCHEME
    custom_schemes: Mapping[str, TierScheme] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.window_posts is None) == (self.window_days is None):
            raise InputError("choose one window: last N posts or last D days", field="window")
        for value, name in ((self.window_posts, "window_posts"), (self.window_days, "window_days")):
            if value is not None and not (isinstance(value, int) and 1 <= value <= 10_000):
                raise InputError("must be a whole number from 1 to 10000", field=name, value=value)
        bad = [c for c in self.components if c not in COMPONENTS]
        if bad or not self.components or len(set(self.components)) != len(self.components):
            raise InputError(
                f"interaction components are a non-empty subset of {', '.join(COMPONENTS)}",
                field="components",
                value=list(self.components),
            )
        clash = set(self.custom_schemes) & set(PRESETS)
        if clash:
            raise InputError(f"custom scheme names clash with presets: {sorted(clash)}")
        if self.tier_scheme not in self.schemes:
            raise InputError(
                f"no tier scheme {self.tier_scheme!r}; choose one of {', '.join(self.schemes)}",
                field="tier_scheme",
            )

    @property
    def schemes(self) -> dict[str, TierScheme]:
        return {**PRESETS, **dict(self.custom_schemes)}

    @property
    def scheme(self) -> TierScheme:
        return self.schemes[self.tier_scheme]

    @property
    def window_label(self) -> str:
        if self.window_posts is not None:
            return f"last {self.window_posts} posts"
        return f"last {self.window_days} days"

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_posts": self.window_posts,
            "window_days": self.window_days,
            "components": list(self.components),
            "tier_scheme": self.tier_scheme,
            "custom_schemes": [s.to_dict() for s in self.custom_schemes.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> MetricsSettings:
        data = dict(data or {})
        customs = data.get("custom_schemes") or []
        if not isinstance(customs, list):
            raise InputError("custom_schemes is a list of schemes", field="custom_schemes")
        schemes = [scheme_from_dict(c) for c in customs]
        window_posts = data.get("window_posts")
        window_days = data.get("window_days")
        if window_posts is None and window_days is None:
            window_posts = cls.window_posts
        return cls(
            window_posts=window_posts,
            window_days=window_days,
            components=tuple(data.get("components") or COMPONENTS),
            tier_scheme=data.get("tier_scheme") or DEFAULT_SCHEME,
            custom_schemes={s.name: s for s in schemes},
        )

    def with_window(self, *, posts: int | None = None, days: int | None = None) -> MetricsSettings:
        return replace(self, window_posts=posts, window_days=days)


def get_metrics_settings(session: Session, workspace: str) -> MetricsSettings:
    return settings_of(get_workspace(session, workspace))


def settings_of(ws: Workspace) -> MetricsSettings:
    """The metrics settings of a workspace row already read (no second read by its name)."""
    return MetricsSettings.from_dict((ws.settings or {}).get("metrics"))


def set_metrics_settings(session: Session, workspace: str, settings: MetricsSettings) -> None:
    ws = get_workspace(session, workspace)
    ws.settings = {**(ws.settings or {}), "metrics": settings.to_dict()}
    flag_modified(ws, "settings")
    session.flush()
