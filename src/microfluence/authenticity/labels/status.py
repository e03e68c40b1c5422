"""What the labels say: the model's measured accuracy, the workspace's re-estimated rates, and
how its fake-share estimates changed — what the page, the API and ``labels status`` show.

For every account with a stored sample: the fake share estimated at the model's own operating
point (*before*) and at the workspace's calibrated one (*after*), both by adjusted
classify-and-count (``followers.fake_share``), and, as a check independent of the model, the
share of fakes among that account's labelled followers with its Wilson interval. The same for
the workspace's followers pooled (every stored sample as one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from microfluence.authenticity.followers.fake_share import FakeShareEstimate, estimate_fake_share
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
from microfluence.authenticity.signals.fake_share import stored_probabilities
from microfluence.kernel.store.tables import Account


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "followers": self.followers,
            "labelled": self.labelled,
            "calibration": self.calibration.as_dict(),
            "workspace": self.workspace.as_dict() if self.workspace else None,
            "accounts": [a.as_dict() for a in self.accounts],
        }


def _shift(probabilities: np.ndarray, model: OperatingPoint, calibrated: OperatingPoint) -> Shift:
    return Shift(
        before=estimate_fake_share(probabilities, model),
        after=estimate_fake_share(probabilities, calibrated),
    )


def _label_counts(scored: pl.DataFrame) -> pl.DataFrame:
    return scored.group_by("account_id").agg(
        (pl.col("label") == kind).sum().cast(pl.Int64).alias(kind) for kind in (FAKE, REAL, UNSURE)
    )


def label_status(
    session: Session,
    workspace_id: int,
    *,
    model: FollowerModel | None = None,
    confidence: float = 0.95,
) -> LabelStatus:
    """The workspace's labels, calibration and fake shares before and after it."""
    model = model or load_shipped_model()
    scored = scored_labels(session, workspace_id, model)
    calibration = calibrate(confusion_of(scored), model.operating_point, confidence=confidence)
    probabilities = stored_probabilities(session.connection(), workspace_id, model=model)
    status_args = {"calibration": calibration, "labelled": scored.height}
    if probabilities.height == 0:
        return LabelStatus(workspace=None, **status_args)
    point = calibration.operating_point
    pooled = _shift(probabilities["fake_probability"].to_numpy(), model.operating_point, point)
    counts = _label_counts(scored)
    names = dict(
        (int(i), (p, h))
        for i, p, h in session.execute(
            sa.select(Account.id, Account.platform, Account.handle).where(
                Account.workspace_id == workspace_id
            )
        )
    )
    accounts = []
    for (account_id,), group in probabilities.group_by("account_id"):
        shift = _shift(group["fake_probability"].to_numpy(), model.operating_point, point)
        accounts.append((int(account_id), group.height, shift))
    per_account = (
        pl.DataFrame(
            {"account_id": [a[0] for a in accounts], "sample": [a[1] for a in accounts]},
            schema={"account_id": pl.Int64, "sample": pl.Int64},
        )
        .join(counts, on="account_id", how="left", maintain_order="left")
        .fill_null(0)
    )
    known = (per_account[FAKE] + per_account[REAL]).to_numpy()
    low, high = wilson(per_account[FAKE].to_numpy(), known, confidence)
    shares = np.divide(
        per_account[FAKE].to_numpy(), known, out=np.full(len(known), np.nan), where=known > 0
    )
    rows = []
    for index, (account_id, sample, shift) in enumerate(accounts):
        platform, handle = names[account_id]
        row = per_account.row(index, named=True)
        has = known[index] > 0
        rows.append(
            AccountLabels(
                account_id=account_id,
                platform=platform,
                handle=handle,
                sample=sample,
                fake=int(row[FAKE]),
                real=int(row[REAL]),
                unsure=int(row[UNSURE]),
                labelled_share=float(shares[index]) if has else None,
                labelled_low=float(low[index]) if has else None,
                labelled_high=float(high[index]) if has else None,
                estimate=shift,
            )
        )
    rows.sort(key=lambda a: (-(a.fake + a.real + a.unsure), a.platform, a.handle))
    return LabelStatus(
        workspace=pooled,
        accounts=rows,
        followers=probabilities.height,
        **status_args,
    )
