"""The relationship page: the record shown (and the view logged), its forms, roles (viewers
read, members change, owners lift do-not-contact, erase and see the audit log), errors naming
the field, the deal history with its ROI chart (a real app in-process, both stores)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api_support import make_user
from measurement_support import crafted
from microfluence.kernel.store import open_store
from microfluence.web.app import create_app
from pages_support import HTML, sign_in


def test_the_relationship_page(store_url: str) -> None:
    store = open_store(store_url)
    brand = crafted(store).brand
    for email, role in (("v@acme.io", "viewer"), ("m@acme.io", "member"), ("o@acme.io", "owner")):
        make_user(store, email, "acme", role)
    store.dispose()
    sarah = brand.creators["sarah"]
    base = f"/creators/{sarah}/relationship"
    app = create_app(store_url)
    with TestClient(app) as member, TestClient(app) as owner, TestClient(app) as viewer:
        m_csrf, o_csrf = sign_in(member, "m@acme.io"), sign_in(owner, "o@acme.io")
        v_csrf = sign_in(viewer, "v@acme.io")
        profile = viewer.get(f"/creators/{sarah}", headers=HTML)
        assert f'href="{base}"' in profile.text
        form = {
            "csrf_token": m_csrf,
            "email": "sarah@example.com",
            "phone": "+44 20 7946 0958",
            "address_city": "Leeds",
            "tags": "#Summer Gifting, vegan",
            "rating": "4",
            "notes": "met at the fair",
        }
        saved = member.post(base, data=form, headers=HTML, follow_redirects=False)
        assert saved.status_code == 303, saved.text
        bad = member.post(base, data={**form, "email": "sarah at example"}, headers=HTML)
        assert bad.status_code == 422 and "email" in bad.text
        assert (
            viewer.post(base, data={**form, "csrf_token": v_csrf}, headers=HTML).status_code == 403
        )
        page = viewer.get(base, headers=HTML)
        assert page.status_code == 200
        text = page.text
        assert "sarah@example.com" in text and "Leeds" in text and "summer-gifting" in text
        assert 'id="record-form"' not in text and 'id="contact-audit"' not in text  # viewer
        # The deal history: the spring deal with its ROI, and the chart.
        row = re.search(r'<table class="data compact" id="deal-history">(.*?)</table>', text, re.S)
        assert row and "spring" in row.group(1) and "62 %" in row.group(1)
        assert 'id="roi-per-deal"' in text
        # Do-not-contact: a member sets it, only an owner lifts it.
        member.post(
            f"{base}/do-not-contact", data={"csrf_token": m_csrf, "reason": "asked"}, headers=HTML
        )
        lift = {"csrf_token": m_csrf, "reason": "back"}
        assert member.post(f"{base}/lift", data=lift, headers=HTML).status_code == 403
        lifted = owner.post(
            f"{base}/lift",
            data={"csrf_token": o_csrf, "reason": "back"},
            headers=HTML,
            follow_redirects=False,
        )
        assert lifted.status_code == 303
        made = member.post(
            f"{base}/partner",
            data={"csrf_token": m_csrf, "code": "SARAH15", "early_access": "1", "note": "boxes"},
            headers=HTML,
            follow_redirects=False,
        )
        assert made.status_code == 303, made.text
        owners = owner.get(base, headers=HTML).text
        assert "SARAH15" in owners and "Early access" in owners and "Partner since" in owners
        audit = re.search(r'id="contact-audit">(.*?)</table>', owners, re.S).group(1)
        assert "v@acme.io" in audit and "lift do not contact" in audit
        assert "sarah@example.com" not in audit  # field names, never values
        erase = {"csrf_token": m_csrf, "reason": "request"}
        assert member.post(f"{base}/erase", data=erase, headers=HTML).status_code == 403
        erased = owner.post(
            f"{base}/erase",
            data={"csrf_token": o_csrf, "reason": "request"},
            headers=HTML,
            follow_redirects=False,
        )
        assert erased.status_code == 303
        after = viewer.get(base, headers=HTML).text
        assert f"erased creator #{sarah}" in after and "sarah@example.com" not in after
        assert "personal data erased" in after and "spring" in after  # the deal is kept


def test_the_contact_audit_page_is_for_owners(store_url: str) -> None:
    store = open_store(store_url)
    brand = crafted(store).brand
    make_user(store, "m@acme.io", "acme", "member")
    make_user(store, "o@acme.io", "acme", "owner")
    store.dispose()
    sarah = brand.creators["sarah"]
    app = create_app(store_url)
    with TestClient(app) as member, TestClient(app) as owner:
        sign_in(member, "m@acme.io")
        sign_in(owner, "o@acme.io")
        assert member.get(f"/creators/{sarah}/relationship", headers=HTML).status_code == 200
        assert member.get("/contact-audit", headers=HTML).status_code == 403
        page = owner.get("/contact-audit", headers=HTML)
        assert page.status_code == 200
        table = re.search(r'id="contact-audit">(.*?)</table>', page.text, re.S).group(1)
        assert "m@acme.io" in table and f"/creators/{sarah}/relationship" in table
        changes = owner.get("/contact-audit?action=change", headers=HTML).text
        assert "Nothing logged yet" in changes
        assert owner.get("/contact-audit?action=peek", headers=HTML).status_code == 422
