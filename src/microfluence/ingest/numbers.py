"""Spreadsheet-style values, parsed column-wise with Polars expressions.

Every parser here takes a Polars expression (a column as read: text, or already typed when the
file was JSON Lines or Parquet) and returns a :class:`Parsed` pair of expressions:

* ``value`` — the parsed value, NULL when the cell is blank *or* invalid;
* ``error`` — NULL when the cell is fine (or blank), else a short reason such as
  ``"not a number"``; the importers turn these into per-row errors naming line and field.

So a bad cell is never silently NULL: ``value`` is NULL and ``error`` says why.

Numbers (``parse_number``) accept, after removing spaces (also no-break U+00A0, thin U+2009,
narrow no-break U+202F) and apostrophes used as digit group marks (``1'234``):

* plain integers and decimals, a sign, scientific notation: ``12``, ``-3.5``, ``1.2e6``;
* suffixes k (10^3), m / mm / mn (10^6), b / bn (10^9), in either case: ``3.3k``, ``475.8m``,
  ``29.0B``, ``1.2M``;
* group separators: ``1,234``, ``12,345,678``, ``12 345``, ``1.234.567`` (two or more dot
  groups), ``1.234,5`` and ``1,234.5`` (the *last* of ``.`` and ``,`` is the decimal mark);
* a decimal comma when a single comma is *not* followed by exactly three digits: ``1,5k`` is
  1500, ``3,75`` is 3.75, but ``1,234`` is always one thousand two hundred and thirty-four;
* a trailing ``%``: the value is divided by 100 (only rates may be percentages);
* blanks: empty, ``NaN``, ``N/A``, ``NA``, ``-``, ``--``, ``—``, ``null``, ``none``, ``#N/A``,
  ``n.a.``, ``?`` → NULL (unknown), never 0.

Booleans: true/false, yes/no, y/n, t/f, 1/0, on/off (any case); blanks as above.

Timestamps (``parse_timestamp``): ISO 8601 ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]``
(``T`` or a space; ``/`` also accepted between date parts), with ``Z``, ``UTC`` or an offset
``±HH:MM`` / ``±HHMM`` / ``±HH`` (converted to UTC) or without a zone (taken as UTC); Unix
epoch seconds, or milliseconds when the absolute value is at least 10^11 (a seconds value that
large would be past the year 5000). Results are naive UTC datetimes, as the store keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

MAX_COUNT = 10**12  # no account or post has a trillion of anything: a unit or column mix-up
MAX_RATE = 10.0  # an engagement rate above 1000 % is a unit mix-up, not a viral post

BLANKS = ("", "nan", "n/a", "na", "n.a.", "-", "--", "—", "–", "null", "none", "#n/a", "?")
# Text keeps "NA" (Namibia's country code, a name) and "?"; it only drops unmistakable blanks.
TEXT_BLANKS = ("", "nan", "n/a", "#n/a", "-", "--", "—", "–", "null", "none")
TRUE_WORDS = ("true", "t", "yes", "y", "1", "on")
FALSE_WORDS = ("false", "f", "no", "n", "0", "off")

_SPACES = r"[\s\u00a0\u2007\u2009\u202f']"
_NUMBER = (
    r"^(?P<num>[+-]?(?:[0-9][0-9.,]*|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"(?P<suffix>k|m|mm|mn|b|bn)?(?P<pct>%)?$"
)
_SUFFIX = {"k": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9}


@dataclass(frozen=True)
class Parsed:
    """A parsed column: its value (NULL when blank or invalid) and why it is invalid."""

    value: pl.Expr
    error: pl.Expr


def _is_text(dtype: pl.DataType) -> bool:
    return dtype == pl.String or dtype == pl.Categorical or dtype == pl.Null


def _no_error() -> pl.Expr:
    return pl.lit(None, dtype=pl.String)


def blank(text: pl.Expr, words: tuple[str, ...] = BLANKS) -> pl.Expr:
    """True where a text cell means "unknown": NULL, empty, NaN, N/A, '-' …"""
    return text.is_null() | text.str.strip_chars().str.to_lowercase().is_in(words)


def number_parts(text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(value, is_percent, blank) of text cells; value is NULL where invalid or blank.

    The value is *before* the percent division, so callers decide what a percent means.
    """
    compact = text.str.replace_all(_SPACES, "").str.to_lowercase()
    is_blank = text.is_null() | compact.is_in(BLANKS)
    parts = compact.str.extract_groups(_NUMBER)
    num = parts.struct.field("num")
    has_dot = num.str.contains(".", literal=True)
    has_comma = num.str.contains(",", literal=True)
    # Both marks: the last one is the decimal mark (1.234,5 and 1,234.5).
    comma_last = num.str.contains(r",[0-9]*(?:e[+-]?[0-9]+)?$")
    thousands_commas = num.str.contains(r"^[+-]?[0-9]{1,3}(?:,[0-9]{3})+$")
    thousands_dots = num.str.contains(r"^[+-]?[0-9]{1,3}(?:\.[0-9]{3}){2,}$")
    single_comma = num.str.count_matches(",", literal=True) == 1
    canonical = (
        pl.when(has_dot & has_comma & comma_last)
        .then(num.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
        .when(has_dot & has_comma)
        .then(num.str.replace_all(",", "", literal=True))
        .when(has_comma & thousands_commas)
        .then(num.str.replace_all(",", "", literal=True))
        .when(has_comma & single_comma)
        .then(num.str.replace(",", ".", literal=True))
        .when(thousands_dots)
        .then(num.str.replace_all(".", "", literal=True))
        .otherwise(num)
    )
    # What is left must be one well-formed decimal: "1.2.3" or "1,2,3" are errors.
    well_formed = canonical.str.contains(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?$")
    suffix = parts.struct.field("suffix")
    multiplier = (
        pl.when(suffix.is_null())
        .then(pl.lit(1.0))
        .otherwise(suffix.replace_strict(_SUFFIX, default=None, return_dtype=pl.Float64))
    )
    value = pl.when(well_formed & ~is_blank).then(
        canonical.cast(pl.Float64, strict=False) * multiplier
    )
    value = pl.when(value.is_finite()).then(value)
    is_percent = parts.struct.field("pct").is_not_null() & ~is_blank
    return value, is_percent, is_blank


def _numeric_input(expr: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(value, is_percent, blank, not_a_number) for a column of any dtype."""
    if dtype.is_numeric():
        value = expr.cast(pl.Float64)
        nan = value.is_nan() | value.is_infinite()
        return pl.when(~nan).then(value), pl.lit(False), expr.is_null() | nan, pl.lit(False)
    if dtype == pl.Boolean or dtype.is_nested() or dtype.is_temporal():
        return (
            pl.lit(None, dtype=pl.Float64),
            pl.lit(False),
            expr.is_null(),
            expr.is_not_null(),
        )
    text = expr.cast(pl.String)
    value, is_percent, is_blank = number_parts(text)
    return value, is_percent, is_blank, ~is_blank & value.is_null()


def parse_number(expr: pl.Expr, dtype: pl.DataType = pl.String) -> Parsed:
    """A non-negative measure (an average, say); a percent sign is an error here."""
    value, is_percent, _blank, bad = _numeric_input(expr, dtype)
    error = (
        pl.when(bad)
        .then(pl.lit("not a number"))
        .when(is_percent)
        .then(pl.lit("a percentage where a number was expected"))
        .when(value < 0)
        .then(pl.lit("negative value"))
        .when(value > MAX_COUNT)
        .then(pl.lit(f"absurdly large (more than {MAX_COUNT:.0e})"))
    )
    return Parsed(pl.when(error.is_null()).then(value), error)


def parse_count(expr: pl.Expr, dtype: pl.DataType = pl.String) -> Parsed:
    """A count (followers, likes …): a whole number from 0 to 10^12.

    Abbreviated values are rounded to the nearest whole number (``1.2346k`` is 1235); an
    unabbreviated fraction such as ``12.5`` is an error: no platform reports half a follower.
    """
    value, is_percent, _blank, bad = _numeric_input(expr, dtype)
    if _is_text(dtype):
        abbreviated = expr.cast(pl.String).str.contains(r"(?i)[0-9.,]\s*(?:k|m|mm|mn|b|bn)\s*$")
    else:
        abbreviated = pl.lit(False)
    fractional = (value != value.round(0)) & ~abbreviated
    error = (
        pl.when(bad)
        .then(pl.lit("not a number"))
        .when(is_percent)
        .then(pl.lit("a percentage where a count was expected"))
        .when(value < 0)
        .then(pl.lit("negative count"))
        .when(value > MAX_COUNT)
        .then(pl.lit(f"absurdly large count (more than {MAX_COUNT:.0e})"))
        .when(fractional)
        .then(pl.lit("not a whole number"))
    )
    return Parsed(pl.when(error.is_null()).then(value.round(0).cast(pl.Int64)), error)


RATE_SCALES = ("auto", "percent", "fraction")


def parse_rate(expr: pl.Expr, dtype: pl.DataType = pl.String, *, scale: str = "auto") -> Parsed:
    """A rate stored as a fraction (engagement rate: 1.39 % is 0.0139).

    A value with ``%`` is always a percentage. A bare value depends on ``scale``:
    ``percent`` — every bare value is a percentage (``1.39`` → 0.0139, ``0.5`` → 0.005);
    ``fraction`` — every bare value is a fraction (``0.0139`` → 0.0139);
    ``auto`` (default) — a bare value above 1 is a percentage, one of at most 1 a fraction.
    Negative rates and rates above 1000 % are errors.
    """
    if scale not in RATE_SCALES:
        raise ValueError(f"rate scale must be one of {RATE_SCALES}, not {scale!r}")
    value, is_percent, _blank, bad = _numeric_input(expr, dtype)
    if scale == "percent":
        as_percent = pl.lit(True)
    elif scale == "fraction":
        as_percent = is_percent
    else:
        as_percent = is_percent | (value > 1)
    fraction = pl.when(as_percent).then(value / 100).otherwise(value)
    error = (
        pl.when(bad)
        .then(pl.lit("not a number"))
        .when(fraction < 0)
        .then(pl.lit("negative rate"))
        .when(fraction > MAX_RATE)
        .then(pl.lit(f"rate above {MAX_RATE:.0%}"))
    )
    return Parsed(pl.when(error.is_null()).then(fraction), error)


def parse_bool(expr: pl.Expr, dtype: pl.DataType = pl.String) -> Parsed:
    """true/false, yes/no, y/n, t/f, 1/0, on/off in any case; blanks are NULL."""
    if dtype == pl.Boolean:
        return Parsed(expr, _no_error())
    if dtype.is_numeric():
        value = expr.cast(pl.Float64)
        ok = expr.is_null() | value.is_in([0.0, 1.0])
        return Parsed(
            pl.when(ok).then(value == 1.0),
            pl.when(~ok).then(pl.lit("not a yes/no value")),
        )
    if not _is_text(dtype):
        return Parsed(
            pl.lit(None, dtype=pl.Boolean),
            pl.when(expr.is_not_null()).then(pl.lit("not a yes/no value")),
        )
    word = expr.cast(pl.String).str.strip_chars().str.to_lowercase()
    is_blank = blank(expr.cast(pl.String))
    value = pl.when(word.is_in(TRUE_WORDS)).then(True).when(word.is_in(FALSE_WORDS)).then(False)
    error = pl.when(~is_blank & value.is_null()).then(pl.lit("not a yes/no value"))
    return Parsed(value, error)


_ISO = (
    r"^(?P<date>[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2})"
    r"(?:[t ](?P<hm>[0-9]{1,2}:[0-9]{2})(?P<sec>:[0-9]{2}(?:[.,][0-9]{1,9})?)?)?"
    r" ?(?P<zone>z|utc|gmt|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
_MS_THRESHOLD = 10**11
_MIN_YEAR, _MAX_YEAR = 1970, 2200


def _from_epoch(number: pl.Expr) -> pl.Expr:
    millis = pl.when(number.abs() >= _MS_THRESHOLD).then(number).otherwise(number * 1000)
    # Outside 1970..2200 is a wrong column, not a date.
    lo, hi = 0, 7_258_118_400_000  # 1970-01-01, 2200-01-01 in ms
    ok = (millis >= lo) & (millis < hi)
    return pl.when(ok).then((millis * 1000).round(0).cast(pl.Int64).cast(pl.Datetime("us")))


def parse_timestamp(expr: pl.Expr, dtype: pl.DataType = pl.String) -> Parsed:
    """ISO 8601 text (any zone → UTC) or Unix seconds / milliseconds → naive UTC datetime."""
    if isinstance(dtype, pl.Datetime):
        value = expr
        if dtype.time_zone is not None:
            value = value.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return Parsed(value.cast(pl.Datetime("us")), _no_error())
    if dtype == pl.Date:
        return Parsed(expr.cast(pl.Datetime("us")), _no_error())
    if dtype.is_numeric():
        value = _from_epoch(expr.cast(pl.Float64))
        return Parsed(
            value, pl.when(expr.is_not_null() & value.is_null()).then(pl.lit("not a time"))
        )
    if not _is_text(dtype):
        return Parsed(
            pl.lit(None, dtype=pl.Datetime("us")),
            pl.when(expr.is_not_null()).then(pl.lit("not a time")),
        )
    text = expr.cast(pl.String).str.strip_chars()
    is_blank = blank(text)
    lowered = text.str.to_lowercase()
    epoch = lowered.str.contains(r"^[+-]?[0-9]+(?:\.[0-9]+)?$")
    from_epoch = _from_epoch(lowered.cast(pl.Float64, strict=False))
    g = lowered.str.extract_groups(_ISO)
    date = g.struct.field("date").str.replace_all("/", "-", literal=True)
    hm = g.struct.field("hm").fill_null("00:00")
    sec = g.struct.field("sec").fill_null(":00").str.replace(",", ".", literal=True)
    local = pl.concat_str([date, pl.lit(" "), hm, sec]).str.to_datetime(
        "%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us"
    )
    zone = g.struct.field("zone")
    offset_text = zone.str.replace(":", "", literal=True)
    sign = pl.when(offset_text.str.starts_with("-")).then(-1).otherwise(1)
    hours = offset_text.str.slice(1, 2).cast(pl.Int64, strict=False)
    minutes = offset_text.str.slice(3, 2).cast(pl.Int64, strict=False).fill_null(0)
    offset_min = (
        pl.when(zone.is_null() | zone.is_in(["z", "utc", "gmt"]))
        .then(0)
        .otherwise(sign * (hours * 60 + minutes))
    )
    iso = local - pl.duration(minutes=offset_min)
    iso = pl.when(iso.dt.year().is_between(_MIN_YEAR, _MAX_YEAR - 1)).then(iso)
    value = pl.when(is_blank).then(None).when(epoch).then(from_epoch).otherwise(iso)
    error = pl.when(~is_blank & value.is_null()).then(
        pl.lit("not a time (expected ISO 8601 such as 2024-05-01T12:00:00Z, or Unix seconds)")
    )
    return Parsed(value.cast(pl.Datetime("us")), error)
