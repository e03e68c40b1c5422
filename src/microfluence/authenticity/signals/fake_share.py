"""The fake-follower component of the score, from the follower-sample audit.

The follower-sample audit (``followers.audit``, docs/authenticity.md "Follower-sample audit")
estimates the share ``f`` of fake followers, base-rate corrected, with a confidence interval.
Here it becomes a 0-100 component: 100 at ``f <= 10 %``, 0 at ``f >= 40 %``, linear between —
typical audiences run from a few per cent to a third fake, so 10 % is ordinary and 40 % is beyond
what an honest account accumulates. The point estimate is scored; the interval is reported.
No stored follower sample (or fewer than ``MIN_SAMPLE`` followers) → "not available". The
estimate uses the workspace's own error rates once it has labelled followers (``labels``).

As a red flag (the cap of ``quality_score``) the component reads its score at the interval's
**lower bound**: a follower sample of 80 puts a 95 % interval of about ±10 points around its
estimate, so an honest audience with 20-25 % fakes (ordinary, if high) often *estimates* at
35-40 % — which would cap the score below 60 on sampling noise alone (docs/authenticity.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from microfluence.authenticity.followers.audit import (
    STORED_COLUMNS,
    estimate_for_model,
)
from microfluence.authenticity.followers.domain import FeatureTally
from microfluence.authenticity.followers.fake_share import FakeShareEstimate, ScoreTally
from microfluence.authenticity.followers.features import FEATURES, feature_matrix
from microfluence.authenticity.followers.model import (
    FollowerModel,
    OperatingPoint,
    load_shipped_model,
)
from microfluence.authenticity.labels.calibration import workspace_operating_point
from microfluence.kernel.store.tables import Follower

MIN_SAMPLE = 20
SCORE_GOOD, SCORE_BAD = 0.10, 0.40
_CHUNK = 500

SCHEMA = {
    "account_id": pl.Int64,
    "fake_share": pl.Float64,
    "fake_share_low": pl.Float64,
    "fake_share_high": pl.Float64,
    "fake_share_sample": pl.Int64,
    "fake_share_flagged": pl.Int64,
    "fake_share_available": pl.Boolean,
    "fake_share_score": pl.Float64,
    "fake_share_flag_score": pl.Float64,
}


def fake_share_score(share: float) -> float:
    return float(100.0 * (1.0 - np.clip((share - SCORE_GOOD) / (SCORE_BAD - SCORE_GOOD), 0, 1)))


def row_from_estimate(account_id: int, estimate: FakeShareEstimate | None) -> dict[str, object]:
    available = estimate is not None and estimate.n >= MIN_SAMPLE
    return {
        "account_id": account_id,
        "fake_share": estimate.share if estimate else None,
        "fake_share_low": estimate.low if estimate else None,
        "fake_share_high": estimate.high if estimate else None,
        "fake_share_sample": estimate.n if estimate else 0,
        "fake_share_flagged": estimate.flagged if estimate else 0,
        "fake_share_available": available,
        "fake_share_score": fake_share_score(estimate.share) if available and estimate else None,
        # The red flag needs the sample to show the fake share beyond its sampling noise: the
        # cap reads the score at the interval's lower bound (the point estimate is scored).
        "fake_share_flag_score": fake_share_score(estimate.low) if available and estimate else None,
    }


def _stored_profiles(
    conn: Connection, workspace_id: int, account_ids: Sequence[int] | None
) -> pl.DataFrame:
    """(account_id, the stored profile columns) of every stored follower (of ``account_ids``)."""
    table = Follower.__table__
    query = sa.select(table.c.account_id, *(table.c[c] for c in STORED_COLUMNS)).where(
        table.c.workspace_id == workspace_id
    )
    rows: list[Sequence[object]] = []
    if account_ids is None:
        rows.extend(conn.execute(query))
    else:
        ids = sorted(set(account_ids))
        for start in range(0, len(ids), _CHUNK):
            rows.extend(
                conn.execute(query.where(table.c.account_id.in_(ids[start : start + _CHUNK])))
            )
    types = {"posts_count": pl.Int64, "followers": pl.Int64, "following": pl.Int64} | {
        c: pl.Boolean for c in ("has_profile_pic", "is_private", "is_verified")
    }
    schema = {"account_id": pl.Int64} | {c: types.get(c, pl.String) for c in STORED_COLUMNS}
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def stored_probabilities(
    conn: Connection,
    workspace_id: int,
    account_ids: Sequence[int] | None = None,
    *,
    model: FollowerModel | None = None,
) -> pl.DataFrame:
    """(account_id, fake_probability, then the model's feature columns) of every stored
    follower (of ``account_ids``): one model pass over the workspace's samples. The features
    let an estimate run the model's domain check on any subset (:func:`sample_estimate`)."""
    model = model or load_shipped_model()
    frame = _stored_profiles(conn, workspace_id, account_ids)
    features = dict.fromkeys(FEATURES, pl.Float64)
    if frame.height == 0:
        return pl.DataFrame(
            schema={"account_id": pl.Int64, "fake_probability": pl.Float64, **features}
        )
    x = feature_matrix(frame.drop("account_id"))
    scored = pl.DataFrame(
        {"account_id": frame["account_id"], "fake_probability": model.predict_proba(x)}
    )
    return scored.hstack(pl.DataFrame(x, schema=features))


def sample_estimate(
    sample: pl.DataFrame,
    model: FollowerModel,
    operating_point: OperatingPoint | None = None,
) -> FakeShareEstimate:
    """The fake share of rows of :func:`stored_probabilities` (one sample, or several pooled),
    as the audit makes it: the model's rates with their shift and its domain check, or the
    ``operating_point`` given (a workspace's own rates)."""
    x = sample.select(FEATURES).to_numpy()
    return estimate_for_model(
        ScoreTally.of(sample["fake_probability"].to_numpy(), model.threshold),
        FeatureTally.of(x),
        model,
        operating_point=operating_point,
    )


def stored_fake_shares(
    conn: Connection,
    workspace_id: int,
    account_ids: Sequence[int] | None = None,
    *,
    model: FollowerModel | None = None,
    operating_point: OperatingPoint | None = None,
) -> pl.DataFrame:
    """The component for every account with a stored follower sample (one model pass).

    The estimates use ``operating_point``; by default the workspace's own, re-estimated from
    its labels (:mod:`microfluence.authenticity.labels.calibration`) when it has any."""
    model = model or load_shipped_model()
    if operating_point is None:
        operating_point = workspace_operating_point(conn, workspace_id, model)
    scored = stored_probabilities(conn, workspace_id, account_ids, model=model)
    if scored.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    # One estimate per account (a loop over accounts, each a vectorised histogram of its sample,
    # with the domain check on its features as the audit makes it).
    out = [
        row_from_estimate(int(account_id), sample_estimate(sample, model, operating_point))
        for (account_id,), sample in scored.partition_by("account_id", as_dict=True).items()
    ]
    return pl.DataFrame(out, schema=SCHEMA).sort("account_id")
