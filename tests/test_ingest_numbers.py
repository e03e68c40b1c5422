"""Every documented spreadsheet number, yes/no and time style, pinned."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microfluence.ingest.values.numbers import (
    is_unknown_text,
    parse_bool,
    parse_count,
    parse_number,
    parse_rate,
    parse_timestamp,
)


def _run(parser, values, dtype=pl.String, **kwargs):
    frame = pl.DataFrame({"x": values}, schema={"x": dtype})
    parsed = parser(pl.col("x"), dtype, **kwargs)
    out = frame.select(parsed.value.alias("v"), parsed.error.alias("e"))
    return out["v"].to_list(), out["e"].to_list()


COUNTS = {
    "475.8m": 475_800_000,
    "3.3k": 3300,
    "3.3K": 3300,
    "29.0b": 29_000_000_000,
    "5bn": 5_000_000_000,
    "2mn": 2_000_000,
    "1.2M": 1_200_000,
    "1,234": 1234,
    "12,345,678": 12_345_678,
    "12 345": 12345,
    "12\u00a0345": 12345,
    "1\u2009234": 1234,
    "1\u202f234": 1234,
    "1'234": 1234,
    "1.234.567": 1_234_567,
    "1,5k": 1500,
    "1.2346k": 1235,
    "1e3": 1000,
    "1.5E6": 1_500_000,
    "+7": 7,
    "0": 0,
    " 42 ": 42,
    "1000000000000": 10**12,
}
BLANKS = ["", "  ", "NaN", "nan", "N/A", "n/a", "NA", "-", "--", "—", "null", "None", "#N/A", None]


@pytest.mark.parametrize(("text", "expected"), COUNTS.items())
def test_count_styles(text, expected):
    values, errors = _run(parse_count, [text])
    assert (values[0], errors[0]) == (expected, None)


@pytest.mark.parametrize("text", BLANKS)
def test_blanks_are_unknown_not_zero(text):
    for parser in (parse_count, parse_number, parse_rate, parse_bool, parse_timestamp):
        values, errors = _run(parser, [text])
        assert values == [None] and errors == [None], parser.__name__


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-5", "negative count"),
        ("-1.2k", "negative count"),
        ("2e13", "absurdly large count"),
        ("1000000000001", "absurdly large count"),
        ("12.5", "not a whole number"),
        ("1,234.5", "not a whole number"),
        ("1.39%", "a percentage where a count was expected"),
        ("abc", "not a number"),
        ("1.2.3", "not a number"),
        ("1,2,3", "not a number"),
        ("12 k followers", "not a number"),
        ("inf", "not a number"),
        ("0x10", "not a number"),
        ("[1, 2]", "not a number"),
    ],
)
def test_count_errors(text, reason):
    values, errors = _run(parse_count, [text])
    assert values == [None]
    assert errors[0].startswith(reason)


def test_decimal_marks():
    values, errors = _run(parse_number, ["1.234,5", "1,234.5", "3,75", "1,234", "0.5", ".5"])
    assert values == [1234.5, 1234.5, 3.75, 1234.0, 0.5, 0.5]
    assert errors == [None] * 6


def test_typed_columns_from_json_and_parquet():
    assert _run(parse_count, [5, None, -1], pl.Int64) == (
        [5, None, None],
        [None, None, "negative count"],
    )
    values, errors = _run(parse_count, [2.0, float("nan")], pl.Float64)
    assert values == [2, None] and errors == [None, None]
    values, errors = _run(parse_count, [True], pl.Boolean)
    assert values == [None] and errors == ["not a number"]


@pytest.mark.parametrize(
    ("text", "scale", "expected"),
    [
        ("1.39%", "auto", 0.0139),
        ("1.39 %", "auto", 0.0139),
        ("1,39%", "auto", 0.0139),
        ("1.39", "auto", 0.0139),
        ("0.0139", "auto", 0.0139),
        ("1", "auto", 1.0),
        ("0.5", "percent", 0.005),
        ("1.39", "percent", 0.0139),
        ("0.0139", "fraction", 0.0139),
        ("1.39%", "fraction", 0.0139),
        ("250%", "auto", 2.5),
    ],
)
def test_rates_are_fractions(text, scale, expected):
    values, errors = _run(parse_rate, [text], scale=scale)
    assert errors == [None]
    assert values[0] == pytest.approx(expected)


def test_rate_errors():
    _, errors = _run(parse_rate, ["-1%", "5000%", "x"])
    assert errors == ["negative rate", "rate above 1000%", "not a number"]


def test_number_rejects_percent_and_negative():
    _, errors = _run(parse_number, ["5%", "-3", "12.5"])
    assert errors[:2] == ["a percentage where a number was expected", "negative value"]
    assert errors[2] is None


def test_booleans():
    words = ["true", "False", "YES", "no", "y", "N", "1", "0", "t", "f", "on", "off"]
    values, errors = _run(parse_bool, words)
    assert values == [True, False, True, False, True, False, True, False, True, False, True, False]
    assert errors == [None] * len(words)
    values, errors = _run(parse_bool, ["maybe", "2"])
    assert values == [None, None] and errors == ["not a yes/no value"] * 2
    assert _run(parse_bool, [1, 0, 2], pl.Int64)[1] == [None, None, "not a yes/no value"]


T = dt.datetime(2024, 5, 1, 12, 0, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00Z", T),
        ("2024-05-01T12:00:00z", T),
        ("2024-05-01 12:00:00", T),
        ("2024-05-01T12:00", T),
        ("2024-05-01T14:00:00+02:00", T),
        ("2024-05-01T14:00:00+0200", T),
        ("2024-05-01T07:00:00-05", T),
        ("2024-05-01T12:00:00 UTC", T),
        ("2024-05-01T12:00:00.250Z", T + dt.timedelta(milliseconds=250)),
        ("2024-05-01", dt.datetime(2024, 5, 1)),
        ("2024/05/01 12:00", T),
        ("1714564800", T),
        ("1714564800000", T),
        ("1714564800.5", T + dt.timedelta(milliseconds=500)),
    ],
)
def test_timestamps_to_naive_utc(text, expected):
    values, errors = _run(parse_timestamp, [text])
    assert (values[0], errors[0]) == (expected, None)


def test_timestamp_errors_and_typed_input():
    _, errors = _run(
        parse_timestamp, ["2024-02-30", "yesterday", "05/01/2024", "99999999999999999"]
    )
    assert all(e and e.startswith("not a time") for e in errors)
    assert _run(parse_timestamp, [1714564800, 1714564800000], pl.Int64)[0] == [T, T]
    aware = pl.Datetime("us", "Europe/Berlin")
    frame = pl.DataFrame({"x": [T]}).with_columns(
        pl.col("x").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Berlin")
    )
    parsed = parse_timestamp(pl.col("x"), aware)
    assert frame.select(parsed.value)["x"].to_list() == [T]


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_plain_and_grouped_integers_round_trip(n):
    grouped = f"{n:,}"
    values, errors = _run(parse_count, [str(n), grouped, grouped.replace(",", " ")])
    assert values == [n, n, n] and errors == [None] * 3


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=20))
def test_any_text_is_a_value_or_an_error(text):
    for parser in (parse_count, parse_rate, parse_bool, parse_timestamp):
        values, errors = _run(parser, [text])
        assert (values[0] is None) or (errors[0] is None)
    values, errors = _run(parse_count, [text])
    if values[0] is not None:
        assert 0 <= values[0] <= 10**12


def test_spreadsheet_values_carry_no_binary_noise():
    """'8.3m' is exactly 8300000 and '1.62%' exactly 0.0162, as a user would read them."""
    values, errors = _run(parse_number, ["8.3m", "6.5m", "0.7k", "1.1"])
    assert values == [8_300_000.0, 6_500_000.0, 700.0, 1.1]
    assert errors == [None] * 4
    rates, _ = _run(parse_rate, ["1.62%", "1.39%", "2.3", "0.0139"])
    assert rates == [0.0162, 0.0139, 0.023, 0.0139]


# -- unknown markers with units, currencies and spreadsheet errors (issue 11, part 4) ----------
MARKERS = ["NaN", "N/A", "n/a", "NA", "null", "None", "nan", "-", "--", "—", "–", "n.a.", "?"]
SHEET_ERRORS = ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#ERROR!"]
DRESSED = ["NaN%", "N/A%", "N/A %", "- %", "$-", "$ -", "€ —", "N/A K", "n/a bn", "#DIV/0! %"]
DRESSED += ["-%", "— %", "NaN\u00a0%", " #N/A ", "US$ -", "- €"]
GARBAGE = ["12abc", "1.2.3", "1,2,3", "abc", "nak", "nan1", "%", "$", "12 %%", "#DIV/0!5"]
ALL_PARSERS = (parse_count, parse_number, parse_rate, parse_bool, parse_timestamp)


@pytest.mark.parametrize("text", MARKERS + SHEET_ERRORS + DRESSED)
def test_unknown_markers_are_null_in_every_parser(text):
    for parser in ALL_PARSERS:
        values, errors = _run(parser, [text, text.lower(), text.upper()])
        assert values == [None] * 3, (parser.__name__, text)
        assert errors == [None] * 3, (parser.__name__, text)
    assert is_unknown_text(text)


@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_stays_an_error(text):
    for parser in (parse_count, parse_number, parse_rate):
        values, errors = _run(parser, [text])
        assert values == [None] and errors == ["not a number"], (parser.__name__, text)
    assert not is_unknown_text(text)


def test_dressed_markers_beside_real_values():
    """The row of a 'top influencers' sheet: a NaN% beside real values keeps those values."""
    rates, errors = _run(parse_rate, ["4.5%", "NaN%", "#DIV/0!", "- %", "0.8%"])
    assert rates == [0.045, None, None, None, 0.008] and errors == [None] * 5
    counts, errors = _run(parse_count, ["1.2M", "N/A K", "$-", "#REF!", "980k"])
    assert counts == [1_200_000, None, None, None, 980_000] and errors == [None] * 5


_marker = st.sampled_from([m.lower() for m in MARKERS + SHEET_ERRORS] + MARKERS + SHEET_ERRORS)
_space = st.sampled_from(["", " ", "  ", "\u00a0", "\u202f", "\t"])
_currency = st.sampled_from(["", "$", "€", "£", "US$"])
_unit = st.sampled_from(["", "%"])


@settings(max_examples=150, deadline=None)
@given(_currency, _space, _marker, _space, _unit, _space)
def test_any_dressed_marker_is_unknown(currency, s1, marker, s2, unit, s3):
    text = f"{s3}{currency}{s1}{marker}{s2}{unit}{s3}"
    for parser in (parse_count, parse_number, parse_rate):
        values, errors = _run(parser, [text])
        assert (values[0], errors[0]) == (None, None), (parser.__name__, text)
    assert is_unknown_text(text)


@settings(max_examples=150, deadline=None)
@given(st.from_regex(r"\A[0-9]{1,4}[a-jl-z]{1,3}\Z"))
def test_digits_with_letters_are_errors(text):
    """'12abc' is garbage, never unknown (the letters exclude the k suffix)."""
    if text[-1] in "mb" or text.endswith(("mn", "bn", "mm")):
        return  # 12m, 5bn … are numbers
    values, errors = _run(parse_count, [text])
    assert values == [None] and errors == ["not a number"]
    assert not is_unknown_text(text)
