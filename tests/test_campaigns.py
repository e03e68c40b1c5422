"""Campaigns and deals as services: each value's rule names its field, the status moves only as
documented, a deal's package is one row per piece, updates touch pending pieces only
(SQLite and PostgreSQL); the value rules under generated hostile input (hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_support import add_post, campaign, deal, make_world
from microfluence.campaigns import values
from microfluence.campaigns.campaigns import (
    delete_campaign,
    get_campaign,
    list_campaigns,
    update_campaign,
)
from microfluence.campaigns.deals import list_deals, remove_deal, update_deal
from microfluence.campaigns.deliverables import list_deliverables
from microfluence.campaigns.schemas import CampaignCreate, CampaignUpdate, DealUpdate, parse_model
from microfluence.campaigns.tables import Campaign, Deal, Deliverable
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.tracking.deliverables import match_deliverables
from store_support import table_rows

TABLES = (Campaign, Deal, Deliverable)


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"name": "  "}, "name", "needs a name"),
        ({"goal": "fame"}, "goal", "awareness"),
        ({"currency": "EURO"}, "currency", "ISO 4217"),
        ({"currency": "€"}, "currency", "ISO 4217"),
        ({"budget": "-1"}, "budget", "negative"),
        ({"budget": "1.234"}, "budget", "two decimal"),
        ({"budget": "NaN"}, "budget", "finite"),
        ({"targets": {"likes": 5}}, "targets", "unknown KPI 'likes'"),
        ({"targets": {"roi": 0}}, "targets", "positive"),
        ({"targets": {"roi": "inf"}}, "targets", ""),
        ({"hashtags": ["#ok", "not ok"]}, "hashtags", "not a valid hashtag"),
        ({"mentions": ["@a/b"]}, "mentions", "not a valid mention"),
        ({"starts_on": "2026-13-01"}, "starts_on", ""),
        ({"attribution_days": 0}, "attribution_days", ""),
        ({"colour": "red"}, "colour", ""),
    ],
)
def test_campaign_values_are_checked_with_the_field_named(data, field, words):
    with pytest.raises(InputError) as caught:
        parse_model(CampaignCreate, {"name": "x", **data})
    assert caught.value.field is not None and caught.value.field.startswith(field)
    assert words in caught.value.message


def test_normalised_values():
    made = parse_model(
        CampaignCreate,
        {
            "name": " Summer ",
            "currency": "eur",
            "budget": 1500.5,
            "hashtags": ["#SummerGlow", "summerglow", "#Glow"],
            "mentions": ["@GlowBrand", "glowbrand"],
            "targets": {"Clicks": 10000, "roi": 1.5},
        },
    )
    assert (made.name, made.currency, made.budget) == ("Summer", "EUR", Decimal("1500.50"))
    assert made.hashtags == ["summerglow", "glow"] and made.mentions == ["glowbrand"]
    assert made.targets == {"clicks": 10000, "roi": 1.5}
    assert values.parse_rate("10%") == values.parse_rate(0.10) == Decimal("0.1000")
    assert values.parse_package("feed_post=2 reel=1 feed_post=1") == {"feed_post": 3, "reel": 1}
    assert values.parse_due(["2026-07-01", "reel=2026-07-10"]) == {
        "*": dt.date(2026, 7, 1),
        "reel": dt.date(2026, 7, 10),
    }


def test_campaign_life_cycle(store):
    world = make_world(store)
    cid = campaign(store, world, budget="5000", targets={"revenue": 25000})
    with store.transaction() as session:
        ws = world.workspace_id
        shown = get_campaign(session, ws, cid)
        assert (shown.status, shown.budget, shown.deals) == ("draft", Decimal("5000.00"), 0)
        with pytest.raises(InputError, match="a draft campaign cannot become paused"):
            update_campaign(session, ws, cid, CampaignUpdate(status="paused"))
        for status in ("active", "paused", "active", "ended"):
            assert update_campaign(session, ws, cid, CampaignUpdate(status=status)).status == status
        with pytest.raises(InputError, match="nowhere"):
            update_campaign(session, ws, cid, CampaignUpdate(status="active"))
        with pytest.raises(InputError) as caught:
            update_campaign(session, ws, cid, CampaignUpdate(ends_on=dt.date(2026, 5, 1)))
        assert caught.value.field == "ends_on"
        cleared = update_campaign(session, ws, cid, CampaignUpdate(budget=None, notes="n"))
        assert cleared.budget is None and cleared.notes == "n"
    other = campaign(store, world, name="Winter")
    with store.transaction() as session, pytest.raises(ConflictError, match="already exists"):
        update_campaign(session, world.workspace_id, other, CampaignUpdate(name="Summer glow"))
    with pytest.raises(ConflictError):
        campaign(store, world)  # the same name again
    with store.transaction() as session:
        assert [c.name for c in list_campaigns(session, world.workspace_id)] == [
            "Winter",
            "Summer glow",
        ]
        assert list_campaigns(session, world.workspace_id, status="ended")[0].id == cid


def test_a_deal_is_one_row_per_piece_and_a_creator_is_in_a_campaign_once(store):
    world = make_world(store)
    cid = campaign(store, world)
    did = deal(
        store,
        world,
        cid,
        "Instagram:@Sarah",
        flat_fee="500",
        product_value=80,
        shipping_cost="12.5",
        commission_rate="10%",
        package={"feed_post": 2, "reel": 1},
        due={"*": "2026-06-20", "reel": "2026-06-25"},
    )
    with store.transaction() as session:
        (shown,) = list_deals(session, world.workspace_id, cid)
        pieces = list_deliverables(session, world.workspace_id, cid)
    assert shown.id == did and shown.account == "instagram:sarah" and shown.creator_name == "Sarah"
    assert (shown.flat_fee, shown.shipping_cost, shown.commission_rate) == (
        Decimal("500.00"),
        Decimal("12.50"),
        Decimal("0.1000"),
    )
    assert shown.package == {"feed_post": 2, "reel": 1} and shown.pieces.pending == 3
    assert sorted((p.format, p.due_on.isoformat()) for p in pieces) == [
        ("feed_post", "2026-06-20"),
        ("feed_post", "2026-06-20"),
        ("reel", "2026-06-25"),
    ]
    before = table_rows(store, TABLES)
    # The same creator through another of her accounts: refused, nothing written.
    with pytest.raises(ConflictError, match="already has a deal"):
        deal(store, world, cid, "tiktok:sarah_tt")
    with pytest.raises(InputError) as caught:
        deal(store, world, cid, "instagram:nobody")
    assert caught.value.field == "creator"
    with pytest.raises(InputError) as caught:
        deal(store, world, cid, "sarah")
    assert caught.value.field == "creator" and "PLATFORM:HANDLE" in caught.value.message
    with pytest.raises(InputError) as caught:
        deal(store, world, cid, "instagram:tom", package={"carousel": 1})
    assert caught.value.field == "package"
    assert table_rows(store, TABLES) == before


def test_a_new_package_changes_pending_pieces_only(store):
    world = make_world(store)
    cid = campaign(store, world)
    did = deal(store, world, cid, "instagram:sarah", package={"feed_post": 3, "story": 2})
    add_post(store, world, "p", "instagram:sarah", dt.datetime(2026, 6, 5), "#summerglow")
    ws = world.workspace_id
    with store.transaction() as session:
        assert match_deliverables(session, ws, cid).matched == 1
    with store.transaction() as session:
        changed = update_deal(
            session,
            ws,
            cid,
            did,
            DealUpdate(package={"feed_post": 1, "reel": 2}, due=dt.date(2026, 6, 28)),
        )
    assert changed.package == {"feed_post": 1, "reel": 2}
    assert (changed.pieces.pending, changed.pieces.matched) == (2, 1)
    with store.transaction() as session:
        pieces = list_deliverables(session, ws, cid)
    kept = [p for p in pieces if p.format == "feed_post"]
    assert len(kept) == 1 and kept[0].post_id == world.posts["p"]  # the matched one stayed
    assert {p.due_on for p in pieces if p.status == "pending"} == {dt.date(2026, 6, 28)}
    before = table_rows(store, TABLES)
    with store.transaction() as session, pytest.raises(InputError, match="already matched"):
        update_deal(session, ws, cid, did, DealUpdate(package={"reel": 1}))
    with store.transaction() as session, pytest.raises(InputError) as caught:
        update_deal(session, ws, cid, did, parse_model(DealUpdate, {"flat_fee": None}))
    assert caught.value.field == "flat_fee"
    assert table_rows(store, TABLES) == before
    with store.transaction() as session:
        update_deal(session, ws, cid, did, DealUpdate(commission_rate=Decimal("0.25")))
        remove_deal(session, ws, cid, did)
        assert list_deals(session, ws, cid) == [] and list_deliverables(session, ws, cid) == []
        delete_campaign(session, ws, cid)
        with pytest.raises(NotFoundError):
            get_campaign(session, ws, cid)


# --- hostile input --------------------------------------------------------------------------

ANY = st.one_of(
    st.text(max_size=60),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.lists(st.text(max_size=10), max_size=4),
    st.dictionaries(st.text(max_size=12), st.one_of(st.text(max_size=8), st.floats()), max_size=4),
)
RULES = [
    (values.parse_name, {"field": "name"}),
    (values.parse_goal, {"field": "goal"}),
    (values.parse_status, {"field": "status"}),
    (values.parse_currency, {"field": "currency"}),
    (values.parse_date, {"field": "starts_on"}),
    (values.parse_money, {"field": "flat_fee"}),
    (values.parse_rate, {"field": "commission_rate"}),
    (values.parse_targets, {"field": "targets"}),
    (values.parse_tags, {"field": "hashtags", "sign": "#"}),
    (values.parse_package, {"field": "package"}),
    (values.parse_due, {"field": "due"}),
]


@settings(max_examples=150, deadline=None)
@given(value=ANY, rule=st.sampled_from(RULES))
def test_every_rule_accepts_or_refuses_naming_its_field(value, rule):
    parse, options = rule
    try:
        parsed = parse(value, **options)
    except InputError as exc:
        assert exc.field is not None and exc.field.startswith(options["field"])
        return
    # What is accepted is what the store keeps: run the rule again and nothing changes.
    if parse is values.parse_tags:
        assert parse(parsed, **options) == parsed
        assert all(t == t.lower() and not t.startswith("#") for t in parsed)
    elif parse is values.parse_money:
        assert parsed >= 0 and parsed == parsed.quantize(Decimal("0.01"))
    elif parse is values.parse_rate:
        assert 0 <= parsed <= 1
    elif parse is values.parse_currency:
        assert len(parsed) == 3 and parsed.isupper()


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_currency_and_tags_from_any_text(text):
    try:
        code = values.parse_currency(text)
    except InputError as exc:
        assert exc.field == "currency"
    else:
        assert code == text.strip().upper() and len(code) == 3
    try:
        tags = values.parse_tags(text, field="mentions", sign="@")
    except InputError as exc:
        assert exc.field == "mentions"
    else:
        assert len(tags) == len(set(tags))


def test_library_methods(store_url):
    import microfluence
    from microfluence.kernel.store import open_store

    store = open_store(store_url)
    world = make_world(store)
    add_post(store, world, "p", "instagram:sarah", dt.datetime(2026, 6, 2), "hi @GlowBrand")
    store.dispose()
    with microfluence.open_workspace("brand", store_url, create=False) as ws:
        made = ws.create_campaign("Glow", starts_on="2026-06-01", mentions=["@glowbrand"])
        assert made.status == "draft" and [c.name for c in ws.campaigns()] == ["Glow"]
        deal_made = ws.add_deal("Glow", "instagram:sarah", package={"feed_post": 1, "story": 1})
        assert deal_made.pieces.pending == 2
        assert ws.match_deliverables("Glow").matched == 1
        frame = ws.deliverables("Glow").sort("format")
        assert frame.select("format", "status", "match_reason").rows() == [
            ("feed_post", "matched", "@glowbrand in caption"),
            ("story", "pending", None),
        ]
        with pytest.raises(InputError) as caught:
            ws.add_deal("Glow", "instagram:tom", commission_rate="1.5")
        assert caught.value.field == "commission_rate"
