"""Account documents for the in-process keyword index (discovery.term_index): each account's
handle, display name, bio and its posts' captions and hashtags, read from the store, cut into
words and counted per account, with the fields' weights (docs/discovery.md, "Index choices").

* **Words**: runs of letters and digits (``[^\\W_]+``, Unicode), lower case, then each word
  folded — decomposed (NFKD) and its combining marks dropped, so ``Frühstück`` is
  ``fruhstuck`` and ``ﬁt`` is ``fit`` — and cut again. A query goes through the very same
  expression (:func:`query_terms`), so a query word and a document word compare equal exactly
  when their folded forms do. Folding runs over the distinct words only, not over the text.
* **Hashtags** are read from their JSON list by the database (``json_each`` /
  ``json_array_elements_text``), so an escaped ``"caf\\u00e9"`` is ``café``.
* **Weighted term frequency** of a word in an account: ``3 · (10 · handle + 5 · name + 2 · bio)
  + posts`` (the counts of the word in each field; ``keyword.PROFILE_WEIGHT`` = 3 and the
  handle/name/bio weights the FTS5 ranking used), and the account's weighted length is the same
  sum over all its words (BM25F, Robertson, Zaragoza & Taylor 2004). The handle's words are
  also kept apart (``HANDLE_FIELD``) for the handle prefix match (``kettlebellkate`` for
  ``kettlebell``).

No Python loop over accounts or posts: the text arrives in batches and is cut, folded and
counted with Polars expressions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from microfluence.discovery.keyword import PROFILE_WEIGHT
from microfluence.kernel.store.tables import Post

FIELD_WEIGHTS = {
    "handle": PROFILE_WEIGHT * 10.0,
    "name": PROFILE_WEIGHT * 5.0,
    "bio": PROFILE_WEIGHT * 2.0,
    "posts": 1.0,
}
HANDLE_FIELD = "handle"
READ_BATCH = 50_000
_WORD = r"[^\W_]+"

# One row per account: its profile fields and its posts' text (captions and the hashtags of
# the JSON lists), aggregated in the database so the process reads one row per account.
_SQLITE_DOCS = """
SELECT a.id, a.handle, a.display_name, a.bio,
  (SELECT group_concat(coalesce(p.caption, '') || ' ' || coalesce(
      CASE WHEN json_valid(p.hashtags) AND json_type(p.hashtags) = 'array'
           THEN (SELECT group_concat(j.value, ' ') FROM json_each(p.hashtags) AS j) END, ''),
      ' ')
   FROM posts AS p WHERE p.workspace_id = a.workspace_id AND p.account_id = a.id) AS posts
FROM accounts AS a WHERE a.workspace_id = :ws {only} ORDER BY a.id
"""
_SQLITE_ONLY = "AND a.id IN (SELECT value FROM json_each(:ids))"
_PG_DOCS = """
SELECT a.id, a.handle, a.display_name, a.bio,
  (SELECT string_agg(coalesce(p.caption, '') || ' ' || coalesce(
      (SELECT string_agg(j, ' ') FROM json_array_elements_text(
          CASE WHEN json_typeof(p.hashtags::json) = 'array' THEN p.hashtags::json END) AS j),
      ''), ' ')
   FROM posts AS p WHERE p.workspace_id = a.workspace_id AND p.account_id = a.id) AS posts
FROM accounts AS a WHERE a.workspace_id = :ws {only} ORDER BY a.id
"""
_PG_ONLY = "AND a.id = ANY(:ids)"


def _words(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase().str.extract_all(_WORD)


def _folded(words: pl.Series) -> pl.DataFrame:
    """Each distinct word → its folded words (one or more, or none: a word of marks only)."""
    distinct = words.unique().drop_nulls()
    return (
        pl.DataFrame({"word": distinct})
        .with_columns(_fold(pl.col("word")).alias("term"))
        .explode("term")
        .drop_nulls("term")
    )


def _fold(expr: pl.Expr) -> pl.Expr:
    return expr.str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.extract_all(_WORD)


def word_terms(words: Sequence[str]) -> pl.DataFrame:
    """(word, term): each query word (keyword.terms) with the index words it stands for, cut
    and folded by the documents' own expressions (one lazy query)."""
    return (
        pl.LazyFrame({"word": list(words)}, schema={"word": pl.String})
        .with_columns(_words(pl.col("word")).alias("raw"))
        .explode("raw")
        .drop_nulls("raw")
        .with_columns(_fold(pl.col("raw")).alias("term"))
        .explode("term")
        .drop_nulls("term")
        .select("word", "term")
        .unique(maintain_order=True)
        .collect()
    )


def query_terms(words: Sequence[str]) -> list[str]:
    """The index's words for a query's words, in order, each once."""
    if not words:
        return []
    return list(dict.fromkeys(word_terms(words)["term"].to_list()))


@dataclass
class Counts:
    """Weighted word counts of a batch of accounts: ``ids`` (one per account, in order), their
    weighted lengths, the batch's words (``vocab``, sorted), and per (account, word) the weighted
    frequency (``row``, ``col`` into ``vocab``, ``tf``); the handle's own part apart."""

    ids: np.ndarray
    length: np.ndarray
    vocab: np.ndarray
    row: np.ndarray
    col: np.ndarray
    tf: np.ndarray
    handle_row: np.ndarray
    handle_col: np.ndarray
    handle_tf: np.ndarray


