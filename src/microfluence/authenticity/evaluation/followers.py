"""How well the follower model separates fake from genuine profiles on a labelled file.

``evaluate_follower_model`` is the service behind `microfluence eval authenticity`: read a
labelled set in any of the public formats (docs/model-card-follower.md), score it with the
shipped model (or another model file), and measure it at the model's threshold or another.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from microfluence.authenticity.evaluation.classification import (
    ClassificationMetrics,
    classification_metrics,
)
from microfluence.authenticity.followers.labelled import read_labelled
from microfluence.authenticity.followers.model import FollowerModel, load_shipped_model


@dataclass(frozen=True)
class FollowerModelEvaluation:
    data: str  # the labelled file or folder
    name: str  # the labelled set's name
    metrics: ClassificationMetrics

    def as_dict(self) -> dict[str, Any]:
        return {"data": self.data, **self.metrics.as_dict()}


def load_follower_model(path: Path | None = None) -> FollowerModel:
    """A follower model JSON file, or the shipped model when ``path`` is None."""
    return FollowerModel.load(path) if path else load_shipped_model()


def twitter_posts_shift(model: FollowerModel) -> float:
    """The shift the model was trained with on Twitter's log statuses (0 when none)."""
    shift = model.metadata.get("sources", {}).get("twitter", {}).get("log_posts_shift")
    return float(shift or 0.0)


def evaluate_follower_model(
    data: Path,
    data_format: str | None = None,
    *,
    model: FollowerModel | None = None,
    threshold: float | None = None,
) -> FollowerModelEvaluation:
    """ROC AUC, precision, recall and F1 of ``model`` (default: the shipped one) on ``data``."""
    model = model or load_shipped_model()
    labelled = read_labelled(data, data_format, posts_shift=twitter_posts_shift(model))
    probabilities = model.predict_proba(labelled.x)
    cut = model.threshold if threshold is None else threshold
    metrics = classification_metrics(labelled.y, probabilities, cut)
    return FollowerModelEvaluation(data=str(data), name=labelled.name, metrics=metrics)
