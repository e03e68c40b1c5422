"""The Audience Quality Score stored for search (``account_quality``): the minimum-quality
filter and the ranking's authenticity part read it instead of scoring every account per query.

``refresh_quality(store, workspace)`` scores every account of the workspace in bulk with the
same signals and weights as the vetting report (authenticity.evaluation.vetting.score_workspace)
and replaces the workspace's rows in one transaction. It runs as ``microfluence searches
refresh`` or ``POST /api/v1/search/quality``, after a ``microfluence score``
(docs/discovery.md, "Index choices").
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from sqlalchemy import delete, insert

from microfluence.authenticity.evaluation.vetting import score_workspace
from microfluence.discovery.tables import AccountQuality
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow
from microfluence.kernel.workspaces import get_workspace

_CHUNK = 5000


def refresh_quality(
    store: Store, workspace: str, *, progress: Callable[[str], None] | None = None
) -> int:
    """Recompute and store every account's Audience Quality Score; returns how many accounts."""
    scores = score_workspace(store, workspace, progress=progress)
    frame = scores.select(
        pl.col("account_id").cast(pl.Int64),
        pl.col("quality_score").cast(pl.Float64).alias("aqs"),
    )
    now = utcnow()
    with store.transaction() as session:
        ws = get_workspace(session, workspace)
        session.execute(delete(AccountQuality).where(AccountQuality.workspace_id == ws.id))
        rows = frame.with_columns(
            pl.lit(ws.id).alias("workspace_id"), pl.lit(now).alias("computed_at")
        ).to_dicts()
        for start in range(0, len(rows), _CHUNK):
            session.execute(insert(AccountQuality), rows[start : start + _CHUNK])
    return frame.height