def count(frame: pl.DataFrame) -> Counts:
    """Weighted word counts of ``frame`` (``id``, ``handle``, ``name``, ``bio``, ``posts``)."""
    ids = frame["id"].cast(pl.Int64).to_numpy()
    rows = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
        *(_words(pl.col(f)).alias(f) for f in FIELD_WEIGHTS),
    )
    long = pl.concat(
        [
            rows.select(
                "row",
                pl.col(f).alias("word"),
                pl.lit(weight, dtype=pl.Float32).alias("w"),
                pl.lit(f == HANDLE_FIELD).alias("handle"),
            ).explode("word")
            for f, weight in FIELD_WEIGHTS.items()
        ]
    ).drop_nulls("word")
    folded = _folded(long["word"])
    vocab = folded["term"].unique().sort()
    folded = folded.join(vocab.to_frame("term").with_row_index("col"), on="term")
    hits = long.join(folded.select("word", "col"), on="word", how="inner")
    tf = hits.group_by("row", "col").agg(pl.col("w").sum())
    handle = hits.filter(pl.col("handle")).group_by("row", "col").agg(pl.col("w").sum())
    length = np.zeros(len(ids), dtype=np.float32)
    if tf.height:
        sums = tf.group_by("row").agg(pl.col("w").sum())
        length[sums["row"].to_numpy()] = sums["w"].to_numpy()

    def arrays(grouped: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            grouped["row"].to_numpy().astype(np.int64),
            grouped["col"].to_numpy().astype(np.int64),
            grouped["w"].to_numpy().astype(np.float32),
        )

    row, col, weights = arrays(tf)
    handle_row, handle_col, handle_tf = arrays(handle)
    return Counts(
        ids=ids,
        length=length,
        vocab=vocab.to_numpy().astype(object),
        row=row,
        col=col,
        tf=weights,
        handle_row=handle_row,
        handle_col=handle_col,
        handle_tf=handle_tf,
    )


def _statement(session: Session, workspace_id: int, ids: np.ndarray | None) -> tuple[str, dict]:
    sqlite = session.get_bind().dialect.name == "sqlite"
    sql = _SQLITE_DOCS if sqlite else _PG_DOCS
    params: dict = {"ws": workspace_id}
    if ids is None:
        return sql.format(only=""), params
    if sqlite:
        params["ids"] = json.dumps([int(i) for i in ids.tolist()])
        return sql.format(only=_SQLITE_ONLY), params
    params["ids"] = [int(i) for i in ids.tolist()]
    return sql.format(only=_PG_ONLY), params


def documents(
    session: Session, workspace_id: int, ids: np.ndarray | None = None, batch: int = READ_BATCH
) -> Iterator[pl.DataFrame]:
    """The workspace's account documents (only ``ids`` when given), in batches of ``batch``
    accounts: frames of ``id``, ``handle``, ``name``, ``bio``, ``posts``."""
    sql, params = _statement(session, workspace_id, ids)
    result = session.execute(sa.text(sql).execution_options(yield_per=batch), params)
    schema = {
        "id": pl.Int64,
        "handle": pl.String,
        "name": pl.String,
        "bio": pl.String,
        "posts": pl.String,
    }
    for rows in result.partitions(batch):
        yield pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def post_hits(
    session: Session, workspace_id: int, account_ids: Sequence[int], words: Sequence[str]
) -> dict[int, dict[str, dict[str, int]]]:
    """For one page of results: account → field (``caption``, ``hashtags``) → query word → how
    many of its posts contain the word there, cut and folded as the index does (page-sized:
    the page's posts are read once, on either store, and counted in one lazy query)."""
    if not account_ids or not words:
        return {}
    rows = session.execute(
        sa.select(Post.id, Post.account_id, Post.caption, Post.hashtags).where(
            Post.workspace_id == workspace_id, Post.account_id.in_(list(account_ids))
        )
    ).all()
    if not rows:
        return {}
    posts = pl.LazyFrame(
        {
            "post": [r[0] for r in rows],
            "account": [r[1] for r in rows],
            "caption": [r[2] for r in rows],
            "hashtags": [
                " ".join(map(str, r[3])) if isinstance(r[3], list) else None for r in rows
            ],
        },
        schema={"post": pl.Int64, "account": pl.Int64, "caption": pl.String, "hashtags": pl.String},
    )
    long = pl.concat(
        [
            posts.select(
                "post", "account", pl.lit(f).alias("field"), _words(pl.col(f)).alias("raw")
            ).explode("raw")
            for f in ("caption", "hashtags")
        ]
    )
    hits = (
        long.drop_nulls("raw")
        .with_columns(_fold(pl.col("raw")).alias("term"))
        .explode("term")
        .join(word_terms(words).lazy(), on="term")
        .unique(["post", "field", "word"])
        .group_by("account", "field", "word")
        .len()
        .collect()
    )
    out: dict[int, dict[str, dict[str, int]]] = {}
    for account, field_, word, n in hits.iter_rows():  # page-sized
        out.setdefault(account, {}).setdefault(field_, {})[word] = n
    return out
