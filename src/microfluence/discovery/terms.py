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
  handle/name/bio weights the former FTS5 ranking used), and the account's weighted length is
  the same sum over all its words (BM25F, Robertson, Zaragoza & Taylor 2004). The handle's words are
  also kept apart (``HANDLE_FIELD``) for the handle prefix match (``kettlebellkate`` for
  ``kettlebell``).

No Python loop over accounts or posts: the text arrives in batches and is cut, folded and
counted with Polars expressions.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
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


# Rust's ``\w`` (what Polars' ``extract_all`` uses): Alphabetic, marks, decimal digits,
# connector punctuation and the joiners. As a Python class, built once per process (0.4 s): the
# categories, plus the letter-like symbols Unicode counts as Alphabetic.
_WORD_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nl", "Mn", "Mc", "Me", "Nd", "Pc"})
_ALPHABETIC_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))


@functools.cache
def _word_codes() -> np.ndarray:
    codes = np.array(
        [
            cp
            for cp in range(0x110000)
            if cp != 0x5F
            and (unicodedata.category(chr(cp)) in _WORD_CATEGORIES or cp in (0x200C, 0x200D))
        ]
        + [cp for lo, hi in _ALPHABETIC_SYMBOLS for cp in range(lo, hi + 1)]
    )
    return np.unique(codes)


def _class_pattern(codes: np.ndarray) -> re.Pattern[str]:
    breaks = np.flatnonzero(np.diff(codes) != 1)
    starts = np.concatenate([[codes[0]], codes[breaks + 1]])
    ends = np.concatenate([codes[breaks], [codes[-1]]])
    ranges = "".join(
        re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "")
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    )
    return re.compile(f"[{ranges}]+")


@functools.cache
def _word_pattern() -> re.Pattern[str]:
    return _class_pattern(_word_codes())


@functools.cache
def _bmp_word_pattern() -> re.Pattern[str]:
    """The same class without its characters past U+FFFF, for a text that has none: Python's
    ``re`` tests a character against those ranges one by one (27 µs a caption, 2.4 µs
    without)."""
    codes = _word_codes()
    return _class_pattern(codes[codes <= 0xFFFF])


_ASCII_WORD = re.compile("[a-z0-9]+")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@functools.lru_cache(maxsize=4_096)
def _is_word(char: str) -> bool:
    return _word_pattern().fullmatch(char) is not None


def words_of(text: str | None) -> list[str]:
    """One text's index words in Python, the same as the documents' Polars expressions (for a
    query's few words and a page's explanations, where a Polars query costs more than it
    saves): lower case, cut, each word folded and cut again."""
    lowered = (text or "").lower()
    if lowered.isascii():  # the pattern's ASCII letters are these, '_' not among them
        return _ASCII_WORD.findall(lowered)
    pattern = _bmp_word_pattern()
    if max(lowered) > "\uffff":  # an emoji: a space, as it cuts words; a word's letter: as is
        astral = set(_ASTRAL.findall(lowered))
        if any(_is_word(c) for c in astral):
            pattern = _word_pattern()
        else:
            lowered = _ASTRAL.sub(" ", lowered)
    out: list[str] = []
    for raw in pattern.findall(lowered):
        if raw.isascii():
            out.append(raw)
        else:
            out.extend(_folded_word(raw))
    return out


@functools.lru_cache(maxsize=65_536)
def _folded_word(raw: str) -> tuple[str, ...]:
    """A word with letters beyond ASCII: decomposed (NFKD), its marks dropped, cut again
    (remembered: a page's posts repeat their words)."""
    decomposed = unicodedata.normalize("NFKD", raw)
    stripped = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return tuple(_word_pattern().findall(stripped))


def word_terms(words: Sequence[str]) -> list[tuple[str, str]]:
    """(word, term): each query word (keyword.terms) with the index words it stands for."""
    return list(dict.fromkeys((w, t) for w in words for t in words_of(w)))


