"""`microfluence products|gifts|portal-links|submissions` and the brief's options of `campaigns
update`: a round trip on both stores, and errors as one clear line naming the field."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from campaign_support import campaign, deal, make_world
from microfluence.cli.main import app
from microfluence.kernel.store import open_store
from microfluence.relationships import portal
from microfluence.relationships.stages import deal_history
from microfluence.relationships.tables import PortalLink
from store_support import flat


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    from microfluence.kernel import console

    monkeypatch.setattr(console.console, "_width", 240)


def _run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--workspace", "brand", "--database-url", url])
    return result.exit_code, flat(result.output)


def _json(url: str, *args: str):  # type: ignore[no-untyped-def]
    code, out = _run(url, *args, "--json")
    assert code == 0, out
    return json.loads(out)


def test_brief_products_gifts_links_and_reviews(store_url, tmp_path):
    store = open_store(store_url)
    world = make_world(store)
    campaign(store, world)
    sarah = deal(store, world, 1, "instagram:sarah", product_value="40")
    store.dispose()
    brief = _json(
        store_url,
        "campaigns",
        "update",
        "Summer glow",
        "--brief",
        "Night routine",
        "--do",
        "Tag @glowbrand",
        "--do",
        "Show the label",
        "--dont",
        "No filters",
        "--disclosure",
        "#ad",
    )
    assert (brief["brief"], brief["dos"], brief["donts"], brief["disclosure"]) == (
        "Night routine",
        ["Tag @glowbrand", "Show the label"],
        ["No filters"],
        "#ad",
    )
    # Products: add, import, update, list, remove.
    assert _run(store_url, "products", "add", "SER-1", "--name", "Serum", "--value", "25")[0] == 0
    csv = tmp_path / "catalogue.csv"
    csv.write_text("sku,name,value,currency\nSER-1,Night serum,26,eur\nCRM-2,Cream,9.5,\n")
    code, out = _run(store_url, "products", "import", str(csv))
    assert code == 0 and "1 product(s) added, 1 updated" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,value\nOK,fine,1\nNO,broken,x\n")
    code, out = _run(store_url, "products", "import", str(bad))
    assert code == 1 and f"error: {bad}, line 3, field 'value'" in out
    changed = _json(store_url, "products", "update", "CRM-2", "--inactive", "--value", "10")
    assert (changed["active"], changed["value"]) == (False, "10.00")
    assert [p["sku"] for p in _json(store_url, "products", "list", "--active")] == ["SER-1"]
    code, out = _run(store_url, "products", "add", "bad sku", "--name", "x", "--value", "1")
    assert code == 1 and "field 'sku'" in out
    # Gifts: add by SKU with an address, ship, deliver; an item off the catalogue, cancelled.
    gift = _json(
        store_url,
        "gifts",
        "add",
        "Summer glow",
        "instagram:sarah",
        "--sku",
        "SER-1",
        "--address",
        "name=Sarah",
        "--address",
        "line1=1 Main St",
        "--address",
        "city=Lyon",
        "--address",
        "postal_code=69003",
        "--address",
        "country=fr",
        "--by",
        "ann@brand.test",
    )
    assert (gift["name"], gift["value"], gift["address"]["country"]) == (
        "Night serum",
        "26.00",
        "FR",
    )
    code, out = _run(
        store_url, "gifts", "ship", str(gift["id"]), "--carrier", "DHL", "--tracking", "JD01"
    )
    assert code == 0 and "shipped" in out and "DHL JD01" in out
    assert _run(store_url, "gifts", "deliver", str(gift["id"]))[0] == 0
    code, out = _run(store_url, "gifts", "cancel", str(gift["id"]))
    assert code == 1 and "a delivered gift can become returned, not cancelled" in out
    code, out = _run(
        store_url, "gifts", "add", "Summer glow", "instagram:sarah", "--address", "oops"
    )
    assert code == 1 and "field 'address'" in out
    other = _json(
        store_url, "gifts", "add", "Summer glow", "instagram:sarah", "--name", "Bag", "--value", "3"
    )
    assert _run(store_url, "gifts", "cancel", str(other["id"]))[0] == 0
    listed = _json(store_url, "gifts", "list", "Summer glow", "instagram:sarah")
    assert [(g["name"], g["status"]) for g in listed] == [
        ("Night serum", "delivered"),
        ("Bag", "cancelled"),
    ]
    # Portal links: the URL printed once; list without it; revoke.
    code, out = _run(
        store_url,
        "portal-links",
        "create",
        "Summer glow",
        "instagram:sarah",
        "--days",
        "7",
        "--base-url",
        "https://brand.example",
    )
    assert code == 0 and "https://brand.example/portal/" in out
    token = out.split("/portal/")[1].split()[0]
    links = _json(store_url, "portal-links", "list", "Summer glow", "instagram:sarah")
    assert [link["status"] for link in links] == ["active"] and token not in json.dumps(links)
    store = open_store(store_url)
    with store.transaction() as s:
        access = portal.open_portal(s, token)
        assert access.deal_id == sarah
        from microfluence.relationships.submissions import SubmissionCreate, submit

        sub = submit(
            s, world.workspace_id, sarah, SubmissionCreate(kind="live", url="https://x.example/p")
        )
        assert s.query(PortalLink).one().token_hash == portal.hash_token(token)
    store.dispose()
    code, out = _run(
        store_url, "portal-links", "revoke", "Summer glow", "instagram:sarah", str(links[0]["id"])
    )
    assert code == 0 and "revoked" in out
    # Submissions: list and review once.
    pending = _json(store_url, "submissions", "list", "Summer glow", "--status", "pending")
    assert [p["id"] for p in pending] == [sub.id]
    code, out = _run(
        store_url, "submissions", "review", "Summer glow", str(sub.id), "--approve", "--by", "ann"
    )
    assert code == 0 and "approved" in out
    code, out = _run(store_url, "submissions", "review", "Summer glow", str(sub.id), "--changes")
    assert code == 1 and "already reviewed" in out
    store = open_store(store_url)
    with store.session() as s:
        stages = [
            e.to_stage for e in deal_history(s, world.workspace_id, sarah) if e.kind == "stage"
        ]
        assert stages == ["product_shipped", "content_live"]
    store.dispose()
