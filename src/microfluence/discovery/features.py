"""From an account's texts to the niche model's features, for many accounts at once.

An account is its handle, display name, bio, and its posts' captions, hashtags and alt texts
(the images' descriptions). The texts are assembled with Polars expressions (no Python loop over
accounts) into two documents:

* ``words``: the bio, name, captions and alt texts, lower-cased (Instagram's boilerplate
  "Image may contain:" and "No photo description available." taken out of the alt texts, so
  "Image may contain: dog, grass" reads ``dog grass``), with each hashtag also split into words
  (``#MorningRun`` → ``morning run``, ``#run2024`` → ``run 2024``) and the handle split at
  dots, underscores and digits; emoji are kept as tokens of their own;
* ``tags``: each hashtag whole, as a token of its own kind (``t_fitfam``);
* ``chars``: the hashtags and the handle as character 3–5-grams, which catch concatenated
  hashtags without a dictionary (``#veganbreakfastideas`` shares ``veg``, ``vega``,
  ``break``… with ``#vegan`` and ``#breakfast``) and words in many languages and spellings.

The posts' location names (``Jones Beach``, ``Olbia, Italy``, a restaurant's name) join the
words. Each of these is hashed (the hashing trick: no vocabulary is stored, so nothing of the
training text ships) and counted. With :class:`TermWeights` (since ``niches-hashed-sgd-4``) a
count n becomes n·(k₁ + 1)/(n + k₁) (BM25's term-frequency saturation, k₁ = ``BM25_K1``)
times the slot's idf, learnt on the training accounts (:func:`idf`); without them (the recipe of
``niches-hashed-sgd-3``) log(1 + n). Either way the text part is then scaled to unit length.

A small block of **account tokens** (:func:`meta_tokens`) comes beside them: followers,
following and the posts count in powers of two, the follower/following ratio, likes and
comments per follower and comments per like (powers of two), and each post's type
(image, carousel, video…). A value the source does not give yields no token. The block is
weighted ``META_WEIGHT`` / √(its tokens) and the whole row scaled to unit length again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:
    import scipy.sparse as sp

WORD_BITS = 16
CHAR_BITS = 15
META_BITS = 10
N_TEXT = (1 << WORD_BITS) + (1 << CHAR_BITS)
N_FEATURES = N_TEXT + (1 << META_BITS)
META_WEIGHT = 0.5
# BM25's term-frequency saturation (Robertson & Zaragoza, "The Probabilistic Relevance
# Framework: BM25 and Beyond", 2009): the usual k₁; no length part (b = 0), the rows are scaled
# to unit length instead.
BM25_K1 = 1.2

HASHTAG = r"#(\w+)"
EMOJI = "[\U0001f300-\U0001faff\u2600-\u27bf]"
_TOKEN = rf"(?u)\b\w\w+\b|{EMOJI}"


@cache
def _vectorisers() -> tuple[Any, Any, Any]:
    """The word, character and account-token hashers. scikit-learn is imported on first use,
    not when the app starts: the web server stays within its memory bound (docs/importing.md,
    "Limits")."""
    from sklearn.feature_extraction.text import HashingVectorizer  # noqa: PLC0415

    words = HashingVectorizer(
        n_features=1 << WORD_BITS,
        token_pattern=_TOKEN,
        lowercase=False,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )
    chars = HashingVectorizer(
        n_features=1 << CHAR_BITS,
        analyzer="char_wb",
        ngram_range=(3, 5),
        lowercase=False,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )
    meta = HashingVectorizer(
        n_features=1 << META_BITS,
        token_pattern=r"\S+",
        lowercase=False,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )
    return words, chars, meta


ACCOUNT_COLUMNS = ("handle", "name", "bio", "captions", "hashtags", "alt_texts", "locations")
# The numbers meta_tokens reads: the account's (followers, following, posts_count), the mean
# likes and comments of its posts, and its posts' types (space-separated: image, carousel…).
META_COLUMNS = ("followers", "following", "posts_count", "likes", "comments")
# Instagram's automatic alt texts open with phrases that say nothing about the picture
# ("Image may contain: dog", "Photo by lea.v on May 1, 2024. May be an image of 1 person").
ALT_BOILERPLATE = (
    r"(?i)image may contain:?|no photo description available\.?"
    r"|may be an? (?:image|graphic|illustration|photo|closeup|selfie)(?: of)?"
    r"|photo(?: shared)? by \S+(?: on [^.]*)?\.?"
)


def _split_words(expr: pl.Expr) -> pl.Expr:
    """camelCase, letter/digit boundaries, dots and underscores become spaces."""
    return (
        expr.str.replace_all(r"([a-z])([A-Z])", "${1} ${2}")
        .str.replace_all(r"([A-Za-z])([0-9])", "${1} ${2}")
        .str.replace_all(r"([0-9])([A-Za-z])", "${1} ${2}")
        .str.replace_all(r"[._]+", " ")
    )


def _log2(expr: pl.Expr, low: int, high: int) -> pl.Expr:
    """round(log2(x)), clipped to [low, high]; null stays null (0 gives ``low``)."""
    return expr.cast(pl.Float64).log(2).round(0).clip(low, high).cast(pl.Int64)


def meta_bins(accounts: pl.DataFrame) -> pl.DataFrame:
    """The account numbers meta_tokens reads, binned (powers of two); null where unknown
    (missing, negative, not finite)."""
    frame = pl.DataFrame(
        {
            c: accounts[c].cast(pl.Float64)
            if c in accounts.columns
            else pl.Series([None] * accounts.height, dtype=pl.Float64)
            for c in META_COLUMNS
        }
    )
    frame = frame.select(
        pl.when(pl.col(c).is_finite() & (pl.col(c) >= 0)).then(pl.col(c)).alias(c)
        for c in META_COLUMNS
    )
    return frame.select(
        fol=_log2(pl.col("followers") + 1, 0, 40),
        fng=_log2(pl.col("following") + 1, 0, 40),
        pc=_log2(pl.col("posts_count") + 1, 0, 40),
        ratio=_log2((pl.col("followers") + 1) / (pl.col("following") + 1), -10, 10),
        er=_log2((pl.col("likes") + pl.col("comments")) / (pl.col("followers") + 1), -15, 5),
        cr=_log2((pl.col("comments") + 1) / (pl.col("likes") + 1), -12, 2),
    )


def meta_tokens(accounts: pl.DataFrame) -> pl.Series:
    """The account tokens (module doc): ``m_fol12 m_fng9 … m_type_image``, one string a row."""
    bins = meta_bins(accounts)
    types = (
        accounts["post_types"].cast(pl.Utf8).fill_null("")
        if "post_types" in accounts.columns
        else pl.Series([""] * accounts.height, dtype=pl.Utf8)
    )
    return (
        bins.with_columns(types=types.str.to_lowercase().str.replace_all(r"(\w+)", "m_type_${1}"))
        .select(
            pl.concat_str(
                [pl.lit(f"m_{c}") + pl.col(c).cast(pl.Utf8) for c in bins.columns]
                + [pl.col("types")],
                separator=" ",
                ignore_nulls=True,
            ).fill_null("")
        )
        .to_series()
    )


def documents(accounts: pl.DataFrame) -> pl.DataFrame:
    """The documents per account from columns handle, name, bio, captions, hashtags,
    alt_texts and locations.

    ``captions`` is all the account's captions joined; ``hashtags`` the hashtags the source
    listed apart from the captions, space-separated (hashtags written in captions are found
    there too); ``alt_texts`` the posts' image descriptions joined; ``locations`` the posts'
    location names joined. Missing values and missing columns are empty texts.
    """
    frame = accounts.select(
        [
            (pl.col(c) if c in accounts.columns else pl.lit(None))
            .cast(pl.Utf8)
            .fill_null("")
            .alias(c)
            for c in ACCOUNT_COLUMNS
        ]
    ).with_columns(
        tags=pl.concat_str(
            pl.col("captions").str.extract_all(HASHTAG).list.join(" ").str.replace_all("#", ""),
            pl.col("hashtags").str.replace_all("#", ""),
            separator=" ",
        ).str.strip_chars()
    )
    return frame.select(
        words=pl.concat_str(
            pl.col("name"),
            pl.col("bio"),
            pl.col("captions").str.replace_all(HASHTAG, " "),
            pl.col("alt_texts").str.replace_all(ALT_BOILERPLATE, " "),
            pl.col("locations"),
            _split_words(pl.col("tags")),
            _split_words(pl.col("handle")),
            separator=" ",
        ).str.to_lowercase()
        + " "
        + pl.col("tags").str.to_lowercase().str.replace_all(r"(\w+)", "t_${1}"),
        chars=pl.concat_str(
            pl.col("tags"),
            pl.col("handle").str.replace_all(r"[^\w]|[0-9_]", " "),
            separator=" ",
        ).str.to_lowercase(),
    )


@dataclass(frozen=True)
class TermWeights:
    """How the text counts are weighted: BM25 saturation times ``idf`` (one per text slot)."""

    idf: np.ndarray  # (N_TEXT,)


def counts(accounts: pl.DataFrame) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The raw hashed counts: text (words, then character n-grams; N_TEXT columns) and the
    account tokens (2^META_BITS columns)."""
    import scipy.sparse as sp  # noqa: PLC0415 - with scikit-learn, on first use

    words, chars, meta = _vectorisers()
    docs = documents(accounts)
    text = sp.hstack(
        [words.transform(docs["words"].to_list()), chars.transform(docs["chars"].to_list())],
        format="csr",
    )
    return text, meta.transform(meta_tokens(accounts).to_list()).tocsr()


