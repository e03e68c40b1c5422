"""The relationship record over the REST API: roles (viewers read, members change, owners lift
do-not-contact, erase and read the audit log), validation errors naming the field, the deal
history, erasure and the audit log (a real app in-process, both stores)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api_support import make_tenant
from microfluence.web.app import create_app


def test_relationship_over_the_api(store, store_url):
    acme = make_tenant(store, "acme")
    ana = acme.creator_ids[0]
    base = f"/api/v1/creators/{ana}/relationship"
    with TestClient(create_app(store_url)) as client:
        viewer, member, owner = (acme.auth(r) for r in ("viewer", "member", "owner"))
        assert client.patch(base, json={"rating": 3}, headers=viewer).status_code == 403
        bad = client.patch(base, json={"rating": 9}, headers=member)
        assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "rating", bad.text
        bad = client.patch(base, json={"email": "ana at example"}, headers=member)
        assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "email"
        bad = client.patch(base, json={"address": {"planet": "Mars"}}, headers=member)
        assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "address.planet"
        assert client.patch(base, json={"colour": "red"}, headers=member).status_code == 422
        changed = client.patch(
            base,
            json={"email": "ana@example.com", "phone": "+33 1 23 45 67 89", "tags": ["Vegan"]},
            headers=member,
        )
        assert changed.status_code == 200 and changed.json()["tags"] == ["vegan"]
        tagged = client.post(f"{base}/tags", json={"add": ["#Paris"]}, headers=member)
        assert tagged.json()["tags"] == ["paris", "vegan"]
        listed = client.get("/api/v1/relationships", params={"tag": "paris"}, headers=viewer)
        assert [r["creator_id"] for r in listed.json()["data"]] == [ana]
        seen = client.get(base, headers=viewer)
        assert seen.status_code == 200 and seen.json()["record"]["email"] == "ana@example.com"
        assert seen.json()["history"] == {
            "creator_id": ana,
            "deals": [],
            "totals": {
                "deals": 0,
                "currencies": [],
                "cost": "0.00",
                "net_revenue": "0.00",
                "roi": None,
            },
        }
        # Do-not-contact: members set it, only owners lift it, with a reason.
        dnc = client.post(f"{base}/do-not-contact", json={"reason": "opted out"}, headers=member)
        assert dnc.json()["do_not_contact"] is True
        lift = f"{base}/do-not-contact/lift"
        assert client.post(lift, json={"reason": "x"}, headers=member).status_code == 403
        bad = client.post(lift, json={"reason": " "}, headers=owner)
        assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "reason"
        lifted = client.post(lift, json={"reason": "asked to be back"}, headers=owner)
        assert lifted.json()["do_not_contact"] is False
        partner = client.put(
            f"{base}/partner",
            json={"since": "2026-03-01", "new_code": {"value": 10}, "early_access": True},
            headers=member,
        )
        assert partner.status_code == 200, partner.text
        assert partner.json()["perks"]["code"].startswith("ACME10-")
        # A change through the catalogue's creator route is logged too.
        renamed = client.patch(f"/api/v1/creators/{ana}", json={"notes": "n"}, headers=member)
        assert renamed.status_code == 200
        # The audit log: owners only; views and changes, field names only.
        assert client.get(f"{base}/audit", headers=member).status_code == 403
        log = client.get(f"{base}/audit", headers=owner).json()
        assert [(e["action"], e["fields"]) for e in log["data"]][:2] == [
            ("change", ["notes"]),
            ("change", ["partner", "partner_since", "perks.code", "perks.early_access"]),
        ]
        assert "view" in {e["action"] for e in log["data"]}
        assert "ana@example.com" not in str(log)
        assert client.get("/api/v1/contact-audit", headers=viewer).status_code == 403
        views = client.get("/api/v1/contact-audit", params={"action": "view"}, headers=owner)
        assert views.json()["count"] == 1
        # Erasure: owners only; the record is anonymised and cannot be changed after.
        assert client.post(f"{base}/erase", json={"reason": "r"}, headers=member).status_code == 403
        erased = client.post(f"{base}/erase", json={"reason": "her request"}, headers=owner)
        assert erased.status_code == 200 and erased.json()["already_erased"] is False
        after = client.get(base, headers=viewer).json()["record"]
        assert after["name"] == f"erased creator #{ana}" and after["email"] is None
        assert after["do_not_contact"] is True and after["accounts"][0]["handle"].startswith(
            "erased-"
        )
        assert client.patch(base, json={"rating": 2}, headers=member).status_code == 409
        again = client.patch(f"/api/v1/creators/{ana}", json={"email": "a@b.io"}, headers=member)
        assert again.status_code == 409
        exported = client.get(f"/api/v1/creators/{ana}/record", headers=owner).json()
        assert "ana@example.com" not in str(exported)
        assert exported["relationship"]["record"]["erased_at"]
