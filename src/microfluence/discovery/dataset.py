"""Reading the labelled niche data set (Kim et al., WWW 2020: accounts.jsonl) for evaluation
and training. Its texts are research-use only: they are read here, never copied into the repo.

One account a line: ``username, category, followers, following, posts_count, posts[]`` with
each post's ``caption``, ``accessibility_caption`` (the image's description, our
``alt_texts``), ``location``, ``type`` (``GraphImage``…, read as the Instagram importer reads
it), ``likes`` and ``comments``. The result has the columns
:func:`microfluence.discovery.features.documents` and
:func:`~microfluence.discovery.features.meta_tokens` read, plus ``label`` (our taxonomy's name,
:data:`microfluence.discovery.taxonomy.DATASET_LABELS`), ``posts`` (how many posts the line
carries) and ``post_rows`` (each post's own texts, type, likes and comments, from which
:func:`single_posts` makes one-post accounts). A number that is missing or not a number is
unknown (null), as from an importer.

:func:`pooled` joins accounts of one label into longer ones (training.augmented, and the
measure of discovery.posts_curve).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from microfluence.discovery.taxonomy import DATASET_LABELS
from microfluence.ingest.instagram.records import TYPENAMES
from microfluence.kernel.errors import InputError

# Joined with a line break, as one account's posts are; post types with a space.
_JOINED = ("captions", "alt_texts", "locations")
_PER_POST = (*_JOINED, "post_types", "likes", "comments")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _account(path: Path, number: int, line: str) -> dict[str, object]:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}, line {number}: not JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise InputError(f"{path}, line {number}: expected an object")
    category = raw.get("category")
    if category not in DATASET_LABELS:
        raise InputError(
            f"{path}, line {number}, field category: {category!r} is not one of "
            + ", ".join(DATASET_LABELS)
        )
    posts = raw.get("posts") or []
    if not isinstance(posts, list):
        raise InputError(f"{path}, line {number}, field posts: expected a list")
    posts = [p for p in posts if isinstance(p, dict)]
    captions = [p.get("caption") or "" for p in posts]
    alt_texts = [p.get("accessibility_caption") or "" for p in posts]
    locations = [p.get("location") for p in posts]
    types = [TYPENAMES.get(str(p.get("type")), "") for p in posts]
    # Each post as the account's only one (training.augmented): the per-post columns.
    singles = [
        {
            "captions": caption,
            "alt_texts": alt if isinstance(alt, str) else "",
            "locations": place if isinstance(place, str) else "",
            "post_types": kind,
            "likes": _number(post.get("likes")),
            "comments": _number(post.get("comments")),
        }
        for post, caption, alt, place, kind in zip(
            posts, captions, alt_texts, locations, types, strict=True
        )
    ]
    return {
        "handle": str(raw.get("username") or ""),
        "name": "",
        "bio": "",
        "captions": "\n".join(captions),
        "hashtags": "",
        "alt_texts": "\n".join(a for a in alt_texts if isinstance(a, str)),
        "locations": "\n".join(x for x in locations if isinstance(x, str)),
        "post_types": " ".join(t for t in types if t),
        "followers": _number(raw.get("followers")),
        "following": _number(raw.get("following")),
        "posts_count": _number(raw.get("posts_count")),
        "likes": _mean([_number(p.get("likes")) for p in posts]),
        "comments": _mean([_number(p.get("comments")) for p in posts]),
        "label": DATASET_LABELS[category],
        "posts": len(captions),
        "post_rows": singles,
    }


def pooled(accounts: pl.DataFrame, k: int, seed: int) -> pl.DataFrame:
    """Accounts of one label pooled ``k`` at a time, in an order shuffled by ``seed``: their
    captions, alt texts and locations joined, their post types and posts counted together, the
    rest (handle, numbers) of the first. A label's last accounts that do not make ``k`` are
    left out."""
    if k < 1:
        raise InputError(f"k: {k} is not a number of accounts to pool (at least 1)")
    groups = accounts.sample(fraction=1.0, shuffle=True, seed=seed).with_columns(
        _group=pl.int_range(pl.len()).over("label") // k
    )
    whole = groups.filter(pl.len().over("label", "_group") == k)
    return (
        whole.group_by("label", "_group", maintain_order=True)
        .agg(
            *(pl.col(c).fill_null("").str.join("\n") for c in _JOINED),
            pl.col("post_types").fill_null("").str.join(" ").str.strip_chars(),
            pl.col("posts").sum(),
            pl.exclude(*_JOINED, "post_types", "posts").first(),
        )
        .drop("_group")
        .select(accounts.columns)
    )


def single_posts(accounts: pl.DataFrame, *, first_only: bool = False) -> pl.DataFrame:
    """Each post of the accounts (each first post with ``first_only``) as an account of its
    own: the handle and account numbers of its account, the post's texts, type, likes and
    comments (from ``post_rows``, which read_accounts gives)."""
    rows = pl.col("post_rows")
    frame = accounts.with_columns(rows.list.slice(0, 1) if first_only else rows)
    return (
        frame.filter(pl.col("post_rows").list.len() > 0)
        .drop(_PER_POST, strict=False)
        .explode("post_rows")
        .unnest("post_rows")
        .with_columns(posts=pl.lit(1, dtype=accounts.schema["posts"]), post_rows=pl.lit(None))
        .select(accounts.columns)
        .cast(accounts.schema)
    )


def read_accounts(path: Path, limit: int | None = None) -> pl.DataFrame:
    """The data set's accounts (the first ``limit`` lines when given)."""
    if not path.is_file():
        raise InputError(f"{path}: no such file (the niches data set's accounts.jsonl)")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if limit is not None and len(rows) >= limit:
                break
            if line.strip():
                rows.append(_account(path, number, line))
    if not rows:
        raise InputError(f"{path}: no accounts")
    return pl.DataFrame(rows, infer_schema_length=None).unique(
        subset="handle", keep="first", maintain_order=True
    )
