"""Captions, hashtags, mentions, sponsor tags and URLs of generated posts — vectorised."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

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
_TAG_VOCABULARY = pl.concat([N.NICHE_TAGS.values, pl.Series(["fyp", *V.DISCLOSURE_TAGS])])
_HASHED_VOCABULARY = "#" + _TAG_VOCABULARY
_SPACED_CLOSERS = N.Vocab([[f" {c}" if c else "" for c in V.CLOSERS[lang]] for lang in N.LANGUAGES])
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


def _nulls(n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.String, eager=True)


def _discount_codes(pop: Population) -> pl.Series:
    """Each account's discount code, from its handle: 'emma.walker' -> 'EMMAWA15' (cached)."""
    codes = pop.cache.get("discount_codes")
    if codes is None:
        codes = pop.accounts.select(
            pl.concat_str(
                pl.col("handle").str.replace_all(r"[._0-9]", "").str.slice(0, 6).str.to_uppercase(),
                pl.lit("15"),
            )
        ).to_series()
        pop.cache["discount_codes"] = codes
    return codes


def list_column(name: str, values: pl.Series, valid: np.ndarray, null_rows=None) -> pl.Series:
    """A list column from an (n, k) matrix of strings and a matrix saying which are present."""
    return flat_list_column(
        name, values.gather(np.flatnonzero(valid.ravel())), valid.sum(axis=1), null_rows
    )


def flat_list_column(
    name: str, flat: pl.Series, lengths: np.ndarray, null_rows: np.ndarray | None = None
) -> pl.Series:
    """A list column from its values laid end to end and each row's length.

    Built straight from Arrow offsets: Polars' ``concat_list`` on strings is slow at millions of
    rows, this is a cumulative sum.
    """
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    mask = None if null_rows is None else pa.array(null_rows)
    array = pa.LargeListArray.from_arrays(offsets, flat.to_arrow(), mask=mask)
    return pl.Series(name, pl.from_arrow(array)).cast(pl.List(pl.String))


def _hashtags(
    rng: np.random.Generator,
    niche: np.ndarray,
    platform: np.ndarray,
    fyp: np.ndarray,
    disclose: np.ndarray,
) -> tuple[pl.Series, pl.Series]:
    """Distinct niche hashtags (+ #fyp, + a disclosure tag): the list and its caption text."""
    n = niche.size
    lo = np.array([TAG_RANGE[p][0] for p in range(len(TAG_RANGE))])[platform]
    hi = np.array([TAG_RANGE[p][1] for p in range(len(TAG_RANGE))])[platform]
    n_tags = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)
    # Distinct tags without sorting: start anywhere, step by a number prime to the list length.
    size = N.NICHE_TAGS.lengths[niche]
    start = (rng.random(n) * size).astype(np.int64)
    step = np.array([1, 3, 7, 9])[rng.integers(0, 4, n)]
    slot = np.arange(MAX_TAGS)
    picked = N.NICHE_TAGS.offsets[niche][:, None] + (start[:, None] + slot * step[:, None]) % 10
    fyp_index = len(N.NICHE_TAGS.values)
    disclosure = fyp_index + 1 + rng.choice(len(V.DISCLOSURE_TAGS), size=n, p=DISCLOSURE_SHARE)
    index = np.column_stack([picked, np.full(n, fyp_index), disclosure])
    valid = np.column_stack([slot[None, :] < n_tags[:, None], fyp, disclose])
    present = index.ravel()[valid.ravel()]
    lengths = valid.sum(axis=1)
    tags = flat_list_column("hashtags", _TAG_VOCABULARY.gather(present), lengths)
    hashed = _HASHED_VOCABULARY.gather(present).to_arrow()
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    joined = pc.binary_join(
        pa.LargeListArray.from_arrays(offsets, hashed), pa.scalar(" ", hashed.type)
    )
    text = pl.Series("text", pl.from_arrow(joined)).cast(pl.String)
    return tags, text


def captions(
    rng: np.random.Generator,
    pop: Population,
    frame: pl.DataFrame,
    acc: np.ndarray,
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
    fyp = (platform == 1) & (rng.random(n) < 0.4)
    tags_ad = tag_only | (flag & (rng.random(n) < 0.5))
    hashtags, hashtag_text = _hashtags(rng, niche, platform, fyp, tags_ad)
    disclosure = hashtags.list.last()
    brand = N.BRANDS.take(niche, rng.random(n))
    friend = pop.accounts["handle"].gather(rng.integers(0, pop.n_accounts, n))
    mention_friend = rng.random(n) < 0.08
    pairs = pl.concat([brand, friend]).gather(
        np.column_stack([np.arange(n), n + np.arange(n)]).ravel()
    )
    mentions = list_column("mentions", pairs, np.column_stack([sponsored, mention_friend]))
    sponsor_handles = list_column(
        "sponsor_handles", brand, (flag | tag_only)[:, None], null_rows=~(flag | tag_only)
    )
    # Sentences that only some posts have are built for those posts and scattered into NULLs.
    sp = np.flatnonzero(sponsored)
    sponsor = pl.DataFrame(
        {
            "phrase": pl.Series(V.SPONSOR_PHRASES).gather(
                rng.integers(0, len(V.SPONSOR_PHRASES), sp.size)
            ),
            "brand": brand.gather(sp),
            "code": _discount_codes(pop).gather(acc[sp]),
        }
    ).select(
        pl.concat_str(
            pl.lit(" "),
            pl.col("phrase")
            .str.replace("{brand}", pl.concat_str(pl.lit("@"), "brand"), literal=True)
            .str.replace("{code}", pl.col("code"), literal=True),
        )
    )
    mf = np.flatnonzero(mention_friend)
    with_friend = " With @" + friend.gather(mf) + "."
    tagged = np.flatnonzero(hashtag_text.str.len_bytes().to_numpy() > 0)
    caption = pl.DataFrame(
        [
            N.OPENERS.take(lang, rng.random(n)).alias("opener"),
            N.SUBJECTS.take(niche, rng.random(n)).alias("subject"),
            pl.Series(V.EMOJIS).gather(rng.integers(0, len(V.EMOJIS), n)).alias("emoji"),
            _nulls(n).scatter(sp, sponsor.to_series()).alias("sponsor"),
            _nulls(n).scatter(mf, with_friend).alias("friend"),
            _SPACED_CLOSERS.take(lang, rng.random(n)).alias("closer"),
            _nulls(n).scatter(tagged, "\n\n" + hashtag_text.gather(tagged)).alias("tags"),
        ]
    ).select(
        pl.concat_str(
            "opener",
            pl.lit(" "),
            "subject",
            pl.lit(" "),
            "emoji",
            "sponsor",
            "friend",
            "closer",
            "tags",
            ignore_nulls=True,
        ).alias("caption")
    )["caption"]
    to = np.flatnonzero(tag_only)
    evidence = frame["sponsor_evidence"].scatter(to, "caption:#" + disclosure.gather(to))
    frame = frame.with_columns(
        caption,
        hashtags,
        mentions,
        sponsor_handles,
        pl.Series("shortcode", N.base64_code(media_id)),
        pl.Series("handle", handles),
        evidence,
    )
    frame = frame.with_columns(_url().alias("url")).drop("handle")
    return frame.with_columns(
        pl.when(pl.col("platform").is_in(["instagram", "youtube"]))
        .then(pl.col("shortcode"))
        .alias("shortcode")
    )
