"""How the niche model's figure grows with the posts an account shows.

The labelled data set (Kim et al., WWW 2020; discovery.dataset) gives one or two posts per
account; an import usually gives a dozen or more. Two measures, on the folds
:func:`discovery.evaluation.fold_rows` makes (those of ``evaluate``), the method trained on each
fold's training accounts as ``evaluate`` trains it:

* **first post only**: the test fold's two-post accounts scored on both posts and on their first
  post alone. The same accounts either way, so the difference is what one more post of the
  same account adds.
* **pooled accounts**: the test fold's accounts cut to their first post (``dataset.single_posts``),
  then ``k`` of one label
  pooled into one account (``dataset.pooled``), for each ``k`` of ``sizes``. Posts of different
  accounts agree with each other less than one account's posts do, so they tell more about the
  label: pooling overstates what ``k`` posts of one account give, and its figures are an upper
  bound. At ``k = 2`` it can be read against the first measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from microfluence.discovery.candidates import Method, Shipped
from microfluence.discovery.dataset import pooled, single_posts
from microfluence.discovery.evaluation import Scores, as_dataset_labels, fold_rows, scores_of

SIZES = (1, 2, 4, 8)


@dataclass(frozen=True)
class PostsCurve:
    both: Scores  # the two-post accounts on both posts
    first_only: Scores  # the same accounts on their first post
    pooled: dict[int, Scores]  # k → pooled accounts of k first posts each


def posts_curve(
    accounts: pl.DataFrame,
    *,
    folds: int = 5,
    seed: int = 0,
    method: Method | None = None,
    sizes: tuple[int, ...] = SIZES,
) -> PostsCurve:
    """See the module. ``accounts`` come from ``dataset.read_accounts`` (with their
    ``post_rows``); ``method`` is the shipped model unless given (it must not use embeddings)."""
    method = method or Shipped()
    truth = accounts["label"].to_numpy().astype(object)
    two = (accounts["posts"] == 2).to_numpy()
    none = np.zeros((accounts.height, 0), dtype=np.float32)
    both = np.empty(len(truth), dtype=object)
    first = np.empty(len(truth), dtype=object)
    pools: dict[int, tuple[list[str], list[str]]] = {k: ([], []) for k in sizes}
    for number, (train_rows, test_rows) in enumerate(fold_rows(accounts, folds, seed)):
        method.fit(accounts[train_rows], none[train_rows], seed)
        both[test_rows] = as_dataset_labels(method.predict(accounts[test_rows], none))
        tested_two = test_rows[two[test_rows]]
        cut = single_posts(accounts[tested_two], first_only=True)  # a row each: they have posts
        first[tested_two] = as_dataset_labels(method.predict(cut, none[: cut.height]))
        firsts = single_posts(accounts[test_rows], first_only=True)
        for k in sizes:
            frame = pooled(firsts, k, seed + number)
            guess = as_dataset_labels(method.predict(frame, none[: frame.height]))
            pools[k][0].extend(frame["label"].to_list())
            pools[k][1].extend(guess.tolist())
    return PostsCurve(
        both=scores_of(truth[two], both[two]),
        first_only=scores_of(truth[two], first[two]),
        pooled={
            k: scores_of(np.array(t, dtype=object), np.array(p, dtype=object))
            for k, (t, p) in pools.items()
        },
    )
