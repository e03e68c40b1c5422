"""Account vectors for semantic search and lookalikes (table ``account_vectors``).

An account's vector is the sentence embedding (discovery.embedding, WordLlama l2_supercat, 256
dimensions, L2-normalised) of one text made of its handle, display name and category, bio,
niche names, the hashtags and the captions of its ``RECENT_POSTS`` newest posts. It is stored as
float16 bytes (512 per account; the cosine changes by < 1e-3).

:func:`recompute_vectors` embeds only the accounts whose text changed: each row keeps a
**fingerprint**, the niches' fingerprint (discovery.niches.fingerprints: lengths and counts of
what is read, worked out in the database) joined with the account's niche names, under the
model's name and ``RECIPE``. It runs after the niches, with them (``microfluence niches``,
``POST /api/v1/niches/recompute``, the library's ``recompute_niches``, the demo build).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from sqlalchemy import String, cast, delete, insert, inspect, select, text
from sqlalchemy.orm import Session

from microfluence.discovery.embedding import DIMENSIONS, MODEL_NAME, embed_texts
from microfluence.discovery.niches import fingerprints
from microfluence.discovery.tables import AccountNiche, AccountVector
from microfluence.kernel.store.tables import Account, Post, utcnow

RECIPE = "v1"  # what the text is made of; a change re-embeds every account
RECENT_POSTS = 12
MAX_CHARS = 4_000
BATCH = 2_000

Progress = Callable[[int, int | None], None]
_PGVECTOR: dict[str, bool] = {}


@dataclass(frozen=True)
class VectorRun:
    accounts: int  # in the workspace
    embedded: int  # this run
    unchanged: int  # skipped: same fingerprint
    removed: int  # rows of a model or recipe no longer used


def to_bytes(vectors: np.ndarray) -> list[bytes]:
    half = np.ascontiguousarray(vectors, dtype=np.float16)
    return [row.tobytes() for row in half]


def from_bytes(blobs: Sequence[bytes]) -> np.ndarray:
    """(n, DIMENSIONS) float32 rows from stored bytes, in one buffer (no loop over values)."""
    if not blobs:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    flat = np.frombuffer(b"".join(blobs), dtype=np.float16)
    return flat.reshape(len(blobs), DIMENSIONS).astype(np.float32)


def _niche_names(session: Session, workspace_id: int) -> pl.DataFrame:
    """account_id → its niche names (its hand correction's when it has one), space-separated."""
    rows = pl.DataFrame(
        session.execute(
            select(AccountNiche.account_id, AccountNiche.niche, AccountNiche.source).where(
                AccountNiche.workspace_id == workspace_id
            )
        ).all(),
        schema={"account_id": pl.Int64, "niche": pl.Utf8, "source": pl.Utf8},
        orient="row",
    )
    has_user = rows.filter(pl.col("source") == "user")["account_id"].unique()
    kept = rows.filter(
        (pl.col("source") == "user") | ~pl.col("account_id").is_in(has_user.implode())
    )
    return (
        kept.sort("account_id", "niche")
        .group_by("account_id")
        .agg(niches=pl.col("niche").str.replace_all("_", " ").str.join(" "))
    )


def vector_fingerprints(session: Session, workspace_id: int) -> pl.DataFrame:
    """account_id, fingerprint and niche names of every account of the workspace."""
    base = fingerprints(session, workspace_id, f"{MODEL_NAME}/{RECIPE}")
    names = _niche_names(session, workspace_id)
    return base.join(names, on="account_id", how="left").with_columns(
        fingerprint=pl.concat_str(
            [pl.col("fingerprint"), pl.col("niches").fill_null("")], separator="|"
        ).str.slice(0, 300)
    )


def _stale(session: Session, workspace_id: int, current: pl.DataFrame) -> pl.DataFrame:
    stored = pl.DataFrame(
        session.execute(
            select(AccountVector.account_id, AccountVector.fingerprint).where(
                AccountVector.workspace_id == workspace_id
            )
        ).all(),
        schema={"account_id": pl.Int64, "stored": pl.Utf8},
        orient="row",
    )
    joined = current.join(stored, on="account_id", how="left")
    return joined.filter(pl.col("stored").is_null() | (pl.col("stored") != pl.col("fingerprint")))


def account_documents(
    session: Session, workspace_id: int, account_ids: Sequence[int], niches: pl.DataFrame
) -> list[str]:
    """The text embedded for each account, in the order of ``account_ids``."""
    profiles = pl.DataFrame(
        session.execute(
            select(
                Account.id, Account.handle, Account.display_name, Account.category, Account.bio
            ).where(Account.workspace_id == workspace_id, Account.id.in_(account_ids))
        ).all(),
        schema={
            "account_id": pl.Int64,
            "handle": pl.Utf8,
            "name": pl.Utf8,
            "category": pl.Utf8,
            "bio": pl.Utf8,
        },
        orient="row",
    )
    posts = pl.DataFrame(
        session.execute(
            select(
                Post.account_id, Post.posted_at, Post.caption, cast(Post.hashtags, String)
            ).where(Post.workspace_id == workspace_id, Post.account_id.in_(account_ids))
        ).all(),
        schema={"account_id": pl.Int64, "at": pl.Datetime, "caption": pl.Utf8, "tags": pl.Utf8},
        orient="row",
    )
    recent = (
        posts.sort("at", descending=True, nulls_last=True)
        .group_by("account_id", maintain_order=True)
        .head(RECENT_POSTS)
        .with_columns(tags=pl.col("tags").str.json_decode(pl.List(pl.Utf8)).list.join(" "))
        .group_by("account_id")
        .agg(
            captions=pl.col("caption").fill_null("").str.join("\n"),
            hashtags=pl.col("tags").fill_null("").str.join(" "),
        )
    )
    order = pl.DataFrame({"account_id": list(account_ids)}, schema={"account_id": pl.Int64})
    parts = ["handle", "name", "category", "bio", "niches", "hashtags", "captions"]
    docs = (
        order.join(profiles, on="account_id", how="left")
        .join(niches.select("account_id", "niches"), on="account_id", how="left")
        .join(recent, on="account_id", how="left")
        .select(
            pl.concat_str([pl.col(c).fill_null("") for c in parts], separator="\n")
            .str.strip_chars()
            .str.slice(0, MAX_CHARS)
        )
        .to_series()
    )
    return docs.to_list()


def has_pgvector_column(session: Session) -> bool:
    """Whether ``account_vectors`` has the pgvector ``embedding`` column (migration 0029 adds
    it when the PostgreSQL server has the extension)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    key = bind.engine.url.render_as_string(hide_password=True)
    if key not in _PGVECTOR:  # the schema changes only by a migration: asked once per database
        columns = inspect(session.connection()).get_columns("account_vectors")
        _PGVECTOR[key] = any(c["name"] == "embedding" for c in columns)
    return _PGVECTOR[key]


def _write(
    session: Session, workspace_id: int, batch: pl.DataFrame, vectors: np.ndarray, pg: bool
) -> None:
    ids = batch["account_id"].to_list()
    session.execute(
        delete(AccountVector).where(
            AccountVector.workspace_id == workspace_id, AccountVector.account_id.in_(ids)
        )
    )
    now = utcnow()
    rows = [
        {
            "account_id": a,
            "workspace_id": workspace_id,
            "model": MODEL_NAME,
            "fingerprint": f,
            "vector": v,
            "updated_at": now,
        }
        for a, f, v in zip(ids, batch["fingerprint"].to_list(), to_bytes(vectors), strict=True)
    ]
    session.execute(insert(AccountVector), rows)
    if pg:
        literal = ["[" + ",".join(f"{x:.5f}" for x in row) + "]" for row in vectors]
        session.execute(
            text("UPDATE account_vectors SET embedding = CAST(:e AS vector) WHERE account_id = :a"),
            [{"e": e, "a": a} for e, a in zip(literal, ids, strict=True)],
        )


def recompute_vectors(
    session: Session,
    workspace_id: int,
    *,
    everything: bool = False,
    progress: Progress | None = None,
    batch_size: int = BATCH,
) -> VectorRun:
    """Embed the accounts whose text changed (all with ``everything``); see the module."""
    current = vector_fingerprints(session, workspace_id)
    todo = current if everything else _stale(session, workspace_id, current)
    removed = session.execute(
        delete(AccountVector).where(
            AccountVector.workspace_id == workspace_id, AccountVector.model != MODEL_NAME
        )
    ).rowcount
    pg = has_pgvector_column(session)
    if progress:
        progress(0, todo.height)
    for start in range(0, todo.height, batch_size):
        batch = todo.slice(start, batch_size)
        docs = account_documents(session, workspace_id, batch["account_id"].to_list(), batch)
        _write(session, workspace_id, batch, embed_texts(docs), pg)
        session.flush()
        if progress:
            progress(min(start + batch_size, todo.height), todo.height)
    return VectorRun(
        accounts=current.height,
        embedded=todo.height,
        unchanged=current.height - todo.height,
        removed=int(removed or 0),
    )
