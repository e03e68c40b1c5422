"""The leave-one-source-out table of the follower model, re-run from the public files.

``evaluate_model_sources`` is the service behind `microfluence eval sources`: it reads the
sources (``followers.sources``), trains the model's recipe (the candidate the model file names)
as the training script does, and returns the in-domain and left-out rows of the model card.
"""

from __future__ import annotations

from pathlib import Path

from microfluence.authenticity.followers.loso import Log, SourceEvaluation, evaluate_sources
from microfluence.authenticity.followers.model import FollowerModel, load_shipped_model
from microfluence.authenticity.followers.recipe import CANDIDATES
from microfluence.authenticity.followers.sources import load_sources
from microfluence.kernel.errors import InputError


def evaluate_model_sources(
    kaggle: Path,
    twitter: Path,
    instafake: Path | None = None,
    *,
    model: FollowerModel | None = None,
    log: Log | None = None,
) -> list[SourceEvaluation]:
    """In-domain and leave-one-source-out rows for each source, with the model's recipe."""
    model = model or load_shipped_model()
    chosen = model.metadata.get("selection", {}).get("chosen")
    candidate = next((c for c in CANDIDATES if c.name == chosen), None)
    if candidate is None:
        raise InputError(f"the model file names no known training candidate ({chosen!r})")
    for path in (kaggle, twitter, instafake):
        if path is not None and not path.is_dir():
            raise InputError("not a folder", file=str(path))
    return evaluate_sources(candidate, load_sources(kaggle, twitter, instafake), log=log)
