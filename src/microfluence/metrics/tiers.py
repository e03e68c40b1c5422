"""Tier schemes: follower counts → nano / micro / macro … under named, sourced presets.

The industry has no single definition, so a *scheme* is data: named bands with a lower bound
(inclusive) and an optional upper bound (exclusive), optionally different bands per platform.
Bands may leave gaps or overlap, as several published definitions do; both are handled the
same way everywhere (NumPy, DuckDB, Spark) by first cutting the follower axis into *segments*:

* inside one band                → that band's tier;
* inside several bands (overlap) → the band with the **highest lower bound** ("highest matching
  band": a 1.2M account is a "celebrity", not a "mega", under a scheme that has both);
  equal lower bounds → the band declared last;
* below the lowest band          → ``"below <lowest tier>"``;
* between two bands (gap)        → ``"between <tier below> and <tier above>"``;
* above a bounded highest band   → ``"above <highest tier>"``;
* unknown followers              → no tier (NULL).

``check_scheme`` rejects what cannot mean anything (empty, negative, inverted bands) and reports
gaps and overlaps as notes, so the user sees how they will be read. docs/metrics.md lists the
presets with their sources.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import PLATFORMS

K = 1_000
M = 1_000_000
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,47}$")


@dataclass(frozen=True)
class Band:
    """Followers in ``[min_followers, max_followers)``; ``max_followers=None`` is unbounded."""

    tier: str
    min_followers: int
    max_followers: int | None = None

    def contains(self, followers: int) -> bool:
        upper_ok = self.max_followers is None or followers < self.max_followers
        return self.min_followers <= followers and upper_ok


@dataclass(frozen=True)
class Segment:
    """A run of the follower axis that maps to one label: ``[start, end)``."""

    start: int
    end: int | None
    label: str


@dataclass(frozen=True)
class TierScheme:
    name: str
    title: str
    source: str
    bands: tuple[Band, ...]
    platform_bands: Mapping[str, tuple[Band, ...]] = field(default_factory=dict)

    def tier_names(self) -> list[str]:
        """Every tier the scheme can give, in band order, each once (all platforms)."""
        names = (
            band.tier for bands in (self.bands, *self.platform_bands.values()) for band in bands
        )
        return list(dict.fromkeys(names))

    def bands_for(self, platform: str | None) -> tuple[Band, ...]:
        if platform is not None and platform in self.platform_bands:
            return self.platform_bands[platform]
        return self.bands

    def segments_for(self, platform: str | None) -> tuple[Segment, ...]:
        return segments(self.bands_for(platform))

    def classify_one(self, followers: int | None, platform: str | None = None) -> str | None:
        if followers is None:
            return None
        segs = self.segments_for(platform)
        starts = [s.start for s in segs]
        return segs[bisect.bisect_right(starts, followers) - 1].label

    def classify(self, followers: Sequence[float | None] | np.ndarray, platforms: Any = None):
        """Vectorised: an object array of labels (None where followers are unknown)."""
        values = np.asarray(followers, dtype="float64")
        out = np.full(values.shape, None, dtype=object)
        plats = (
            np.full(values.shape, None, dtype=object)
            if platforms is None
            else np.asarray(platforms, dtype=object)
        )
        keys = {None} | set(self.platform_bands)
        for key in keys:
            if key is None:
                mask = ~np.isin(plats, list(self.platform_bands)) if self.platform_bands else None
            else:
                mask = plats == key
            if mask is None:
                mask = np.ones(values.shape, dtype=bool)
            mask &= ~np.isnan(values)
            if not mask.any():
                continue
            segs = self.segments_for(key)
            starts = np.array([s.start for s in segs], dtype="float64")
            labels = np.array([s.label for s in segs], dtype=object)
            idx = np.searchsorted(starts, values[mask], side="right") - 1
            out[mask] = labels[idx]
        return out

    def to_dict(self) -> dict[str, Any]:
        def dump(bands: Iterable[Band]) -> list[dict[str, Any]]:
            return [{"tier": b.tier, "min": b.min_followers, "max": b.max_followers} for b in bands]

        data: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "source": self.source,
            "bands": dump(self.bands),
        }
        if self.platform_bands:
            data["platform_bands"] = {p: dump(b) for p, b in self.platform_bands.items()}
        return data


def segments(bands: Sequence[Band]) -> tuple[Segment, ...]:
    """Cut ``[0, ∞)`` into runs with one label each (see the module docstring for the rules)."""
    cuts = {0}
    for band in bands:
        cuts.add(band.min_followers)
        if band.max_followers is not None:
            cuts.add(band.max_followers)
    points = sorted(cuts)
    lowest = min(bands, key=lambda b: b.min_followers)
    out: list[Segment] = []
    for i, start in enumerate(points):
        end = points[i + 1] if i + 1 < len(points) else None
        matching = [(b.min_followers, j, b) for j, b in enumerate(bands) if b.contains(start)]
        if matching:
            label = max(matching, key=lambda m: (m[0], m[1]))[2].tier
        elif start < lowest.min_followers:
            label = f"below {lowest.tier}"
        else:
            below = [b for b in bands if b.max_followers is not None and b.max_followers <= start]
            above = [b for b in bands if b.min_followers > start]
            under = max(below, key=lambda b: (b.max_followers, b.min_followers))
            if above:
                over = min(above, key=lambda b: b.min_followers)
                label = f"between {under.tier} and {over.tier}"
            else:
                label = f"above {under.tier}"
        if out and out[-1].label == label:
            out[-1] = Segment(out[-1].start, end, label)
        else:
            out.append(Segment(start, end, label))
    return tuple(out)


def _fmt(n: int | None) -> str:
    if n is None:
        return "∞"
    if n >= M and n % M == 0:
        return f"{n // M}M"
    if n >= K and n % K == 0:
        return f"{n // K}K"
    return str(n)


def check_bands(bands: Sequence[Band], where: str) -> list[str]:
    """Errors raise; gaps and overlaps come back as notes that say how they are read."""
    if not bands:
        raise InputError("a tier scheme needs at least one band", field=where)
    for band in bands:
        _check_band(band, where)
    names = [b.tier for b in bands]
    if len(set(names)) != len(names):
        raise InputError(f"tier names repeat: {names}", field=where)
    return _overlap_notes(bands, where) + _gap_notes(bands, where)


def _check_band(band: Band, where: str) -> None:
    """One band on its own: a usable name and bounds that make a range."""
    if not band.tier or not isinstance(band.tier, str) or len(band.tier) > 40:
        raise InputError("a band needs a tier name of 1-40 characters", field=where)
    if band.tier.startswith(("below ", "between ", "above ")):
        raise InputError(f"tier name {band.tier!r} is reserved for gaps", field=where)
    if band.min_followers < 0:
        raise InputError(f"band {band.tier!r} starts below 0 followers", field=where)
    if band.max_followers is not None and band.max_followers <= band.min_followers:
        raise InputError(
            f"band {band.tier!r} ends ({band.max_followers}) at or before it starts "
            f"({band.min_followers})",
            field=where,
        )


def _overlap_notes(bands: Sequence[Band], where: str) -> list[str]:
    """Each pair of bands that share followers, and which of the two wins there."""
    notes: list[str] = []
    ordered = sorted(bands, key=lambda b: b.min_followers)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if a.max_followers is None or b.min_followers < a.max_followers:
                hi = b.max_followers
                if a.max_followers is not None and (hi is None or a.max_followers < hi):
                    hi = a.max_followers
                notes.append(
                    f"{where}: {a.tier} and {b.tier} overlap on "
                    f"{_fmt(b.min_followers)}–{_fmt(hi)}; the higher band ({b.tier}) wins"
                )
    return notes


def _gap_notes(bands: Sequence[Band], where: str) -> list[str]:
    """Each follower range no band covers, and the label it gets."""
    notes: list[str] = []
    for seg in segments(bands):
        if seg.label.startswith("between "):
            notes.append(
                f"{where}: gap {_fmt(seg.start)}–{_fmt(seg.end)} is labelled '{seg.label}'"
            )
        elif seg.label.startswith("below ") and seg.end:
            notes.append(f"{where}: under {_fmt(seg.end)} is labelled '{seg.label}'")
        elif seg.label.startswith("above "):
            notes.append(f"{where}: from {_fmt(seg.start)} is labelled '{seg.label}'")
    return notes


def check_scheme(scheme: TierScheme) -> list[str]:
    """Validate a scheme: raises ``InputError`` on nonsense, returns notes on gaps/overlaps."""
    if not NAME_PATTERN.match(scheme.name or ""):
        raise InputError(
            "a scheme name is 1-48 lower-case letters, digits, '-', '_' or '.'",
            field="name",
            value=scheme.name,
        )
    notes = check_bands(scheme.bands, f"{scheme.name}")
    for platform, bands in scheme.platform_bands.items():
        if platform not in PLATFORMS:
            raise InputError(f"unknown platform {platform!r}", field=f"{scheme.name}.{platform}")
        notes += check_bands(bands, f"{scheme.name}.{platform}")
    return notes


def _bands_from(items: Any, where: str) -> tuple[Band, ...]:
    if not isinstance(items, list):
        raise InputError("bands must be a list of {tier, min, max}", field=where)
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InputError("a band is an object {tier, min, max}", field=f"{where}[{i}]")
        try:
            lo = int(item.get("min", 0) or 0)
            hi = item.get("max")
            hi = None if hi is None else int(hi)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"band bounds must be whole numbers ({exc})", field=f"{where}[{i}]"
            ) from None
        tier = item.get("tier")
        if not isinstance(tier, str):
            raise InputError("a band needs a 'tier' name", field=f"{where}[{i}]")
        out.append(Band(tier.strip(), lo, hi))
    return tuple(out)


def scheme_from_dict(data: Mapping[str, Any]) -> TierScheme:
    """A user-defined scheme from JSON, validated."""
    if not isinstance(data, Mapping):
        raise InputError("a tier scheme is a JSON object")
    name = str(data.get("name", ""))
    platform_bands = data.get("platform_bands") or {}
    if not isinstance(platform_bands, Mapping):
        raise InputError("platform_bands maps a platform to its bands", field="platform_bands")
    scheme = TierScheme(
        name=name,
        title=str(data.get("title") or name),
        source=str(data.get("source") or "defined by the workspace"),
        bands=_bands_from(data.get("bands"), f"{name}.bands"),
        platform_bands={
            str(p): _bands_from(b, f"{name}.platform_bands.{p}") for p, b in platform_bands.items()
        },
    )
    check_scheme(scheme)
    return scheme


def _b(*spec: tuple[str, int, int | None]) -> tuple[Band, ...]:
    return tuple(Band(t, lo, hi) for t, lo, hi in spec)


# The presets. The first six are the definitions issue 4 lists; their published origin could
# not be verified when this was written, so they are named by shape and docs/metrics.md says so.
# The last three are named after the page they were read from (URLs in ``source``).
PRESETS: dict[str, TierScheme] = {
    s.name: s
    for s in (
        TierScheme(
            "nano1k-micro50k-mega1m",
            "nano <1K, micro 1K–50K, mega ≥1M",
            "issue 4 preset list (no primary source verified); leaves 50K–1M as a gap",
            _b(("nano", 0, K), ("micro", K, 50 * K), ("mega", M, None)),
        ),
        TierScheme(
            "micro2k-100k",
            "micro 2K–100K",
            "issue 4 preset list (no primary source verified); a single micro band",
            _b(("micro", 2 * K, 100 * K)),
        ),
        TierScheme(
            "nano1k-micro5k-macro50k",
            "nano 1K–5K, micro 5K–50K, macro 50K–500K",
            "issue 4 preset list (no primary source verified)",
            _b(("nano", K, 5 * K), ("micro", 5 * K, 50 * K), ("macro", 50 * K, 500 * K)),
        ),
        TierScheme(
            "nano1k-micro10k-macro100k-mega500k-celebrity1m",
            "nano 1K–10K, micro 10K–100K, macro 100K–500K, mega 500K+, celebrity 1M+",
            "issue 4 preset list (no primary source verified); mega and celebrity overlap",
            _b(
                ("nano", K, 10 * K),
                ("micro", 10 * K, 100 * K),
                ("macro", 100 * K, 500 * K),
                ("mega", 500 * K, None),
                ("celebrity", M, None),
            ),
        ),
        TierScheme(
            "micro1k-100k-macro1m",
            "micro 1K–100K, macro >1M",
            "issue 4 preset list (no primary source verified); leaves 100K–1M as a gap",
            _b(("micro", K, 100 * K), ("macro", M, None)),
        ),
        TierScheme(
            "nano1k-micro5k-mid20k-macro100k-mega1m",
            "nano 1K–5K, micro 5K–20K, mid 20K–100K, macro 100K–1M, mega 1M+",
            "issue 4 preset list (no primary source verified)",
            _b(
                ("nano", K, 5 * K),
                ("micro", 5 * K, 20 * K),
                ("mid", 20 * K, 100 * K),
                ("macro", 100 * K, M),
                ("mega", M, None),
            ),
        ),
        TierScheme(
            "mediakix",
            "Mediakix (STIM): nano 1K–10K, micro 10K–50K, mid 50K–500K, macro 500K–1M, mega 1M+",
            "Mediakix, 'Influencer tiers' (Standard Terminology in Influencer Marketing), "
            "https://mediakix.com/influencer-marketing-resources/influencer-tiers/",
            _b(
                ("nano", K, 10 * K),
                ("micro", 10 * K, 50 * K),
                ("mid", 50 * K, 500 * K),
                ("macro", 500 * K, M),
                ("mega", M, None),
            ),
        ),
        TierScheme(
            "influence-co",
            "influence.co: nano <5K, micro 5K–100K, macro 100K–1M, celebrity 1M+",
            "influence.co, 'How-to understand names and sizes of influencers', "
            "http://resources.influence.co/article/18-how-to-understand-names-and-sizes-of-influencers",
            _b(
                ("nano", 0, 5 * K),
                ("micro", 5 * K, 100 * K),
                ("macro", 100 * K, M),
                ("celebrity", M, None),
            ),
        ),
        TierScheme(
            "reach-influencers",
            "Reach Influencers: nano <1K, micro 1K–100K, macro 100K–1M, mega >1M",
            "Reach Influencers, 'Can I be an influencer?', "
            "https://reach-influencers.com/can-i-be-an-influencer/",
            _b(
                ("nano", 0, K),
                ("micro", K, 100 * K),
                ("macro", 100 * K, M),
                ("mega", M, None),
            ),
        ),
    )
}
DEFAULT_SCHEME = "mediakix"


def preset(name: str) -> TierScheme:
    try:
        return PRESETS[name]
    except KeyError:
        raise InputError(
            f"no tier scheme {name!r}; presets: {', '.join(PRESETS)}", field="tier_scheme"
        ) from None
