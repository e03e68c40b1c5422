"""A shop's order export as CSV, imported as orders (docs/commerce.md).

Shopify's export (Admin → Orders → Export) has **one row per line item**: the order's columns
(Financial Status, Subtotal, Total, Discount Code, …) are filled on its first row and blank on
the rows that continue it, while ``Name`` (``#1001``) is on every row. Rows are grouped into
orders with Polars: each order column is forward-filled within its ``Name``, then one row per
order is kept — no loop over rows. The order's id is the ``Id`` column when the export has it
(the same id webhooks use, so an order imported and also received by webhook is one order), else
its ``Name``.

Money: net = ``Subtotal`` (after discounts, before shipping and taxes), discounts = ``Discount
Amount``, gross = net + discounts, total = ``Total``; ``Refunded Amount`` becomes one refund of
the order (id ``csv:<order id>``). ``Landing Site`` and ``Referring Site`` are read when present.

Every row is checked before anything is written; the first bad one is named by its line (the
header is line 1) and column; the file is imported in one transaction. Importing it again
changes nothing (orders are upserted by the shop's id).
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import IO

import polars as pl
from sqlalchemy.orm import Session

from microfluence.commerce.attribution import AttributionSummary, attribute
from microfluence.commerce.orders import save_orders
from microfluence.commerce.payloads import OrderRecord, RefundRecord
from microfluence.commerce.tables import Shop
from microfluence.kernel.errors import InputError

REQUIRED = ("Name", "Created at", "Currency", "Subtotal", "Total")
OPTIONAL = (
    "Id",
    "Email",
    "Financial Status",
    "Discount Code",
    "Discount Amount",
    "Refunded Amount",
    "Landing Site",
    "Referring Site",
)
MONEY = ("Subtotal", "Total", "Discount Amount", "Refunded Amount")
MAX_ROWS = 1_000_000
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S")


def _read(source: Path | IO[bytes], name: str) -> pl.DataFrame:
    try:
        data = source.read_bytes() if isinstance(source, Path) else source.read()
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False, n_rows=MAX_ROWS + 1)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        first = (str(exc).splitlines() or ["unreadable"])[0]
        raise InputError(f"not a readable CSV file: {first}", file=name) from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(
            f"not a Shopify order export: no column {missing[0]!r}",
            file=name,
            line=1,
            field=missing[0],
        )
    if frame.height > MAX_ROWS:
        raise InputError(f"more than {MAX_ROWS} rows", file=name)
    absent = [c for c in OPTIONAL if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in absent)
    blank = {
        c: pl.when(pl.col(c).str.strip_chars() == "")
        .then(None)
        .otherwise(pl.col(c).str.strip_chars())
        for c in (*REQUIRED, *OPTIONAL)
    }
    return frame.select(*(blank[c].alias(c) for c in (*REQUIRED, *OPTIONAL))).with_row_index(
        "line", offset=2
    )


def _bad(frame: pl.DataFrame, mask: pl.Expr, name: str, column: str, why: str) -> None:
    hit = frame.filter(mask)
    if hit.height:
        row = hit.row(0, named=True)
        raise InputError(
            f"{why} (got {str(row.get(column))[:60]!r})",
            file=name,
            line=row["line"],
            field=column,
            value=row.get(column),
        )


def _time(column: str) -> pl.Expr:
    text = pl.col(column).str.replace(r"(?i)\s*UTC$", " +0000")
    parsed = [
        text.str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC") for f in TIME_FORMATS
    ]
    return pl.coalesce(parsed).dt.replace_time_zone(None)


def _grouped(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    _bad(
        frame,
        pl.col("Name").is_null() & (pl.col("line") == 2),
        name,
        "Name",
        "the first row has no order name",
    )
    frame = frame.with_columns(pl.col("Name").forward_fill())
    order_columns = [c for c in (*REQUIRED, *OPTIONAL) if c != "Name"]
    first = frame.group_by("Name", maintain_order=True).agg(
        pl.col("line").first(), *(pl.col(c).drop_nulls().first() for c in order_columns)
    )
    _bad(
        first, pl.col("Created at").is_null(), name, "Created at", "the order has no creation time"
    )
    _bad(
        first,
        pl.col("Currency").is_null() | ~pl.col("Currency").str.contains(r"^[A-Za-z]{3}$"),
        name,
        "Currency",
        "a currency is 3 letters",
    )
    parsed = first.with_columns(
        ordered_at=_time("Created at"),
        **{
            f"_{c}": pl.col(c).str.replace_all(",", "").cast(pl.Float64, strict=False)
            for c in MONEY
        },
    )
    _bad(
        parsed,
        pl.col("ordered_at").is_null(),
        name,
        "Created at",
        "not a time like 2026-05-01 08:00:00 -0400",
    )
    for column in MONEY:
        _bad(
            parsed,
            pl.col(column).is_not_null() & pl.col(f"_{column}").is_null(),
            name,
            column,
            "not an amount",
        )
        _bad(parsed, pl.col(f"_{column}").abs() >= 1e12, name, column, "not an amount")
    return parsed


def _money(value: str | None) -> Decimal:
    return Decimal(value.replace(",", "")).quantize(Decimal("0.01")) if value else Decimal("0.00")


def _records(frame: pl.DataFrame) -> list[OrderRecord]:
    records = []
    for row in frame.to_dicts():  # one per order, after grouping: building what is written
        external = row["Id"] or row["Name"]
        net, discounts = _money(row["Subtotal"]), _money(row["Discount Amount"])
        refunded = _money(row["Refunded Amount"])
        codes = [c.strip().upper() for c in (row["Discount Code"] or "").split(",") if c.strip()]
        records.append(
            OrderRecord(
                external_id=external[:64],
                name=row["Name"][:64],
                ordered_at=row["ordered_at"],
                currency=row["Currency"].upper(),
                gross=net + discounts,
                discounts=discounts,
                net=net,
                total=_money(row["Total"]),
                financial_status=(row["Financial Status"] or None),
                codes=codes,
                landing_url=row["Landing Site"],
                referrer=row["Referring Site"],
                email=row["Email"],
                refunds=[
                    RefundRecord(f"csv:{external}"[:64], external[:64], row["ordered_at"], refunded)
                ]
                if refunded > 0
                else [],
            )
        )
    return records


def import_orders(
    session: Session, shop: Shop, source: Path | IO[bytes], key: str, name: str | None = None
) -> tuple[int, AttributionSummary]:
    """Import a Shopify order export into ``shop``; the number of orders and the attribution."""
    name = name or (str(source) if isinstance(source, Path) else "orders.csv")
    frame = _grouped(_read(source, name), name)
    ids = save_orders(session, shop, _records(frame), key, source="csv")
    return frame.height, attribute(session, shop.workspace_id, ids)
