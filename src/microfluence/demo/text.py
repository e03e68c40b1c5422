"""Captions, hashtags, mentions, sponsor tags and URLs of generated posts — vectorised."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from microfluence.demo import names as N
from microfluence.demo import vocabulary as V

if TYPE_CHECKING:
    from microfluence.demo.population import Population

MAX_TAGS = 10
# Hashtags per post, per platform (min, max): Instagram captions carry the most; YouTube titles
# few (docs/demo.md).
TAG_RANGE = {0: (3, 10), 1: (3, 6), 2: (0, 3), 3: (0, 3), 4: (0, 2), 5: (2, 6)}
# Which disclosure hashtag a sponsored caption uses: #ad dominates (FTC, ASA guidance).
DISCLOSURE_SHARE = np.array([0.5, 0.25, 0.15, 0.05, 0.05])
URL_PATTERNS = {
    "instagram": ("https://www.instagram.com/p/", "shortcode", "/"),
    "tiktok": ("https://www.tiktok.com/@", "handle", "/video/", "platform_post_id"),
    "youtube": ("https://www.youtube.com/watch?v=", "shortcode"),
    "facebook": ("https://www.facebook.com/", "handle", "/posts/", "platform_post_id"),
    "x": ("https://x.com/", "handle", "/status/", "platform_post_id"),
    "pinterest": ("https://www.pinterest.com/pin/", "platform_post_id", "/"),
}


def _url() -> pl.Expr:
    expr = pl.lit(None, dtype=pl.String)
    for platform, parts in URL_PATTERNS.items():
        pieces = [
            pl.col(p) if p in ("shortcode", "handle", "platform_post_id") else pl.lit(p)
            for p in parts
        ]
        expr = pl.when(pl.col("platform") == platform).then(pl.concat_str(pieces)).otherwise(expr)
    shorts = pl.concat_str(pl.lit("https://www.youtube.com/shorts/"), "shortcode")
    reels = pl.concat_str(pl.lit("https://www.instagram.com/reel/"), "shortcode", pl.lit("/"))
    return (
        pl.when((pl.col("platform") == "youtube") & (pl.col("post_type") == "short"))
        .then(shorts)
        .when((pl.col("platform") == "instagram") & (pl.col("post_type") == "reel"))
        .then(reels)
        .otherwise(expr)
    )


def captions(
    rng: np.random.Generator,
    pop: Population,
    frame: pl.DataFrame,
    acc: np.ndarray,
    seq: np.ndarray,
    media_id: np.ndarray,
    flag: np.ndarray,
    tag_only: np.ndarray,
    hidden_ad: np.ndarray,
) -> pl.DataFrame:
    """Add caption, hashtags, mentions, sponsor handles, shortcode and url to a posts frame."""
    a = pop._arrays
    n = acc.size
    lang, niche, platform = a["lang"][acc], a["niche"][acc], a["platform"][acc]
    handles = pop.accounts["handle"].gather(acc)
    sponsored = flag | tag_only | hidden_ad

    lo = np.array([TAG_RANGE[p][0] for p in range(len(TAG_RANGE))])[platform]
    hi = np.array([TAG_RANGE[p][1] for p in range(len(TAG_RANGE))])[platform]
    n_tags = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)
    tag_cols = [N.NICHE_TAGS.take(niche, rng.random(n)).alias(f"t{i}") for i in range(MAX_TAGS)]
    disclosure = pl.Series(V.DISCLOSURE_TAGS).gather(
        rng.choice(len(V.DISCLOSURE_TAGS), size=n, p=DISCLOSURE_SHARE)
    )
    brand = N.BRANDS.take(niche, rng.random(n))
    friend = pop.accounts["handle"].gather(rng.integers(0, pop.n_accounts, n))
    phrase = pl.Series(V.SPONSOR_PHRASES).gather(rng.integers(0, len(V.SPONSOR_PHRASES), n))
    build = pl.DataFrame(
        [
            *tag_cols,
            pl.Series("n_tags", n_tags),
            pl.Series("disclosure", disclosure),
            pl.Series("brand", brand),
            pl.Series("friend", friend),
            pl.Series("phrase", phrase),
            pl.Series("handle", handles),
            pl.Series("opener", N.OPENERS.take(lang, rng.random(n))),
            pl.Series("subject", N.SUBJECTS.take(niche, rng.random(n))),
            pl.Series("closer", N.CLOSERS.take(lang, rng.random(n))),
            pl.Series("emoji", pl.Series(V.EMOJIS).gather(rng.integers(0, len(V.EMOJIS), n))),
            pl.Series("sponsored", sponsored),
            pl.Series("flag", flag),
            pl.Series("tag_only", tag_only),
            pl.Series("tags_ad", tag_only | (flag & (rng.random(n) < 0.5))),
            pl.Series("mention_friend", rng.random(n) < 0.08),
            pl.Series("fyp", (platform == 1) & (rng.random(n) < 0.4)),
        ]
    )
    code = pl.concat_str(
        pl.col("handle").str.replace_all(r"[._0-9]", "").str.slice(0, 6).str.to_uppercase(),
        pl.lit("15"),
    )
    sponsor_sentence = (
        pl.col("phrase")
        .str.replace("{brand}", pl.concat_str(pl.lit("@"), "brand"), literal=True)
        .str.replace("{code}", code, literal=True)
    )
    tags = (
        pl.concat_list([f"t{i}" for i in range(MAX_TAGS)])
        .list.head(pl.col("n_tags"))
        .list.concat(
            pl.when("fyp").then(pl.lit(["fyp"])).otherwise(pl.lit([], dtype=pl.List(pl.String)))
        )
        .list.unique(maintain_order=True)
    )
    tags = pl.when("tags_ad").then(tags.list.concat(pl.concat_list("disclosure"))).otherwise(tags)
    out = build.select(
        tags.alias("hashtags"),
        pl.when("sponsored")
        .then(
            pl.when("mention_friend")
            .then(pl.concat_list("brand", "friend"))
            .otherwise(pl.concat_list("brand"))
        )
        .when("mention_friend")
        .then(pl.concat_list("friend"))
        .otherwise(pl.lit([], dtype=pl.List(pl.String)))
        .alias("mentions"),
        pl.when(pl.col("flag") | pl.col("tag_only"))
        .then(pl.concat_list("brand"))
        .alias("sponsor_handles"),
        pl.concat_str(
            "opener",
            pl.lit(" "),
            "subject",
            pl.lit(" "),
            "emoji",
            pl.when("sponsored")
            .then(pl.concat_str(pl.lit(" "), sponsor_sentence))
            .otherwise(pl.lit("")),
            pl.when("mention_friend")
            .then(pl.concat_str(pl.lit(" With @"), "friend", pl.lit(".")))
            .otherwise(pl.lit("")),
            pl.lit(" "),
            "closer",
        ).alias("body"),
        pl.col("disclosure"),
        pl.col("tag_only"),
        pl.col("handle"),
    )
    out = out.with_columns(
        pl.concat_str(
            "body",
            pl.when(pl.col("hashtags").list.len() > 0)
            .then(pl.concat_str(pl.lit("\n\n#"), pl.col("hashtags").list.join(" #")))
            .otherwise(pl.lit("")),
        ).alias("caption"),
    )
    frame = frame.with_columns(
        out["caption"],
        out["hashtags"],
        out["mentions"],
        out["sponsor_handles"],
        pl.Series("shortcode", N.base64_code(media_id)),
        pl.Series("handle", out["handle"]),
        pl.when(pl.Series(tag_only))
        .then(pl.concat_str(pl.lit("caption:#"), pl.Series(out["disclosure"])))
        .otherwise(pl.col("sponsor_evidence"))
        .alias("sponsor_evidence"),
    )
    frame = frame.with_columns(_url().alias("url")).drop("handle")
    return frame.with_columns(
        pl.when(pl.col("platform").is_in(["instagram", "youtube"]))
        .then(pl.col("shortcode"))
        .alias("shortcode")
    )
