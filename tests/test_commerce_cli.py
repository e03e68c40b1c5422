"""`microfluence codes|shops|orders`: the same services as the API, one clear line on errors."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from commerce_support import make_brand
from microfluence.cli.main import app
from store_support import flat

EXPORT = Path(__file__).parent / "data" / "commerce" / "shopify_orders_export.csv"


def run(store_url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [*args, "--workspace", "acme", "--database-url", store_url])


def test_codes_shops_and_orders_from_the_command_line(store, store_url, tmp_path):
    make_brand(store)
    made = run(
        store_url,
        "codes",
        "create",
        "--creator",
        "instagram:sarah_k",
        "--value",
        "15",
        "--campaign",
        "spring",
    )
    assert made.exit_code == 0, made.output
    code = made.output.strip().splitlines()[-1]
    assert code.startswith("SARAHK15-")
    batch = run(
        store_url,
        "codes",
        "batch",
        "--creator",
        "tiktok:tomcooks",
        "--value",
        "10",
        "--count",
        "3",
        "--batch",
        "vip",
    )
    assert batch.exit_code == 0 and len(batch.output.split()) == 3
    out = tmp_path / "codes.csv"
    assert run(store_url, "codes", "export", "--output", str(out)).exit_code == 0
    assert out.read_text().count("\n") == 5
    listed = run(store_url, "codes", "list")
    assert code in listed.output
    assert run(store_url, "codes", "disable", code.lower()).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("code,value\nGOOD1,10\nbad code,10\n")
    failed = run(store_url, "codes", "import", str(bad))
    assert failed.exit_code == 1 and f"{bad}, line 3, field 'code'" in flat(failed.output)
    good = tmp_path / "good.csv"
    good.write_text("code,value,creator\nSARAH15,10,instagram:sarah_k\n")
    assert "imported 1 codes" in run(store_url, "codes", "import", str(good)).output

    shop = run(store_url, "shops", "create", "main", "--platform", "shopify")
    assert shop.exit_code == 0 and "/hooks/shopify/" in shop.output and "shown once" in shop.output
    assert "main" in run(store_url, "shops", "list").output
    rotated = run(store_url, "shops", "rotate-secret", "main")
    assert "new secret" in rotated.output
    assert run(store_url, "shops", "rotate-secret", "main", "--end").exit_code == 0
    imported = run(store_url, "orders", "import", str(EXPORT), "--shop", "main")
    assert imported.exit_code == 0, imported.output
    assert "imported 3 orders: 1 by code" in flat(imported.output)
    assert "#1003" in run(store_url, "orders", "list").output
    assert "3 orders" in run(store_url, "orders", "attribute").output
    assert run(store_url, "shops", "deliveries", "main").exit_code == 0
    nope = run(store_url, "codes", "push", code, "--shop", "main")
    assert nope.exit_code == 1 and "access token" in nope.output
    assert run(store_url, "shops", "delete", "main").exit_code == 0
