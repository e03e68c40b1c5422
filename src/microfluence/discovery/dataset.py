"""Reading the labelled niche data set (Kim et al., WWW 2020: accounts.jsonl) for evaluation
and training. Its texts are research-use only: they are read here, never copied into the repo.

One account a line: ``username, category, followers, following, posts_count, posts[]`` with
each post's ``caption``, ``accessibility_caption`` (the image's description, our
``alt_texts``), ``location``, ``type`` (``GraphImage``…, read as the Instagram importer reads
it), ``likes`` and ``comments``. The result has the columns
:func:`microfluence.discovery.features.documents` and
:func:`~microfluence.discovery.features.meta_tokens` read, plus ``label`` (our taxonomy's name,
:data:`microfluence.discovery.taxonomy.DATASET_LABELS`) and ``posts`` (how many posts the line
carries). A number that is missing or not a number is unknown (null), as from an importer.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from microfluence.discovery.taxonomy import DATASET_LABELS
from microfluence.ingest.instagram.records import TYPENAMES
from microfluence.kernel.errors import InputError


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _account(path: Path, number: int, line: str, first_posts: int | None) -> dict[str, object]:
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
    posts = [p for p in posts if isinstance(p, dict)][:first_posts]
    captions = [p.get("caption") or "" for p in posts]
    alt_texts = [p.get("accessibility_caption") or "" for p in posts]
    locations = [p.get("location") for p in posts]
    types = [TYPENAMES.get(str(p.get("type")), "") for p in posts]
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
    }


def read_accounts(
    path: Path, limit: int | None = None, *, first_posts: int | None = None
) -> pl.DataFrame:
    """The data set's accounts (the first ``limit`` lines when given), each with all its posts
    or only its first ``first_posts`` (discovery.posts_curve)."""
    if first_posts is not None and first_posts < 1:
        raise InputError(f"first_posts: {first_posts} is not a number of posts (at least 1)")
    if not path.is_file():
        raise InputError(f"{path}: no such file (the niches data set's accounts.jsonl)")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if limit is not None and len(rows) >= limit:
                break
            if line.strip():
                rows.append(_account(path, number, line, first_posts))
    if not rows:
        raise InputError(f"{path}: no accounts")
    return pl.DataFrame(rows, infer_schema_length=None).unique(
        subset="handle", keep="first", maintain_order=True
    )