def query_terms(words: Sequence[str]) -> list[str]:
    """The index's words for a query's words, in order, each once."""
    return list(dict.fromkeys(t for _w, t in word_terms(words)))


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


PYTHON_POSTS = 400  # a page's posts cut in Python up to this many: about 1 ms per 80


def post_hits(
    session: Session, workspace_id: int, account_ids: Sequence[int], words: Sequence[str]
) -> dict[int, dict[str, dict[str, int]]]:
    """For one page of results: account → field (``caption``, ``hashtags``) → query word → how
    many of its posts contain the word there. The page's posts are read once; up to
    ``PYTHON_POSTS`` of them are cut one by one in Python (``words_of``, checked against the
    documents' Polars cutting), more in one Polars pass over all of them."""
    if not account_ids or not words:
        return {}
    rows = session.execute(
        sa.select(Post.account_id, Post.caption, Post.hashtags).where(
            Post.workspace_id == workspace_id, Post.account_id.in_(list(account_ids))
        )
    ).all()
    if not rows:
        return {}
    posts = [
        (r[0], r[1], " ".join(map(str, r[2])) if isinstance(r[2], list) else None) for r in rows
    ]
    if len(posts) <= PYTHON_POSTS:
        return _counted_each(posts, words)
    frame = pl.DataFrame(
        posts,
        schema={"account": pl.Int64, "caption": pl.String, "hashtags": pl.String},
        orient="row",
    )
    return _counted(_post_words(frame), word_terms(words))


def _counted_each(
    posts: Sequence[tuple[int, str | None, str | None]], words: Sequence[str]
) -> dict[int, dict[str, dict[str, int]]]:
    """``_counted`` for a few posts, each cut in Python (``words_of``): a page's 80 posts in
    about 1 ms, where the Polars steps cost 9 ms whatever their size."""
    by_term: dict[str, list[str]] = {}
    for word, term in word_terms(words):
        by_term.setdefault(term, []).append(word)
    found: dict[tuple[int, str, str], int] = {}
    for account, caption, hashtags in posts:
        for field_, text in (("caption", caption), ("hashtags", hashtags)):
            hit = {w for t in set(words_of(text)) for w in by_term.get(t, ())}
            for word in hit:
                key = (account, field_, word)
                found[key] = found.get(key, 0) + 1
    out: dict[int, dict[str, dict[str, int]]] = {}
    for (account, field_, word), n in sorted(found.items()):
        out.setdefault(account, {}).setdefault(field_, {})[word] = n
    return out


def _post_words(posts: pl.DataFrame) -> pl.DataFrame:
    """(post, account, field, word): each distinct word of each post's caption and hashtags."""
    return (
        posts.with_row_index("post")
        .unpivot(
            index=["post", "account"],
            on=["caption", "hashtags"],
            variable_name="field",
            value_name="text",
        )
        .select("post", "account", "field", _words(pl.col("text")).alias("word"))
        .explode("word")
        .drop_nulls("word")
        .unique()
    )


def _counted(
    post_words: pl.DataFrame, wanted: list[tuple[str, str]]
) -> dict[int, dict[str, dict[str, int]]]:
    """account → field → query word → posts, from each post's words folded into index words
    and matched to the query's (``word_terms``): a post counts once per query word."""
    folded = _folded(post_words["word"])
    asked = pl.DataFrame(wanted, schema={"query": pl.String, "term": pl.String}, orient="row")
    counts = (
        post_words.join(folded, on="word")
        .join(asked, on="term")
        .select("post", "account", "field", "query")
        .unique()
        .group_by("account", "field", "query")
        .len()
        .sort("account", "field", "query")
    )
    out: dict[int, dict[str, dict[str, int]]] = {}
    for account, field_, query, n in counts.iter_rows():  # the page's hits, a few dozen
        out.setdefault(account, {}).setdefault(field_, {})[query] = n
    return out
