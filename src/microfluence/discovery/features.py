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

Each is hashed (the hashing trick: no vocabulary is stored, so nothing of the training text
ships), counts are damped with log(1 + n) and every row is scaled to unit length.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:
    import scipy.sparse as sp

WORD_BITS = 16
CHAR_BITS = 15
N_FEATURES = (1 << WORD_BITS) + (1 << CHAR_BITS)

HASHTAG = r"#(\w+)"
EMOJI = "[\U0001f300-\U0001faff\u2600-\u27bf]"
_TOKEN = rf"(?u)\b\w\w+\b|{EMOJI}"


@cache
def _vectorisers() -> tuple[Any, Any]:
    """The word and character hashers. scikit-learn is imported on first use, not when the
    app starts: the web server stays within its memory bound (docs/importing.md, "Limits")."""
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
    return words, chars


ACCOUNT_COLUMNS = ("handle", "name", "bio", "captions", "hashtags", "alt_texts")
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


def documents(accounts: pl.DataFrame) -> pl.DataFrame:
    """The documents per account from columns handle, name, bio, captions, hashtags and
    alt_texts.

    ``captions`` is all the account's captions joined; ``hashtags`` the hashtags the source
    listed apart from the captions, space-separated (hashtags written in captions are found
    there too); ``alt_texts`` the posts' image descriptions joined. Missing values and missing
    columns are empty texts.
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


def featurise(accounts: pl.DataFrame) -> sp.csr_matrix:
    """The hashed, damped, unit-length feature matrix (one row per account)."""
    import scipy.sparse as sp  # noqa: PLC0415 - with scikit-learn, on first use
    from sklearn.preprocessing import normalize  # noqa: PLC0415

    words, chars = _vectorisers()
    docs = documents(accounts)
    matrix = sp.hstack(
        [words.transform(docs["words"].to_list()), chars.transform(docs["chars"].to_list())],
        format="csr",
    )
    matrix.data = np.log1p(matrix.data)
    return normalize(matrix, copy=False)