def idf(text: sp.csr_matrix) -> np.ndarray:
    """Each text slot's smoothed inverse document frequency over the rows of ``text`` (raw
    counts): ln((1 + n)/(1 + df)) + 1, n the rows and df those where the slot occurs
    (scikit-learn's ``TfidfTransformer(smooth_idf=True)``); slots never seen get the highest."""
    seen = np.bincount(text.indices, minlength=text.shape[1])
    return (np.log((1.0 + text.shape[0]) / (1.0 + seen)) + 1.0).astype(np.float32)


def featurise(accounts: pl.DataFrame, terms: TermWeights | None = None) -> sp.csr_matrix:
    """The hashed, weighted, unit-length feature matrix (one row per account); ``terms`` None
    damps the counts with log(1 + n) (module doc)."""
    return weigh(*counts(accounts), terms)


def weigh(
    text: sp.csr_matrix, tokens: sp.csr_matrix, terms: TermWeights | None = None
) -> sp.csr_matrix:
    """:func:`featurise` from :func:`counts` (``text`` and ``tokens`` are left as they were)."""
    import scipy.sparse as sp  # noqa: PLC0415 - with scikit-learn, on first use
    from sklearn.preprocessing import normalize  # noqa: PLC0415

    text = text.astype(np.float32)  # a copy
    if terms is None:
        text.data = np.log1p(text.data)
    else:
        text.data = text.data * (BM25_K1 + 1.0) / (text.data + BM25_K1)
        text.data *= terms.idf[text.indices]
    weight = META_WEIGHT / np.sqrt(np.maximum(np.asarray(tokens.sum(axis=1)).ravel(), 1.0))
    tokens = sp.diags(weight.astype(np.float32)) @ tokens
    matrix = sp.hstack([normalize(text, copy=False), tokens], format="csr")
    return normalize(matrix, copy=False)
