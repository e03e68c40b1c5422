"""Follower profiles to the follower model's features, vectorised with Polars.

A follower file has any subset of the profile columns (``PROFILE_COLUMNS``, or one of their
aliases such as the stored ``followers`` table's ``posts_count``) and any other columns. Values
arrive as text (CSV), or typed (Parquet, JSON lines, the store); ``parse_profiles`` turns them into
one typed frame with a clear error for anything that is not a plausible value, and
``profile_features`` derives the features the model was trained on.

Missing data, as documented in docs/authenticity.md ("Follower-sample audit"):

* a profile column that is absent, or a blank count / yes-no cell, is *missing*: its features are
  NaN and the model routes them down the branch it learned for absent values (it was trained with
  columns masked at random, see ``followers.training``);
* a blank text cell (full name, biography, external url) means the profile has no such text, as
  scrapers write it: zero words, zero length, no url;
* a blank username leaves the username features missing.

Refused, with an ``InputError`` naming the file, column and row (1 = first data row): counts
that are negative, above ``MAX_COUNT``, infinite or not numbers; yes-no cells that are not one of
``TRUE_WORDS`` / ``FALSE_WORDS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import polars as pl

from microfluence.ingest.values.numbers import unknown
from microfluence.kernel.errors import InputError

# Canonical profile columns and the names they are also found under (compared case-insensitively,
# surrounding spaces ignored). The first alias present in a file wins.
PROFILE_COLUMNS: dict[str, tuple[str, ...]] = {
    "username": ("username", "user_name", "handle"),
    "full_name": ("full_name", "fullname", "name", "display_name"),
    "biography": ("biography", "bio", "description"),
    "posts": ("posts", "posts_count", "media_count", "post_count"),
    "followers": ("followers", "followers_count", "follower_count"),
    "following": ("following", "following_count", "follows", "follows_count"),
    "has_profile_pic": ("has_profile_pic", "profile_pic", "has_profile_picture"),
    "is_private": ("is_private", "private"),
    "is_verified": ("is_verified", "verified"),
    "external_url": ("external_url", "website"),
}
TEXT_COLUMNS = ("username", "full_name", "biography", "external_url")
COUNT_COLUMNS = ("posts", "followers", "following")
FLAG_COLUMNS = ("has_profile_pic", "is_private", "is_verified")

# No platform has ten billion of anything: a count above this is a corrupted cell.
MAX_COUNT = 10_000_000_000
TRUE_WORDS = ("1", "true", "t", "yes", "y")
FALSE_WORDS = ("0", "false", "f", "no", "n")

# The model's inputs, in order. Each is NaN when the profile column it comes from is missing.
FEATURES: tuple[str, ...] = (
    "has_profile_pic",
    "username_digit_share",
    "full_name_words",
    "full_name_digit_share",
    "name_equals_username",
    "bio_length",
    "has_external_url",
    "is_private",
    "log_posts",
    "log_followers",
    "log_following",
    "log_following_to_followers",
)
# Which profile columns each feature needs: the training script masks these groups together.
FEATURE_SOURCES: dict[str, tuple[str, ...]] = {
    "has_profile_pic": ("has_profile_pic",),
    "username_digit_share": ("username",),
    "full_name_words": ("full_name",),
    "full_name_digit_share": ("full_name",),
    "name_equals_username": ("full_name", "username"),
    "bio_length": ("biography",),
    "has_external_url": ("external_url",),
    "is_private": ("is_private",),
    "log_posts": ("posts",),
    "log_followers": ("followers",),
    "log_following": ("following",),
    "log_following_to_followers": ("followers", "following"),
}
MODEL_COLUMNS = tuple(c for c in PROFILE_COLUMNS if c != "is_verified")

_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_THOUSANDS = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?[kKmMbB]?$"
_SUFFIX = r"([kKmMbB])$"


def resolve_columns(names: Iterable[str]) -> dict[str, str]:
    """Which column of the input holds each canonical profile column (absent ones left out)."""
    by_folded: dict[str, str] = {}
    for name in names:
        by_folded.setdefault(name.strip().lower(), name)
    found: dict[str, str] = {}
    for canonical, aliases in PROFILE_COLUMNS.items():
        for alias in aliases:
            if alias in by_folded and by_folded[alias] not in found.values():
                found[canonical] = by_folded[alias]
                break
    return found


def _fail(
    frame: pl.DataFrame,
    bad: pl.Series,
    column: str,
    problem: str,
    *,
    file: str | None,
    row_offset: int,
) -> None:
    if not bad.any():  # the common case, checked without leaving Polars
        return
    positions = np.flatnonzero(bad.fill_null(False).to_numpy())
    first = int(positions[0])
    value = frame[column][first]
    more = f" ({len(positions) - 1} more rows like it)" if len(positions) > 1 else ""
    raise InputError(
        f"row {row_offset + first + 1}: {problem}: {value!r}{more}",
        file=file,
        field=column,
        value=value,
    )


def _unknown(text: pl.Series) -> pl.Series:
    """Cells that mean "unknown" (empty, ``NaN%``, ``#N/A``, ``-`` …): the importers' one rule
    (ingest.values.numbers.unknown), so a follower file reads like any other import."""
    return pl.select(unknown(pl.lit(text))).to_series()


def _parse_count_text(text: pl.Series, blank: pl.Series) -> pl.Series:
    """Counts written with thousands separators or a k / M / B suffix; null when not a count."""
    text = pl.select(
        pl.when(text.str.contains(_THOUSANDS)).then(text.str.replace_all(",", "")).otherwise(text)
    ).to_series()
    suffix = text.str.extract(_SUFFIX, 1).str.to_lowercase()
    mantissa = text.str.replace(r"\s*[kKmMbB]$", "")
    scale = suffix.replace_strict(
        {"k": 1e3, "m": 1e6, "b": 1e9}, default=1.0, return_dtype=pl.Float64
    )
    number = mantissa.str.contains(_NUMBER)
    return pl.select(
        pl.when(blank | ~number)
        .then(None)
        .otherwise(mantissa.cast(pl.Float64, strict=False) * scale)
    ).to_series()


def _parse_count(
    frame: pl.DataFrame, column: str, *, file: str | None, row_offset: int
) -> pl.Series:
    raw = frame[column]
    if raw.dtype == pl.Boolean:
        values = raw.cast(pl.Float64)
    elif raw.dtype.is_numeric():
        values = raw.cast(pl.Float64)
        values = values.fill_nan(None)
    else:
        text = raw.cast(pl.String).str.strip_chars()
        blank = _unknown(text)
        values = text.cast(pl.Float64, strict=False)
        if (values.is_null() & ~blank).any():  # only then the slower forms: 1,234 / 1.2k / 3M
            values = _parse_count_text(text, blank)
        values = pl.select(pl.when(blank).then(None).otherwise(values)).to_series()  # "nan"
        _fail(
            frame,
            ~blank & (values.is_null() | values.is_nan() | values.is_infinite()),
            column,
            "not a count",
            file=file,
            row_offset=row_offset,
        )
    _fail(
        frame, values.is_infinite(), column, "not a finite count", file=file, row_offset=row_offset
    )
    _fail(frame, values < 0, column, "a count cannot be negative", file=file, row_offset=row_offset)
    _fail(
        frame,
        values > MAX_COUNT,
        column,
        f"implausible count (more than {MAX_COUNT:,})",
        file=file,
        row_offset=row_offset,
    )
    return values.alias(column)


def _parse_flag(
    frame: pl.DataFrame, column: str, *, file: str | None, row_offset: int
) -> pl.Series:
    raw = frame[column]
    if raw.dtype == pl.Boolean:
        return raw.cast(pl.Float64).alias(column)
    if raw.dtype.is_numeric():
        values = raw.cast(pl.Float64).fill_nan(None)
        _fail(
            frame,
            ~values.is_in([0.0, 1.0]) & values.is_not_null(),
            column,
            "a yes/no value must be 0 or 1",
            file=file,
            row_offset=row_offset,
        )
        return values.alias(column)
    text = raw.cast(pl.String).str.strip_chars().str.to_lowercase()
    mapping = {word: 1.0 for word in TRUE_WORDS} | {word: 0.0 for word in FALSE_WORDS}
    values = text.replace_strict(mapping, default=None, return_dtype=pl.Float64)
    blank = _unknown(text)
    _fail(
        frame,
        values.is_null() & ~blank,
        column,
        "not a yes/no value (use true/false, yes/no or 1/0)",
        file=file,
        row_offset=row_offset,
    )
    return values.alias(column)


def parse_profiles(
    frame: pl.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    file: str | None = None,
    row_offset: int = 0,
) -> pl.DataFrame:
    """The profile columns of ``frame``, typed: text as strings, counts and flags as floats.

    ``columns`` maps canonical names to the frame's columns (default: ``resolve_columns``).
    Absent profile columns are absent from the result. ``row_offset`` is the number of data rows
    before this frame in its file, so errors name the row in the whole file.
    """
    columns = dict(columns) if columns is not None else resolve_columns(frame.columns)
    parsed: list[pl.Series] = []
    for canonical, source in columns.items():
        if canonical in TEXT_COLUMNS:
            raw = frame[source]
            if raw.dtype not in (pl.String, pl.Null) and not raw.dtype.is_numeric():
                raise InputError(
                    f"expected text, found {raw.dtype}", file=file, field=source, value=None
                )
            parsed.append(raw.cast(pl.String).alias(canonical))
        elif canonical in COUNT_COLUMNS:
            parsed.append(
                _parse_count(frame, source, file=file, row_offset=row_offset).alias(canonical)
            )
        else:
            parsed.append(
                _parse_flag(frame, source, file=file, row_offset=row_offset).alias(canonical)
            )
    return pl.DataFrame(parsed, height=frame.height)


def _digit_share(text: pl.Expr) -> pl.Expr:
    length = text.str.len_chars()
    return pl.when(length > 0).then(text.str.count_matches(r"[0-9]") / length).otherwise(0.0)


def _squashed(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")


def feature_expressions(present: Iterable[str]) -> list[pl.Expr]:
    """One expression per feature over a ``parse_profiles`` frame whose columns are ``present``."""
    present = set(present)
    missing = pl.lit(None, dtype=pl.Float64)
    username = pl.col("username").str.strip_chars().str.strip_chars_start("@")
    username = pl.when(username == "").then(None).otherwise(username)
    full_name = pl.col("full_name").fill_null("").str.strip_chars()
    log_count = {c: pl.col(c).log1p() for c in COUNT_COLUMNS}
    expressions = {
        "has_profile_pic": pl.col("has_profile_pic"),
        "username_digit_share": pl.when(username.is_null())
        .then(None)
        .otherwise(_digit_share(username)),
        "full_name_words": full_name.str.count_matches(r"\S+").cast(pl.Float64),
        "full_name_digit_share": _digit_share(full_name).cast(pl.Float64),
        "name_equals_username": pl.when(username.is_null())
        .then(None)
        .otherwise(
            ((_squashed(full_name) == _squashed(username)) & (full_name != "")).cast(pl.Float64)
        ),
        "bio_length": pl.col("biography").fill_null("").str.len_chars().cast(pl.Float64),
        "has_external_url": (pl.col("external_url").fill_null("").str.strip_chars() != "").cast(
            pl.Float64
        ),
        "is_private": pl.col("is_private"),
        "log_posts": log_count["posts"],
        "log_followers": log_count["followers"],
        "log_following": log_count["following"],
        "log_following_to_followers": log_count["following"] - log_count["followers"],
    }
    out = []
    for name in FEATURES:
        needs = FEATURE_SOURCES[name]
        expr = expressions[name] if all(c in present for c in needs) else missing
        out.append(expr.cast(pl.Float64).alias(name))
    return out


def profile_features(profiles: pl.DataFrame) -> pl.DataFrame:
    """The model's features (``FEATURES``, Float64, null where missing) of parsed profiles."""
    return profiles.select(feature_expressions(profiles.columns))


def to_matrix(features: pl.DataFrame) -> np.ndarray:
    """A features frame as the float64 matrix the model scores, NaN where missing."""
    return features.select(FEATURES).to_numpy().astype(np.float64, copy=False)


def feature_matrix(
    frame: pl.DataFrame, *, file: str | None = None, row_offset: int = 0
) -> np.ndarray:
    """Follower profiles (raw columns, any subset) straight to the model's feature matrix."""
    return to_matrix(profile_features(parse_profiles(frame, file=file, row_offset=row_offset)))
