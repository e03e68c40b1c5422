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
from microfluence.demo.samples import FARM_SIZE, comment_samples, follower_samples
from microfluence.demo.text import captions

BLOCK = 1024
"""Accounts per generator block: the unit of reproducibility and of chunking."""

DEFAULT_END = dt.date(2026, 9, 30)
DEFAULT_DAYS = 180

# -- platforms ---------------------------------------------------------------------------------
PLATFORMS = ("instagram", "tiktok", "youtube", "facebook", "x", "pinterest")
P_IG, P_TT, P_YT, P_FB, P_X, P_PIN = range(len(PLATFORMS))
# Share of creators whose main account is on each platform, and weights for their other accounts.
PRIMARY_SHARE = np.array([0.56, 0.28, 0.16, 0.0, 0.0, 0.0])
SECONDARY_WEIGHT = np.array([0.34, 0.30, 0.20, 0.07, 0.05, 0.04])
# Median posts per week (Later, Rival IQ and HypeAuditor cadence studies; docs/demo.md).
CADENCE = np.array([3.0, 4.5, 1.5, 3.0, 6.0, 5.0])
# Median likes per comment, per platform (spread log-normally around it, clipped to 8..250).
LIKES_PER_COMMENT = np.array([45.0, 70.0, 30.0, 25.0, 15.0, 60.0])
# Median following count (YouTube does not show whom a channel follows: NULL).
FOLLOWING = np.array([650.0, 350.0, np.nan, 400.0, 800.0, 250.0])

POST_TYPES = ("image", "carousel", "video", "reel", "story", "short")
T_IMAGE, T_CAROUSEL, T_VIDEO, T_REEL, T_STORY, T_SHORT = range(len(POST_TYPES))
# Post-type mix per platform (rows: platforms, columns: POST_TYPES).
TYPE_MIX = np.array(
    [
        [0.38, 0.27, 0.0, 0.35, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.55, 0.0, 0.0, 0.45],
        [0.5, 0.0, 0.5, 0.0, 0.0, 0.0],
        [0.6, 0.0, 0.4, 0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ]
)
# Engagement of a type relative to a single image (Socialinsider benchmarks: carousels lead
# feed posts on Instagram; reels reach further; Shorts gather fewer likes per subscriber).
TYPE_ENGAGEMENT = np.array([1.0, 1.25, 1.0, 1.1, 1.0, 0.75])
# Likes per view for video types, by platform (views = likes / rate).
LIKES_PER_VIEW = np.array([0.055, 0.08, 0.035, 0.02, 0.02, 0.02])

# Engagement rate (likes + comments per follower, per post) against log10(followers): anchors
# from the tier benchmarks cited in docs/demo.md, interpolated linearly in log10(followers).
ER_ANCHORS: dict[int, tuple[tuple[float, ...], tuple[float, ...]]] = {
    P_IG: ((3.0, 4.0, 4.7, 5.7, 6.0, 7.0), (0.055, 0.032, 0.022, 0.015, 0.012, 0.009)),
    P_TT: ((3.0, 4.0, 5.0, 6.0, 7.0), (0.10, 0.075, 0.055, 0.04, 0.03)),
    P_YT: ((3.0, 4.0, 5.0, 6.0, 7.0), (0.022, 0.017, 0.011, 0.006, 0.0037)),
    P_FB: ((3.0, 5.0, 7.0), (0.015, 0.006, 0.002)),
    P_X: ((3.0, 5.0, 7.0), (0.012, 0.004, 0.0015)),
    P_PIN: ((3.0, 5.0, 7.0), (0.010, 0.004, 0.0015)),
}
# Niche effect on engagement (Statista/HypeAuditor 2023: travel and beauty above average,
# fashion and tech below).
NICHE_ENGAGEMENT = {
    "fitness": 0.9,
    "beauty": 1.05,
    "food": 1.05,
    "travel": 1.2,
    "home": 1.0,
    "fashion": 0.85,
    "parenting": 1.1,
    "tech": 0.85,
    "gaming": 0.95,
    "pets": 1.2,
    "wellness": 1.0,
}
# Hours of the day (local) people post at: late morning and evening peaks (Later, Sprout Social).
POSTING_HOURS = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 3.5, 4, 5, 6, 5, 4, 4, 4.5, 5.5, 7, 8, 7.5, 6, 4, 2]
)
UTC_OFFSET = {
    "US": -5,
    "CA": -5,
    "MX": -6,
    "AR": -3,
    "BR": -3,
    "GB": 0,
    "IE": 0,
    "PT": 0,
    "ES": 1,
    "FR": 1,
    "DE": 1,
    "IT": 1,
    "NL": 1,
    "NG": 1,
    "ZA": 2,
    "TR": 3,
    "IN": 5,
    "ID": 7,
    "PH": 8,
    "AU": 10,
}

