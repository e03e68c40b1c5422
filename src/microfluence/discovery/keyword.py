"""Keyword search in the database: BM25-class relevance over an account's handle, name and bio
and its posts' captions and hashtags (docs/discovery.md, "Index choices").

* SQLite: FTS5 (``accounts_fts``, ``posts_fts``; migration 0024) with ``bm25()``, the handle
  weighted 10, the name 5, the bio 2, a caption and its hashtags 1 each; a handle also matches
  a word it starts with (``kettlebellkate`` for ``kettlebell``; words of 3 letters or more);
* PostgreSQL: ``to_tsvector('simple', …)`` under GIN expression indexes, ranked by
  ``ts_rank_cd`` (the handle weighted A = 1.0, the name B = 0.5, the bio C = 0.2). ``simple``:
  no stemming, so a caption in German or French is not cut by English rules.

An account's raw relevance is ``3 · profile + Σ posts``: the profile's score counts three times,
every matching post adds its own score, so many matching captions outrank one. Terms are the
runs of letters and digits of the query (``#vegan`` → ``vegan``, ``vegan_baker`` → ``vegan``,
``baker``), quoted, joined with OR: nothing a user types reaches the engine as syntax.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from microfluence.kernel.errors import InputError

MAX_TERMS = 12
MAX_TERM_LENGTH = 60
PROFILE_WEIGHT = 3.0
MIN_PREFIX = 3  # a handle matches a word it starts with, from this length on
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
FIELDS = ("handle", "name", "bio", "caption", "hashtags")

PG_ACCOUNT_TSV = (
    "(setweight(to_tsvector('simple'::regconfig, coalesce({a}handle, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce({a}display_name, '')), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce({a}bio, '')), 'C'))"
)
PG_POST_TSV = (
    "(to_tsvector('simple'::regconfig, coalesce({p}caption, '')) || "
    "to_tsvector('simple'::regconfig, coalesce({p}hashtags::text, '')))"
)


def terms(query: str | None) -> list[str]:
    """The query's words, lower case, each once, in order; InputError past ``MAX_TERMS``."""
    if not query:
        return []
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    if len(words) > MAX_TERMS:
        raise InputError(f"a query has at most {MAX_TERMS} words", field="q")
    return [w[:MAX_TERM_LENGTH] for w in words]


