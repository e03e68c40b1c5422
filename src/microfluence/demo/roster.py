"""Who takes part in the demo campaign and on what terms (docs/demo.md, "The running
campaign"): the creators (by tier, beauty and authentic accounts first), the posts of theirs that
will carry the campaign, each deal's fee, kit, commission and package, and the outcome each
creator's traffic is aimed at. Everything is drawn from the generator passed in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.demo.population import Population
from microfluence.demo.tiers import tier_of
from microfluence.kernel.store.tables import Account, Post
from microfluence.tracking.deliverables import FORMATS_BY_POST_TYPE

NICHE = "Beauty"
PLATFORMS = ("instagram", "tiktok")
# Creators per tier (nano, micro, mid) in a full-size demo; a small demo (under 500 creators)
# gets one creator per 25, at least 4.
QUOTAS = {"nano": 9, "micro": 8, "mid": 3}
CREATORS_PER_DEAL, MIN_DEALS = 25, 4
KIT_VALUE, KIT_SHIPPING = Decimal("48.00"), Decimal("7.50")
# Flat fee per piece (USD) and commission by tier: Influencer Marketing Hub's rate ranges
# (nano $10-100, micro $100-500, mid $500-5,000 per Instagram post), the low end for a kit-led
# campaign; half the nano creators take the kit and a commission only.
FEES = {"nano": (60.0, 150.0), "micro": (200.0, 500.0), "mid": (600.0, 1500.0)}
COMMISSION = {"nano": 0.15, "micro": 0.10, "mid": 0.06}
# Outcomes: share of creators with posts, and the ROI each is aimed at (realised ROI is noisy).
OUTCOMES = {"winner": (0.2, 4.0, 7.0), "modest": (0.65, 0.1, 2.0), "flop": (0.15, -0.75, -0.2)}
NOT_YET = 2  # creators who have not posted yet (pending deliverables, cost without revenue)


# -- who takes part ----------------------------------------------------------------------------


def quotas_for(n_creators: int) -> dict[str, int]:
    """Creators per tier for a demo of ``n_creators``: :data:`QUOTAS`, scaled down for small
    demos (the tests' and the quick ones) so they stay quick."""
    size = int(np.clip(n_creators // CREATORS_PER_DEAL, MIN_DEALS, sum(QUOTAS.values())))
    scale = size / sum(QUOTAS.values())
    mid = max(1, round(QUOTAS["mid"] * scale))
    micro = round(QUOTAS["micro"] * scale)
    return {"nano": size - mid - micro, "micro": micro, "mid": mid}


def choose_creators(
    population: Population, account_ids: np.ndarray, rng: np.random.Generator
) -> pl.DataFrame:
    """The campaign's creators: each one's main account on Instagram or TikTok, beauty
    creators and authentic accounts first, :data:`QUOTAS` per tier, topped up from the rest."""
    accounts = population.accounts.with_columns(
        account_id=pl.Series(account_ids, dtype=pl.Int64),
        tier=tier_of(pl.col("followers_end")),
        key=pl.Series(rng.random(population.n_accounts)),
    )
    main = accounts.sort("account_key").unique("creator_key", keep="first", maintain_order=True)
    planted = pl.col("planted_bought") | pl.col("planted_pod") | pl.col("planted_bots")
    eligible = main.filter(pl.col("platform").is_in(PLATFORMS)).with_columns(
        priority=(pl.col("category") != NICHE).cast(pl.Int8) * 2 + planted.cast(pl.Int8)
    )
    ranked = eligible.sort("priority", "key").with_columns(
        place=pl.int_range(pl.len()).over("tier")
    )
    quotas = quotas_for(population.spec.n_creators)
    quota = pl.col("tier").replace_strict(quotas, default=0, return_dtype=pl.Int64)
    chosen = ranked.filter(pl.col("place") < quota)
    short = sum(quotas.values()) - chosen.height
    if short > 0:
        rest = ranked.join(chosen.select("account_key"), on="account_key", how="anti")
        rest = rest.filter(pl.col("tier").is_in(list(QUOTAS)))
        chosen = pl.concat([chosen, rest.head(short)])
    return chosen.sort("account_key").select(
        "account_id", "platform", "handle", "creator_name", "country", "tier"
    )


def creator_ids(session: Session, chosen: pl.DataFrame) -> pl.DataFrame:
    rows = session.execute(
        select(Account.id, Account.creator_id).where(Account.id.in_(chosen["account_id"].to_list()))
    ).all()
    ids = pl.DataFrame(rows, schema={"account_id": pl.Int64, "creator_id": pl.Int64}, orient="row")
    return chosen.join(ids, on="account_id")


def campaign_posts(
    session: Session,
    creators: pl.DataFrame,
    window: tuple[dt.datetime, dt.datetime],
    rng: np.random.Generator,
) -> pl.DataFrame:
    """The posts that will carry the campaign: one or two per creator in the campaign's dates
    (none for :data:`NOT_YET` of them), of a type a deliverable can be."""
    rows = session.execute(
        select(Post.id, Post.account_id, Post.post_type, Post.posted_at).where(
            Post.account_id.in_(creators["account_id"].to_list()),
            Post.posted_at >= window[0],
            Post.posted_at < window[1],
            Post.post_type.in_(list(FORMATS_BY_POST_TYPE)),
            Post.post_type != "story",
        )
    ).all()
    posts = pl.DataFrame(
        rows,
        schema={
            "post_id": pl.Int64,
            "account_id": pl.Int64,
            "post_type": pl.String,
            "posted_at": pl.Datetime("us"),
        },
        orient="row",
    ).sort("post_id")
    n = creators.height
    wanted = np.where(rng.random(n) < 0.35, 2, 1)
    wanted[rng.permutation(n)[: min(NOT_YET, n // 6)]] = 0
    per_account = creators.select("account_id", wanted=pl.Series(wanted, dtype=pl.Int64))
    return (
        posts.with_columns(key=pl.Series(rng.random(posts.height)))
        .join(per_account, on="account_id")
        .sort("account_id", "key")
        .filter(pl.int_range(pl.len()).over("account_id") < pl.col("wanted"))
        .sort("account_id", "posted_at")
        .with_columns(
            format=pl.col("post_type").replace_strict(
                {t: f[0] for t, f in FORMATS_BY_POST_TYPE.items()}, return_dtype=pl.String
            )
        )
        .drop("key", "wanted")
    )


# -- what each is paid, and how each does ----------------------------------------------------


def deal_terms(
    creators: pl.DataFrame, posts: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """Per creator: the flat fee (per piece), the kit, the commission, the package (the formats
    of its campaign posts, a third with one more piece still to come; one piece for those who
    have not posted yet), and the outcome the traffic aims at."""
    n = creators.height
    low = creators["tier"].replace_strict({t: f[0] for t, f in FEES.items()}, default=0.0)
    high = creators["tier"].replace_strict({t: f[1] for t, f in FEES.items()}, default=0.0)
    per_piece = np.round(rng.uniform(low.to_numpy(), high.to_numpy()) / 25) * 25
    kit_only = (creators["tier"] == "nano").to_numpy() & (rng.random(n) < 0.5)
    counts = posts.group_by("account_id").agg(
        pl.len().alias("posts"), pl.col("format").alias("formats")
    )
    main_format = (
        pl.when(pl.col("platform") == "tiktok").then(pl.lit("video")).otherwise(pl.lit("reel"))
    )
    frame = creators.join(counts, on="account_id", how="left").with_columns(
        pl.col("posts").fill_null(0).cast(pl.Int64),
        extra=pl.Series(rng.random(n) < 0.35),
    )
    frame = frame.with_columns(
        formats=pl.when(pl.col("posts") == 0)
        .then(pl.concat_list(main_format))
        .when(pl.col("extra"))
        .then(pl.col("formats").list.concat(pl.concat_list(main_format)))
        .otherwise(pl.col("formats"))
    )
    pieces = frame["formats"].list.len().to_numpy()
    fee = np.where(kit_only, 0.0, per_piece * pieces)
    rate = creators["tier"].replace_strict(COMMISSION, default=0.1).to_numpy()
    return frame.with_columns(
        flat_fee=pl.Series(fee),
        commission_rate=pl.Series(rate),
        fixed_cost=pl.Series(fee + float(KIT_VALUE + KIT_SHIPPING)),
        target_roi=pl.Series(_outcomes(frame["posts"].to_numpy(), rng)),
    ).drop("extra")


def _outcomes(posts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A target ROI per creator: winners, modest ones and flops among those who posted (at
    least two winners and one flop when there are enough), nothing for the rest."""
    live = np.flatnonzero(posts > 0)
    order = rng.permutation(live)
    shares = {k: v[0] for k, v in OUTCOMES.items()}
    winners = max(2, round(shares["winner"] * live.size)) if live.size >= 4 else 1
    flops = max(1, round(shares["flop"] * live.size)) if live.size >= 4 else 0
    roles = np.full(posts.size, "modest", dtype=object)
    roles[order[:winners]] = "winner"
    roles[order[winners : winners + flops]] = "flop"
    roi = np.zeros(posts.size)
    for role, (_share, low, high) in OUTCOMES.items():  # three outcomes, not rows
        mask = roles == role
        roi[mask] = rng.uniform(low, high, int(mask.sum()))
    roi[posts == 0] = -1.0
    return roi
