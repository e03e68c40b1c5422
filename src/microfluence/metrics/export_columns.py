"""The computed metrics as columns of `export creators`: one column per metric, one per scheme.

Metrics are stored long (account, metric, value); exports want them wide, so the database
pivots them (``MAX(CASE WHEN metric = … THEN value END)`` per account) rather than Python.
Tier columns are named ``tier_<scheme>`` for every scheme the last `microfluence score` stored.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy import Connection, Select

from microfluence.metrics.catalogue import METRICS
from microfluence.metrics.tables import AccountMetric, AccountTier


def _column_name(scheme: str) -> str:
    return "tier_" + re.sub(r"[^a-z0-9_]", "_", scheme.lower())


# Metric names that would clash with an export column of the account itself.
_RENAMED = {"followers": "metrics_followers"}


def metric_columns(conn: Connection, workspace_id: int) -> Select:
    """(account_id, one column per metric, metrics_as_of) for a workspace.

    ``metrics_followers`` is the follower count the last scoring saw, beside the export's own
    ``followers`` of the latest snapshot (they differ when snapshots arrived since)."""
    table = AccountMetric.__table__
    pivots = [
        sa.func.max(sa.case((table.c.metric == m.name, table.c.value))).label(
            _RENAMED.get(m.name, m.name)
        )
        for m in METRICS
    ]
    return (
        sa.select(table.c.account_id, *pivots, sa.func.max(table.c.as_of).label("metrics_as_of"))
        .where(table.c.workspace_id == workspace_id)
        .group_by(table.c.account_id)
    )


def tier_columns(conn: Connection, workspace_id: int) -> Select:
    """(account_id, tier_<scheme> for every stored scheme) for a workspace."""
    table = AccountTier.__table__
    schemes = sorted(
        conn.scalars(
            sa.select(table.c.scheme).where(table.c.workspace_id == workspace_id).distinct()
        )
    )
    pivots = [
        sa.func.max(sa.case((table.c.scheme == s, table.c.tier))).label(_column_name(s))
        for s in schemes
    ]
    return (
        sa.select(table.c.account_id, *pivots)
        .where(table.c.workspace_id == workspace_id)
        .group_by(table.c.account_id)
    )
