"""What a search asks: the words, the filters, the ranking's weights and the page. One frozen,
validated value that the CLI, the API, the pages, the library and saved searches share (a saved
search stores ``to_dict()`` and runs ``SearchQuery.from_dict``)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field, fields
from typing import Any

from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import PLATFORMS

MAX_LIMIT = 100
DEFAULT_NICHE_CONFIDENCE = 0.5
MAX_LIKE = 20  # accounts a lookalike query may name
_NICHE = re.compile(r"^[a-z][a-z_]{1,39}$")


@dataclass(frozen=True)
class Weights:
    """The ranking blend's weights (docs/discovery.md, "Ranking"); each at least 0. ``semantic``
    is for the similarity of semantic search (a free-text brief): it counts only when a query
    brings a similarity."""

    relevance: float = 0.5
    engagement: float = 0.2
    authenticity: float = 0.2
    tier: float = 0.1
    semantic: float = 0.6

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not 0 <= value <= 100 or value != value:
                raise InputError(f"weight {f.name} must be a number from 0 to 100", field=f.name)

    @classmethod
    def parse(cls, text: str | None) -> Weights:
        """``relevance=0.6,engagement=0.4`` → Weights (the parts not named keep their default)."""
        if not text or not text.strip():
            return cls()
        given: dict[str, float] = {}
        names = {f.name for f in fields(cls)}
        for part in text.split(","):
            name, sep, value = part.partition("=")
            name = name.strip()
            if not sep or name not in names:
                raise InputError(
                    f"weights: {part.strip()!r} is not NAME=NUMBER with NAME one of "
                    f"{', '.join(sorted(names))}",
                    field="weights",
                )
            try:
                given[name] = float(value)
            except ValueError:
                raise InputError(
                    f"weights: {value.strip()!r} is not a number", field=name
                ) from None
        return cls(**given)


@dataclass(frozen=True)
class SearchQuery:
    """A search. Ranges are inclusive at both ends; ``posted_within_days`` counts posts at or
    after now − N days; ``niche`` reads account_niches (docs/discovery.md, "Search")."""

    q: str | None = None
    platform: str | None = None
    tier: str | None = None
    tier_scheme: str | None = None  # None: the workspace's chosen scheme
    prefer_tier: str | None = None  # the ranking's wanted tier (scores 1, neighbours less)
    min_followers: int | None = None
    max_followers: int | None = None
    min_er: float | None = None  # a fraction: 0.03 is 3 %
    max_er: float | None = None
    min_quality: float | None = None  # Audience Quality Score, 0-100
    niche: str | None = None
    niche_confidence: float = DEFAULT_NICHE_CONFIDENCE
    country: str | None = None
    language: str | None = None
    has_email: bool | None = None
    posted_within_days: int | None = None
    # Semantic search (discovery.semantic): ``q`` is a brief to embed, not words to match;
    # ``like``: PLATFORM:HANDLE references whose lookalikes to find.
    semantic: bool = False
    like: tuple[str, ...] = ()
    weights: Weights = field(default_factory=Weights)
    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        self._check_ranges()
        if self.platform is not None and self.platform not in PLATFORMS:
            raise InputError(
                f"unknown platform {self.platform!r}: use one of {', '.join(PLATFORMS)}",
                field="platform",
            )
        if self.niche is not None and not _NICHE.match(self.niche):
            raise InputError(f"{self.niche!r} is not a niche name", field="niche")
        if not 0 <= self.niche_confidence <= 1:
            raise InputError("niche_confidence must be from 0 to 1", field="niche_confidence")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InputError(f"limit must be from 1 to {MAX_LIMIT}", field="limit")
        if not 0 <= self.offset <= 10**6:
            raise InputError("offset must be from 0 to 1,000,000", field="offset")
        if self.q is not None and len(self.q) > 500:
            raise InputError("a query has at most 500 characters", field="q")
        self._check_semantic()

    def _check_semantic(self) -> None:
        like = self.like
        if isinstance(like, str) or not isinstance(like, list | tuple):
            raise InputError("like is a list of PLATFORM:HANDLE references", field="like")
        if not all(isinstance(ref, str) and 0 < len(ref) <= 200 for ref in like):
            raise InputError("like: each reference is PLATFORM:HANDLE text", field="like")
        if len(like) > MAX_LIKE:
            raise InputError(f"like: at most {MAX_LIKE} accounts", field="like")
        object.__setattr__(self, "like", tuple(dict.fromkeys(like)))
        if self.semantic and not (self.q and self.q.strip()) and not self.like:
            raise InputError(
                "semantic search needs a brief (q) or accounts to look like", field="q"
            )

    def _check_ranges(self) -> None:
        pairs = (
            ("min_followers", "max_followers", 0, 10**15),
            ("min_er", "max_er", 0, 100),
        )
        for low_name, high_name, floor, ceiling in pairs:
            low, high = getattr(self, low_name), getattr(self, high_name)
            for name, value in ((low_name, low), (high_name, high)):
                if value is not None and not floor <= value <= ceiling:
                    raise InputError(f"{name} must be from {floor} to {ceiling}", field=name)
            if low is not None and high is not None and low > high:
                raise InputError(f"{low_name} is larger than {high_name}", field=low_name)
        if self.min_quality is not None and not 0 <= self.min_quality <= 100:
            raise InputError("min_quality must be from 0 to 100", field="min_quality")
        days = self.posted_within_days
        if days is not None and not 0 <= days <= 36_500:
            raise InputError(
                "posted_within_days must be from 0 to 36500", field="posted_within_days"
            )

    def to_dict(self) -> dict[str, Any]:
        """The parameters worth saving: those given, the weights when not the defaults."""
        out = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("weights", "offset") and getattr(self, f.name) != f.default
        }
        if self.weights != Weights():
            out["weights"] = dataclasses.asdict(self.weights)
        if "like" in out:
            out["like"] = list(self.like)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchQuery:
        if not isinstance(data, dict):
            raise InputError("a search is an object of parameters", field="query")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f"unknown search parameter {unknown[0]!r}", field=unknown[0])
        given = dict(data)
        weights = given.pop("weights", None)
        try:
            return cls(**given, weights=Weights(**(weights or {})))
        except TypeError as exc:
            raise InputError(f"bad search parameters: {exc}", field="query") from None

    def replace(self, **changes: Any) -> SearchQuery:
        return dataclasses.replace(self, **changes)
