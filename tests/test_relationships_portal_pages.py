"""The creator portal and the brand's gifting pages through the real app: the portal opened
from its link only (the same 404 for any other token), its headers, its per-link CSRF value,
the creator's actions and their errors, and the brand side — deal page, products page, the
review of submissions — with its roles."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api_support import make_tenant, make_user
from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.deals import add_deal
from microfluence.campaigns.products import ProductCreate, add_product
from microfluence.campaigns.schemas import CampaignCreate, DealCreate
from microfluence.campaigns.tables import Deal, Gift
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import utcnow
from microfluence.relationships import portal
from microfluence.relationships.stages import deal_history
from microfluence.relationships.tables import Submission
from microfluence.tracking import codes as C
from microfluence.tracking import links
from microfluence.web.app import create_app
from pages_support import HTML, csrf_of, sign_in

FORM = re.compile(r'name="form_token" value="([^"]+)"')


@dataclass
class Setup:
    client: TestClient
    store_url: str
    workspace_id: int
    campaign: int
    deal: int
    other_deal: int
    token: str
    products: dict[str, int]


def _token(store_url: str, ws: int, deal_id: int, **options) -> str:  # type: ignore[no-untyped-def]
    store = open_store(store_url)
    with store.transaction() as s:
        made = portal.create_portal_link(s, ws, deal_id, created_by="m@brand.io", **options)
    store.dispose()
    return made.url.rsplit("/", 1)[1]


@pytest.fixture
def setup(store_url: str) -> Iterator[Setup]:
    store = open_store(store_url)
    tenant = make_tenant(store, "brand", prefix="alpha")
    make_user(store, "m@brand.io", "brand", "member")
    make_user(store, "v@brand.io", "brand", "viewer")
    ws = tenant.workspace_id
    with store.transaction() as s:
        cid = create_campaign(
            s,
            ws,
            CampaignCreate(
                name="Glow launch",
                brief="Show the serum <b>at night</b>.",
                dos=["Tag @glow"],
                donts=["No filters"],
                disclosure="#ad",
            ),
        ).id
        deal = add_deal(
            s,
            ws,
            cid,
            DealCreate(creator="instagram:alpha_ana", product_value="50", package={"reel": 1}),
        ).id
        other = add_deal(s, ws, cid, DealCreate(creator="instagram:alpha_bo")).id
        products = {
            sku: add_product(s, ws, ProductCreate(sku=sku, name=name, value=value)).id
            for sku, name, value in (("SER-1", "Night serum", "30"), ("CRM-2", "Day cream", "15"))
        }
        creator = s.get(Deal, deal).creator_id
        links.create_link(
            s, ws, links.LinkCreate(creator="instagram:alpha_ana", url="https://glow.example/")
        )
        owner = C.resolve_owner(s, ws, creator="instagram:alpha_ana")
        C.create_code(s, ws, owner, kind="percent", value=15, code="ANA15")
        assert creator
    store.dispose()
    token = _token(store_url, ws, deal, base="http://testserver")
    with TestClient(create_app(store_url)) as client:
        yield Setup(client, store_url, ws, cid, deal, other, token, products)


def _pp(client: TestClient, path: str, data: dict):  # type: ignore[no-untyped-def,type-arg]
    return client.post(path, data=data, follow_redirects=False)


def _form_token(client: TestClient, token: str) -> str:
    page = client.get(f"/portal/{token}")
    assert page.status_code == 200, page.text
    return FORM.search(page.text).group(1)  # type: ignore[union-attr]


def test_the_portal_opens_from_its_link_only_with_private_headers(setup: Setup) -> None:
    client = setup.client
    page = client.get(f"/portal/{setup.token}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-robots-tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in page.text
    text = page.text
    assert "Glow launch" in text and "alpha Ana" in text
    assert "Show the serum &lt;b&gt;at night&lt;/b&gt;." in text  # escaped, never HTML
    assert "Tag @glow" in text and "No filters" in text and "#ad" in text and "reel" in text
    assert "ANA15" in text and "15 % off" in text and "/r/" in text
    assert "Night serum" in text and "Day cream" in text
    assert "alpha Bo" not in text  # the other deal of the campaign
    # Expired, revoked, altered, unknown and silly tokens: one 404, byte for byte.
    store = open_store(setup.store_url)
    with store.transaction() as s:
        made = portal.create_portal_link(s, setup.workspace_id, setup.deal, created_by=None)
        portal.revoke_portal_link(s, setup.workspace_id, setup.deal, made.id)
    store.dispose()
    revoked = made.url.rsplit("/", 1)[1]
    expired = _token(
        setup.store_url, setup.workspace_id, setup.deal, at=utcnow() - dt.timedelta(days=31)
    )
    altered = setup.token[:-2] + ("xy" if not setup.token.endswith("xy") else "zz")
    bodies = set()
    for token in (revoked, expired, altered, "nope", "a" * 43, "%00", "x" * 500):
        for answer in (
            client.get(f"/portal/{token}"),
            _pp(client, f"/portal/{token}/accept", data={"form_token": "x"}),
        ):
            assert answer.status_code == 404, token
            assert answer.headers["cache-control"] == "no-store"
            bodies.add(answer.text)
    assert len(bodies) == 1 and "no longer active" in bodies.pop()


def test_portal_forms_need_the_links_own_csrf_value(setup: Setup) -> None:
    client = setup.client
    other = _token(setup.store_url, setup.workspace_id, setup.other_deal)
    for value in (None, "", _form_token(client, other)):
        data = {"form_token": value} if value is not None else {}
        answer = client.post(f"/portal/{setup.token}/accept", data=data)
        assert answer.status_code == 403 and "form has expired" in answer.text
    store = open_store(setup.store_url)
    with store.session() as s:
        assert deal_history(s, setup.workspace_id, setup.deal) == []
    store.dispose()


def test_the_creator_accepts_picks_and_submits(setup: Setup) -> None:
    client, token = setup.client, setup.token
    form = _form_token(client, token)
    accepted = _pp(client, f"/portal/{token}/accept", data={"form_token": form})
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/portal/{token}?done=accepted#brief"
    page = client.get(accepted.headers["location"]).text
    assert "the brief is accepted" in page and "You accepted this brief" in page
    again = _pp(client, f"/portal/{token}/accept", data={"form_token": form})
    assert again.status_code == 409 and "already accepted" in again.text
    address = {
        "name": "Ana",
        "line1": "1 Main St",
        "city": "Paris",
        "postal_code": "75001",
        "country": "fr",
    }
    ser, crm = setup.products["SER-1"], setup.products["CRM-2"]
    over = _pp(
        client,
        f"/portal/{token}/gift",
        data={"form_token": form, f"qty_{ser}": "1", f"qty_{crm}": "2", **address},
    )
    assert over.status_code == 422 and "more than the 50.00 this deal allows" in over.text
    assert 'value="2"' in over.text  # the creator's choice is kept in the form
    bad = _pp(
        client,
        f"/portal/{token}/gift",
        data={"form_token": form, f"qty_{ser}": "1", **address, "country": "France"},
    )
    assert bad.status_code == 422 and "2-letter country code" in bad.text
    weird = _pp(client, f"/portal/{token}/gift", data={"form_token": form, f"qty_{ser}": "-1"})
    assert weird.status_code == 422 and "quantity" in weird.text
    ok = _pp(
        client,
        f"/portal/{token}/gift",
        data={"form_token": form, f"qty_{ser}": "1", f"qty_{crm}": "1", **address},
    )
    assert ok.status_code == 303
    sent = _pp(
        client,
        f"/portal/{token}/submit",
        data={
            "form_token": form,
            "kind": "live",
            "url": "https://example.social/p/a1",
            "note": "up!",
        },
    )
    assert sent.status_code == 303
    bad_url = _pp(
        client,
        f"/portal/{token}/submit",
        data={"form_token": form, "kind": "live", "url": "ftp://x"},
    )
    assert bad_url.status_code == 422 and "https://" in bad_url.text
    page = client.get(f"/portal/{token}").text
    assert "https://example.social/p/a1" in page and "pending" in page
    store = open_store(setup.store_url)
    with store.session() as s:
        gifts = s.scalars(select(Gift).where(Gift.deal_id == setup.deal)).all()
        assert sorted((g.sku, g.quantity, g.address["country"]) for g in gifts) == [
            ("CRM-2", 1, "FR"),
            ("SER-1", 1, "FR"),
        ]
        assert s.scalars(select(Submission)).one().submitted_by == "creator"
        kinds = [(e.kind, e.actor_kind) for e in deal_history(s, setup.workspace_id, setup.deal)]
        assert kinds == [
            ("brief_accepted", "creator"),
            ("stage", "creator"),
            ("gift", "creator"),
            ("submission", "creator"),
        ]
        assert s.get(Deal, setup.deal).stage == "agreed"
        assert s.scalars(select(Gift).where(Gift.deal_id == setup.other_deal)).all() == []
    store.dispose()


def _post(client: TestClient, path: str, csrf: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(
        path, data={**data, "csrf_token": csrf}, headers=HTML, follow_redirects=False
    )


def test_the_brand_side_members_change_viewers_read(setup: Setup) -> None:
    client, token = setup.client, setup.token
    form = _form_token(client, token)
    _pp(
        client,
        f"/portal/{token}/submit",
        data={"form_token": form, "kind": "draft", "url": "https://drive.example/d"},
    )
    csrf = sign_in(client, "m@brand.io")
    base = f"/campaigns/{setup.campaign}/deals/{setup.deal}"
    campaign_page = client.get(f"/campaigns/{setup.campaign}", headers=HTML).text
    assert "Submissions to review" in campaign_page and "https://drive.example/d" in campaign_page
    assert 'name="brief"' in campaign_page and "Show the serum" in campaign_page
    # A new portal link: its URL is on this answer only.
    made = _post(client, f"{base}/portal-links", csrf, days="7")
    assert made.status_code == 200
    url = re.search(r'class="portal-url">([^<]+)<', made.text).group(1)  # type: ignore[union-attr]
    assert url.startswith("http://testserver/portal/")
    assert url not in client.get(base, headers=HTML).text
    assert client.get(url.replace("http://testserver", "")).status_code == 200
    # A gift by the brand, shipped: the deal moves to product_shipped.
    added = _post(client, f"{base}/gifts", csrf, sku="CRM-2", quantity="1")
    assert added.status_code == 303
    page = client.get(base, headers=HTML).text
    assert "no address yet" in page
    store = open_store(setup.store_url)
    with store.session() as s:
        gift_id = s.scalars(select(Gift.id).where(Gift.deal_id == setup.deal)).one()
        sub_id = s.scalars(select(Submission.id)).one()
    store.dispose()
    refused = _post(client, f"{base}/gifts/{gift_id}/status", csrf, status="shipped")
    assert refused.status_code == 422 and "no address" in refused.text
    bad = _post(client, f"{base}/gifts", csrf, name="Bag", value="1", country="Neverland")
    assert bad.status_code == 422
    review = _post(
        client,
        f"/campaigns/{setup.campaign}/submissions/{sub_id}/review",
        csrf,
        decision="changes_requested",
        note="brighter please",
    )
    assert review.status_code == 303
    assert "brighter please" in client.get(f"/portal/{token}").text
    # Products page: add, edit, import.
    assert _post(client, "/products", csrf, sku="TOTE", name="Tote", value="5").status_code == 303
    listing = client.get("/products", headers=HTML).text
    assert "TOTE" in listing and 'action="/products/import"' in listing
    imported = client.post(
        "/products/import",
        data={"csrf_token": csrf},
        files={"file": ("cat.csv", b"sku,name,value\nHAT,Hat,abc\n", "text/csv")},
        headers=HTML,
    )
    assert imported.status_code == 422 and "<b>line</b> 2" in imported.text, imported.text
    # A viewer sees the pages without their forms, and cannot post.
    viewer = TestClient(client.app)
    vcsrf = sign_in(viewer, "v@brand.io")
    deal_page = viewer.get(base, headers=HTML)
    assert deal_page.status_code == 200 and "History" in deal_page.text
    assert "New portal link" not in deal_page.text and "Add the gift" not in deal_page.text
    assert 'action="/products"' not in viewer.get("/products", headers=HTML).text
    for path, data in (
        (f"{base}/portal-links", {}),
        (f"{base}/gifts", {"name": "x", "value": "1"}),
        (f"{base}/gifts/{gift_id}/status", {"status": "cancelled"}),
        (f"/campaigns/{setup.campaign}/submissions/{sub_id}/review", {"decision": "approved"}),
        ("/products", {"sku": "V", "name": "v", "value": "1"}),
        ("/products/import", {}),
    ):
        assert _post(viewer, path, vcsrf, **data).status_code == 403, path
    # Without the CSRF token, a member's form is refused too.
    assert client.post(f"{base}/portal-links", headers=HTML).status_code == 403
    assert csrf_of(page)


def test_form_posts_are_limited_per_link(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    from microfluence.web.pages import portal as portal_page

    monkeypatch.setattr(portal_page, "LIMITER", portal_page.PostLimiter(3, 600.0))
    client, token = setup.client, setup.token
    form = _form_token(client, token)
    answers = [
        _pp(
            client,
            f"/portal/{token}/submit",
            {"form_token": form, "kind": "draft", "url": f"https://d.example/{n}"},
        ).status_code
        for n in range(4)
    ]
    assert answers == [303, 303, 303, 429]
    # Another link (another deal) is counted apart; the page itself still opens.
    other = _token(setup.store_url, setup.workspace_id, setup.other_deal)
    fresh = _pp(
        client,
        f"/portal/{other}/submit",
        {"form_token": _form_token(client, other), "url": "https://d.example/other"},
    )
    assert fresh.status_code == 303
    assert client.get(f"/portal/{token}").status_code == 200
    store = open_store(setup.store_url)
    with store.session() as s:
        assert len(s.scalars(select(Submission).where(Submission.deal_id == setup.deal)).all()) == 3
    store.dispose()


def test_hostile_portal_forms_never_fail_the_server_nor_half_write(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from microfluence.web.pages import portal as portal_page

    monkeypatch.setattr(portal_page, "LIMITER", portal_page.PostLimiter(10**6, 600.0))
    client, token = setup.client, setup.token
    form = _form_token(client, token)
    ser = setup.products["SER-1"]
    names = st.sampled_from(
        [
            f"qty_{ser}",
            "qty_999999",
            "qty_x",
            "name",
            "line1",
            "city",
            "postal_code",
            "country",
            "phone",
            "kind",
            "url",
            "note",
            "shoe",
        ]
    )
    values = st.one_of(
        st.text(max_size=60),
        st.sampled_from(["1", "0", "-1", "101", "1e9", "FR", "https://x.example/p", "\x00"]),
    )

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        action=st.sampled_from(["gift", "submit", "accept"]),
        fields=st.dictionaries(names, values, max_size=8),
    )
    def check(action: str, fields: dict[str, str]) -> None:
        store = open_store(setup.store_url)
        with store.session() as s:
            before = len(s.scalars(select(Gift)).all()), len(s.scalars(select(Submission)).all())
        answer = _pp(client, f"/portal/{token}/{action}", {**fields, "form_token": form})
        assert answer.status_code in (303, 409, 422), (action, fields, answer.text[:300])
        if answer.status_code != 303:
            with store.session() as s:
                after = len(s.scalars(select(Gift)).all()), len(s.scalars(select(Submission)).all())
            assert after == before
        store.dispose()

    check()
