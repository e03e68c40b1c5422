"""Spreadsheet-style values, parsed column-wise with Polars expressions.

Every parser here takes a column as read — text, or already typed when the file was JSON Lines or
Parquet — either as a Series (``count_values(series)`` …, returning two Series) or as a Polars
expression (``parse_count(expr, dtype)`` …, returning a :class:`Parsed` pair of expressions):

* ``value`` — the parsed value, NULL when the cell is blank *or* invalid;
* ``error`` — NULL when the cell is fine (or blank), else a short reason such as
  ``"not a number"``; the importers turn these into per-row errors naming line and field.

So a bad cell is never silently NULL: ``value`` is NULL and ``error`` says why.

The work is done in stages, each materialised once (a nested expression would re-evaluate its
shared parts in every branch that uses them), so parsing costs a few vectorised passes a column.

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
* unknown markers → NULL (unknown), never 0 and never an error: empty, ``NaN``, ``N/A``,
  ``NA``, ``n.a.``, ``null``, ``none``, ``nil``, ``-``, ``--``, ``—``, ``–``, ``?`` and the
  spreadsheet error values ``#N/A``, ``#DIV/0!``, ``#VALUE!``, ``#REF!``, ``#NAME?``,
  ``#NUM!``, ``#NULL!``, ``#ERROR!``, ``#CALC!``, ``#SPILL!``, ``#GETTING_DATA`` — also with
  the unit, currency or suffix a column's format puts around them: ``NaN%``, ``N/A %``,
  ``- %``, ``$-``, ``€ —``, ``N/A K``, ``#DIV/0! %`` (:func:`unknown`). Anything else that is
  not a number (``12abc``, ``1.2.3``) stays an error.

Booleans: true/false, yes/no, y/n, t/f, 1/0, on/off (any case); unknown markers as above.

Timestamps (``parse_timestamp``): ISO 8601 ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]``
(``T`` or a space; ``/`` also accepted between date parts), with ``Z``, ``UTC`` or an offset
``±HH:MM`` / ``±HHMM`` / ``±HH`` (converted to UTC) or without a zone (taken as UTC); Unix
epoch seconds, or milliseconds when the absolute value is at least 10^11 (a seconds value that
large would be past the year 5000). Results are naive UTC datetimes, as the store keeps them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

MAX_COUNT = 10**12  # no account or post has a trillion of anything: a unit or column mix-up
MAX_RATE = 10.0  # an engagement rate above 1000 % is a unit mix-up, not a viral post

# The error values a spreadsheet writes into a cell whose formula failed: never a value.
SPREADSHEET_ERRORS = (
    "#n/a",
    "#div/0!",
    "#value!",
    "#ref!",
    "#name?",
    "#num!",
    "#null!",
    "#error!",
    "#calc!",
    "#spill!",
    "#getting_data",
    "#n/a!",
)
BLANKS = ("", "nan", "n/a", "na", "n.a.", "-", "--", "—", "–", "null", "none", "?")
BLANKS += SPREADSHEET_ERRORS
# Text keeps "NA" (Namibia's country code, a name) and "?"; it only drops unmistakable blanks.
TEXT_BLANKS = ("", "nan", "n/a", "-", "--", "—", "–", "null", "none", *SPREADSHEET_ERRORS)

# An unknown marker in a number column, with the unit, currency or suffix the column's format
# put around it: "NaN%", "N/A %", "- %", "$-", "€ —", "N/A K", "#DIV/0!", "n/a bn". Markers made
# of letters need a space before a letter suffix ("N/A K", not "nak": that is garbage). Matched
# on the cell in lower case with its spaces (any kind) made plain and trimmed.
_CURRENCY = r"(?:[$€£¥₹₩₽¢]|us\$|r\$|a\$|c\$)"
_MARK_WORD = r"(?:nan|n/a|na|n\.a\.?|null|none|nil)"
_MARK_SIGN = (
    r"(?:-+|—+|–+|\?|"
    + "|".join(re.escape(e) for e in SPREADSHEET_ERRORS if e != "#n/a")
    + r"|#n/a)"
)
_MARK_SUFFIX = r"(?:k|m|mm|mn|b|bn)"
_MARK = rf"(?:{_MARK_WORD}(?:\s+{_MARK_SUFFIX})?|{_MARK_SIGN}(?:\s*{_MARK_SUFFIX})?)"
UNKNOWN_PATTERN = rf"^(?:(?:{_CURRENCY}\s*)?{_MARK}(?:\s*%)?(?:\s*{_CURRENCY})?)?$"
_UNKNOWN_RE = re.compile(UNKNOWN_PATTERN)
_ANY_SPACE = r"[\s\u00a0\u2007\u2009\u202f]+"
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


def blank(text: pl.Expr, words: tuple[str, ...] = BLANKS) -> pl.Expr:
    """True where a text cell means "unknown": NULL, empty, NaN, N/A, '-' …"""
    return text.is_null() | text.str.strip_chars().str.to_lowercase().is_in(words)


def _plain(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(_ANY_SPACE, " ").str.strip_chars().str.to_lowercase()


def unknown(text: pl.Expr) -> pl.Expr:
    """True where a number cell means "unknown": NULL, empty, a blank word (``NaN``, ``N/A``,
    ``-`` …) or a spreadsheet error (``#DIV/0!`` …), with or without a unit, currency or suffix
    around it (``NaN%``, ``$-``, ``N/A K``). One rule for every importer (:data:`UNKNOWN_PATTERN`);
    the same as :func:`is_unknown_text` for one value."""
    return text.is_null() | _plain(text).str.contains(UNKNOWN_PATTERN)


def is_unknown_text(text: str) -> bool:
    """:func:`unknown` for one Python string (the JSON importers read values one by one)."""
    plain = re.sub(_ANY_SPACE, " ", text).strip().lower()
    return _UNKNOWN_RE.match(plain) is not None


def _staged(frame: pl.DataFrame, *stages: dict[str, pl.Expr]) -> pl.DataFrame:
    for stage in stages:
        frame = frame.with_columns(**stage)
    return frame


_x, _value = pl.col("x"), pl.col("value")


def _number_frame(series: pl.Series) -> pl.DataFrame:
    """Columns value (before any percent division), pct, blank and bad for any input dtype."""
    dtype = series.dtype
    frame = pl.DataFrame({"x": series})
    if dtype.is_numeric():
        f = _x.cast(pl.Float64)
        nan = f.is_nan() | f.is_infinite()
        return frame.select(
            value=pl.when(~nan).then(f),
            pct=pl.lit(False),
            blank=_x.is_null() | nan.fill_null(False),
            bad=pl.lit(False),
        )
    if not _is_text(dtype):
        return frame.select(
            value=pl.lit(None, dtype=pl.Float64),
            pct=pl.lit(False),
            blank=_x.is_null(),
            bad=_x.is_not_null(),
        )
    num, blank_ = pl.col("num"), pl.col("blank")
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
    canon = pl.col("canonical")
    # What is left must be one well-formed decimal: "1.2.3" or "1,2,3" are errors.
    well_formed = canon.str.contains(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?$")
    multiplier = pl.col("suffix").replace_strict(_SUFFIX, default=1.0, return_dtype=pl.Float64)
    frame = _staged(
        frame.with_columns(_x.cast(pl.String)),
        {"compact": _x.str.replace_all(_SPACES, "").str.to_lowercase()},
        {
            "blank": unknown(_x),
            "parts": pl.col("compact").str.extract_groups(_NUMBER),
        },
        {
            "num": pl.col("parts").struct.field("num"),
            "suffix": pl.col("parts").struct.field("suffix"),
            "pct": pl.col("parts").struct.field("pct").is_not_null() & ~blank_,
        },
        {"canonical": canonical},
        {"value": pl.when(well_formed & ~blank_).then(canon.cast(pl.Float64, strict=False))},
        # 15 significant digits drop binary noise: "8.3m" is 8300000, not 8300000.000000001.
        {"value": pl.when(_value.is_finite()).then((_value * multiplier).round_sig_figs(15))},
    )
    return frame.select("x", "value", "pct", "blank", bad=~blank_ & _value.is_null())


def _pair(frame: pl.DataFrame, value: pl.Expr, error: pl.Expr) -> tuple[pl.Series, pl.Series]:
    out = frame.with_columns(error=error).select(
        pl.when(pl.col("error").is_null()).then(value).alias("value"), "error"
    )
    return out["value"], out["error"].cast(pl.String)


def number_values(series: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A non-negative measure (an average, say); a percent sign is an error here."""
    frame = _number_frame(series)
    error = (
        pl.when(pl.col("bad"))
        .then(pl.lit("not a number"))
        .when(pl.col("pct"))
        .then(pl.lit("a percentage where a number was expected"))
        .when(_value < 0)
        .then(pl.lit("negative value"))
        .when(_value > MAX_COUNT)
        .then(pl.lit(f"absurdly large (more than {MAX_COUNT:.0e})"))
    )
    return _pair(frame, _value, error)


def count_values(series: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A count (followers, likes …): a whole number from 0 to 10^12.

    Abbreviated values are rounded to the nearest whole number (``1.2346k`` is 1235); an
    unabbreviated fraction such as ``12.5`` is an error: no platform reports half a follower.
    """
    frame = _number_frame(series)
    if _is_text(series.dtype):
        abbreviated = _x.str.contains(r"(?i)[0-9.,]\s*(?:k|m|mm|mn|b|bn)\s*$")
    else:
        abbreviated = pl.lit(False)
    fractional = (_value != _value.round(0)) & ~abbreviated
    error = (
        pl.when(pl.col("bad"))
        .then(pl.lit("not a number"))
        .when(pl.col("pct"))
        .then(pl.lit("a percentage where a count was expected"))
        .when(_value < 0)
        .then(pl.lit("negative count"))
        .when(_value > MAX_COUNT)
        .then(pl.lit(f"absurdly large count (more than {MAX_COUNT:.0e})"))
        .when(fractional)
        .then(pl.lit("not a whole number"))
    )
    return _pair(frame, _value.round(0).cast(pl.Int64), error)


def interaction_count_values(series: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A post's count of likes, views … where ``-1`` means hidden, as scrapers write it.

    Instagram answers -1 for the likes of a post whose owner hid them, and scrapers pass it on;
    it is stored as NULL (unknown), never as a count. Any other negative value is an error.
    """
    value, error = count_values(series)
    if series.dtype.is_nested():
        return value, error
    hidden = (error == "negative count") & (series.cast(pl.String).str.strip_chars() == "-1")
    hidden = hidden.fill_null(False)
    return (
        pl.select(pl.when(~hidden).then(value)).to_series().alias(value.name),
        pl.select(pl.when(~hidden).then(error)).to_series().alias(error.name),
    )


RATE_SCALES = ("auto", "percent", "fraction")


def rate_values(series: pl.Series, *, scale: str = "auto") -> tuple[pl.Series, pl.Series]:
    """A rate stored as a fraction (engagement rate: 1.39 % is 0.0139).

    A value with ``%`` is always a percentage. A bare value depends on ``scale``:
    ``percent`` — every bare value is a percentage (``1.39`` → 0.0139, ``0.5`` → 0.005);
    ``fraction`` — every bare value is a fraction (``0.0139`` → 0.0139);
    ``auto`` (default) — a bare value above 1 is a percentage, one of at most 1 a fraction.
    Negative rates and rates above 1000 % are errors.
    """
    if scale not in RATE_SCALES:
        raise ValueError(f"rate scale must be one of {RATE_SCALES}, not {scale!r}")
    frame = _number_frame(series)
    if scale == "percent":
        as_percent = pl.lit(True)
    elif scale == "fraction":
        as_percent = pl.col("pct")
    else:
        as_percent = pl.col("pct") | (_value > 1)
    frame = frame.with_columns(
        value=pl.when(as_percent).then((_value / 100).round_sig_figs(15)).otherwise(_value)
    )
    error = (
        pl.when(pl.col("bad"))
        .then(pl.lit("not a number"))
        .when(_value < 0)
        .then(pl.lit("negative rate"))
        .when(_value > MAX_RATE)
        .then(pl.lit(f"rate above {MAX_RATE:.0%}"))
    )
    return _pair(frame, _value, error)


def bool_values(series: pl.Series) -> tuple[pl.Series, pl.Series]:
    """true/false, yes/no, y/n, t/f, 1/0, on/off in any case; blanks are NULL."""
    dtype = series.dtype
    frame = pl.DataFrame({"x": series})
    no_error = pl.Series("error", [None] * len(series), dtype=pl.String)
    if dtype == pl.Boolean:
        return series.alias("value"), no_error
    if dtype.is_numeric():
        f = _x.cast(pl.Float64)
        ok = _x.is_null() | f.is_in([0.0, 1.0])
        return _pair(frame, f == 1.0, pl.when(~ok).then(pl.lit("not a yes/no value")))
    if not _is_text(dtype):
        return _pair(
            frame,
            pl.lit(None, dtype=pl.Boolean),
            pl.when(_x.is_not_null()).then(pl.lit("not a yes/no value")),
        )
    frame = frame.with_columns(word=_x.cast(pl.String).str.strip_chars().str.to_lowercase())
    word = pl.col("word")
    frame = frame.with_columns(
        value=pl.when(word.is_in(TRUE_WORDS)).then(True).when(word.is_in(FALSE_WORDS)).then(False),
        blank=unknown(_x.cast(pl.String)),
    )
    error = pl.when(~pl.col("blank") & _value.is_null()).then(pl.lit("not a yes/no value"))
    return _pair(frame, _value, error)


_ISO = (
    r"^(?P<date>[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2})"
    r"(?:[t ](?P<hm>[0-9]{1,2}:[0-9]{2})(?P<sec>:[0-9]{2}(?:[.,][0-9]{1,9})?)?)?"
    r" ?(?P<zone>z|utc|gmt|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
_MS_THRESHOLD = 10**11
_MIN_YEAR, _MAX_YEAR = 1970, 2200
_NOT_A_TIME = "not a time (expected ISO 8601 such as 2024-05-01T12:00:00Z, or Unix seconds)"


def _from_epoch(number: pl.Expr) -> pl.Expr:
    millis = pl.when(number.abs() >= _MS_THRESHOLD).then(number).otherwise(number * 1000)
    # Outside 1970..2200 is a wrong column, not a date.
    ok = (millis >= 0) & (millis < 7_258_118_400_000)  # 2200-01-01 in ms
    return pl.when(ok).then((millis * 1000).round(0).cast(pl.Int64).cast(pl.Datetime("us")))


def timestamp_values(series: pl.Series) -> tuple[pl.Series, pl.Series]:
    """ISO 8601 text (any zone → UTC) or Unix seconds / milliseconds → naive UTC datetime."""
    dtype = series.dtype
    frame = pl.DataFrame({"x": series})
    no_error = pl.lit(None, dtype=pl.String)
    if isinstance(dtype, pl.Datetime):
        value = _x
        if dtype.time_zone is not None:
            value = value.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return _pair(frame, value.cast(pl.Datetime("us")), no_error)
    if dtype == pl.Date:
        return _pair(frame, _x.cast(pl.Datetime("us")), no_error)
    if dtype.is_numeric():
        frame = frame.with_columns(value=_from_epoch(_x.cast(pl.Float64)))
        return _pair(
            frame, _value, pl.when(_x.is_not_null() & _value.is_null()).then(pl.lit(_NOT_A_TIME))
        )
    if not _is_text(dtype):
        return _pair(
            frame,
            pl.lit(None, dtype=pl.Datetime("us")),
            pl.when(_x.is_not_null()).then(pl.lit("not a time")),
        )
    g, low = pl.col("g"), pl.col("low")
    zone = pl.col("zone")
    offset_text = zone.str.replace(":", "", literal=True)
    sign = pl.when(offset_text.str.starts_with("-")).then(-1).otherwise(1)
    hours = offset_text.str.slice(1, 2).cast(pl.Int64, strict=False)
    minutes = offset_text.str.slice(3, 2).cast(pl.Int64, strict=False).fill_null(0)
    local = pl.concat_str(
        [
            g.struct.field("date").str.replace_all("/", "-", literal=True),
            pl.lit(" "),
            g.struct.field("hm").fill_null("00:00"),
            g.struct.field("sec").fill_null(":00").str.replace(",", ".", literal=True),
        ]
    ).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")
    iso = pl.col("local") - pl.duration(minutes=pl.col("offset"))
    frame = _staged(
        frame.with_columns(_x.cast(pl.String)),
        {"low": _x.str.strip_chars().str.to_lowercase()},
        {
            "blank": unknown(_x),
            "epoch": low.str.contains(r"^[+-]?[0-9]+(?:\.[0-9]+)?$"),
            "g": low.str.extract_groups(_ISO),
        },
        {"zone": g.struct.field("zone"), "local": local},
        {
            "offset": pl.when(zone.is_null() | zone.is_in(["z", "utc", "gmt"]))
            .then(0)
            .otherwise(sign * (hours * 60 + minutes))
        },
        {"iso": iso},
        {
            "value": pl.when(pl.col("blank"))
            .then(None)
            .when(pl.col("epoch"))
            .then(_from_epoch(low.cast(pl.Float64, strict=False)))
            .when(pl.col("iso").dt.year().is_between(_MIN_YEAR, _MAX_YEAR - 1))
            .then(pl.col("iso"))
            .cast(pl.Datetime("us"))
        },
    )
    error = pl.when(~pl.col("blank") & _value.is_null()).then(pl.lit(_NOT_A_TIME))
    return _pair(frame, _value, error)


def _as_exprs(function, expr: pl.Expr, dtype: pl.DataType, **kwargs) -> Parsed:  # type: ignore[no-untyped-def]
    """The expression face of a Series parser (the followers importer uses it)."""
    value_dtype = {
        count_values: pl.Int64,
        number_values: pl.Float64,
        rate_values: pl.Float64,
        bool_values: pl.Boolean,
        timestamp_values: pl.Datetime("us"),
    }[function]
    return Parsed(
        expr.map_batches(lambda s: function(s, **kwargs)[0], return_dtype=value_dtype),
        expr.map_batches(lambda s: function(s, **kwargs)[1], return_dtype=pl.String),
    )


def parse_number(expr: pl.Expr, dtype: pl.DataType = pl.String) -> Parsed:
    """Expression form of :func:`number_values`."""
    return _as_exprs(number_values, expr, dtype)


def parse_count(expr: pl.Expr, dtype: pl.DataType = pl.String) -> Parsed:
    """Expression form of :func:`count_values`."""
    return _as_exprs(count_values, expr, dtype)


def parse_rate(expr: pl.Expr, dtype: pl.DataType = pl.String, *, scale: str = "auto") -> Parsed:
    """Expression form of :func:`rate_values`."""
    if scale not in RATE_SCALES:
        raise ValueError(f"rate scale must be one of {RATE_SCALES}, not {scale!r}")
    return _as_exprs(rate_values, expr, dtype, scale=scale)


def parse_bool(expr: pl.Expr, dtype: pl.DataType = pl.String) -> Parsed:
    """Expression form of :func:`bool_values`."""
    return _as_exprs(bool_values, expr, dtype)


def parse_timestamp(expr: pl.Expr, dtype: pl.DataType = pl.String) -> Parsed:
    """Expression form of :func:`timestamp_values`."""
    return _as_exprs(timestamp_values, expr, dtype)