def fold(text: str) -> str:
    """Lower case without diacritics: how FTS5's ``remove_diacritics 2`` compares words."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _fts_match(words: Sequence[str], column: str | None = None) -> str:
    quoted = " OR ".join(f'"{w}"' for w in words)
    return f"{column} : ({quoted})" if column else quoted


def _tsquery(words: Sequence[str]) -> str:
    return " | ".join(f"'{w}'" for w in words)


def _prefixes(words: Sequence[str]) -> list[str]:
    return [w for w in words if len(w) >= MIN_PREFIX]


def _fts_profile_match(words: Sequence[str]) -> str:
    """Any word in any field, or a handle that starts with a word (``kettlebellkate``)."""
    prefixes = _prefixes(words)
    if not prefixes:
        return _fts_match(words)
    starts = " OR ".join(f'"{w}"*' for w in prefixes)
    return f"{_fts_match(words)} OR handle : ({starts})"


def _profile_tsquery(words: Sequence[str]) -> str:
    return " | ".join([f"'{w}'" for w in words] + [f"'{w}':*A" for w in _prefixes(words)])


# CROSS JOIN: SQLite's way to fix the join order, so the full-text match drives the loop (one
# index lookup, then a rowid seek per hit) instead of running the match once per row of the
# workspace.
_SQLITE_SCORES = """
SELECT account_id, SUM(score) AS raw FROM (
    SELECT a.id AS account_id, -bm25(accounts_fts, 10.0, 5.0, 2.0) * {profile} AS score
    FROM accounts_fts CROSS JOIN accounts AS a ON a.id = accounts_fts.rowid
    WHERE accounts_fts MATCH :profile AND a.workspace_id = :ws
    UNION ALL
    SELECT p.account_id AS account_id, -bm25(posts_fts, 1.0, 1.0) AS score
    FROM posts_fts CROSS JOIN posts AS p ON p.id = posts_fts.rowid
    WHERE posts_fts MATCH :match AND p.workspace_id = :ws
) AS hits GROUP BY account_id
"""

_PG_SCORES = """
SELECT account_id, SUM(score) AS raw FROM (
    SELECT a.id AS account_id,
           ts_rank_cd('{{0.1, 0.2, 0.5, 1.0}}', {account_tsv}, q.q) * {profile} AS score
    FROM accounts AS a, to_tsquery('simple'::regconfig, :profile) AS q(q)
    WHERE a.workspace_id = :ws AND {account_tsv} @@ q.q
    UNION ALL
    SELECT p.account_id AS account_id, ts_rank_cd({post_tsv}, q.q) AS score
    FROM posts AS p, to_tsquery('simple'::regconfig, :match) AS q(q)
    WHERE p.workspace_id = :ws AND {post_tsv} @@ q.q
) AS hits GROUP BY account_id
"""


def keyword_scores(session: Session, workspace_id: int, words: Sequence[str]) -> sa.Subquery:
    """A subquery (``account_id``, ``raw``): every account of the workspace that matches any
    word, with its raw relevance (``3 · profile + Σ posts``, larger is better)."""
    if _is_sqlite(session):
        sql = _SQLITE_SCORES.format(profile=PROFILE_WEIGHT)
        match, profile = _fts_match(words), _fts_profile_match(words)
    else:
        sql = _PG_SCORES.format(
            profile=PROFILE_WEIGHT,
            account_tsv=PG_ACCOUNT_TSV.format(a="a."),
            post_tsv=PG_POST_TSV.format(p="p."),
        )
        match, profile = _tsquery(words), _profile_tsquery(words)
    text = sa.text(sql).bindparams(match=match, profile=profile, ws=workspace_id)
    return text.columns(account_id=sa.Integer, raw=sa.Float).subquery("keyword")


# The page's posts drive (CROSS JOIN fixes the order): FTS5 checks each by its rowid instead of
# reading every post that matches the word in the whole table.
_SQLITE_POST_HITS = """
SELECT p.account_id, count(*) FROM posts AS p CROSS JOIN posts_fts ON posts_fts.rowid = p.id
WHERE p.workspace_id = :ws AND p.account_id IN :ids AND posts_fts MATCH :match
GROUP BY p.account_id
"""
_PG_POST_HITS = """
SELECT p.account_id, count(*) FROM posts AS p
WHERE p.workspace_id = :ws AND p.account_id IN :ids
  AND to_tsvector('simple'::regconfig, coalesce(p.{column}, '')) @@ to_tsquery('simple', :match)
GROUP BY p.account_id
"""


def post_hits(
    session: Session, workspace_id: int, account_ids: Sequence[int], words: Sequence[str]
) -> dict[int, dict[str, dict[str, int]]]:
    """For one page of results: account → field (caption, hashtags) → word → matching posts.
    One query per word and field, each limited to the page's accounts."""
    out: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    if not account_ids or not words:
        return out
    sqlite = _is_sqlite(session)
    for field in ("caption", "hashtags"):
        for word in words:
            if sqlite:
                sql, match = _SQLITE_POST_HITS, _fts_match([word], field)
            else:
                column = "hashtags::text" if field == "hashtags" else "caption"
                sql, match = _PG_POST_HITS.format(column=column), _tsquery([word])
            stmt = sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
            rows = session.execute(stmt, {"match": match, "ws": workspace_id, "ids": account_ids})
            for account_id, count in rows:
                out[account_id][field][word] = int(count)
    return out


def _starts(field: str, tokens: set[str], word: str) -> bool:
    return field == "handle" and len(word) >= MIN_PREFIX and any(t.startswith(word) for t in tokens)


def profile_hits(
    fields: dict[str, str | None], words: Sequence[str], *, sqlite: bool
) -> dict[str, list[str]]:
    """Which query words one account's handle, name and bio contain (page-sized work)."""
    normal = fold if sqlite else str.lower
    wanted = {normal(w): w for w in words}
    found: dict[str, list[str]] = {}
    for field, value in fields.items():
        tokens = {normal(t) for t in _WORD.findall(value or "")}
        hit = [wanted[t] for t in wanted if t in tokens or _starts(field, tokens, t)]
        if hit:
            found[field] = hit
    return found
