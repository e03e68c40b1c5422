"""The creator portal's services: links that keep only their token's hash and open one deal,
the same refusal for unknown, expired and revoked tokens, the brief accepted once, products
picked within the deal's cap, addresses, submissions and their review, and the privacy hooks.
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from campaign_support import add_post, campaign, deal, make_world
from microfluence.campaigns.products import ProductCreate, add_product
from microfluence.campaigns.tables import Deal, Deliverable, Gift
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow
from microfluence.relationships import gifting, portal, submissions
from microfluence.relationships.addresses import parse_address
from microfluence.relationships.stages import deal_history
from microfluence.relationships.tables import PortalLink, Submission
from store_support import table_rows

ADDRESS = {
    "name": "Sarah O'Neil",
    "line1": "12 rue des Lilas",
    "city": "Lyon",
    "postal_code": "69003",
    "country": "fr",
}


@pytest.fixture
def setup(store):  # type: ignore[no-untyped-def]
    world = make_world(store)
    other = make_world(store, "other", prefix="o_")
    cid = campaign(store, world, brief="Show the serum at night.", disclosure="#ad")
    sarah = deal(store, world, cid, "instagram:sarah", product_value="60", package={"reel": 1})
    tom = deal(store, world, cid, "instagram:tom", product_value="20")
    theirs = deal(store, other, campaign(store, other), "instagram:o_sarah")
    with store.transaction() as s:
        products = {
            sku: add_product(
                s, world.workspace_id, ProductCreate(sku=sku, name=name, value=value)
            ).id
            for sku, name, value in (
                ("SER-1", "Night serum", "25.00"),
                ("CRM-2", "Day cream", "15.50"),
                ("OLD-9", "Old kit", "5.00"),
            )
        }
        from microfluence.campaigns.products import ProductUpdate, update_product

        update_product(s, world.workspace_id, products["OLD-9"], ProductUpdate(active=False))
    return world, other, cid, sarah, tom, theirs, products


def _link(store, ws, deal_id, days=30, at=None):  # type: ignore[no-untyped-def]
    with store.transaction() as s:
        made = portal.create_portal_link(
            s, ws, deal_id, created_by="ann@brand.test", days=days, base="https://b.test", at=at
        )
    return made, made.url.rsplit("/", 1)[1]


def _open(store, token):  # type: ignore[no-untyped-def]
    with store.transaction() as s:
        return portal.open_portal(s, token)


def test_a_link_keeps_only_the_hash_and_opens_its_own_deal(store, setup):
    world, other, _cid, sarah, tom, theirs, _p = setup
    made, token = _link(store, world.workspace_id, sarah)
    assert made.url == f"https://b.test/portal/{token}" and made.status == "active"
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    with store.session() as s:
        stored = s.scalars(select(PortalLink)).all()
        assert [r.token_hash for r in stored] == [portal.hash_token(token)]
        for row in stored:  # the token appears nowhere in the row
            assert token not in " ".join(str(v) for v in vars(row).values())
        assert stored[0].expires_at - stored[0].created_at == dt.timedelta(days=30)
    access = _open(store, token)
    assert (access.workspace_id, access.deal_id) == (world.workspace_id, sarah)
    with store.session() as s:
        assert s.scalars(select(PortalLink)).one().last_used_at is not None
    # Another workspace cannot list, make or revoke links of this deal.
    with store.transaction() as s, pytest.raises(NotFoundError):
        portal.list_portal_links(s, other.workspace_id, sarah)
    with store.transaction() as s, pytest.raises(NotFoundError):
        portal.create_portal_link(s, other.workspace_id, sarah, created_by="x")
    with store.transaction() as s, pytest.raises(NotFoundError):
        portal.revoke_portal_link(s, other.workspace_id, sarah, made.id)
    with store.transaction() as s, pytest.raises(NotFoundError):  # not a link of Tom's deal
        portal.revoke_portal_link(s, world.workspace_id, tom, made.id)
    # Tom's link opens Tom's deal and nothing else; B's opens B's.
    assert _open(store, _link(store, world.workspace_id, tom)[1]).deal_id == tom
    assert _open(store, _link(store, other.workspace_id, theirs)[1]).deal_id == theirs


def test_unknown_expired_and_revoked_tokens_are_the_same_refusal(store, setup):
    world, _o, _cid, sarah, *_ = setup
    long_ago = utcnow() - dt.timedelta(days=31)
    _old, expired = _link(store, world.workspace_id, sarah, at=long_ago)
    made, revoked = _link(store, world.workspace_id, sarah)
    with store.transaction() as s:
        gone = portal.revoke_portal_link(s, world.workspace_id, sarah, made.id)
        assert gone.status == "revoked"
        first = gone.revoked_at
        assert portal.revoke_portal_link(s, world.workspace_id, sarah, made.id).revoked_at == first
    _fine, good = _link(store, world.workspace_id, sarah)
    messages = set()
    for token in (
        expired,
        revoked,
        good[:-1] + ("A" if good[-1] != "A" else "B"),
        "x",
        "",
        good * 3,
    ):
        with store.transaction() as s, pytest.raises(portal.PortalNotFound) as caught:
            portal.open_portal(s, token)
        messages.add(str(caught.value))
    assert messages == {portal.GONE}
    with store.session() as s:
        statuses = sorted(
            link.status for link in portal.list_portal_links(s, world.workspace_id, sarah)
        )
    assert statuses == ["active", "expired", "revoked"]
    with store.transaction() as s, pytest.raises(InputError, match="days"):
        portal.create_portal_link(s, world.workspace_id, sarah, created_by=None, days=0)


def test_the_form_token_belongs_to_one_link(store, setup):
    world, _o, _cid, sarah, tom, *_ = setup
    one = _open(store, _link(store, world.workspace_id, sarah)[1])
    two = _open(store, _link(store, world.workspace_id, tom)[1])
    portal.check_form_token("secret", one, portal.form_token("secret", one))
    for bad in (None, "", portal.form_token("secret", two), portal.form_token("other", one)):
        with pytest.raises(InputError, match="expired"):
            portal.check_form_token("secret", one, bad)


def test_the_brief_is_accepted_once_and_moves_the_deal_to_agreed(store, setup):
    world, _o, _cid, sarah, *_ = setup
    access = _open(store, _link(store, world.workspace_id, sarah)[1])
    with store.transaction() as s:
        view = portal.portal_view(s, access)
        assert view.accepted_at is None and view.campaign.brief == "Show the serum at night."
        assert [d.format for d in view.deliverables] == ["reel"]
        assert [p.sku for p in view.products] == ["CRM-2", "SER-1"]  # active only, by name
        when = portal.accept_brief(s, access)
    with store.transaction() as s, pytest.raises(ConflictError, match="already accepted"):
        portal.accept_brief(s, access)
    with store.session() as s:
        assert portal.portal_view(s, access).accepted_at == when
        assert s.get(Deal, sarah).stage == "agreed"
        history = deal_history(s, world.workspace_id, sarah)
        assert [(e.kind, e.actor_kind, e.actor) for e in history] == [
            ("brief_accepted", "creator", "Sarah"),
            ("stage", "creator", "Sarah"),
        ]


def test_accepting_never_moves_a_deal_backwards(store, setup):
    world, _o, _cid, sarah, *_ = setup
    from microfluence.relationships.stages import move_deals

    with store.transaction() as s:
        move_deals(s, world.workspace_id, [sarah], "content_live", actor="ann")
    access = _open(store, _link(store, world.workspace_id, sarah)[1])
    with store.transaction() as s:
        portal.accept_brief(s, access)
    with store.session() as s:
        assert s.get(Deal, sarah).stage == "content_live"


def test_picking_products_within_and_over_the_cap(store, setup):
    world, _o, _cid, sarah, tom, _t, p = setup
    ws = world.workspace_id
    before = table_rows(store, [Gift])
    # Over the cap of 60: 2 × 25 + 15.50 = 65.50.
    with store.transaction() as s, pytest.raises(InputError, match=r"65\.50.*60\.00") as caught:
        gifting.pick_products(s, ws, sarah, {p["SER-1"]: 2, p["CRM-2"]: 1}, ADDRESS)
    assert caught.value.field == "products"
    # An inactive product, or one of no catalogue, is refused by name.
    for picks in ({p["OLD-9"]: 1}, {999_999: 1}):
        with store.transaction() as s, pytest.raises(InputError, match="not on offer"):
            gifting.pick_products(s, ws, sarah, picks, ADDRESS)
    with store.transaction() as s, pytest.raises(InputError, match="address"):
        gifting.pick_products(s, ws, sarah, {p["SER-1"]: 1}, None)
    assert table_rows(store, [Gift]) == before
    # Exactly at the cap: 25 + 2 × 15.50 = 56 ≤ 60; then a new pick replaces it.
    with store.transaction() as s:
        gifts = gifting.pick_products(s, ws, sarah, {p["SER-1"]: 1, p["CRM-2"]: 2}, ADDRESS)
    assert sorted((g.sku, g.quantity, g.total) for g in gifts) == [
        ("CRM-2", 2, Decimal("31.00")),
        ("SER-1", 1, Decimal("25.00")),
    ]
    assert gifts[0].address["country"] == "FR"
    with store.transaction() as s:
        gifts = gifting.pick_products(s, ws, sarah, {p["SER-1"]: 2}, None)  # address kept
    assert [(g.sku, g.quantity, g.address["city"]) for g in gifts] == [("SER-1", 2, "Lyon")]
    # A shipped gift counts against the cap of the next pick: 50 sent, 15.50 more is too much.
    with store.transaction() as s:
        gifting.ship_gift(
            s, ws, sarah, gifts[0].id, carrier="DHL", tracking_number="JD01", actor="ann"
        )
    with store.transaction() as s, pytest.raises(InputError, match="50.00 already sent"):
        gifting.pick_products(s, ws, sarah, {p["CRM-2"]: 1}, None)
    with store.session() as s:
        kinds = [(e.kind, e.actor_kind, e.detail.get("action")) for e in deal_history(s, ws, sarah)]
        assert ("gift", "creator", "picked") in kinds and ("gift", "user", "shipped") in kinds
        assert s.get(Deal, sarah).stage == "product_shipped"
        assert s.get(Deal, tom).stage == "prospect"


def test_gift_statuses_events_and_the_deal_stage(store, setup):
    world, other, _cid, sarah, *_ = setup
    ws = world.workspace_id
    with store.transaction() as s:
        made = gifting.add_gift(
            s, ws, sarah, gifting.GiftCreate(sku="SER-1", quantity=2), actor="ann"
        )
        custom = gifting.add_gift(
            s, ws, sarah, gifting.GiftCreate(name="Tote bag", value="4.5"), actor="ann"
        )
    assert (made.name, made.value, made.total) == (
        "Night serum",
        Decimal("25.00"),
        Decimal("50.00"),
    )
    assert custom.sku is None and custom.status == "requested"
    with store.transaction() as s, pytest.raises(InputError, match="no address"):
        gifting.ship_gift(s, ws, sarah, made.id, carrier="UPS", tracking_number="1Z", actor="ann")
    with store.transaction() as s, pytest.raises(InputError, match="requested gift can become"):
        gifting.update_gift(
            s, ws, sarah, made.id, gifting.GiftUpdate(status="delivered"), actor="a"
        )
    with store.transaction() as s:
        gifting.set_address(s, ws, sarah, ADDRESS, actor="Sarah")
        shipped = gifting.ship_gift(
            s, ws, sarah, made.id, carrier="UPS", tracking_number="1Z999", actor="ann"
        )
        assert shipped.status == "shipped" and shipped.shipped_at is not None
        done = gifting.update_gift(
            s, ws, sarah, made.id, gifting.GiftUpdate(status="delivered"), actor="ann"
        )
        assert done.delivered_at is not None
        gifting.update_gift(
            s, ws, sarah, custom.id, gifting.GiftUpdate(status="cancelled"), actor="a"
        )
    with (
        store.transaction() as s,
        pytest.raises(InputError, match="cancelled gift can become nothing"),
    ):
        gifting.update_gift(
            s, ws, sarah, custom.id, gifting.GiftUpdate(status="shipped"), actor="a"
        )
    with store.transaction() as s, pytest.raises(ConflictError, match="address"):
        gifting.update_gift(s, ws, sarah, made.id, gifting.GiftUpdate(address=ADDRESS), actor="a")
    with store.transaction() as s, pytest.raises(NotFoundError):
        gifting.update_gift(
            s, other.workspace_id, sarah, made.id, gifting.GiftUpdate(status="returned"), actor="x"
        )
    with store.session() as s:
        events = [e for e in deal_history(s, ws, sarah)]
        actions = [e.detail.get("action") for e in events if e.kind == "gift"]
        assert actions == ["added", "added", "shipped", "delivered", "cancelled"]
        shipped_event = next(e for e in events if e.detail.get("action") == "shipped")
        assert shipped_event.detail["tracking_number"] == "1Z999"
        assert [e.to_stage for e in events if e.kind == "stage"] == ["product_shipped"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "France"}, "address.country"),
        ({"postal_code": "!"}, "address.postal_code"),
        ({"name": ""}, "address.name"),
        ({"line1": "a\x00b"}, "address.line1"),
        ({"city": "x" * 101}, "address.city"),
        ({"phone": "call me"}, "address.phone"),
        ({"shoe_size": "42"}, "address"),
    ],
)
def test_address_validation_names_the_field(change, field):
    with pytest.raises(InputError) as caught:
        parse_address({**ADDRESS, **change})
    assert caught.value.field == field


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["name", "line1", "city", "postal_code", "country", "x"]),
        st.text(max_size=300),
    )
)
def test_hostile_addresses_are_refused_or_clean(data):
    try:
        address = parse_address(data)
    except InputError as exc:
        assert exc.field and exc.field.startswith("address")
        return
    assert set(address) <= {"name", "line1", "city", "postal_code", "country"}
    assert all(v and "\n" not in v and len(v) <= 200 for v in address.values())


def test_submissions_and_their_review_link_the_live_post(store, setup):
    world, other, cid, sarah, tom, *_ = setup
    ws = world.workspace_id
    post = add_post(
        store, world, "live1", "instagram:sarah", dt.datetime(2026, 6, 5, 12), "#SummerGlow"
    )
    with store.transaction() as s:
        draft = submissions.submit(
            s,
            ws,
            sarah,
            submissions.SubmissionCreate(kind="draft", url="https://drive.example/d1", note="v1"),
        )
        live = submissions.submit(
            s,
            ws,
            sarah,
            submissions.SubmissionCreate(kind="live", url="https://example.social/p/live1/?utm=x"),
        )
        with pytest.raises(InputError, match="https://"):
            submissions.submit(
                s, ws, sarah, submissions.SubmissionCreate(url="javascript:alert(1)")
            )
        with pytest.raises(InputError, match="kind"):
            submissions.submit(
                s, ws, sarah, submissions.SubmissionCreate(kind="final", url="https://x.y")
            )
    with store.session() as s:
        pending = submissions.list_submissions(s, ws, campaign_id=cid, status="pending")
        assert [x.id for x in pending] == [draft.id, live.id]
        assert submissions.list_submissions(s, other.workspace_id, campaign_id=cid) == []
    with store.transaction() as s:
        submissions.review(
            s,
            ws,
            cid,
            draft.id,
            submissions.Review(decision="changes_requested", note="brighter"),
            reviewer="ann",
        )
        approved = submissions.review(
            s, ws, cid, live.id, submissions.Review(decision="approved"), reviewer="ann"
        )
    assert approved.status == "approved" and approved.reviewed_by == "ann"
    with store.transaction() as s, pytest.raises(ConflictError, match="already reviewed"):
        submissions.review(
            s, ws, cid, live.id, submissions.Review(decision="approved"), reviewer="ann"
        )
    with store.transaction() as s, pytest.raises(NotFoundError):
        submissions.review(
            s,
            other.workspace_id,
            cid,
            draft.id,
            submissions.Review(decision="approved"),
            reviewer="x",
        )
    with store.session() as s:
        piece = s.scalars(select(Deliverable).where(Deliverable.deal_id == sarah)).one()
        assert (piece.post_id, piece.status, piece.matched_by) == (post, "confirmed", "user")
        assert s.get(Submission, live.id).deliverable_id == piece.id
        assert s.get(Deal, sarah).stage == "content_live"
        review_event = [e for e in deal_history(s, ws, sarah) if e.kind == "review"][-1]
        assert review_event.detail["linked"] is True
    # A live URL no imported post has: approved, nothing linked, the deal still moves.
    with store.transaction() as s:
        unknown = submissions.submit(
            s,
            ws,
            tom,
            submissions.SubmissionCreate(kind="live", url="https://example.social/p/nope"),
        )
        submissions.review(
            s, ws, cid, unknown.id, submissions.Review(decision="approved"), reviewer="ann"
        )
    with store.session() as s:
        assert s.get(Deal, tom).stage == "content_live"
        last = [e for e in deal_history(s, ws, tom) if e.kind == "review"][-1]
        assert last.detail["linked"] is False


def test_privacy_hooks_export_and_erase_the_portal_data(store, setup):
    world, other, _cid, sarah, _tom, theirs, p = setup
    ws = world.workspace_id
    _link(store, ws, sarah)
    with store.transaction() as s:
        gifting.pick_products(
            s, ws, sarah, {p["SER-1"]: 1}, {**ADDRESS, "phone": "+33 6 12 34 56 78"}
        )
        submissions.submit(
            s, ws, sarah, submissions.SubmissionCreate(url="https://d.example/x", note="private")
        )
        creator = s.get(Deal, sarah).creator_id
        data = portal.portal_personal_data(s, ws, creator)
    assert data["gifts"][0]["address"]["phone"] == "+33 6 12 34 56 78"
    assert data["submissions"][0]["note"] == "private" and len(data["portal_links"]) == 1
    with store.session() as s:  # another workspace holds nothing of this creator
        assert portal.portal_personal_data(s, other.workspace_id, creator) == {
            "gifts": [],
            "submissions": [],
            "portal_links": [],
        }
    with store.transaction() as s:
        counts = portal.erase_portal_personal_data(s, ws, creator)
    assert counts == {"gifts": 1, "submissions": 1, "portal_links": 1}
    with store.session() as s:
        after = portal.portal_personal_data(s, ws, creator)
        gift = s.scalars(select(Gift).where(Gift.deal_id == sarah)).one()
        assert gift.address == {} and gift.value == Decimal("25.00")  # the cost stays
        assert (
            after["submissions"][0]["note"] is None and after["submissions"][0]["url"] == "(erased)"
        )
        assert after["portal_links"] == []
        events = [e.detail for e in deal_history(s, ws, sarah) if e.kind == "submission"]
        assert events == [{"erased": True}]
        assert s.scalars(select(PortalLink).where(PortalLink.deal_id == theirs)).all() == []


def test_the_library_calls_the_same_services(store, store_url, tmp_path):  # type: ignore[no-untyped-def]
    import microfluence

    world = make_world(store)
    cid = campaign(store, world)
    deal(store, world, cid, "instagram:sarah", product_value="30")
    csv = tmp_path / "catalogue.csv"
    csv.write_text("sku,name,value\nSER-1,Serum,12\n")
    with microfluence.open_workspace("brand", store_url, create=False) as ws:
        assert (ws.import_products(csv).added, [p.sku for p in ws.products()]) == (1, ["SER-1"])
        ws.add_product("TOTE", "Tote", "3.5", currency="EUR")
        gift = ws.add_gift("Summer glow", "instagram:sarah", sku="SER-1", address=ADDRESS)
        shipped = ws.set_gift_status(gift.id, "shipped", carrier="DHL", tracking_number="X1")
        assert (shipped.status, shipped.total) == ("shipped", Decimal("12.00"))
        assert [g.id for g in ws.gifts("Summer glow", "instagram:sarah")] == [gift.id]
        made = ws.create_portal_link("Summer glow", "instagram:sarah", base="https://b.example")
        assert made.url.startswith("https://b.example/portal/")
        assert ws.submissions("Summer glow") == []
        with pytest.raises(NotFoundError):
            ws.review_submission("Summer glow", 1, approve=True)


def test_the_default_expiry_is_a_setting(store, setup, monkeypatch):  # type: ignore[no-untyped-def]
    world, _o, _cid, sarah, *_ = setup
    monkeypatch.setenv("MICROFLUENCE_PORTAL_LINK_DAYS", "7")
    with store.transaction() as s:
        made = portal.create_portal_link(s, world.workspace_id, sarah, created_by=None)
        asked = portal.create_portal_link(s, world.workspace_id, sarah, created_by=None, days=90)
    assert made.expires_at - made.created_at == dt.timedelta(days=7)
    assert asked.expires_at - asked.created_at == dt.timedelta(days=90)