# Inauthentic kinds and their labels in ``evaluation_labels``.
BOUGHT, POD, BOTS = "bought_followers", "engagement_pod", "bot_comments"
AUTHENTIC = "authentic"


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
        return planted_labels(self)

    def expected_posts(self) -> float:
        weeks = self.spec.days / 7
        return float(self._arrays["cadence"].sum() * weeks * self.spec.posts_scale)

    def blocks(
        self, *, text: bool = True, samples: bool = True, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, int, Block]]:
        """(first account, end account, block) for each block of accounts in [start, stop)."""
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
    """The accounts of the population, with the hidden parameters that drive their content."""
    rng = np.random.default_rng([spec.seed, 0])
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
    m = creator.size
    ratio = np.where(rank == 0, 1.0, np.exp(rng.normal(-0.6, 0.8, m)))
    followers_end = np.maximum(np.round(main_followers[creator] * ratio), 150.0)

    a: dict[str, np.ndarray] = {
        "creator": creator,
        "platform": platform,
        "niche": niche[creator],
        "country": country[creator],
        "lang": lang[creator],
        "rank": rank,
        "followers_end": followers_end,
    }
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

    # Real viral surges: 6% of accounts, followers +15..150% over 2-6 days, with engagement.
    viral = rng.random(m) < 0.06
    a["viral"] = viral
    a["viral_day"] = np.where(viral, rng.uniform(0.15, 0.85, m) * spec.days, np.inf)
    a["viral_len"] = rng.uniform(2, 6, m)
    a["viral_size"] = np.where(
        viral, np.clip(np.exp(rng.normal(np.log(0.4), 0.6, m)), 0.15, 1.5), 0
    )
    a["viral_boost"] = rng.uniform(4, 12, m)

    _plant(rng, a, spec)

    # Organic start so that organic(end) + bought(end) equals the drawn follower count.
    t_end = spec.days - 1
    h_end = np.exp(a["growth"] * t_end) * (1 + a["viral_size"] * _ramp(t_end, a, "viral"))
    bought_day = np.where(a["bought"], a["bought_day"], 0.0)
    h_jump = np.exp(a["growth"] * bought_day) * (
        1 + a["viral_size"] * _ramp(bought_day, a, "viral")
    )
    kept = a["bought_frac"] * np.where(a["bought"], h_jump, 0) * (1 - a["purge"])
    a["f0"] = followers_end / (h_end + kept)

    accounts = _account_frame(rng, a, spec)
    return Population(spec=spec, accounts=accounts, _arrays=a)


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


def _ramp(t: np.ndarray | float, a: dict[str, np.ndarray], kind: str) -> np.ndarray:
    return np.clip((t - a[f"{kind}_day"]) / a[f"{kind}_len"], 0.0, 1.0)


