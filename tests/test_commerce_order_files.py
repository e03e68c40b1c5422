"""Shopify order exports: continuation rows grouped into orders, money and times read, refunds,
attribution, idempotent re-import, bad rows named by line, hostile files."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from commerce_support import add_click, make_brand
from microfluence.commerce.order_files import import_orders
from microfluence.commerce.shops import create_shop, find_shop
from microfluence.commerce.tables import Order, Refund
from microfluence.kernel.errors import InputError
from microfluence.tracking import codes as C
from store_support import table_rows

EXPORT = Path(__file__).parent / "data" / "commerce" / "shopify_orders_export.csv"


@pytest.fixture
def brand(store):  # type: ignore[no-untyped-def]
    brand = make_brand(store)
    with store.transaction() as s:
        create_shop(s, brand.workspace_id, platform="shopify", name="main")
        for ref, code in (("instagram:sarah_k", "SARAH15"), ("tiktok:tomcooks", "TOM10")):
            owner = C.resolve_owner(s, brand.workspace_id, creator=ref, campaign="spring")
            C.create_code(s, brand.workspace_id, owner, value=10, code=code)
    return brand


def run(store, brand, data: bytes, name: str = "orders.csv"):  # type: ignore[no-untyped-def]
    with store.transaction() as s:
        return import_orders(
            s, find_shop(s, brand.workspace_id, "main"), io.BytesIO(data), "k", name
        )


def orders(store) -> dict[str, Order]:  # type: ignore[no-untyped-def]
    with store.transaction() as s:
        rows = list(s.scalars(select(Order)))
        for r in rows:
            s.expunge(r)
    return {r.name: r for r in rows}


def test_continuation_rows_make_one_order_each(store, brand):
    token = add_click(store, brand, "tom", dt.datetime(2026, 4, 30, 12, 0))
    add_click(store, brand, "sarah", dt.datetime(2026, 5, 1, 12, 0))
    count, summary = run(store, brand, EXPORT.read_bytes().replace(b"TOKEN", token.encode()))
    assert count == 3
    got = orders(store)
    assert sorted(got) == ["#1001", "#1002", "#1003"]
    one = got["#1001"]
    assert one.external_id == "5001001" and one.net == Decimal("1000.00")
    assert one.gross == Decimal("1111.11") and one.total == Decimal("1000.00")
    assert one.ordered_at == dt.datetime(2026, 4, 30, 12, 0)  # -0400 to UTC
    assert one.codes == ["TOM10"] and one.method == "code" and one.leak  # coupon site, no click
    assert "retailmenot.com" in one.leak_reason
    assert got["#1002"].refunded == Decimal("12.50") and got["#1002"].method == "click"
    assert got["#1003"].method == "code" and got["#1003"].creator_id == brand.creators["sarah"]
    assert got["#1003"].financial_status == "paid" and got["#1003"].source == "csv"
    assert summary.orders >= 3 and summary.by_click == 1


def test_reimport_changes_nothing(store, brand):
    run(store, brand, EXPORT.read_bytes())
    before = table_rows(store, [Order, Refund])
    run(store, brand, EXPORT.read_bytes())
    after = table_rows(store, [Order, Refund])
    assert len(after["orders"]) == len(before["orders"]) == 3
    assert len(after["refunds"]) == 1
    # Only the times of the last write differ (attributed_at, updated_at).
    unchanged = lambda rows: [r[:17] for r in rows]  # noqa: E731
    assert unchanged(after["orders"]) == unchanged(before["orders"])


HEADER = "Name,Created at,Currency,Subtotal,Total,Discount Code,Refunded Amount\n"


@pytest.mark.parametrize(
    ("rows", "line", "field"),
    [
        ("#1,2026-05-01 08:00:00 -0400,USD,10,10,,\n#2,yesterday,USD,1,1,,\n", 3, "Created at"),
        (
            "#1,2026-05-01 08:00:00 -0400,USD,10,10,,\n#2,2026-05-01 08:00:00 -0400,USD,ten,1,,\n",
            3,
            "Subtotal",
        ),
        ("#1,2026-05-01 08:00:00 -0400,US,10,10,,\n", 2, "Currency"),
        ("#1,2026-05-01 08:00:00 -0400,USD,10,10,,abc\n", 2, "Refunded Amount"),
        (",2026-05-01 08:00:00 -0400,USD,10,10,,\n", 2, "Name"),
        ("#1,,USD,10,10,,\n#1,,,,,,\n", 2, "Created at"),
    ],
)
def test_bad_rows_are_named_and_nothing_is_written(store, brand, rows, line, field):
    before = table_rows(store, [Order, Refund])
    with pytest.raises(InputError) as info:
        run(store, brand, (HEADER + rows).encode(), "export.csv")
    assert (info.value.file, info.value.line, info.value.field) == ("export.csv", line, field)
    assert table_rows(store, [Order, Refund]) == before


def test_not_an_export(store, brand):
    with pytest.raises(InputError, match="no column 'Name'") as info:
        run(store, brand, b"a,b\n1,2\n", "x.csv")
    assert info.value.line == 1


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(
            st.sampled_from(
                ["#1", "#2", "", "2026-05-01 08:00:00 -0400", "USD", "10.00", "x", "1,0", '"']
            ),
            min_size=7,
            max_size=7,
        ),
        max_size=6,
    )
)
def test_the_reader_never_crashes(sqlite_store, rows):
    from microfluence.kernel.workspaces import ensure_workspace

    with sqlite_store.transaction() as s:
        ws = ensure_workspace(s, "fuzz")
        shop = find_or_make(s, ws.id)
        body = HEADER + "\n".join(",".join(r) for r in rows)
        try:
            import_orders(s, shop, io.BytesIO(body.encode()), "k", "f.csv")
        except InputError as exc:
            assert exc.file == "f.csv"
        s.rollback()


def find_or_make(session, workspace_id):  # type: ignore[no-untyped-def]
    from microfluence.kernel.errors import NotFoundError

    try:
        return find_shop(session, workspace_id, "fuzz")
    except NotFoundError:
        create_shop(session, workspace_id, platform="shopify", name="fuzz")
        return find_shop(session, workspace_id, "fuzz")
