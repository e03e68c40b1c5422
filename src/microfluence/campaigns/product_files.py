"""The products catalogue from a CSV file: ``sku,name,value,currency,description`` (a header
row; ``sku``, ``name`` and ``value`` required, ``currency`` USD when blank). The file is checked
whole first (vectorised): a bad row is named by its line (the header is line 1) and field, and
nothing is written. A SKU already in the catalogue is updated (and offered again), a new one
added — the whole file in one transaction."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO

import polars as pl
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from microfluence.campaigns.products import PRODUCT_NAME_MAX, SKU, SKU_HINT
from microfluence.campaigns.tables import Product
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import utcnow

COLUMNS = ("sku", "name", "value", "currency", "description")
REQUIRED = ("sku", "name", "value")
MAX_ROWS = 50_000
DESCRIPTION_MAX = 20_000


@dataclass(frozen=True)
class ProductImport:
    added: int
    updated: int


def _read(source: Path | IO[bytes] | bytes, name: str) -> pl.DataFrame:
    try:
        if isinstance(source, bytes):
            data = source
        else:
            data = source.read_bytes() if isinstance(source, Path) else source.read()
        frame = pl.read_csv(
            io.BytesIO(data), infer_schema=False, n_rows=MAX_ROWS + 1, truncate_ragged_lines=False
        )
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        first = (str(exc).splitlines() or ["unreadable"])[0]
        raise InputError(f"not a readable CSV file: {first}", file=name) from None
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    for column in REQUIRED:
        if column not in frame.columns:
            raise InputError(f"the file has no {column!r} column", file=name, line=1, field=column)
    if frame.height > MAX_ROWS:
        raise InputError(f"more than {MAX_ROWS} products in one file", file=name)
    missing = [c for c in COLUMNS if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    return frame.select(pl.col(c).str.strip_chars() for c in COLUMNS).with_row_index(
        "line", offset=2
    )


def _first_bad(frame: pl.DataFrame, bad: pl.Expr, name: str, field: str, why: str) -> None:
    hit = frame.filter(bad.fill_null(True))
    if hit.height:
        row = hit.row(0, named=True)
        value = row.get(field)
        raise InputError(
            f"{why} (got {str(value)[:60]!r}; {hit.height} bad row(s) in all)",
            file=name,
            line=row["line"],
            field=field,
            value=value,
        )


MONEY = r"^\d{1,12}(\.\d{1,2})?$"
CONTROL = r"[\x00-\x1f\x7f]"


def _checked(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    frame = frame.with_columns(
        currency=pl.col("currency").fill_null("").str.to_uppercase().replace("", "USD"),
        value=pl.col("value").fill_null("").str.replace_all(",", ""),
    )
    checks = [
        (~pl.col("sku").fill_null("").str.contains(SKU.pattern), "sku", SKU_HINT),
        (~pl.col("sku").is_first_distinct(), "sku", "the SKU appears twice in the file"),
        (pl.col("name").fill_null("") == "", "name", "a product needs a name"),
        (
            (pl.col("name").str.len_chars() > PRODUCT_NAME_MAX)
            | pl.col("name").str.contains(CONTROL),
            "name",
            f"at most {PRODUCT_NAME_MAX} characters, without control characters",
        ),
        (
            ~pl.col("value").str.contains(MONEY),
            "value",
            "an amount ≥ 0 with at most two decimal places",
        ),
        (~pl.col("currency").str.contains(r"^[A-Z]{3}$"), "currency", "an ISO 4217 code (EUR)"),
        (
            pl.col("description").fill_null("").str.contains("\x00")
            | (pl.col("description").fill_null("").str.len_chars() > DESCRIPTION_MAX),
            "description",
            f"at most {DESCRIPTION_MAX} characters, without NUL",
        ),
    ]
    for bad, field, why in checks:
        _first_bad(frame, bad, name, field, why)
    return frame


def import_products(
    session: Session, workspace_id: int, source: Path | IO[bytes] | bytes, name: str
) -> ProductImport:
    """Add or update the catalogue from the CSV ``source`` (``name`` names it in errors)."""
    frame = _checked(_read(source, name), name)
    skus = frame["sku"].to_list()
    known = dict(
        session.execute(
            select(Product.sku, Product.id).where(
                Product.workspace_id == workspace_id, Product.sku.in_(skus)
            )
        ).all()
    )
    now = utcnow()
    # Checked above: every value is an amount; Decimal keeps it exact.
    rows = frame.with_columns(
        pl.col("description").replace("", None), new=~pl.col("sku").is_in(list(known))
    ).to_dicts()
    new = [
        {
            "workspace_id": workspace_id,
            "sku": r["sku"],
            "name": r["name"],
            "value": Decimal(r["value"]),
            "currency": r["currency"],
            "description": r["description"],
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        for r in rows
        if r["new"]
    ]
    old = [
        {
            "b_id": known[r["sku"]],
            "b_name": r["name"],
            "b_value": Decimal(r["value"]),
            "b_currency": r["currency"],
            "b_description": r["description"],
        }
        for r in rows
        if not r["new"]
    ]
    if new:
        session.execute(insert(Product), new)
    if old:
        table = Product.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                name=bindparam("b_name"),
                value=bindparam("b_value"),
                currency=bindparam("b_currency"),
                description=bindparam("b_description"),
                active=True,
                updated_at=now,
            ),
            old,
        )
    return ProductImport(added=len(new), updated=len(old))