def organic_followers(a: dict[str, np.ndarray], idx: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Real followers of accounts ``idx`` at day ``t``: growth plus any viral surge."""
    sub = {k: a[k][idx] for k in ("growth", "viral_day", "viral_len", "viral_size", "f0")}
    return sub["f0"] * np.exp(sub["growth"] * t) * (1 + sub["viral_size"] * _ramp(t, sub, "viral"))


def bought_followers(a: dict[str, np.ndarray], idx: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Fake followers delivered by t: a step over 1-3 days, then a slow partial purge."""
    sub = {k: a[k][idx] for k in ("bought_day", "bought_len", "bought_frac", "purge", "f0")}
    sub.update({k: a[k][idx] for k in ("growth", "viral_day", "viral_len", "viral_size")})
    planted = np.isfinite(sub["bought_day"])
    base = organic_followers(a, idx, np.where(planted, sub["bought_day"], 0.0))
    delivered = sub["bought_frac"] * base * _ramp(t, sub, "bought")
    purged = sub["purge"] * np.clip((t - sub["bought_day"] - sub["bought_len"]) / 30, 0, 1)
    return np.where(planted, delivered * (1 - purged), 0.0)


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


# -- blocks: snapshots, posts, samples ----------------------------------------------------------
def generate_block(
    pop: Population, block: int, lo: int, hi: int, *, text: bool = True, samples: bool = True
) -> Block:
    """Snapshots, posts (and samples) of accounts [lo, hi) — all inside block ``block``."""
    spec = pop.spec
    rng = np.random.default_rng([spec.seed, 1, block])
    full = np.arange(block * BLOCK, min((block + 1) * BLOCK, pop.n_accounts))
    posts, post_arrays = _posts(rng, pop, full, text=text)
    snapshots = _snapshots(rng, pop, full, post_arrays)
    comments = followers = None
    if samples:
        comments = comment_samples(rng, pop, full, post_arrays, posts)
        followers = follower_samples(rng, pop, full)
    if lo > full[0] or hi < full[-1] + 1:  # a partial block: keep only the asked accounts
        keep = pl.col("account_key").is_between(lo, hi - 1)
        snapshots, posts = snapshots.filter(keep), posts.filter(keep)
        comments = comments.filter(keep) if comments is not None else None
        followers = followers.filter(keep) if followers is not None else None
    return Block(snapshots=snapshots, posts=posts, comments=comments, followers=followers)


def _posts(
    rng: np.random.Generator, pop: Population, idx: np.ndarray, *, text: bool
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    spec, a = pop.spec, pop._arrays
    days = spec.days
    weeks = days / 7
    counts = rng.poisson(a["cadence"][idx] * weeks * spec.posts_scale)
    acc = np.repeat(idx, counts)
    n = acc.size
    day = rng.integers(0, days, n)
    local_hour = rng.choice(24, size=n, p=POSTING_HOURS / POSTING_HOURS.sum())
    offset = np.array([UTC_OFFSET[c[0]] for c in V.COUNTRIES])[a["country"][acc]]
    hour = (local_hour - offset) % 24
    hour = np.where(hour == 0, 1, hour)  # after the day's snapshot (taken just after midnight)
    t = day + (hour + rng.random(n)) / 24.0
    order = np.lexsort((t, acc))
    acc, t = acc[order], t[order]
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    seq = np.arange(n) - starts  # position of the post in its account's history, oldest first
    platform = a["platform"][acc]

    cum = TYPE_MIX.cumsum(axis=1)[platform]
    ptype = (rng.random(n)[:, None] > cum).sum(axis=1)
    organic = organic_followers(a, acc, t)
    since_viral = t - a["viral_day"][acc]
    viral_boost = np.where(
        since_viral >= -0.5, 1 + a["viral_boost"][acc] * np.exp(-np.maximum(since_viral, 0) / 3), 1
    )
    sponsored = rng.random(n) < a["sponsored_share"][acc]
    expected = (
        a["er"][acc]
        * organic
        * TYPE_ENGAGEMENT[ptype]
        * viral_boost
        * np.where(sponsored, 0.85, 1.0)
        * np.exp(rng.normal(0, 1, n) * a["noise"][acc] - a["noise"][acc] ** 2 / 2)
    )
    lpc = a["likes_per_comment"][acc]
    organic_comments = rng.poisson(expected / (lpc + 1))
    likes = rng.poisson(expected * lpc / (lpc + 1))
    pod_size = a["pod_size"][acc]
    pod_comments = np.where(
        a["pod"][acc], rng.binomial(np.maximum(pod_size - 1, 0), a["pod_reach"][acc]), 0
    )
    bot_comments = np.where(
        a["bots"][acc], rng.poisson(organic_comments * a["bot_ratio"][acc] + 3), 0
    )
    likes = likes + pod_comments  # pod members like what they comment on
    comments = organic_comments + pod_comments + bot_comments
    video = np.isin(ptype, (T_VIDEO, T_REEL, T_SHORT))
    lpv = LIKES_PER_VIEW[platform] * np.exp(rng.normal(0, 0.3, n))
    views = np.where(video, np.round(np.maximum(likes, 1) / lpv), np.nan)
    tiktok = platform == P_TT
    insights = a["insights"][acc]
    shares = np.where(
        tiktok | insights, np.round(likes * np.exp(rng.normal(np.log(0.02), 0.5, n))), np.nan
    )
    saves = np.where(
        tiktok | insights, np.round(likes * np.exp(rng.normal(np.log(0.03), 0.5, n))), np.nan
    )
    followers_now = organic + bought_followers(a, acc, t)
    reach = np.where(
        insights,
        np.round(
            np.maximum(
                followers_now * np.clip(np.exp(rng.normal(np.log(0.25), 0.4, n)), 0, 1.5),
                expected * 3,
            )
        ),
        np.nan,
    )
    impressions = np.where(insights, np.round(reach * rng.uniform(1.1, 1.6, n)), np.nan)
    hidden = a["hide_likes"][acc] & (rng.random(n) < 0.7)
    likes = np.where(hidden, np.nan, likes)

    disclosure = rng.random(n)  # paid-partnership label / caption tag only / undisclosed
    flag = sponsored & (disclosure < 0.45)
    tag_only = sponsored & (disclosure >= 0.45) & (disclosure < 0.85)
    hidden_ad = sponsored & (disclosure >= 0.85)

    post_number = (acc.astype(np.int64) * 1_000_000 + seq).astype(np.int64)
    media_id = np.int64(3_100_000_000_000_000_000) + post_number * 97
    posted_at = np.datetime64(spec.start_at, "us") + (t * 86_400_000_000).astype("timedelta64[us]")
    frame = (
        pl.DataFrame(
            {
                "account_key": acc,
                "platform": pl.Series(PLATFORMS).gather(platform),
                "platform_post_id": pl.Series(media_id).cast(pl.String),
                "post_type": pl.Series(POST_TYPES).gather(ptype),
                "posted_at": pl.Series(posted_at, dtype=pl.Datetime("us")),
                "likes": pl.Series(likes, dtype=pl.Float64).fill_nan(None).cast(pl.Int64),
                "comments": comments.astype(np.int64),
                "shares": pl.Series(shares).fill_nan(None).cast(pl.Int64),
                "saves": pl.Series(saves).fill_nan(None).cast(pl.Int64),
                "views": pl.Series(views).fill_nan(None).cast(pl.Int64),
                "reach": pl.Series(reach).fill_nan(None).cast(pl.Int64),
                "impressions": pl.Series(impressions).fill_nan(None).cast(pl.Int64),
                "is_sponsored": flag | tag_only,
                "flag": flag,
                "tag_only": tag_only,
            }
        )
        .with_columns(
            pl.when("flag")
            .then(pl.lit("paid_partnership"))
            .when("tag_only")
            .then(pl.lit("caption"))
            .alias("sponsor_evidence")
        )
        .drop("flag", "tag_only")
    )
    if text:
        frame = captions(rng, pop, frame, acc, seq, media_id, flag, tag_only, hidden_ad)
    arrays = {
        "acc": acc,
        "t": t,
        "seq": seq,
        "counts": counts,
        "organic_comments": organic_comments,
        "pod_comments": pod_comments,
        "bot_comments": bot_comments,
        "comments": comments,
        "media_id": media_id,
    }
    return frame, arrays


def _snapshots(
    rng: np.random.Generator, pop: Population, idx: np.ndarray, posts: dict[str, np.ndarray]
) -> pl.DataFrame:
    spec, a = pop.spec, pop._arrays
    grid = np.arange(0, spec.days, spec.snapshot_every_days)
    if grid[-1] != spec.days - 1:
        grid = np.append(grid, spec.days - 1)
    k = grid.size
    acc = np.repeat(idx, k)
    day = np.tile(grid, idx.size)
    t = day + a["snapshot_minute"][acc] / 1440.0
    followers = organic_followers(a, acc, t) + bought_followers(a, acc, t)
    followers = np.maximum(np.round(followers * (1 + rng.normal(0, 0.0008, acc.size))), 0)
    following = a["following"][acc] * (1 + 0.02 * t / spec.days)
    # Posts published before each snapshot: binary search on (account, time) keys.
    span = spec.days + 1.0
    post_key = (posts["acc"] - idx[0]) * span + posts["t"]
    snap_key = (acc - idx[0]) * span + t
    before = np.searchsorted(post_key, snap_key, side="left")
    first = np.concatenate([[0], np.cumsum(posts["counts"])[:-1]])
    in_window = before - np.repeat(first, k)
    minutes = day.astype(np.int64) * 1440 + a["snapshot_minute"][acc]
    captured = np.datetime64(spec.start_at, "us") + (minutes * 60_000_000).astype("timedelta64[us]")
    return pl.DataFrame(
        {
            "account_key": acc,
            "captured_at": pl.Series(captured, dtype=pl.Datetime("us")),
            "followers": followers.astype(np.int64),
            "following": pl.Series(np.round(following)).fill_nan(None).cast(pl.Int64),
            "posts_count": (a["posts_before"][acc] + in_window).astype(np.int64),
        }
    )


# -- labels ------------------------------------------------------------------------------------
def planted_labels(pop: Population) -> pl.DataFrame:
    """One row per (account, label): what was planted, when and how much (``detail``)."""
    spec, a = pop.spec, pop._arrays
    start = spec.start_at
    m = pop.n_accounts
    idx = np.arange(m)

    def day_text(day: np.ndarray) -> pl.Series:
        finite = np.isfinite(day)
        offset = (np.where(finite, day, 0) * 86_400_000_000).astype("timedelta64[us]")
        at = pl.Series(np.datetime64(start, "us") + offset).dt.strftime("%Y-%m-%d %H:%M:%S")
        frame = pl.DataFrame({"at": at, "ok": finite})
        return frame.select(pl.when("ok").then(pl.col("at")).alias("at"))["at"]

    rows: list[pl.DataFrame] = []
    bought = idx[a["bought"]]
    if bought.size:
        base = organic_followers(a, bought, a["bought_day"][bought])
        end_bought = bought_followers(a, bought, np.full(bought.size, spec.days - 1.0))
        rows.append(
            pl.DataFrame(
                {
                    "account_key": bought,
                    "label": BOUGHT,
                    "detail": pl.DataFrame(
                        {
                            "kind": BOUGHT,
                            "jump_at": day_text(a["bought_day"][bought]),
                            "jump_days": np.round(a["bought_len"][bought], 2),
                            "followers_before": np.round(base).astype(np.int64),
                            "followers_bought": np.round(a["bought_frac"][bought] * base).astype(
                                np.int64
                            ),
                            "fake_followers_at_end": np.round(end_bought).astype(np.int64),
                            "purged_share": np.round(a["purge"][bought], 3),
                        }
                    ).to_struct(),
                }
            )
        )
    pods = idx[a["pod"]]
    if pods.size:
        handles = pop.accounts["handle"]
        members = a["pod_members"]
        group = a["pod_group"][pods]
        # Each pod's member handles, as one list per pod (a few hundred pods at most).
        pod_handles = (
            pl.DataFrame({"g": a["pod_group"][members], "h": handles.gather(members)})
            .group_by("g", maintain_order=True)
            .agg(pl.col("h"))
        )
        detail = pl.DataFrame(
            {
                "kind": POD,
                "pod": group,
                "members": pl.DataFrame({"g": group}).join(
                    pod_handles, on="g", how="left", maintain_order="left"
                )["h"],
                "reach": np.round(a["pod_reach"][pods], 3),
            }
        )
        rows.append(pl.DataFrame({"account_key": pods, "label": POD, "detail": detail.to_struct()}))
    bots = idx[a["bots"]]
    if bots.size:
        rows.append(
            pl.DataFrame(
                {
                    "account_key": bots,
                    "label": BOTS,
                    "detail": pl.DataFrame(
                        {
                            "kind": BOTS,
                            "bought_comments_per_real_comment": np.round(a["bot_ratio"][bots], 3),
                            "farm_offset": a["bot_offset"][bots],
                        }
                    ).to_struct(),
                }
            )
        )
    clean = idx[~(a["bought"] | a["pod"] | a["bots"])]
    rows.append(
        pl.DataFrame(
            {
                "account_key": clean,
                "label": AUTHENTIC,
                "detail": pl.DataFrame(
                    {
                        "kind": AUTHENTIC,
                        "viral_surge_at": day_text(a["viral_day"][clean]),
                        "viral_gain": np.round(a["viral_size"][clean], 3),
                    }
                ).to_struct(),
            }
        )
    )
    # The kinds' details differ: each is encoded as JSON text (the store's JSON column).
    return pl.concat([r.with_columns(pl.col("detail").struct.json_encode()) for r in rows]).sort(
        "account_key", "label"
    )
