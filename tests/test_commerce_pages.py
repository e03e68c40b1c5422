"""The sales page: codes made and disabled by members, read by viewers; errors shown."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api_support import make_tenant, make_user
from microfluence.commerce.orders import save_orders
from microfluence.commerce.payloads import OrderRecord
from microfluence.commerce.shops import create_shop, find_shop
from microfluence.web.app import create_app
from pages_support import HTML, sign_in


def test_members_make_codes_viewers_only_read(store, store_url):
    import datetime as dt
    from decimal import Decimal

    tenant = make_tenant(store, "acme", prefix="acme")
    make_user(store, "m@acme.io", "acme", "member")
    make_user(store, "v@acme.io", "acme", "viewer")
    with store.transaction() as s:
        create_shop(s, tenant.workspace_id, platform="shopify", name="main")
        shop = find_shop(s, tenant.workspace_id, "main")
        record = OrderRecord(
            "1", dt.datetime(2026, 5, 1), "USD", name="#1001", net=Decimal("42.00")
        )
        save_orders(s, shop, [record], "k")
    app = create_app(store_url)
    with TestClient(app) as member, TestClient(app) as viewer:
        csrf = sign_in(member, "m@acme.io")
        made = member.post(
            "/sales/codes",
            data={
                "creator": "instagram:acme_ana",
                "value": "15",
                "code": "ANA15",
                "csrf_token": csrf,
            },
            follow_redirects=False,
        )
        assert made.status_code == 303
        page = member.get("/sales", headers=HTML).text
        assert "ANA15" in page and 'id="code-form"' in page and "#1001" in page
        assert "/hooks/shopify/" in page and "secret" not in page.lower().replace("secrets", "")
        taken = member.post(
            "/sales/codes",
            data={
                "creator": "instagram:acme_ana",
                "value": "15",
                "code": "ana15",
                "csrf_token": csrf,
            },
            headers=HTML,
        )
        assert taken.status_code == 409 and "ANA15" in taken.text
        no_csrf = member.post("/sales/codes", data={"creator": "instagram:acme_ana", "value": "1"})
        assert no_csrf.status_code == 403

        vcsrf = sign_in(viewer, "v@acme.io")
        seen = viewer.get("/sales", headers=HTML).text
        assert "ANA15" in seen and 'id="code-form"' not in seen
        refused = viewer.post(
            "/sales/codes",
            data={"creator": "instagram:acme_ana", "value": "5", "csrf_token": vcsrf},
        )
        assert refused.status_code == 403
        assert viewer.get("/sales/codes.csv").text.startswith("code,kind,value")
