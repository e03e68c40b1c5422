"""Writing attribution back: the changed orders' new values go into a temporary table in one
bulk insert, then one ``UPDATE orders … FROM`` that table sets them — on SQLite (3.33+) and
PostgreSQL alike. Orders whose attribution did not change are not written at all, so running
attribution again after a webhook touches only what moved."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from microfluence.commerce.tables import Order
from microfluence.kernel.store.tables import utcnow

CHUNK = 5_000

_metadata = sa.MetaData()
SCRATCH = sa.Table(
    "mf_attribution_scratch",
    _metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("method", sa.String(10)),
    sa.Column("creator_id", sa.Integer),
    sa.Column("deal_id", sa.Integer),
    sa.Column("campaign_id", sa.Integer),
    sa.Column("code_id", sa.Integer),
    sa.Column("link_id", sa.Integer),
    sa.Column("click_id", sa.BigInteger),
    sa.Column("leak", sa.Boolean),
    sa.Column("leak_reason", sa.String(300)),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
COLUMNS = [c.name for c in SCRATCH.columns if c.name != "id"]


def write_changes(session: Session, changes: pl.DataFrame) -> int:
    """Set the attribution columns of the orders in ``changes`` (``oid`` and the columns)."""
    if changes.is_empty():
        return 0
    connection = session.connection()
    SCRATCH.create(connection, checkfirst=True)
    try:
        connection.execute(SCRATCH.delete())
        rows = changes.rename({"oid": "id"}).to_dicts()
        for start in range(0, len(rows), CHUNK):
            connection.execute(sa.insert(SCRATCH), rows[start : start + CHUNK])
        connection.execute(
            sa.update(Order)
            .where(Order.id == SCRATCH.c.id)
            .values(attributed_at=utcnow(), **{c: SCRATCH.c[c] for c in COLUMNS})
        )
    finally:
        SCRATCH.drop(connection, checkfirst=True)
    return len(rows)
