"""Column names in their common spellings, --map overrides, and the missing-handle error."""

from __future__ import annotations

import pytest

from microfluence.ingest.values.columns import (
    CREATOR_FIELDS,
    POST_FIELDS,
    column_key,
    parse_mapping,
    percent_hint,
    resolve_columns,
)
from microfluence.kernel.errors import InputError


@pytest.mark.parametrize(
    ("column", "field"),
    [
        ("Followers", "followers"),
        ("follower_count", "followers"),
        ("followers_count", "followers"),
        ("followersCount", "followers"),
        ("Subscribers", "followers"),
        ("Username", "handle"),
        ("@handle", "handle"),
        ("Instagram Handle", "handle"),
        ("Name", "display_name"),
        ("Full Name", "display_name"),
        ("ER", "engagement_rate"),
        ("Engagement Rate", "engagement_rate"),
        ("Engagement Rate (%)", "engagement_rate"),
        ("avg. likes", "avg_likes"),
        ("Average Likes", "avg_likes"),
        ("Country/Region", "country"),
        ("E-mail", "email"),
        ("Profile URL", "url"),
        ("Posts", "posts_count"),
        ("Niche", "category"),
        ("Biography", "bio"),
        # spellings of public influencer data sets
        ("channel_info", "handle"),
        ("Tiktoker name", "handle"),
        ("Youtuber name", "handle"),
        ("Influencer insta name", "handle"),
        ("instagram name", "display_name"),
        ("60_day_eng_rate", "engagement_rate"),
        ("category_1", "category"),
        ("Views avg.", "avg_views"),
        ("Likes avg", "avg_likes"),
        ("Café", None),
    ],
)
def test_creator_column_variants(column, field):
    found = resolve_columns(["handle" if field != "handle" else "x", column], CREATOR_FIELDS)
    if field is None:
        assert column in found.ignored
    else:
        assert found.get(field) == column


def test_post_variants_and_preference():
    found = resolve_columns(
        ["ownerUsername", "shortcode", "id", "likesCount", "taken_at_timestamp", "text", "junk"],
        POST_FIELDS,
        required=("handle", "post_id"),
    )
    assert found.fields["handle"] == "ownerUsername"
    assert found.fields["post_id"] == "id"  # an id beats a shortcode
    assert found.alternatives["post_id"] == ["shortcode"]
    assert found.fields["shortcode"] == "shortcode"
    assert found.fields["likes"] == "likesCount"
    assert found.fields["posted_at"] == "taken_at_timestamp"
    assert found.fields["caption"] == "text"
    assert found.ignored == ["junk"]


def test_map_overrides_and_errors():
    header = ["Kanal", "Fans (total)", "followers"]
    found = resolve_columns(
        header, CREATOR_FIELDS, parse_mapping(["handle=Kanal", "followers=fans (TOTAL)"])
    )
    assert found.fields["handle"] == "Kanal"
    assert found.fields["followers"] == "Fans (total)"
    assert "followers" in found.ignored
    with pytest.raises(InputError, match="unknown field 'fans'"):
        resolve_columns(header, CREATOR_FIELDS, {"fans": "Kanal"})
    with pytest.raises(InputError, match="no column 'Nope'"):
        resolve_columns(header, CREATOR_FIELDS, {"handle": "Nope"})
    with pytest.raises(InputError, match="FIELD=COLUMN"):
        parse_mapping(["handle"])


def test_no_handle_column_is_a_clear_error():
    with pytest.raises(InputError) as info:
        resolve_columns(["Followers", "Bio"], CREATOR_FIELDS, file="c.csv")
    message = str(info.value)
    assert "c.csv" in message and "no handle column" in message and "--map handle=" in message
    assert info.value.field == "handle"


def test_keys_and_hints():
    assert column_key(" Avg. Likes ") == "avglikes"
    assert column_key("País") == "pais"
    assert percent_hint("ER (%)") and percent_hint("engagement_rate_pct")
    assert not percent_hint("engagement_rate") and not percent_hint("expected")


def test_docs_list_every_field_and_variant():
    """docs/importing.md names every canonical field and every spelling we recognise."""
    from pathlib import Path

    docs = (Path(__file__).parent.parent / "docs" / "importing.md").read_text(encoding="utf-8")
    for fields in (CREATOR_FIELDS, POST_FIELDS):
        for name, variants in fields.items():
            for spelling in (name, *variants):
                assert f"`{spelling}`" in docs, spelling


def test_one_mapping_parser_for_the_cli_the_api_and_the_pages():
    expected = {"handle": "User name", "followers": "Fans, total"}
    assert parse_mapping(["handle=User name", "followers = Fans, total"]) == expected  # --map
    assert parse_mapping('{"handle": "User name", "followers": "Fans, total"}') == expected
    assert parse_mapping("handle=User name, followers=Fans") == {
        "handle": "User name",
        "followers": "Fans",
    }
    assert parse_mapping(expected) == expected and parse_mapping("  ") == {}
    for bad, reason in [
        ("{oops", "not a JSON object"),
        ('["handle"]', "expected FIELD=COLUMN"),
        ('{"handle": 3}', "a JSON object of field names to column names"),
        ("handle", "expected FIELD=COLUMN"),
        ("handle=,x=y", "expected FIELD=COLUMN"),
    ]:
        with pytest.raises(InputError, match=reason) as info:
            parse_mapping(bad, field="mapping")
        assert info.value.field == "mapping"
