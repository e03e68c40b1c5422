"""A workspace's own error rates: the model's flags against the workspace's labels.

Each labelled follower (fake or real; unsure is left out) is scored by the model and flagged
when its probability reaches the operating threshold t. Against the labels that gives the
workspace's confusion counts TP, FN, FP, TN. The model's cross-validated operating point
(TPR₀, FPR₀ at t) is the prior, worth ``PRIOR_LABELS`` labels for each rate:

    TPR | labels ~ Beta(m·TPR₀ + TP, m·(1 − TPR₀) + FN)
    FPR | labels ~ Beta(m·FPR₀ + FP, m·(1 − FPR₀) + TN)

(Beta–binomial conjugacy, e.g. Gelman et al. (2013) *Bayesian Data Analysis*, 3rd ed., §2.4).
The posterior means are the workspace's rates; the posterior pseudo-counts, rounded, are the
calibrated ``OperatingPoint``'s tp, fn, fp, tn, so an interval that accounts for the rates'
own uncertainty sees how much is known. With m = 50 one label moves a rate by at most
1/51 of the way to 0 or 1; 50–200 labels outweigh the prior. docs/authenticity.md gives the
formulas and why.

The labels estimate the workspace's rates without bias only if the labelled followers are a
uniform random sample of its followers (the labelling page draws them so) and their
labellers judge them without seeing the model's verdict (the page hides it until labelled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from microfluence.authenticity.followers.audit import STORED_COLUMNS, score_followers
from microfluence.authenticity.followers.model import (
    FollowerModel,
    OperatingPoint,
    load_shipped_model,
)
from microfluence.authenticity.labels.accuracy import Proportion, proportion
from microfluence.authenticity.labels.tables import FAKE, REAL, UNSURE, FollowerLabel
from microfluence.kernel.store.tables import Follower

PRIOR_LABELS = 50  # the model's rates count as this many labels each
ENOUGH_LABELS = 50  # below this many fake-or-real labels the page says the prior still leads

# The stored profile columns' types (text unless named here).
STORED_TYPES = dict.fromkeys(("posts_count", "followers", "following"), pl.Int64) | dict.fromkeys(
    ("has_profile_pic", "is_private", "is_verified"), pl.Boolean
)


@dataclass(frozen=True)
class Confusion:
    """The model's flags against the workspace's labels (unsure labels left out)."""

    tp: int = 0  # labelled fake, flagged
    fn: int = 0  # labelled fake, not flagged
    fp: int = 0  # labelled real, flagged
    tn: int = 0  # labelled real, not flagged
    unsure: int = 0

    @property
    def n(self) -> int:
        return self.tp + self.fn + self.fp + self.tn


@dataclass(frozen=True)
class Rate:
    """A rate's posterior: mean and equal-tailed credible interval."""

    value: float
    low: float
    high: float
    prior: float


@dataclass(frozen=True)
class Calibration:
    """The workspace's re-estimated error rates, and the model's measured accuracy."""

    confusion: Confusion
    model_point: OperatingPoint
    operating_point: OperatingPoint  # the model's own while there is no fake/real label
    tpr: Rate
    fpr: Rate
    accuracy: dict[str, Proportion]
    prior_labels: int
    confidence: float
    notes: tuple[str, ...] = field(default=())

    @property
    def calibrated(self) -> bool:
        return self.confusion.n > 0

    def as_dict(self) -> dict[str, Any]:
        point = self.operating_point
        return {
            "labels": self.confusion.n,
            "unsure": self.confusion.unsure,
            "confusion": {
                "tp": self.confusion.tp,
                "fn": self.confusion.fn,
                "fp": self.confusion.fp,
                "tn": self.confusion.tn,
            },
            "calibrated": self.calibrated,
            "prior_labels": self.prior_labels,
            "confidence": self.confidence,
            "threshold": point.threshold,
            "model": {"tpr": self.model_point.tpr, "fpr": self.model_point.fpr},
            "tpr": self.tpr.__dict__,
            "fpr": self.fpr.__dict__,
            "operating_point": point.__dict__,
            "accuracy": {k: v.as_dict() for k, v in self.accuracy.items()},
            "notes": list(self.notes),
        }


def labelled_followers(conn: Connection | Session, workspace_id: int) -> pl.DataFrame:
    """(follower_id, account_id, label, profile columns) of every labelled follower."""
    label = FollowerLabel.__table__
    follower = Follower.__table__
    query = (
        sa.select(
            follower.c.id.label("follower_id"),
            follower.c.account_id,
            label.c.label,
            *(follower.c[c] for c in STORED_COLUMNS),
        )
        .select_from(label)
        .join(follower, follower.c.id == label.c.follower_id)
        .where(label.c.workspace_id == workspace_id, follower.c.workspace_id == workspace_id)
        .order_by(follower.c.id)
    )
    schema = {"follower_id": pl.Int64, "account_id": pl.Int64, "label": pl.String} | {
        c: STORED_TYPES.get(c, pl.String) for c in STORED_COLUMNS
    }
    rows = [tuple(r) for r in conn.execute(query)]
    return pl.DataFrame(rows, schema=schema, orient="row")


