"""The products catalogue: SKUs unique per workspace, changes, removal leaving gifts whole, and
the CSV import — checked whole, bad rows named by line and field, nothing written then.
SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_support import campaign, deal, make_world
from microfluence.campaigns import product_files, products
from microfluence.campaigns.products import ProductCreate, ProductUpdate
from microfluence.campaigns.schemas import parse_model
from microfluence.campaigns.tables import Gift, Product
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.relationships.gifting import GiftCreate, add_gift
from store_support import table_rows


def test_crud_and_skus_unique_per_workspace(store):
    world = make_world(store)
    other = make_world(store, "other", prefix="o_")
    ws = world.workspace_id
    with store.transaction() as s:
        made = products.add_product(s, ws, ProductCreate(sku="SER-1", name="Serum", value="25"))
        assert (made.value, made.currency, made.active) == (Decimal("25.00"), "USD", True)
        # The same SKU in another workspace is another product.
        products.add_product(s, other.workspace_id, ProductCreate(sku="SER-1", name="X", value=1))
        with pytest.raises(ConflictError, match="SER-1"):
            products.add_product(s, ws, ProductCreate(sku="SER-1", name="Again", value="1"))
        changed = products.update_product(
            s, ws, made.id, ProductUpdate(name="Night serum", active=False, description="50 ml")
        )
        assert (changed.name, changed.active, changed.description) == (
            "Night serum",
            False,
            "50 ml",
        )
        assert products.list_products(s, ws, active_only=True) == []
        with pytest.raises(NotFoundError):
            products.update_product(s, other.workspace_id, made.id, ProductUpdate(name="pwned"))
        with pytest.raises(NotFoundError):
            products.remove_product(s, other.workspace_id, made.id)
    for bad, field in (
        ({"sku": " ", "name": "n", "value": "1"}, "sku"),
        ({"sku": "a b", "name": "n", "value": "1"}, "sku"),
        ({"sku": "A", "name": "", "value": "1"}, "name"),
        ({"sku": "A", "name": "n", "value": "-1"}, "value"),
        ({"sku": "A", "name": "n", "value": "1.234"}, "value"),
        ({"sku": "A", "name": "n", "value": "1", "currency": "euro"}, "currency"),
    ):
        with pytest.raises(InputError) as caught:
            parse_model(ProductCreate, bad)
        assert caught.value.field == field, bad


def test_removing_a_product_leaves_its_gifts(store):
    world = make_world(store)
    ws = world.workspace_id
    sarah = deal(store, world, campaign(store, world), "instagram:sarah")
    with store.transaction() as s:
        made = products.add_product(s, ws, ProductCreate(sku="SER-1", name="Serum", value="25"))
        add_gift(s, ws, sarah, GiftCreate(sku="SER-1"), actor="ann")
        products.remove_product(s, ws, made.id)
    with store.session() as s:
        gift = s.query(Gift).one()
        assert (gift.product_id, gift.sku, gift.name, gift.value) == (
            None,
            "SER-1",
            "Serum",
            Decimal("25.00"),
        )


CSV = (
    "sku,name,value,currency,description\n"
    "SER-1,Night serum,25.00,eur,50 ml\n"
    "CRM-2,Day cream,15.5,,\n"
)


def test_csv_import_adds_and_updates(store):
    world = make_world(store)
    ws = world.workspace_id
    with store.transaction() as s:
        products.add_product(s, ws, ProductCreate(sku="CRM-2", name="Old", value="1", active=False))
        done = product_files.import_products(s, ws, CSV.encode(), "catalogue.csv")
    assert (done.added, done.updated) == (1, 1)
    with store.session() as s:
        listed = {p.sku: p for p in products.list_products(s, ws)}
    assert listed["SER-1"].currency == "EUR" and listed["SER-1"].description == "50 ml"
    assert (listed["CRM-2"].name, listed["CRM-2"].value, listed["CRM-2"].active) == (
        "Day cream",
        Decimal("15.50"),
        True,
    )
    assert listed["CRM-2"].currency == "USD"


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("sku,name,value\nA,ok,1\nB,,2\n", 3, "name"),
        ("sku,name,value\nA,ok,1\nA,twice,2\n", 3, "sku"),
        ("sku,name,value\nA,ok,1\nB,ok,-3\n", 3, "value"),
        ("sku,name,value\nA,ok,abc\n", 2, "value"),
        ("sku,name,value\nA,ok,1.999\n", 2, "value"),
        ("sku,name,value,currency\nA,ok,1,EURO\n", 2, "currency"),
        ("sku,name,value\nbad sku,ok,1\n", 2, "sku"),
        ("name,value\nok,1\n", 1, "sku"),
    ],
)
def test_csv_import_names_the_bad_line_and_field_and_writes_nothing(store, text, line, field):
    world = make_world(store)
    before = table_rows(store, [Product])
    with store.transaction() as s, pytest.raises(InputError) as caught:
        product_files.import_products(s, world.workspace_id, text.encode(), "catalogue.csv")
    assert (caught.value.file, caught.value.line, caught.value.field) == (
        "catalogue.csv",
        line,
        field,
    )
    assert table_rows(store, [Product]) == before


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.binary(max_size=400))
def test_csv_import_of_garbage_is_a_clear_error(sqlite_store, data):
    from microfluence.kernel.workspaces import ensure_workspace

    try:
        with sqlite_store.transaction() as s:
            ws = ensure_workspace(s, "garbage").id
            product_files.import_products(s, ws, b"sku,name,value\n" + data, "x.csv")
    except InputError as exc:
        assert exc.file == "x.csv"
