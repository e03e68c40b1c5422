"""The next round's budget (docs/planning.md, "The next round"): Thompson sampling over the
creators' ROI posteriors, a share kept for creators not tested yet, and longer bundles for the
clear winners.

Thompson sampling (Thompson 1933) in its probability-matching form (Scott 2010; Chapelle & Li
2011): each arm — a tested creator with a fixed cost, and "a new creator" drawn from the
priors — gets the share of the budget equal to the posterior probability that it has the
highest ROI, estimated as the share of joint draws in which it wins. The new creators' arm
gets at least ``explore`` of the budget, so that the pool of candidates keeps being tested
even when a few proven creators dominate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from microfluence.kernel.errors import InputError
from microfluence.planning.learn_posteriors import ABOVE, Fit

DEFAULT_EXPLORE = 0.2
# A tested creator gets at most this many times what they were paid in the tested round: one
# creator's audience does not absorb a budget many times larger (docs/planning.md).
DEFAULT_MAX_MULTIPLE = 3.0
BUNDLE, REPEAT, PAUSE = "bundle", "repeat", "pause"


@dataclass(frozen=True)
class Split:
    """``creators``: per arm (account) its win probability, share, amount, the posts that
    amount buys at its past price per post, and the recommendation; ``new_*``: the share kept
    for creators not tested yet and how many of them it pays for at the median fee."""

    budget: float
    explore: float
    max_multiple: float
    creators: pl.DataFrame
    new_share: float
    new_amount: float
    new_p_best: float | None
    new_creators: int
    median_fee: float | None


def check_split_inputs(budget: float | None, explore: float, max_multiple: float) -> None:
    if budget is not None and not (np.isfinite(budget) and 0 <= budget <= 1e12):
        raise InputError("the budget must be a number from 0 to 10¹²", field="budget")
    if not (np.isfinite(explore) and 0 <= explore <= 1):
        raise InputError("the exploration share must be between 0 and 1", field="explore")
    if not (np.isfinite(max_multiple) and 0 < max_multiple <= 1000):
        raise InputError("the most a creator may get must be 0 to 1000 times", field="max_multiple")


def win_probabilities(
    roi_draws: np.ndarray, new_draws: np.ndarray | None
) -> tuple[np.ndarray, float | None]:
    """Per creator (column of ``roi_draws``; NaN columns never win) and for the new creators'
    arm, the share of draws in which its ROI is the highest."""
    draws, arms = roi_draws.shape
    table = np.where(np.isnan(roi_draws), -np.inf, roi_draws)
    if new_draws is not None:
        table = np.column_stack([table, new_draws])
    if table.shape[1] == 0 or not np.isfinite(table).any():
        return np.zeros(arms), (1.0 if new_draws is not None else None)
    counts = np.bincount(np.argmax(table, axis=1), minlength=table.shape[1]) / draws
    return counts[:arms], (float(counts[arms]) if new_draws is not None else None)


def next_round(
    fit: Fit,
    budget: float | None = None,
    explore: float = DEFAULT_EXPLORE,
    max_multiple: float = DEFAULT_MAX_MULTIPLE,
) -> Split:
    """The split of ``budget`` (default: the tested creators' fixed costs, a round like the
    last) between the tested creators and new ones: the proven share in proportion to each
    creator's probability of the best ROI, none above ``max_multiple`` × their last fixed
    cost; the rest — at least ``explore``, and what capped creators cannot take — to new
    creators."""
    check_split_inputs(budget, explore, max_multiple)
    frame = fit.frame
    fee = frame["fixed_cost"].to_numpy()
    budget = float(fee.sum()) if budget is None else float(budget)
    p_best, p_new = win_probabilities(fit.roi_draws, fit.new_roi_draws)
    arms = fee > 0
    proven = float(p_best[arms].sum())
    first_new = 1.0 if proven == 0 else max(explore, p_new or 0.0)
    weight = np.where(arms, p_best, 0.0) / proven if proven > 0 else np.zeros_like(p_best)
    offer = weight * (1 - first_new) * budget
    amount = np.minimum(offer, max_multiple * fee)  # what a creator cannot take: to new ones
    shares = amount / budget if budget > 0 else np.zeros_like(amount)
    new_share = 1.0 - float(shares.sum()) if budget > 0 else first_new
    per_post = fee / np.maximum(frame["posts"].to_numpy(), 1)  # no post matched: the deal is one
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        affordable = np.floor(amount / np.where(arms, per_post, 1.0) + 1e-9)
    posts = np.where(arms, np.clip(np.nan_to_num(affordable), 0, 10**6), 0)
    winner = (frame["roi_flag"] == ABOVE).to_numpy()
    advice = np.select([(posts >= 2) & winner, posts >= 1], [BUNDLE, REPEAT], default=PAUSE)
    creators = (
        frame.select("account_id", "creator_id", "creator_name", "account")
        .with_columns(
            pl.Series("p_best", p_best),
            pl.Series("share", shares),
            pl.Series("amount", np.round(amount, 2)),
            pl.Series("price_per_post", np.where(arms, np.round(per_post, 2), np.nan)),
            pl.Series("posts", posts.astype(np.int64)),
            pl.Series("recommendation", advice),
        )
        .with_columns(pl.col("price_per_post").fill_nan(None))
    )
    median_fee = float(np.median(fee[arms])) if arms.any() else None
    new_amount = round(new_share * budget, 2)
    return Split(
        budget=budget,
        explore=explore,
        max_multiple=max_multiple,
        creators=creators.filter(pl.Series(arms)).sort("share", descending=True),
        new_share=new_share,
        new_amount=new_amount,
        new_p_best=p_new,
        new_creators=int(new_amount // median_fee) if median_fee else 0,
        median_fee=median_fee,
    )