def scored_labels(
    conn: Connection | Session, workspace_id: int, model: FollowerModel
) -> pl.DataFrame:
    """(follower_id, account_id, label, fake_probability, flagged) of every labelled follower."""
    frame = labelled_followers(conn, workspace_id)
    if frame.height == 0:
        return frame.select("follower_id", "account_id", "label").with_columns(
            pl.lit(None, dtype=pl.Float64).alias("fake_probability"),
            pl.lit(None, dtype=pl.Boolean).alias("flagged"),
        )
    scored = score_followers(frame, model=model)
    return scored.select(
        "follower_id",
        "account_id",
        "label",
        "fake_probability",
        (pl.col("fake_probability") >= model.threshold).alias("flagged"),
    )


def confusion_of(scored: pl.DataFrame) -> Confusion:
    """TP, FN, FP, TN and the unsure count of scored labels (vectorised)."""
    label = scored["label"].to_numpy()
    flagged = scored["flagged"].fill_null(False).to_numpy().astype(bool)
    fake, real = label == FAKE, label == REAL
    return Confusion(
        tp=int((fake & flagged).sum()),
        fn=int((fake & ~flagged).sum()),
        fp=int((real & flagged).sum()),
        tn=int((real & ~flagged).sum()),
        unsure=int((label == UNSURE).sum()),
    )


def _posterior(prior: float, hits: int, misses: int, m: int, confidence: float) -> Rate:
    from scipy.stats import beta  # scipy.stats costs about 0.9 s to import: only when used

    a, b = m * prior + hits, m * (1 - prior) + misses
    tail = (1 - confidence) / 2
    # A model whose rate is exactly 0 or 1, with no label against it, is a point mass there.
    low, high = beta.ppf([tail, 1 - tail], max(a, 1e-12), max(b, 1e-12))
    return Rate(value=float(a / (a + b)), low=float(low), high=float(high), prior=prior)


def calibrate(
    confusion: Confusion,
    model_point: OperatingPoint,
    *,
    prior_labels: int = PRIOR_LABELS,
    confidence: float = 0.95,
) -> Calibration:
    """The workspace's rates from its confusion counts, with the model's point as the prior."""
    m = prior_labels
    tpr = _posterior(model_point.tpr, confusion.tp, confusion.fn, m, confidence)
    fpr = _posterior(model_point.fpr, confusion.fp, confusion.tn, m, confidence)
    point = model_point
    if confusion.n:
        point = OperatingPoint(
            threshold=model_point.threshold,
            tpr=tpr.value,
            fpr=fpr.value,
            tp=round(m * model_point.tpr + confusion.tp),
            fn=round(m * (1 - model_point.tpr) + confusion.fn),
            fp=round(m * model_point.fpr + confusion.fp),
            tn=round(m * (1 - model_point.fpr) + confusion.tn),
        )
    c = confusion
    accuracy = {
        "sensitivity": proportion(c.tp, c.tp + c.fn, confidence),
        "specificity": proportion(c.tn, c.tn + c.fp, confidence),
        "precision": proportion(c.tp, c.tp + c.fp, confidence),
        "accuracy": proportion(c.tp + c.tn, c.n, confidence),
    }
    return Calibration(
        confusion=c,
        model_point=model_point,
        operating_point=point,
        tpr=tpr,
        fpr=fpr,
        accuracy=accuracy,
        prior_labels=m,
        confidence=confidence,
        notes=_notes(c),
    )


def _notes(c: Confusion) -> tuple[str, ...]:
    notes = []
    if c.n == 0:
        notes.append("no fake or real label yet: the model's own rates are used")
    elif c.n < ENOUGH_LABELS:
        notes.append(
            f"{c.n} fake-or-real labels: the model's rates (worth {PRIOR_LABELS} labels each) "
            f"still weigh more; {ENOUGH_LABELS}–200 labels re-estimate them"
        )
    if c.n and c.tp + c.fn == 0:
        notes.append("no follower labelled fake yet: the true-positive rate is the model's")
    if c.n and c.fp + c.tn == 0:
        notes.append("no follower labelled real yet: the false-positive rate is the model's")
    return tuple(notes)


def workspace_calibration(
    conn: Connection | Session,
    workspace_id: int,
    *,
    model: FollowerModel | None = None,
    confidence: float = 0.95,
) -> Calibration:
    """The workspace's calibration from every label it holds."""
    model = model or load_shipped_model()
    scored = scored_labels(conn, workspace_id, model)
    return calibrate(confusion_of(scored), model.operating_point, confidence=confidence)


def workspace_operating_point(
    conn: Connection | Session, workspace_id: int, model: FollowerModel | None = None
) -> OperatingPoint:
    """The operating point every fake-share estimate of the workspace uses: the model's,
    re-estimated from the workspace's labels when it has any."""
    return workspace_calibration(conn, workspace_id, model=model).operating_point
