"""Brand-safety screening of captions and bios against configurable word lists.

A term matches as a whole word or phrase, whatever its case (``\\bterm\\b``). The shipped lists
(``DEFAULT_WORD_LISTS``) are deliberately modest — unambiguous words per category, so that a
match is worth a look rather than noise; every brand has its own tolerance, so a workspace sets
its own lists in its settings (``workspaces.settings["brand_safety"]``) or in a JSON file:

.. code-block:: json

    {"categories": {"alcohol": ["vodka", "tequila"], "politics": null},
     "replace_defaults": false}

A category given a list replaces the shipped list of that name (or adds a new category); ``null``
(or an empty list) switches a category off; ``"replace_defaults": true`` drops every shipped list
not named.

Score: with ``h`` the share of recent posts (the last ``WINDOW_POSTS``) whose caption matches any
list, ``100 · (1 − min(1, h / 0.20))``, and 25 points less when the bio matches (floored at 0).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from microfluence.authenticity.signals.scale import linear_score
from microfluence.kernel.errors import InputError

WINDOW_POSTS = 30
MIN_POSTS = 1
SCORE_GOOD, SCORE_BAD = 0.0, 0.20
BIO_PENALTY = 25.0
SETTINGS_KEY = "brand_safety"
_EDGE_PUNCTUATION = r"^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$"

DEFAULT_WORD_LISTS: dict[str, tuple[str, ...]] = {
    "profanity": ("fuck", "fucking", "shit", "bitch", "cunt", "motherfucker", "asshole", "wtf"),
    "violence": ("kill you", "murder", "shooting", "massacre", "beheading", "gore", "bloodbath"),
    "drugs": ("cocaine", "heroin", "meth", "mdma", "ecstasy pills", "weed", "420", "lsd"),
    "gambling": ("casino", "betting", "sportsbook", "poker", "slots", "jackpot", "roulette"),
    "politics": ("election", "vote for", "democrats", "republicans", "maga", "protest"),
    "adult": ("onlyfans", "nsfw", "xxx", "porn", "nudes"),
    "hate": ("white power", "nazi", "heil"),
}


def word_lists(overrides: Mapping[str, Any] | None = None) -> dict[str, tuple[str, ...]]:
    """The effective lists: the shipped defaults with a workspace's or a file's overrides."""
    if not overrides:
        return dict(DEFAULT_WORD_LISTS)
    if not isinstance(overrides, Mapping):
        raise InputError("brand-safety settings must be a JSON object", field=SETTINGS_KEY)
    categories = overrides.get("categories", {})
    if not isinstance(categories, Mapping):
        raise InputError("'categories' must map a category to a list of words", field="categories")
    lists = {} if overrides.get("replace_defaults") else dict(DEFAULT_WORD_LISTS)
    for name, terms in categories.items():
        if terms is None or terms == []:
            lists.pop(str(name), None)
            continue
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise InputError(f"category {name!r} must be a list of words", field=str(name))
        cleaned = tuple(t.strip().lower() for t in terms if t.strip())
        if cleaned:
            lists[str(name)] = cleaned
        else:
            lists.pop(str(name), None)
    return lists


def read_word_lists_file(path: str | Path) -> dict[str, Any]:
    """Overrides from a JSON file (same shape as the workspace setting)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise InputError("no such file", file=str(path)) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON: {exc}", file=str(path)) from exc
    if not isinstance(data, dict):
        raise InputError("expected a JSON object with 'categories'", file=str(path))
    word_lists(data)  # validates
    return data


def _pattern(terms: tuple[str, ...]) -> str:
    # Longest first, so that "kill you" wins over a shorter overlapping term.
    alternatives = "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True))
    return rf"(?i)(?:^|[^\p{{L}}\p{{N}}_])({alternatives})(?:[^\p{{L}}\p{{N}}_]|$)"


def matches(text: pl.Expr, lists: Mapping[str, tuple[str, ...]]) -> pl.Expr:
    """A list of "category:term" strings found in ``text`` (empty when clean)."""
    found = [
        text.fill_null("")
        .str.extract_all(_pattern(terms))
        .list.eval(
            pl.lit(f"{name}:")
            + pl.element()
            .str.to_lowercase()
            .str.replace_all(r"^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$", "")
        )
        for name, terms in lists.items()
        if terms
    ]
    if not found:
        return pl.lit([], dtype=pl.List(pl.String))
    return pl.concat_list(found).list.unique(maintain_order=True)


def screen_posts(posts: pl.DataFrame, lists: Mapping[str, tuple[str, ...]]) -> pl.DataFrame:
    """The recent posts with the terms their captions matched."""
    return (
        posts.sort("account_id", "posted_at", descending=[False, True], nulls_last=True)
        .with_columns(pl.int_range(pl.len()).over("account_id").alias("recency_rank"))
        .filter(pl.col("recency_rank") < WINDOW_POSTS)
        .with_columns(matches(pl.col("caption"), lists).alias("brand_safety_matches"))
    )


def brand_safety_signal(
    accounts: pl.DataFrame, posts: pl.DataFrame, lists: Mapping[str, tuple[str, ...]]
) -> pl.DataFrame:
    """Per account: posts screened, posts and bio matching, and the 0-100 score."""
    screened = screen_posts(posts, lists)
    per_account = screened.group_by("account_id").agg(
        pl.len().cast(pl.UInt32).alias("brand_safety_posts_seen"),
        (pl.col("brand_safety_matches").list.len() > 0)
        .sum()
        .cast(pl.UInt32)
        .alias("brand_safety_posts_flagged"),
    )
    bios = accounts.select(
        "account_id", matches(pl.col("bio"), lists).alias("brand_safety_bio_matches")
    )
    return (
        bios.join(per_account, on="account_id", how="left")
        .with_columns(
            pl.col("brand_safety_posts_seen").fill_null(0),
            pl.col("brand_safety_posts_flagged").fill_null(0),
        )
        .with_columns(
            (pl.col("brand_safety_posts_flagged") / pl.col("brand_safety_posts_seen")).alias(
                "brand_safety_flagged_share"
            ),
            (pl.col("brand_safety_posts_seen") >= MIN_POSTS).alias("brand_safety_available"),
        )
        .with_columns(
            pl.when(pl.col("brand_safety_available"))
            .then(
                (
                    linear_score(pl.col("brand_safety_flagged_share"), SCORE_GOOD, SCORE_BAD)
                    - pl.when(pl.col("brand_safety_bio_matches").list.len() > 0)
                    .then(BIO_PENALTY)
                    .otherwise(0.0)
                ).clip(lower_bound=0.0)
            )
            .alias("brand_safety_score")
        )
        .sort("account_id")
    )
