"""Computing, storing and correcting accounts' niches (table ``account_niches``).

* :func:`recompute_niches` scores a workspace's accounts with the niche model in batches and
  replaces each scored account's ``model`` rows. Only accounts whose inputs changed are scored:
  each model row keeps the account's **fingerprint** (:func:`fingerprints`: the model version
  and what the model reads, in lengths and counts), worked out in the database for all
  accounts at once; ``everything=True`` scores all.
* An account keeps its most likely niche always, and up to ``TOP_K`` − 1 more whose probability
  is at least ``THRESHOLD`` (docs/discovery.md).
* :func:`set_niches` stores a hand correction as ``user`` rows (confidence 1). A re-run never
  touches them, and while an account has them they are its niches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from sqlalchemy import String, cast, delete, func, insert, select
from sqlalchemy.orm import Session

from microfluence.catalog.accounts import find_account
from microfluence.discovery.features import HASHTAG, META_COLUMNS, meta_bins
from microfluence.discovery.model import NicheModel, load_shipped_model
from microfluence.discovery.tables import AccountNiche
from microfluence.discovery.taxonomy import NICHES
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Account, Post

TOP_K = 3
THRESHOLD = 0.2
BATCH = 2_000

Progress = Callable[[int, int | None], None]

# How account_texts reads the store for the model; part of every fingerprint beside the
# model's version, so a change re-scores each account once. 2: a caption's own hashtags are
# read from the caption only, not again from the post's stored hashtag list.
READING = 2


@dataclass(frozen=True)
class NicheRun:
    accounts: int  # in the workspace
    scored: int  # scored this run
    unchanged: int  # skipped: same fingerprint and model version
    rows: int  # model rows written
    by_niche: dict[str, int]  # scored accounts per top niche


@dataclass(frozen=True)
class Niche:
    niche: str
    confidence: float
    source: str


@dataclass(frozen=True)
class AccountNiches:
    account_id: int
    niches: list[Niche]  # the account's niches: the hand correction's while there is one
    model: list[Niche]  # what the model said, also while corrected
    corrected_by: str | None
    model_version: str | None


def fingerprints(
    session: Session, workspace_id: int, version: str, *, account_numbers: bool = False
) -> pl.DataFrame:
    """account_id and fingerprint of every account of the workspace, in one query.

    Only what the model reads counts: the lengths of the handle, bio, name and category,
    the number of posts, the newest post id and the total length of the captions, hashtag
    lists and alt texts; with ``account_numbers`` (the niche model's own fingerprint) also the
    total length of the location names and of the post types, and the account tokens' bins
    (features.meta_bins: followers, following, posts count, likes and comments in powers of
    two). New follower numbers within the same power of two or a re-import of the same posts
    leave it as it was.
    """
    text = func.coalesce(func.sum(func.length(Post.caption)), 0)
    tags = func.coalesce(func.sum(func.length(cast(Post.hashtags, String))), 0)
    alts = func.coalesce(func.sum(func.length(Post.alt_text)), 0)
    posts = (
        select(
            Post.account_id,
            func.count(Post.id).label("n"),
            func.max(Post.id).label("last_id"),
            text.label("chars"),
            tags.label("tags"),
            alts.label("alts"),
            func.coalesce(func.sum(func.length(Post.location)), 0).label("places"),
            func.coalesce(func.sum(func.length(Post.post_type)), 0).label("types"),
            func.avg(Post.likes).label("likes"),
            func.avg(Post.comments).label("comments"),
        )
        .where(Post.workspace_id == workspace_id)
        .group_by(Post.account_id)
        .subquery()
    )
    query = (
        select(
            Account.id.label("account_id"),
            func.length(Account.handle).label("handle"),
            func.length(Account.bio).label("bio"),
            func.length(Account.display_name).label("name"),
            func.length(Account.category).label("category"),
            posts.c.n,
            posts.c.last_id,
            posts.c.chars,
            posts.c.tags,
            posts.c.alts,
            posts.c.places,
            posts.c.types,
            Account.followers,
            Account.following,
            Account.posts_count,
            posts.c.likes,
            posts.c.comments,
        )
        .outerjoin(posts, posts.c.account_id == Account.id)
        .where(Account.workspace_id == workspace_id)
    )
    columns = [
        "account_id",
        "handle",
        "bio",
        "name",
        "category",
        "n",
        "last_id",
        "chars",
        "tags",
        "alts",
    ]
    frame = pl.DataFrame(
        session.execute(query).all(),
        schema=[*columns, "places", "types", *META_COLUMNS],
        orient="row",
        infer_schema_length=None,
    )
    parts = [pl.col(c).cast(pl.Utf8).fill_null("-") for c in columns[1:]]
    if account_numbers:
        bins = meta_bins(frame)
        frame = pl.concat([frame, bins], how="horizontal")
        parts += [
            pl.col(c).cast(pl.Utf8).fill_null("-") for c in ("places", "types", *bins.columns)
        ]
    return frame.select(
        "account_id",
        fingerprint=pl.concat_str([pl.lit(version), *parts], separator="|"),
    )


def _stale(session: Session, workspace_id: int, current: pl.DataFrame) -> pl.DataFrame:
    stored = pl.DataFrame(
        session.execute(
            select(AccountNiche.account_id, func.max(AccountNiche.fingerprint))
            .where(AccountNiche.workspace_id == workspace_id, AccountNiche.source == "model")
            .group_by(AccountNiche.account_id)
        ).all(),
        schema={"account_id": pl.Int64, "stored": pl.Utf8},
        orient="row",
    )
    joined = current.join(stored, on="account_id", how="left")
    return joined.filter(pl.col("stored").is_null() | (pl.col("stored") != pl.col("fingerprint")))


def account_texts(session: Session, workspace_id: int, account_ids: Sequence[int]) -> pl.DataFrame:
    """The model's input for these accounts (features.documents' columns), in their order."""
    profiles = pl.DataFrame(
        session.execute(
            select(
                Account.id,
                Account.handle,
                Account.display_name,
                Account.bio,
                Account.category,
                Account.followers,
                Account.following,
                Account.posts_count,
            ).where(Account.workspace_id == workspace_id, Account.id.in_(account_ids))
        ).all(),
        schema={
            "account_id": pl.Int64,
            "handle": pl.Utf8,
            "name": pl.Utf8,
            "bio": pl.Utf8,
            "category": pl.Utf8,
            "followers": pl.Float64,
            "following": pl.Float64,
            "posts_count": pl.Float64,
        },
        orient="row",
    )
    posts = pl.DataFrame(
        session.execute(
            select(
                Post.account_id,
                Post.caption,
                cast(Post.hashtags, String),
                Post.alt_text,
                Post.location,
                Post.post_type,
                Post.likes,
                Post.comments,
            ).where(Post.workspace_id == workspace_id, Post.account_id.in_(account_ids))
        ).all(),
        schema={
            "account_id": pl.Int64,
            "caption": pl.Utf8,
            "tags": pl.Utf8,
            "alt": pl.Utf8,
            "location": pl.Utf8,
            "type": pl.Utf8,
            "likes": pl.Float64,
            "comments": pl.Float64,
        },
        orient="row",
    ).with_columns(
        # The JSON list as the store wrote it (non-ASCII may be escaped): decoded by Polars.
        # Only the hashtags listed apart from the caption: the importers store the caption's
        # own, and features.documents reads those from the caption already (as in training,
        # where no hashtag is listed apart). Read twice, each would weigh more than the model
        # learnt.
        tags=pl.col("tags")
        .str.json_decode(pl.List(pl.Utf8))
        .list.eval(pl.element().str.to_lowercase())
        .list.set_difference(
            pl.col("caption")
            .fill_null("")
            .str.extract_all(HASHTAG)
            .list.eval(pl.element().str.slice(1).str.to_lowercase())
        )
        .list.join(" ")
    )
    texts = posts.group_by("account_id").agg(
        captions=pl.col("caption").fill_null("").str.join("\n"),
        hashtags=pl.col("tags").fill_null("").str.join(" "),
        alt_texts=pl.col("alt").fill_null("").str.join("\n"),
        locations=pl.col("location").fill_null("").str.join("\n"),
        post_types=pl.col("type").fill_null("").str.join(" "),
        likes=pl.col("likes").mean(),
        comments=pl.col("comments").mean(),
    )
    order = pl.DataFrame({"account_id": list(account_ids)}, schema={"account_id": pl.Int64})
    return (
        order.join(profiles, on="account_id", how="left")
        .join(texts, on="account_id", how="left")
        .with_columns(
            name=pl.concat_str(
                [pl.col("name").fill_null(""), pl.col("category").fill_null("")], separator=" "
            )
        )
    )


def top_niches(probabilities: np.ndarray, niches: Sequence[str]) -> pl.DataFrame:
    """(row, niche, confidence) of each row's kept niches: the best always, then up to
    TOP_K − 1 more with a probability of at least THRESHOLD."""
    k = min(TOP_K, probabilities.shape[1])
    order = np.argsort(-probabilities, axis=1)[:, :k]
    confidence = np.take_along_axis(probabilities, order, axis=1)
    keep = confidence >= THRESHOLD
    keep[:, 0] = True
    rows = np.repeat(np.arange(len(probabilities)), k).reshape(-1, k)
    names = np.array(niches, dtype=object)
    return pl.DataFrame(
        {
            "row": rows[keep],
            "niche": names[order[keep]].astype(str),
            "confidence": np.round(confidence[keep].astype(np.float64), 4),
        }
    )


def _score_batch(
    session: Session, workspace_id: int, batch: pl.DataFrame, model: NicheModel
) -> pl.DataFrame:
    ids = batch["account_id"].to_list()
    texts = account_texts(session, workspace_id, ids)
    kept = top_niches(model.probabilities(texts), model.niches)
    rows = kept.join(
        batch.with_row_index("row").with_columns(pl.col("row").cast(pl.Int64)),
        on="row",
    ).select(
        "account_id",
        "niche",
        "confidence",
        "fingerprint",
        workspace_id=pl.lit(workspace_id),
        source=pl.lit("model"),
        model_version=pl.lit(model.version),
    )
    # The ids drive (one seek each by account_id); the workspace is tested on the rows found.
    # Without statistics SQLite took the workspace index and read every niche row of the
    # workspace, once per batch (a million rows in the search bench's store).
    session.execute(
        delete(AccountNiche).where(
            (AccountNiche.workspace_id + 0) == workspace_id,
            AccountNiche.source == "model",
            AccountNiche.account_id.in_(ids),
        )
    )
    if rows.height:
        session.execute(insert(AccountNiche), rows.to_dicts())
    return rows


def recompute_niches(
    session: Session,
    workspace_id: int,
    *,
    everything: bool = False,
    model: NicheModel | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH,
) -> NicheRun:
    """Score the accounts whose inputs changed (all with ``everything``); see the module."""
    model = model or load_shipped_model()
    version = f"{model.version}/reading-{READING}"
    current = fingerprints(session, workspace_id, version, account_numbers=True)
    todo = current if everything else _stale(session, workspace_id, current)
    written: list[pl.DataFrame] = []
    if progress:
        progress(0, todo.height)
    for start in range(0, todo.height, batch_size):
        written.append(_score_batch(session, workspace_id, todo.slice(start, batch_size), model))
        session.flush()
        if progress:
            progress(min(start + batch_size, todo.height), todo.height)
    rows = pl.concat(written) if written else pl.DataFrame({"account_id": [], "niche": []})
    tops = (
        rows.group_by("account_id", maintain_order=True).first()["niche"].value_counts()
        if rows.height
        else pl.DataFrame({"niche": [], "count": []})
    )
    return NicheRun(
        accounts=current.height,
        scored=todo.height,
        unchanged=current.height - todo.height,
        rows=rows.height,
        by_niche=dict(zip(tops["niche"].to_list(), tops["count"].to_list(), strict=True)),
    )


def _check_niches(niches: Sequence[str]) -> list[str]:
    clean: list[str] = []
    for niche in niches:
        name = str(niche).strip().lower()
        if name not in NICHES:
            raise InputError(f"niches: {niche!r} is not a niche; use one of " + ", ".join(NICHES))
        if name not in clean:
            clean.append(name)
    if len(clean) > TOP_K:
        raise InputError(f"niches: at most {TOP_K} niches per account, got {len(clean)}")
    return clean


def set_niches(
    session: Session,
    workspace_id: int,
    account_id: int,
    niches: Sequence[str],
    *,
    by: str | None = None,
) -> AccountNiches:
    """Correct an account's niches by hand (``user`` rows, confidence 1); an empty list
    removes the correction, so the model's niches show again."""
    clean = _check_niches(niches)
    find_account(session, workspace_id, account_id)
    session.execute(
        delete(AccountNiche).where(
            AccountNiche.workspace_id == workspace_id,
            AccountNiche.account_id == account_id,
            AccountNiche.source == "user",
        )
    )
    if clean:
        session.execute(
            insert(AccountNiche),
            [
                {
                    "workspace_id": workspace_id,
                    "account_id": account_id,
                    "niche": n,
                    "confidence": 1.0,
                    "source": "user",
                    "set_by": by,
                }
                for n in clean
            ],
        )
    session.flush()
    return get_niches(session, workspace_id, account_id)


def get_niches(session: Session, workspace_id: int, account_id: int) -> AccountNiches:
    """An account's niches (the correction's while there is one) and the model's."""
    find_account(session, workspace_id, account_id)
    stored = session.scalars(
        select(AccountNiche)
        .where(AccountNiche.workspace_id == workspace_id, AccountNiche.account_id == account_id)
        .order_by(AccountNiche.confidence.desc(), AccountNiche.niche)
    ).all()
    user = [Niche(r.niche, r.confidence, "user") for r in stored if r.source == "user"]
    model = [Niche(r.niche, r.confidence, "model") for r in stored if r.source == "model"]
    return AccountNiches(
        account_id=account_id,
        niches=user or model,
        model=model,
        corrected_by=next((r.set_by for r in stored if r.source == "user"), None),
        model_version=next((r.model_version for r in stored if r.source == "model"), None),
    )
