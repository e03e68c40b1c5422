"""One rule per value, whichever way it comes in (catalog.validation): the importers' vectorised
form and the scalar form of the API, pages and commands accept, refuse and normalise alike."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from microfluence.catalog.validation import (
    check_handle,
    check_url,
    handle_rule,
    naive_utc,
    parse_account_reference,
    parse_handle,
    parse_url,
    safe_link,
    url_rule,
)
from microfluence.kernel.errors import InputError

# Assigned code points only: Python's Unicode tables and Polars' (Rust's) may differ in version
# for characters assigned since; surrogates cannot be encoded.
TEXT = st.text(
    st.characters(exclude_categories=("Cn", "Cs"))
    | st.sampled_from(list(" @/._-:#?\\\t\n\x1c\x1f\x00\u00a0\u3000ıİΣß")),
    max_size=40,
)
HANDLE_LIKE = st.builds(
    lambda pre, body, post: pre + body + post,
    st.sampled_from(["", "@", " @", "https://instagram.com/", "www.tiktok.com/@", "x.co/"]),
    TEXT,
    st.sampled_from(["", "/", "/?x=1", " ", "#a"]),
)
URL_LIKE = st.builds(
    lambda pre, body: pre + body,
    st.sampled_from(["", "http://", "https://", "HTTPS://", "javascript:", "www.", "ftp://"]),
    TEXT,
)
HOSTILE_HANDLES = [
    "../../etc",
    "..\\..\\etc",
    'ana"; DROP TABLE accounts; --',
    "ana'lima",
    "<script>alert(1)</script>",
    "<b>ana</b>",
    "ana lima",
    "ana\x00",
    "ana\nlima",
    "javascript:alert(1)",
    '=HYPERLINK("http://evil","x")',
    "a" * 101,
    "@",
    "",
    "   ",
    "%2e%2e%2fetc",
]


def _column(rule, values: list[str]) -> list[tuple[str | None, str | None]]:  # type: ignore[no-untyped-def]
    text = pl.col("x").str.strip_chars()
    value, error = rule(pl.when(text != "").then(text))
    frame = pl.DataFrame({"x": values}, schema={"x": pl.String}).select(
        value.alias("value"), error.alias("error")
    )
    return list(zip(frame["value"].to_list(), frame["error"].to_list(), strict=True))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(HANDLE_LIKE | TEXT, min_size=1, max_size=20))
@example(HOSTILE_HANDLES)
@example(["\x1fx.com/ann", "ΣΑΣ", "İstanbul", "ǅemal", "١٢٣", "x" * 100, "@@ana", "a/b"])
def test_the_two_forms_of_the_handle_rule_agree(values):
    assert _column(handle_rule, values) == [check_handle(v) for v in values]


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(URL_LIKE | TEXT, min_size=1, max_size=20))
@example(["javascript:alert(1)", "https://x.com/a b", "instagram.com/ana", "http:///x", "\x1c"])
def test_the_two_forms_of_the_url_rule_agree(values):
    assert _column(url_rule, values) == [check_url(v) for v in values]


def test_handles():
    assert parse_handle(" @Ana.Lima ") == "ana.lima"
    assert parse_handle("https://www.instagram.com/Ana_L/?hl=en") == "ana_l"
    assert parse_handle("Zoë-1") == "zoë-1"
    for bad in HOSTILE_HANDLES:
        with pytest.raises(InputError) as caught:
            parse_handle(bad, field="handle")
        assert caught.value.field == "handle"


def test_account_references():
    assert parse_account_reference(" Instagram:@Lea.Vintage ") == ("instagram", "lea.vintage")
    assert parse_account_reference("ann", default_platform="tiktok") == ("tiktok", "ann")
    for bad in ("nocolon", "myspace:x", "instagram:", ":x", "instagram:two words", "x:../../etc"):
        with pytest.raises(InputError, match="PLATFORM:HANDLE|unknown platform"):
            parse_account_reference(bad)
    with pytest.raises(InputError) as caught:
        parse_account_reference("instagram:../../etc", field="--account")
    assert caught.value.field == "--account"


def test_urls():
    assert parse_url("https://instagram.com/ana") == "https://instagram.com/ana"
    assert parse_url("instagram.com/ana") == "https://instagram.com/ana"
    assert parse_url("  ") is None
    for bad in (
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "https:///no-host",
        "https:\\\\evil.example",
        "http://a b.com",
        "https://x.com/\x00",
    ):
        with pytest.raises(InputError) as caught:
            parse_url(bad, field="url")
        assert caught.value.field == "url"
        assert safe_link(bad) is None
    assert safe_link("https://x.com/p/1") == "https://x.com/p/1"
    assert safe_link(None) is None


def test_times_out_of_range_in_utc():
    east = dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14)))
    with pytest.raises(InputError, match="out of range") as caught:
        naive_utc(east, field="captured_at")
    assert caught.value.field == "captured_at"
    paris = dt.datetime(2026, 5, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert naive_utc(paris) == dt.datetime(2026, 5, 1, 10)
