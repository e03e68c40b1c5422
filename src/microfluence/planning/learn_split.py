"""The next round's budget (docs/planning.md, "The next round"): Thompson sampling over the
creators' ROI posteriors, a share kept for creators not tested yet, and longer bundles for the
clear winners.

Thompson sampling (Thompson 1933; Scott 2010; Chapelle & Li 2011), for a budget spread over
arms that each absorb only so much: the arms are the tested creators with a fixed cost (each
taking at most ``max_multiple`` × what it was paid) and "new creators" (ROI drawn from the
priors; as many as the budget pays for). ``explore`` of the budget is kept for new creators
first. Then, in each joint posterior draw, the rest fills the arms in the order of their drawn
ROI, each up to its cap; an arm's amount is its mean over the draws. With no caps this is
probability matching (an arm's share is its probability of the best ROI); with caps, a clear
winner is filled to capacity and the next best take the rest.
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
        raise InputError(
            "the most a creator may get must be above 0 and at most 1000 times what they were paid",
            field="max_multiple",
        )


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


def batch_fill(
    roi_draws: np.ndarray, new_draws: np.ndarray | None, caps: np.ndarray, budget: float
) -> tuple[np.ndarray, float]:
    """Mean over draws of what each tested creator (column of ``roi_draws``, up to its cap)
    and the new creators (no cap; last) get when ``budget`` fills the arms in the order of the
    draw's ROI. Arms without a draw (NaN) or a cap rank last."""
    draws, arms = roi_draws.shape
    value = np.where(np.isnan(roi_draws) | (caps <= 0), -np.inf, roi_draws)
    new = new_draws if new_draws is not None else np.full(draws, -np.inf)
    value = np.column_stack([value, new])
    cap = np.append(np.maximum(caps, 0.0), np.inf)
    order = np.argsort(-value, axis=1, kind="stable")
    ranked_caps = cap[order]
    # what the better arms took first (an exclusive running sum: no ∞ − ∞ after the new arm)
    before = np.concatenate([np.zeros((draws, 1)), np.cumsum(ranked_caps, axis=1)[:, :-1]], axis=1)
    given = np.empty_like(value)
    with np.errstate(invalid="ignore"):
        np.put_along_axis(given, order, np.clip(budget - before, 0.0, ranked_caps), axis=1)
    mean = np.nan_to_num(given).mean(axis=0)
    return mean[:arms], float(mean[arms])


def next_round(
    fit: Fit,
    budget: float | None = None,
    explore: float = DEFAULT_EXPLORE,
    max_multiple: float = DEFAULT_MAX_MULTIPLE,
) -> Split:
    """The split of ``budget`` (default: the tested creators' fixed costs, a round like the
    last) between the tested creators and new ones (:func:`batch_fill` after ``explore`` of it
    is kept for new creators), each tested creator at most ``max_multiple`` × their last fixed
    cost."""
    check_split_inputs(budget, explore, max_multiple)
    frame = fit.frame
    fee = frame["fixed_cost"].to_numpy()
    budget = float(fee.sum()) if budget is None else float(budget)
    p_best, p_new = win_probabilities(fit.roi_draws, fit.new_roi_draws)
    arms = fee > 0
    amount, _ = batch_fill(
        fit.roi_draws,
        fit.new_roi_draws,
        np.where(arms, max_multiple * fee, 0.0),
        (1 - explore) * budget,
    )
    shares = amount / budget if budget > 0 else np.zeros_like(amount)
    new_share = 1.0 - float(shares.sum()) if budget > 0 else 1.0
    per_post = fee / np.maximum(frame["posts"].to_numpy(), 1)  # no post matched: the deal is one
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        affordable = np.floor(amount / np.where(arms, per_post, 1.0) + 1e-9)
    posts = np.where(arms, np.clip(np.nan_to_num(affordable), 0, MAX_COUNT), 0)
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
        new_creators=_how_many(new_amount, median_fee),
        median_fee=median_fee,
    )


MAX_COUNT = 10**6  # posts or creators a split may advise: the same cap as the posts above


def _how_many(amount: float, price: float | None) -> int:
    """How many of ``price`` fit in ``amount``, at most ``MAX_COUNT``: a fee of a tiny fraction
    of a cent would make the quotient infinite (found by hypothesis)."""
    if not price or price <= 0:
        return 0
    return int(min(amount // price, MAX_COUNT))
