"""A seeded, vectorised synthetic population of creators, their accounts, posts and audiences.

The model (docs/demo.md gives every choice and its source):

* creators have a niche, a country (and its language) and one to three accounts on different
  platforms; the main account's followers come from a log-normal body with a Pareto tail, so
  most accounts are nano or micro and a few are mega;
* each account has an organic follower curve (steady growth, sometimes a real viral surge that
  comes *with* an engagement spike), a posting cadence, an engagement rate that falls with
  audience size as industry benchmarks report, a likes-to-comments ratio and a sponsored share;
* a planted share of accounts is inauthentic — bought followers (a follower jump without an
  engagement jump, a follower sample full of fake-looking profiles), engagement pods (the same
  few creators commenting on every post within minutes) and bot comments (generic, emoji-only,
  repeated, from farm-looking authors) — and labelled for evaluation.

Accounts are generated at once (cheap); snapshots, posts and samples are generated per *block*
of :data:`BLOCK` accounts with a generator seeded by ``(seed, block)``, so the output is the same
whatever chunk size a caller iterates with, and memory is bounded by the chunk, not the total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from microfluence.demo import names as N
from microfluence.demo import vocabulary as V
from microfluence.demo.model import (
    AUTHENTIC,
    BLOCK,
    CADENCE,
    DEFAULT_DAYS,
    DEFAULT_END,
    ER_ANCHORS,
    FOLLOWING,
    LIKES_PER_COMMENT,
    NICHE_ENGAGEMENT,
    P_IG,
    PLATFORMS,
    PRIMARY_SHARE,
    SECONDARY_WEIGHT,
    _ramp,
)
from microfluence.demo.samples import FARM_SIZE

__all__ = [
    "AUTHENTIC",
    "BLOCK",
    "Block",
    "Population",
    "PopulationSpec",
    "generate_population",
    "population_for",
]


@dataclass(frozen=True)
class PopulationSpec:
    """What to generate. The same spec always gives the same population."""

    n_creators: int = 3000
    seed: int = 7
    end: dt.date = DEFAULT_END
    days: int = DEFAULT_DAYS
    posts_scale: float = 1.0
    snapshot_every_days: int = 1
    inauthentic_share: float = 0.10
    sample_share: float = 1.0  # accounts with comment and follower samples (planted ones always)
    commented_posts: int = 12  # latest posts per sampled account that get a comment sample
    comments_per_post: int = 25  # at most this many comments sampled per post
    followers_per_account: int = 80

    @property
    def start(self) -> dt.date:
        return self.end - dt.timedelta(days=self.days - 1)

    @property
    def start_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time())

    def __post_init__(self) -> None:
        if self.n_creators < 1:
            raise ValueError("n_creators must be at least 1")
        if self.days < 2:
            raise ValueError("days must be at least 2")
        if self.posts_scale < 0:
            raise ValueError("posts_scale must not be negative")
        if not 0 <= self.inauthentic_share <= 0.9:
            raise ValueError("inauthentic_share must be between 0 and 0.9")


@dataclass
class Block:
    """Everything generated for one slice of accounts."""

    snapshots: pl.DataFrame
    posts: pl.DataFrame
    comments: pl.DataFrame | None = None
    followers: pl.DataFrame | None = None


@dataclass
class Population:
    """The accounts of a population (with their hidden parameters) and how to expand them."""

    spec: PopulationSpec
    accounts: pl.DataFrame
    _arrays: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    cache: dict[str, pl.Series] = field(repr=False, default_factory=dict)

    @property
    def n_accounts(self) -> int:
        return self.accounts.height

    def account_rows(self) -> pl.DataFrame:
        """The accounts as the store's writer takes them (Account columns + creator fields)."""
        return self.accounts.select(ACCOUNT_COLUMNS)

    def labels(self) -> pl.DataFrame:
        from microfluence.demo.labels import planted_labels

        return planted_labels(self)

    def expected_posts(self) -> float:
        weeks = self.spec.days / 7
        return float(self._arrays["cadence"].sum() * weeks * self.spec.posts_scale)

    def blocks(
        self, *, text: bool = True, samples: bool = True, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, int, Block]]:
        """(first account, end account, block) for each block of accounts in [start, stop)."""
        from microfluence.demo.content import generate_block

        stop = self.n_accounts if stop is None else min(stop, self.n_accounts)
        first_block = start // BLOCK
        for b in range(first_block, (stop + BLOCK - 1) // BLOCK):
            lo, hi = max(b * BLOCK, start), min((b + 1) * BLOCK, stop)
            yield lo, hi, generate_block(self, b, lo, hi, text=text, samples=samples)

    def iter_chunks(
        self, chunk_posts: int = 1_000_000, *, text: bool = True, samples: bool = False
    ) -> Iterator[Block]:
        """Blocks merged into chunks of roughly ``chunk_posts`` posts (whole accounts each):
        the posts *and* the snapshots (and samples) of the same accounts, in bounded memory."""
        pending: list[Block] = []
        rows = 0
        for _lo, _hi, block in self.blocks(text=text, samples=samples):
            pending.append(block)
            rows += block.posts.height
            if rows >= chunk_posts:
                yield _merge(pending)
                pending, rows = [], 0
        if pending:
            yield _merge(pending)

    def iter_post_chunks(
        self, chunk_posts: int = 1_000_000, *, text: bool = True
    ) -> Iterator[pl.DataFrame]:
        """Posts in frames of roughly ``chunk_posts`` rows (whole blocks of accounts each)."""
        for chunk in self.iter_chunks(chunk_posts, text=text):
            yield chunk.posts


def _merge(blocks: list[Block]) -> Block:
    def concat(name: str) -> pl.DataFrame | None:
        frames = [getattr(b, name) for b in blocks if getattr(b, name) is not None]
        return pl.concat(frames) if frames else None

    return Block(
        snapshots=pl.concat([b.snapshots for b in blocks]),
        posts=pl.concat([b.posts for b in blocks]),
        comments=concat("comments"),
        followers=concat("followers"),
    )


ACCOUNT_COLUMNS = [
    "account_key",
    "creator_key",
    "platform",
    "handle",
    "display_name",
    "url",
    "bio",
    "country",
    "language",
    "category",
    "email",
    "is_verified",
    "is_business",
    "is_private",
    "creator_name",
    "creator_country",
    "creator_language",
    "creator_category",
    "creator_email",
]


# -- accounts ----------------------------------------------------------------------------------
def _choice(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    return rng.choice(len(p), size=size, p=p / p.sum())


def _creator_followers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Log-normal body (median ~6k, most accounts 1k-50k) with a Pareto tail above 50k."""
    log10 = rng.normal(3.78, 0.5, n)
    log10 = np.where(log10 < 3.0, 3.0 + np.abs(log10 - 3.0) * 0.3, log10)  # floor near 1k
    tail = rng.random(n) < 0.04
    pareto = 50_000 * (1 - rng.random(n)) ** (-1 / 0.9)  # P(F > x) = (50k / x)^0.9
    followers = np.where(tail, pareto, 10**log10)
    return np.minimum(followers, 400e6)


def generate_population(spec: PopulationSpec) -> Population:
    """The accounts of the population, with the hidden parameters that drive their content.

    Each step draws from the one generator in a fixed order, so the same spec always gives the
    same population: a step added or reordered changes every demo drawn after it.
    """
    rng = np.random.default_rng([spec.seed, 0])
    a = _creators_and_accounts(rng, spec)
    _engagement_traits(rng, a)
    _viral_surges(rng, a, spec)
    _plant(rng, a, spec)
    a["f0"] = _organic_start(a, spec)
    accounts = _account_frame(rng, a, spec)
    return Population(spec=spec, accounts=accounts, _arrays=a)


def _creators_and_accounts(rng: np.random.Generator, spec: PopulationSpec) -> dict[str, np.ndarray]:
    """Creators (niche, country, language) and their accounts: platform, rank, final followers."""
    n = spec.n_creators
    niche_share = np.array([x[2] for x in V.NICHES])
    country_share = np.array([c[2] for c in V.COUNTRIES])
    niche = _choice(rng, niche_share, n)
    country = _choice(rng, country_share, n)
    lang = np.array([N.LANG_INDEX[V.COUNTRIES[c][1]] for c in range(len(V.COUNTRIES))])[country]
    u = rng.random(n)
    n_accounts = 1 + (u < 0.25) + (u < 0.07)  # a quarter of creators have a second account
    primary = _choice(rng, PRIMARY_SHARE, n)
    # Weighted sampling without replacement (Efraimidis & Spirakis 2006): smallest keys win.
    keys = -np.log(rng.random((n, len(PLATFORMS)))) / SECONDARY_WEIGHT
    keys[np.arange(n), primary] = -1.0
    order = np.argsort(keys, axis=1)
    main_followers = _creator_followers(rng, n)

    creator = np.repeat(np.arange(n), n_accounts)
    rank = np.arange(creator.size) - np.repeat(np.cumsum(n_accounts) - n_accounts, n_accounts)
    platform = order[creator, rank]
    ratio = np.where(rank == 0, 1.0, np.exp(rng.normal(-0.6, 0.8, creator.size)))
    followers_end = np.maximum(np.round(main_followers[creator] * ratio), 150.0)
    return {
        "creator": creator,
        "platform": platform,
        "niche": niche[creator],
        "country": country[creator],
        "lang": lang[creator],
        "rank": rank,
        "followers_end": followers_end,
    }


def _engagement_traits(rng: np.random.Generator, a: dict[str, np.ndarray]) -> None:
    """Each account's engagement rate, cadence, organic growth, visibility and sponsorship."""
    platform, followers_end = a["platform"], a["followers_end"]
    m = platform.size
    log10f = np.log10(followers_end)
    er = np.empty(m)
    for p, (xs, ys) in ER_ANCHORS.items():  # six platforms, not rows
        sel = platform == p
        er[sel] = np.interp(log10f[sel], xs, ys)
    niche_factor = np.array([NICHE_ENGAGEMENT[k] for k in N.NICHE_KEYS])[a["niche"]]
    a["er"] = er * niche_factor * np.exp(rng.normal(0.0, 0.35, m))
    a["likes_per_comment"] = np.clip(
        LIKES_PER_COMMENT[platform] * np.exp(rng.normal(0.0, 0.45, m)), 8, 250
    )
    a["cadence"] = CADENCE[platform] * np.exp(rng.normal(0.0, 0.6, m))  # posts per week
    a["noise"] = rng.uniform(0.35, 0.65, m)  # per-post log-normal sigma of engagement
    # Organic growth: median +2%/month, some accounts shrinking slowly.
    monthly = np.where(rng.random(m) < 0.15, rng.normal(-0.006, 0.004, m), 0)
    monthly = monthly + np.where(monthly == 0, np.exp(rng.normal(np.log(0.02), 0.7, m)), 0)
    monthly = monthly / np.where(log10f > 6, 2.0, 1.0)  # big accounts grow slower, relatively
    a["growth"] = np.log1p(monthly) / 30.44
    following = FOLLOWING[platform] * np.exp(rng.normal(0.0, 0.8, m))
    a["following"] = np.where(np.isnan(following), np.nan, np.clip(np.round(following), 0, 7500))
    a["posts_before"] = np.round(a["cadence"] * 52 * rng.uniform(0.5, 6.0, m))
    a["snapshot_minute"] = rng.integers(0, 60, m)
    a["hide_likes"] = (platform == P_IG) & (rng.random(m) < 0.06)
    a["insights"] = (platform == P_IG) & (rng.random(m) < 0.12)
    # Sponsored share: none for a fifth, ~7% typical, 25-50% for a saturated tenth.
    s = rng.random(m)
    share = np.where(s < 0.2, 0.0, np.clip(rng.beta(2, 26, m), 0, 0.3))
    share = np.where(s > 0.9, rng.uniform(0.25, 0.5, m), share)
    a["sponsored_share"] = np.minimum(share * np.where(log10f >= 5, 1.3, 1.0), 0.6)
    a["brand_u"] = rng.random(m)


def _viral_surges(rng: np.random.Generator, a: dict[str, np.ndarray], spec: PopulationSpec) -> None:
    """Real viral surges: 6% of accounts, followers +15..150% over 2-6 days, with engagement."""
    m = a["creator"].size
    viral = rng.random(m) < 0.06
    a["viral"] = viral
    a["viral_day"] = np.where(viral, rng.uniform(0.15, 0.85, m) * spec.days, np.inf)
    a["viral_len"] = rng.uniform(2, 6, m)
    a["viral_size"] = np.where(
        viral, np.clip(np.exp(rng.normal(np.log(0.4), 0.6, m)), 0.15, 1.5), 0
    )
    a["viral_boost"] = rng.uniform(4, 12, m)


def _organic_start(a: dict[str, np.ndarray], spec: PopulationSpec) -> np.ndarray:
    """Organic followers on day 0, so that organic(end) + bought(end) equals the drawn count."""
    t_end = spec.days - 1
    h_end = np.exp(a["growth"] * t_end) * (1 + a["viral_size"] * _ramp(t_end, a, "viral"))
    bought_day = np.where(a["bought"], a["bought_day"], 0.0)
    h_jump = np.exp(a["growth"] * bought_day) * (
        1 + a["viral_size"] * _ramp(bought_day, a, "viral")
    )
    kept = a["bought_frac"] * np.where(a["bought"], h_jump, 0) * (1 - a["purge"])
    return a["followers_end"] / (h_end + kept)


def population_for(n_accounts: int, n_posts: int, *, seed: int = 7, **spec: object) -> Population:
    """A population of about ``n_accounts`` accounts and ``n_posts`` posts (for benchmarks).

    Creators have 1.32 accounts on average, so ``n_accounts / 1.32`` creators are drawn; the
    posting cadence is then scaled so that the expected number of posts is ``n_posts``. Both
    totals are random around their targets (Poisson), within a fraction of a percent at scale.
    """
    base = PopulationSpec(n_creators=max(1, round(n_accounts / 1.32)), seed=seed, **spec)  # type: ignore[arg-type]
    population = generate_population(base)
    scale = n_posts / max(population.expected_posts(), 1e-9)
    scaled = replace(base, posts_scale=base.posts_scale * scale)
    population.spec = scaled
    population.accounts = population.accounts.with_columns(pl.col("posts_per_week") * scale)
    return population


def _plant(rng: np.random.Generator, a: dict[str, np.ndarray], spec: PopulationSpec) -> None:
    """Choose the inauthentic accounts and what was done to each."""
    m = a["creator"].size
    planted = rng.random(m) < spec.inauthentic_share
    kind = _choice(rng, np.array([0.45, 0.3, 0.25]), m)  # main kind: bought / pod / bots
    second = rng.random(m) < 0.25  # a quarter combine two kinds, a few all three
    third = rng.random(m) < 0.05
    other = (kind + 1 + rng.integers(0, 2, m)) % 3
    flags = np.zeros((m, 3), dtype=bool)
    flags[np.arange(m), kind] = True
    flags[np.arange(m), other] |= second
    flags |= third[:, None]
    flags &= planted[:, None]
    a["bought"], a["pod"], a["bots"] = flags[:, 0], flags[:, 1], flags[:, 2]
    # Bought followers: +15..300% of the organic audience within 1-3 days, then a slow purge.
    a["bought_day"] = np.where(a["bought"], rng.uniform(0.15, 0.85, m) * spec.days, np.inf)
    a["bought_len"] = rng.uniform(0.5, 3.0, m)
    a["bought_frac"] = np.where(
        a["bought"], np.clip(np.exp(rng.normal(np.log(0.6), 0.6, m)), 0.15, 3.0), 0.0
    )
    a["purge"] = np.where(a["bought"], rng.uniform(0.0, 0.25, m), 0.0)
    # Pods: pod accounts grouped by platform and niche, 6-14 members each.
    pod_idx = np.flatnonzero(a["pod"])
    order = pod_idx[np.lexsort((pod_idx, a["niche"][pod_idx], a["platform"][pod_idx]))]
    size = 10
    group = np.full(m, -1)
    pos = np.zeros(m, dtype=np.int64)
    gsize = np.zeros(m, dtype=np.int64)
    if order.size:
        g = np.arange(order.size) // size
        group[order] = g
        pos[order] = np.arange(order.size) % size
        counts = np.bincount(g)
        gsize[order] = counts[g]
    a["pod_group"], a["pod_pos"], a["pod_size"] = group, pos, gsize
    a["pod_members"] = order  # account indices, group after group
    a["pod_reach"] = rng.uniform(0.6, 0.95, m)  # share of members commenting on each post
    # Bots: bought comments are 40-70% of what the posts get; each buyer draws from the farm.
    a["bot_ratio"] = np.where(a["bots"], rng.uniform(0.7, 2.5, m), 0.0)
    a["bot_offset"] = rng.integers(0, FARM_SIZE, m)
    a["natural_fake"] = np.clip(rng.beta(2, 22, m), 0.01, 0.25)  # fakes every audience has
    sample = rng.random(m) < spec.sample_share
    a["sampled"] = sample | planted


def _account_frame(rng: np.random.Generator, a: dict[str, np.ndarray], spec: PopulationSpec):
    m = a["creator"].size
    n = spec.n_creators
    # Per creator: name, handle stem and e-mail; accounts of one creator share them.
    c_lang = np.zeros(n, dtype=np.int64)
    c_lang[a["creator"]] = a["lang"]
    c_niche = np.zeros(n, dtype=np.int64)
    c_niche[a["creator"]] = a["niche"]
    c_country = np.zeros(n, dtype=np.int64)
    c_country[a["creator"]] = a["country"]
    u1, u2, u3, u4 = rng.random(n), rng.random(n), rng.random(n), rng.random(n)
    first, last = N.FIRST.take(c_lang, u1), N.LAST.take(c_lang, u2)
    first_a, last_a = N.FIRST_ASCII.take(c_lang, u1), N.LAST_ASCII.take(c_lang, u2)
    niche_word = pl.Series([k for k in N.NICHE_KEYS]).gather(c_niche)
    style = (u3 * 4).astype(np.int8)
    creators = pl.DataFrame(
        {
            "first": first,
            "last": last,
            "fa": first_a,
            "la": last_a,
            "nw": niche_word,
            "style": style,
            "d": N.digits(N.splitmix(np.arange(n), spec.seed), 2),
            "has_email": u4 < 0.55,
        }
    ).with_columns(
        pl.when(pl.col("style") == 0)
        .then(pl.concat_str("fa", pl.lit("."), "la"))
        .when(pl.col("style") == 1)
        .then(pl.concat_str("fa", pl.lit("_"), "nw"))
        .when(pl.col("style") == 2)
        .then(pl.concat_str(pl.lit("the"), "fa", "nw"))
        .otherwise(pl.concat_str("fa", "la", "d"))
        .alias("stem"),
        pl.concat_str("first", pl.lit(" "), "last").alias("name"),
    )
    # Handles are unique per platform: a repeated stem gets a numeric suffix.
    creators = creators.with_columns(
        pl.when(pl.int_range(pl.len()).over("stem") > 0)
        .then(pl.concat_str("stem", pl.int_range(pl.len()).over("stem").cast(pl.String)))
        .otherwise(pl.col("stem"))
        .alias("stem")
    ).with_columns(
        pl.when("has_email")
        .then(pl.concat_str(pl.col("stem").str.replace_all(r"\.", ""), pl.lit("@gmail.com")))
        .alias("email")
    )
    cr = a["creator"]
    platform = pl.Series(PLATFORMS).gather(a["platform"])
    countries = pl.Series([c[0] for c in V.COUNTRIES])
    categories = pl.Series([x[1] for x in V.NICHES])
    tier = np.log10(a["followers_end"])
    verified_p = np.select(
        [tier >= 6, tier >= 5.7, tier >= 5, tier >= 4.7], [0.7, 0.35, 0.12, 0.04], 0.01
    )
    city = N.CITIES.take(a["country"], rng.random(m))
    emoji = pl.Series(V.EMOJIS).gather((rng.random(m) * len(V.EMOJIS)).astype(np.int64))
    frame = pl.DataFrame(
        {
            "account_key": np.arange(m),
            "creator_key": cr,
            "platform": platform,
            "handle": creators["stem"].gather(cr),
            "creator_name": creators["name"].gather(cr),
            "creator_email": creators["email"].gather(cr),
            "country": countries.gather(a["country"]),
            "language": pl.Series(N.LANGUAGES).gather(a["lang"]),
            "category": categories.gather(a["niche"]),
            "is_verified": rng.random(m) < verified_p,
            "is_business": rng.random(m) < 0.5,
            "is_private": np.zeros(m, dtype=bool),
            "city": city,
            "emoji": emoji,
            "subject": N.SUBJECTS.take(a["niche"], rng.random(m)),
            "name_style": rng.random(m) < 0.7,
        }
    )
    url_prefix = {
        "instagram": "https://www.instagram.com/",
        "tiktok": "https://www.tiktok.com/@",
        "youtube": "https://www.youtube.com/@",
        "facebook": "https://www.facebook.com/",
        "x": "https://x.com/",
        "pinterest": "https://www.pinterest.com/",
    }
    frame = frame.with_columns(
        pl.concat_str(pl.col("platform").replace_strict(url_prefix), "handle").alias("url"),
        pl.when("name_style")
        .then(pl.col("creator_name"))
        .otherwise(pl.concat_str("creator_name", pl.lit(" | "), "category"))
        .alias("display_name"),
        pl.concat_str(
            "emoji",
            pl.lit(" "),
            "category",
            pl.lit(" · "),
            "subject",
            pl.lit(" & more\n📍 "),
            "city",
            pl.when(pl.col("creator_email").is_not_null())
            .then(pl.concat_str(pl.lit("\n✉️ collabs: "), "creator_email"))
            .otherwise(pl.lit("")),
        ).alias("bio"),
        pl.col("creator_email").alias("email"),
        pl.col("country").alias("creator_country"),
        pl.col("language").alias("creator_language"),
        pl.col("category").alias("creator_category"),
    )
    hidden = pl.DataFrame(
        {
            "followers_end": a["followers_end"].astype(np.int64),
            "engagement_rate": a["er"],
            "posts_per_week": a["cadence"] * spec.posts_scale,
            "planted_bought": a["bought"],
            "planted_pod": a["pod"],
            "planted_bots": a["bots"],
            "viral": a["viral"],
            "sampled": a["sampled"],
        }
    )
    return pl.concat([frame.select(ACCOUNT_COLUMNS), hidden], how="horizontal")
