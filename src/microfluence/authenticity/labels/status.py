"""What the labels say: the model's measured accuracy, the workspace's re-estimated rates, and
how its fake-share estimates changed — what the page, the API and ``labels status`` show.

For every account with a stored sample: the fake share estimated at the model's own operating
point (*before*) and at the workspace's calibrated one (*after*), both by adjusted
classify-and-count (``followers.fake_share``), and, as a check independent of the model, the
share of fakes among that account's labelled followers with its Wilson interval. The same for
the workspace's followers pooled (every stored sample as one).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from microfluence.authenticity.followers.fake_share import FakeShareEstimate
from microfluence.authenticity.followers.model import (
    FollowerModel,
    OperatingPoint,
    load_shipped_model,
)
from microfluence.authenticity.labels.accuracy import wilson
from microfluence.authenticity.labels.calibration import (
    Calibration,
    calibrate,
    confusion_of,
    scored_labels,
)
from microfluence.authenticity.labels.tables import FAKE, REAL, UNSURE
from microfluence.authenticity.signals.fake_share import sample_estimate, stored_probabilities
from microfluence.kernel.store.tables import Account, Follower


@dataclass(frozen=True)
class Shift:
    """One fake-share estimate before and after calibration."""

    before: FakeShareEstimate
    after: FakeShareEstimate

    def as_dict(self) -> dict[str, Any]:
        keep = ("share", "low", "high", "n", "flagged")
        return {
            "before": {k: getattr(self.before, k) for k in keep},
            "after": {k: getattr(self.after, k) for k in keep},
            "change": self.after.share - self.before.share,
        }


@dataclass(frozen=True)
class AccountLabels:
    """One account's sample: its estimate before and after, and its labels."""

    account_id: int
    platform: str
    handle: str
    sample: int
    fake: int
    real: int
    unsure: int
    labelled_share: float | None  # fakes among its fake-or-real labels
    labelled_low: float | None
    labelled_high: float | None
    estimate: Shift

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "estimate"}
        return out | {"estimate": self.estimate.as_dict()}


@dataclass(frozen=True)
class LabelStatus:
    calibration: Calibration
    workspace: Shift | None  # None while the workspace holds no follower sample
    accounts: list[AccountLabels] = field(default_factory=list)
    followers: int = 0  # in every stored sample
    labelled: int = 0  # with any label, unsure included
    samples: int = 0  # accounts with a stored sample (``accounts`` may hold fewer)

    def as_dict(self) -> dict[str, Any]:
        return {
            "followers": self.followers,
            "labelled": self.labelled,
            "samples": self.samples,
            "calibration": self.calibration.as_dict(),
            "workspace": self.workspace.as_dict() if self.workspace else None,
            "accounts": [a.as_dict() for a in self.accounts],
        }


def _shift(sample: pl.DataFrame, model: FollowerModel, calibrated: OperatingPoint) -> Shift:
    """The estimate as the workspace showed it before its labels (the model's rates with their
    shift and the domain check, as every audit makes it), and with its own rates."""
    return Shift(
        before=sample_estimate(sample, model),
        after=sample_estimate(sample, model, calibrated),
    )


def _per_account(
    session: Session, workspace_id: int, probabilities: pl.DataFrame, scored: pl.DataFrame
) -> pl.DataFrame:
    """One row per sample: account_id, platform, handle, sample size, labels of each kind; the
    most labelled first (then by platform and handle)."""
    counts = scored.group_by("account_id").agg(
        (pl.col("label") == kind).sum().cast(pl.Int64).alias(kind) for kind in (FAKE, REAL, UNSURE)
    )
    names = pl.DataFrame(
        [
            tuple(r)
            for r in session.execute(
                sa.select(Account.id, Account.platform, Account.handle).where(
                    Account.workspace_id == workspace_id
                )
            )
        ],
        schema={"account_id": pl.Int64, "platform": pl.String, "handle": pl.String},
        orient="row",
    )
    return (
        probabilities.group_by("account_id")
        .agg(pl.len().cast(pl.Int64).alias("sample"))
        .join(names, on="account_id")
        .join(counts, on="account_id", how="left")
        .with_columns(pl.col(FAKE, REAL, UNSURE).fill_null(0))
        .sort(
            pl.sum_horizontal(FAKE, REAL, UNSURE),
            "platform",
            "handle",
            descending=[True, False, False],
        )
    )


# Scored samples by (store, workspace, model, what the samples hold): a page view re-scores
# nothing while no follower was imported, changed or deleted. Small: a few workspaces.
_CACHE: OrderedDict[tuple[object, ...], pl.DataFrame] = OrderedDict()
_CACHE_SIZE = 4
_lock = threading.Lock()


def _fingerprint(session: Session, workspace_id: int) -> tuple[object, ...]:
    table = Follower.__table__
    return tuple(
        session.execute(
            sa.select(
                sa.func.count(),
                sa.func.max(table.c.id),
                sa.func.max(table.c.imported_at),
                sa.func.max(table.c.sampled_at),
            ).where(table.c.workspace_id == workspace_id)
        ).one()
    )


def sample_probabilities(session: Session, workspace_id: int, model: FollowerModel) -> pl.DataFrame:
    """(account_id, fake_probability) of every stored follower of the workspace, scored once
    for as long as the samples stay as they are."""
    bind = session.get_bind()
    key = (str(bind.url), workspace_id, id(model), _fingerprint(session, workspace_id))
    with _lock:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    frame = stored_probabilities(session.connection(), workspace_id, model=model)
    with _lock:
        _CACHE[key] = frame
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return frame


def label_status(
    session: Session,
    workspace_id: int,
    *,
    model: FollowerModel | None = None,
    confidence: float = 0.95,
    accounts: int | None = None,
) -> LabelStatus:
    """The workspace's labels, calibration and fake shares before and after it; the samples'
    rows for the ``accounts`` most labelled (every one by default)."""
    model = model or load_shipped_model()
    scored = scored_labels(session, workspace_id, model)
    calibration = calibrate(confusion_of(scored), model.operating_point, confidence=confidence)
    probabilities = sample_probabilities(session, workspace_id, model)
    status_args = {"calibration": calibration, "labelled": scored.height}
    if probabilities.height == 0:
        return LabelStatus(workspace=None, **status_args)
    point = calibration.operating_point
    pooled = _shift(probabilities, model, point)
    per_account = _per_account(session, workspace_id, probabilities, scored)
    if accounts is not None:
        per_account = per_account.head(accounts)
    known = (per_account[FAKE] + per_account[REAL]).to_numpy()
    low, high = wilson(per_account[FAKE].to_numpy(), known, confidence)
    shown = probabilities.filter(pl.col("account_id").is_in(per_account["account_id"].implode()))
    by_account = shown.partition_by("account_id", as_dict=True)
    rows = []
    for index, row in enumerate(per_account.iter_rows(named=True)):
        sample = by_account[(row["account_id"],)]
        has = known[index] > 0
        rows.append(
            AccountLabels(
                account_id=row["account_id"],
                platform=row["platform"],
                handle=row["handle"],
                sample=row["sample"],
                fake=row[FAKE],
                real=row[REAL],
                unsure=row[UNSURE],
                labelled_share=row[FAKE] / known[index] if has else None,
                labelled_low=float(low[index]) if has else None,
                labelled_high=float(high[index]) if has else None,
                estimate=_shift(sample, model, point),
            )
        )
    return LabelStatus(
        workspace=pooled,
        accounts=rows,
        followers=probabilities.height,
        samples=int(probabilities["account_id"].n_unique()),
        **status_args,
    )
