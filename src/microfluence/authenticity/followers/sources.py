"""The labelled sources the follower model is trained and evaluated on, on common features.

Three public sets (docs/model-card-follower.md, "Data and licences"):

* ``kaggle``: "Instagram fake spammer genuine accounts", both files (696 profiles), trained on;
* ``twitter``: Cresci et al. (2015) bought fake followers and real people (2,818), trained on;
* ``instafake``: Akyon & Kalfaoglu (2019), CC BY-NC 4.0: **evaluation only** (``trainable`` is
  False: the training script refuses to put it in the shipped model).

The model uses only the features that transfer across the sources (``INPUTS``): in every source
the direction in which they separate fakes from genuine accounts is the same. Tweets are far more
frequent than Instagram posts, so Twitter's ``log_posts`` is shifted by the difference of the
genuine accounts' median log counts (a change of unit, ``posts_shift``), computed from the
training sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from microfluence.authenticity.followers.features import FEATURES
from microfluence.authenticity.followers.labelled import (
    LabelledSet,
    read_instafake,
    read_kaggle,
    read_twitter,
)

# Why each one, and why the others are left out: docs/model-card-follower.md, "Features".
INPUTS: tuple[str, ...] = (
    "has_profile_pic",
    "log_posts",
    "log_followers",
    "log_following_to_followers",
)
TRAINABLE = ("kaggle", "twitter")
EVALUATION_ONLY = ("instafake",)
POSTS = FEATURES.index("log_posts")


@dataclass(frozen=True)
class Source:
    name: str
    data: LabelledSet
    trainable: bool
    files: tuple[Path, ...]
    posts_shift: float = 0.0  # added to log posts (Twitter's statuses to Instagram's posts)

    @property
    def x(self) -> np.ndarray:
        return self.data.x

    @property
    def y(self) -> np.ndarray:
        return self.data.y


def inputs_only(x: np.ndarray, inputs: tuple[str, ...] = INPUTS) -> np.ndarray:
    """``x`` with every feature that is not a model input set to missing."""
    keep = np.array([f in inputs for f in FEATURES])
    return np.where(keep[None, :], x, np.nan)


def genuine_median_log_posts(data: LabelledSet) -> float:
    posts = data.x[data.y == 0, POSTS]
    return float(np.nanmedian(posts))


def posts_shift(reference: LabelledSet, other: LabelledSet) -> float:
    """What to add to ``other``'s log posts for its genuine median to match ``reference``'s."""
    return genuine_median_log_posts(reference) - genuine_median_log_posts(other)


def load_sources(
    kaggle_dir: Path, twitter_dir: Path, instafake_dir: Path | None = None
) -> dict[str, Source]:
    """The sources, Twitter's posts aligned to the Kaggle set's (Instagram) scale."""
    kaggle_files = (kaggle_dir / "insta_train.csv", kaggle_dir / "insta_test.csv")
    parts = [read_kaggle(f) for f in kaggle_files]
    kaggle = LabelledSet(
        "kaggle", np.vstack([p.x for p in parts]), np.concatenate([p.y for p in parts])
    )
    raw_twitter = read_twitter(twitter_dir)
    shift = posts_shift(kaggle, raw_twitter)
    twitter = LabelledSet(
        raw_twitter.name,
        np.where(np.arange(len(FEATURES)) == POSTS, raw_twitter.x + shift, raw_twitter.x),
        raw_twitter.y,
    )
    sources = {
        "kaggle": Source("kaggle", kaggle, True, kaggle_files),
        "twitter": Source(
            "twitter",
            LabelledSet("twitter", twitter.x, twitter.y),
            True,
            (twitter_dir / "humans.csv", twitter_dir / "fake_followers.csv"),
            shift,
        ),
    }
    if instafake_dir is not None:
        instafake = read_instafake(instafake_dir)
        sources["instafake"] = Source(
            "instafake",
            LabelledSet("instafake", instafake.x, instafake.y),
            False,
            (instafake_dir / "fakeAccountData.json", instafake_dir / "realAccountData.json"),
        )
    return sources
