"""The UTM builder (tracking.utm) and `microfluence utm`: odd URLs, and properties."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from microfluence.cli.main import app
from microfluence.kernel.errors import InputError
from microfluence.tracking.utm import tag_url

BASE = {"source": "instagram", "medium": "influencer", "campaign": "spring"}
TAIL = "utm_source=instagram&utm_medium=influencer&utm_campaign=spring"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://shop.example.com", f"https://shop.example.com?{TAIL}"),
        ("https://shop.example.com/p?a=1&b=2", f"https://shop.example.com/p?a=1&b=2&{TAIL}"),
        ("https://shop.example.com/p#reviews", f"https://shop.example.com/p?{TAIL}#reviews"),
        ("https://shop.example.com/p?a=1#x?y=2", f"https://shop.example.com/p?a=1&{TAIL}#x?y=2"),
        # existing utm_ replaced whatever its case, the other parameters kept in their order
        (
            "https://s.example/p?UTM_Source=old&z=9&utm_medium=x&utm_source_platform=y",
            f"https://s.example/p?z=9&utm_source_platform=y&{TAIL}",
        ),
        ("http://[2001:db8::1]:8443/p?q", f"http://[2001:db8::1]:8443/p?q&{TAIL}"),
        ("HTTP://Shop.Example.com:8080/Case", f"http://Shop.Example.com:8080/Case?{TAIL}"),
        ("https://s.example/a b", f"https://s.example/a%20b?{TAIL}"),
        ("https://s.example/?empty=&flag", f"https://s.example/?empty=&flag&{TAIL}"),
        ("https://s.example/p?&&a=1&", f"https://s.example/p?a=1&{TAIL}"),
        ("  https://s.example/  ", f"https://s.example/?{TAIL}"),
    ],
)
def test_odd_urls(url: str, expected: str) -> None:
    assert tag_url(url, **BASE) == expected


def test_values_encoded_as_utf8_with_spaces_as_percent_20_and_case_kept() -> None:
    tagged = tag_url(
        "https://s.example/",
        source="Insta Gram",
        medium="a+b&c=d",
        campaign="Été 2026 🌸",
        content="Ana_B",
        term="",  # empty optional: left out
        id="ID-7",
    )
    assert tagged == (
        "https://s.example/?utm_source=Insta%20Gram&utm_medium=a%2Bb%26c%3Dd"
        "&utm_campaign=%C3%89t%C3%A9%202026%20%F0%9F%8C%B8&utm_content=Ana_B&utm_id=ID-7"
    )


@pytest.mark.parametrize(
    ("url", "utm", "field", "words"),
    [
        ("ftp://s.example/", BASE, "url", "only http and https"),
        ("javascript:alert(1)", BASE, "url", "only http and https"),
        ("s.example/p", BASE, "url", "only http and https"),
        ("https:///nohost", BASE, "url", "no host"),
        ("https://s.example:99999/", BASE, "url", "port"),
        ("https://s.example/\nx", BASE, "url", "control characters"),
        ("", BASE, "url", "required"),
        ("https://s.example/", {**BASE, "source": ""}, "source", "required"),
        ("https://s.example/", {**BASE, "medium": "   "}, "medium", "blank"),
        ("https://s.example/", {**BASE, "campaign": "a\x00b"}, "campaign", "control"),
    ],
)
def test_refusals_name_the_field(url: str, utm: dict, field: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        tag_url(url, **utm)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_cli_prints_the_tagged_url_last() -> None:
    result = CliRunner().invoke(
        app,
        [
            "utm",
            "https://s.example/p?a=1#top",
            "--source",
            "tiktok",
            "--medium",
            "influencer",
            "--campaign",
            "Fall Drop",
            "--content",
            "ana",
            "--term",
            "shoes",
            "--id",
            "c42",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == (
        "https://s.example/p?a=1&utm_source=tiktok&utm_medium=influencer"
        "&utm_campaign=Fall%20Drop&utm_content=ana&utm_term=shoes&utm_id=c42#top"
    )


def test_cli_refuses_with_one_line() -> None:
    result = CliRunner().invoke(
        app, ["utm", "mailto:a@b.c", "--source", "s", "--medium", "m", "--campaign", "c"]
    )
    assert result.exit_code == 1
    assert "field 'url'" in result.output


# --- properties ------------------------------------------------------------------------------

values = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda v: v.strip()
)
names = st.text("abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=8).filter(
    lambda n: not n.lower().startswith("utm_")
)
other = st.lists(st.tuples(names, st.text("abcXYZ019-._~%20", max_size=6)), max_size=5)
utms = st.fixed_dictionaries(
    {"source": values},
    optional={k: values for k in ("medium", "campaign", "content", "term", "id")},
)
hosts = st.sampled_from(["s.example", "SHOP.example.com:8080", "[2001:db8::1]", "127.0.0.1:9"])
fragments = st.one_of(st.just(""), st.text("abc/?=&#", max_size=6).map(lambda f: "#" + f))


def _url(host: str, params: list[tuple[str, str]], fragment: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params)
    return f"https://{host}/p" + (f"?{query}" if query else "") + fragment


@settings(max_examples=150, deadline=None)
@given(hosts, other, fragments, utms)
def test_round_trip_other_params_kept_and_idempotent(
    host: str, params: list, fragment: str, utm: dict
) -> None:
    url = _url(host, params, fragment)
    tagged = tag_url(url, **utm)
    parts = urlsplit(tagged)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    # round trip: urllib reads back exactly the values given
    assert {k: v for k, v in pairs if k.startswith("utm_")} == {
        f"utm_{k}": v for k, v in utm.items()
    }
    # the other parameters: all there, in their order, before the tags
    assert [p for p in parts.query.split("&") if not p.startswith("utm_")] == [
        f"{k}={v}" for k, v in params
    ]
    assert parts.netloc == host
    assert ("#" + parts.fragment if parts.fragment or fragment == "#" else "") == fragment
    # idempotent, and re-tagging replaces
    assert tag_url(tagged, **utm) == tagged
    assert tag_url(tagged, source="other") == tag_url(url, source="other")
