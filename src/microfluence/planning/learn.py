"""Test-and-learn (docs/planning.md, "Test-and-learn"): which tested creators performed, with
honest uncertainty, and where the next round's budget should go.

* :func:`creator_posteriors` — per account of a tested creator, the posteriors of conversion
  rate, orders per click, order value, revenue per click, clicks per post and ROI (means, 95 %
  intervals, parameters) and the flags: the frame the planner consumes.
* :func:`learn_report` — the same ranked, with the priors, the pooled rates and the next
  round's split (:mod:`planning.learn_split`): what the command, the API and the page show.

The statistics are in :mod:`planning.learn_models` and :mod:`planning.learn_posteriors`, the
store's side in :mod:`planning.learn_data`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict

import polars as pl
from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import find_campaign_by_name
from microfluence.campaigns.tables import Campaign
from microfluence.kernel.errors import InputError
from microfluence.planning import learn_models as M
from microfluence.planning import learn_schemas as S
from microfluence.planning.learn_data import campaigns_of, tested_creators
from microfluence.planning.learn_posteriors import Fit, Priors, fit
from microfluence.planning.learn_split import (
    DEFAULT_EXPLORE,
    DEFAULT_MAX_MULTIPLE,
    Split,
    next_round,
)

DRAWS = 2000
MIN_DRAWS, MAX_DRAWS = 100, 20000
# Draws × creators per Monte Carlo array (8 bytes each: 32 MB); more creators get fewer draws.
MAX_CELLS = 4_000_000
RANKING = ("revenue_per_click_mean", "conversion_mean", "unique_clicks")


def _check_draws(draws: int, seed: int) -> None:
    if not MIN_DRAWS <= draws <= MAX_DRAWS:
        raise InputError(f"draws must be from {MIN_DRAWS} to {MAX_DRAWS}", field="draws")
    if not 0 <= seed < 2**32:
        raise InputError("the seed must be from 0 to 2³² − 1", field="seed")


def ranked(frame: pl.DataFrame) -> pl.DataFrame:
    """Highest posterior revenue per click first, then conversion rate, then clicks."""
    return frame.sort(list(RANKING), descending=True, nulls_last=True).with_row_index(
        "rank", offset=1
    )


def _fit(
    session: Session, workspace_id: int, campaign_ids: Iterable[int], draws: int, seed: int
) -> tuple[list[Campaign], Fit]:
    _check_draws(draws, seed)
    campaigns = campaigns_of(session, workspace_id, campaign_ids)
    tested = tested_creators(session, workspace_id, campaigns)
    draws = min(draws, max(MIN_DRAWS, MAX_CELLS // max(tested.height, 1)))
    return campaigns, fit(tested, draws=draws, seed=seed)


def creator_posteriors(
    session: Session,
    workspace_id: int,
    campaign_ids: Iterable[int],
    *,
    draws: int = DRAWS,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per account tested in the campaigns (``account_id``; the columns are listed in
    docs/planning.md, "What the planner reads"), ranked. NotFoundError when a campaign is not
    the workspace's; InputError when none is named or their currencies differ."""
    _, fitted = _fit(session, workspace_id, campaign_ids, draws, seed)
    return ranked(fitted.frame)


def _prior(prior: M.BetaPrior | M.GammaPrior | M.ValuePrior | None) -> S.Prior | None:
    if prior is None:
        return None
    values = asdict(prior)
    method = values.pop("method")
    family = {M.BetaPrior: "beta", M.GammaPrior: "gamma", M.ValuePrior: "gamma-gamma"}
    return S.Prior(family=family[type(prior)], parameters=values, mean=prior.mean, method=method)


def _priors(priors: Priors) -> dict[str, S.Prior | None]:
    return {name: _prior(getattr(priors, name)) for name in Priors.__dataclass_fields__}


def _split(split: Split) -> S.NextRound:
    return S.NextRound(
        budget=split.budget,
        explore=split.explore,
        max_multiple=split.max_multiple,
        new_share=split.new_share,
        new_amount=split.new_amount,
        new_p_best=split.new_p_best,
        new_creators=split.new_creators,
        median_fee=split.median_fee,
        creators=[S.SplitCreator.model_validate(r) for r in split.creators.to_dicts()],
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def learn_report(
    session: Session,
    workspace_id: int,
    campaign_ids: Iterable[int],
    *,
    budget: float | None = None,
    explore: float = DEFAULT_EXPLORE,
    max_multiple: float = DEFAULT_MAX_MULTIPLE,
    draws: int = DRAWS,
    seed: int = 0,
) -> S.LearnReport:
    """The tested creators of the campaigns ranked by their posteriors, with flags, the priors
    and pooled rates, and the next round's split of ``budget`` (default: what the tested
    creators' fixed costs came to) keeping at least ``explore`` for new creators and giving
    none more than ``max_multiple`` × their last fixed cost."""
    campaigns, fitted = _fit(session, workspace_id, campaign_ids, draws, seed)
    split = next_round(fitted, budget, explore, max_multiple)
    pooled = fitted.pooled
    return S.LearnReport(
        campaigns=[S.CampaignRef(id=c.id, name=c.name) for c in campaigns],
        currency=campaigns[0].currency,
        draws=fitted.roi_draws.shape[0],
        seed=seed,
        pooled=S.Pooled(
            conversion_rate=pooled.conversion_rate,
            revenue_per_click=pooled.revenue_per_click,
            roi=_finite(pooled.roi),
        ),
        priors=_priors(fitted.priors),
        creators=[S.CreatorPosterior.model_validate(r) for r in ranked(fitted.frame).to_dicts()],
        next_round=_split(split),
    )


def report_by_names(
    session: Session, workspace_id: int, names: Iterable[str], **options: float | int | None
) -> S.LearnReport:
    """:func:`learn_report` of the campaigns named ``names`` (the command and the library)."""
    ids = [find_campaign_by_name(session, workspace_id, n).id for n in names]
    return learn_report(session, workspace_id, ids, **options)  # type: ignore[arg-type]
