"""How well the Audience Quality Score finds the planted inauthentic accounts of a workspace.

The demo generator (``microfluence demo``) plants inauthentic accounts — bought followers,
engagement pods, bot comments — and records the truth in ``evaluation_labels``. Here every
labelled account of the workspace is scored in bulk (the same :func:`signal_table` and
:func:`score_accounts` as the vetting report), and "score below the threshold" is compared with
the labels: an account is *positive* when it has any label other than ``authentic``.

Reported: precision, recall, F1 and the false-positive rate at the threshold, ROC AUC of
``100 − score`` (threshold-free), recall per planted kind, and the same figures at other
thresholds so the trade-off is visible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa

from microfluence.authenticity.evaluation.classification import Confusion, confusion, roc_auc
from microfluence.authenticity.signals.fake_share import stored_fake_shares
from microfluence.authenticity.signals.frames import load_account_frames
from microfluence.authenticity.vetting.score import COMPONENTS, ScoreSettings
from microfluence.authenticity.vetting.scoring import (
    engagement_cohort,
    score_frames,
    scoring_context,
)
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import EvaluationLabel
from microfluence.kernel.workspaces import get_workspace

AUTHENTIC = "authentic"
SWEEP = (40.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 80.0)
Progress = Callable[[str], None]


# The result at one threshold (the sweep reports several).
ThresholdResult = Confusion


@dataclass
class VettingEvaluation:
    workspace: str
    accounts: int
    inauthentic: int
    threshold: float
    at_threshold: ThresholdResult
    roc_auc: float | None
    recall_by_label: dict[str, float]
    accounts_by_label: dict[str, int]
    component_availability: dict[str, float]
    mean_score: dict[str, float]
    sweep: list[ThresholdResult] = field(default_factory=list)
    cohort_source: str = "computed"  # or "stored metrics" (see score_workspace)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_workspace(
    store: Store, workspace: str, *, progress: Progress | None = None
) -> pl.DataFrame:
    """Every account of ``workspace`` with every signal and its Audience Quality Score."""
    say = progress or (lambda _message: None)
    with store.session() as session:
        ws = get_workspace(session, workspace)
        context = scoring_context(session, workspace, ws.settings)
        conn = session.connection()
        say("loading accounts, snapshots, posts and comments")
        frames = load_account_frames(conn, ws.id)
        say("scoring follower samples")
        fake = stored_fake_shares(conn, ws.id)
        say("computing the signals")
        # The cohort a single report uses: the stored metrics when `microfluence score` has run.
        cohort = engagement_cohort(conn, ws.id, context.tier_scheme, population=frames)
    return score_frames(frames, cohort, fake, context).with_columns(
        pl.lit(cohort.source).alias("cohort_source")
    )


def evaluate_vetting(
    store: Store,
    workspace: str,
    *,
    threshold: float | None = None,
    sweep: Sequence[float] = SWEEP,
    progress: Progress | None = None,
) -> VettingEvaluation:
    """Precision and recall of "score below the threshold" against the planted labels."""
    with store.session() as session:
        ws = get_workspace(session, workspace)
        threshold = (
            ScoreSettings.from_settings(ws.settings).threshold if threshold is None else threshold
        )
        t = EvaluationLabel.__table__
        labels = pl.DataFrame(
            [
                tuple(r)
                for r in session.execute(
                    sa.select(t.c.account_id, t.c.label).where(t.c.workspace_id == ws.id)
                )
            ],
            schema={"account_id": pl.Int64, "label": pl.String},
            orient="row",
        )
    if labels.height == 0:
        raise InputError(
            f"workspace {workspace!r} has no evaluation labels: build it with `microfluence demo`",
            field="workspace",
        )
    scores = score_workspace(store, workspace, progress=progress)
    truth = labels.group_by("account_id").agg(
        (pl.col("label") != AUTHENTIC).any().alias("inauthentic"),
        pl.col("label").filter(pl.col("label") != AUTHENTIC).alias("kinds"),
    )
    scored = truth.join(scores, on="account_id", how="inner").filter(
        pl.col("quality_score").is_not_null()
    )
    if scored.height == 0:
        raise InputError("no labelled account has enough data for a score", field="workspace")
    y = scored["inauthentic"].to_numpy().astype(bool)
    score = scored["quality_score"].to_numpy()
    auc = roc_auc(y, 100.0 - score) if 0 < y.sum() < y.size else None
    flagged = scored.with_columns((pl.col("quality_score") < threshold).alias("flagged"))
    by_label = (
        flagged.explode("kinds")
        .filter(pl.col("kinds").is_not_null())
        .group_by("kinds")
        .agg(pl.col("flagged").mean().alias("recall"), pl.len().alias("n"))
        .sort("kinds")
    )
    availability = {
        spec.key: float(scored[spec.available_column].mean())
        for spec in COMPONENTS
        if spec.available_column in scored.columns
    }
    return VettingEvaluation(
        workspace=workspace,
        accounts=scored.height,
        inauthentic=int(y.sum()),
        threshold=threshold,
        at_threshold=confusion(y, score < threshold, threshold),
        roc_auc=auc,
        recall_by_label=dict(zip(by_label["kinds"], by_label["recall"], strict=True)),
        accounts_by_label=dict(zip(by_label["kinds"], by_label["n"], strict=True)),
        component_availability=availability,
        mean_score={
            "inauthentic": float(score[y].mean()) if y.any() else float("nan"),
            "authentic": float(score[~y].mean()) if (~y).any() else float("nan"),
        },
        sweep=[confusion(y, score < s, s) for s in sweep],
        cohort_source=str(scores["cohort_source"][0]) if scores.height else "computed",
    )
