"""The search columns: per (database, workspace), the ``account_search`` rows (revision 0030),
with the tiers and niches (discovery.column_labels), held in the process as NumPy arrays, so
that a search's filters are one vectorised mask instead of index ranges and seeks in the
database (docs/discovery.md, "Index choices").

At a million accounts a keyword query's filters cost PostgreSQL 7.5 ms for the ids that pass
and up to 63 ms to ask which of a few thousand matches pass, one index seek each
(docs/benchmarks.md); the same masks over these arrays cost a few milliseconds, and the
ranking blend over what passes (discovery.column_rank) is exact where the database's was run
on a pool of the best matches.

* ``platform``, ``country``, ``creator_country``, ``language`` and ``creator_language``: codes
  into one sorted vocabulary of the workspace's values (−1: none); a filter's value is lowered
  by the database's own ``lower()`` (``asked``), as the SQL filters lower it, and found by
  exact match, as the database compares;
* ``followers``, ``er``, ``er_percentile``, ``aqs``: float64, NaN for none (a follower count is
  exact in a float64 below 2⁵³); a range leaves NaN out, as SQL leaves out NULL;
* ``has_email``: bool; ``last_post_at``: datetime64[µs], NaT for none.

Kept current like the keyword index: the database's triggers stamp every account whose search
row, tier or niche was written or deleted (``account_search_changes``, revision 0034;
discovery.stamps); each search reads the stamps after its mark (one index range, usually
empty) and re-reads just those accounts into a new copy (a search already running keeps the
arrays it started with); past ``REREAD_SHARE`` of the workspace it reads it all again. About
94 bytes an account with one tier scheme and one niche row each: 90 MiB at a million.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from microfluence.discovery import column_labels, stamps
from microfluence.discovery.column_labels import Labels
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.tables import AccountSearch

TABLE = "account_search_changes"
TEXT = ("platform", "country", "creator_country", "language", "creator_language")
NUMBERS = ("followers", "er", "er_percentile", "aqs")
DENSE_SPAN = 4
DRIVE_SHARE = 0.25  # a filter's rows drive when they are at most this share of the workspace
REREAD_SHARE = 0.5  # past this share of the workspace changed, read it all again


@dataclass(frozen=True, eq=False)
class Columns:
    """One workspace's search rows, sorted by account id."""

    ids: np.ndarray  # int64, sorted
    vocab: np.ndarray  # the text columns' values, sorted (str)
    codes: dict[str, np.ndarray]  # TEXT → int32 codes into vocab, −1 for none
    numbers: dict[str, np.ndarray]  # NUMBERS → float64, NaN for none
    has_email: np.ndarray  # bool
    last_post_at: np.ndarray  # datetime64[us], NaT for none
    labels: Labels  # tiers and niches (discovery.column_labels)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        arrays = [self.ids, self.has_email, self.last_post_at, *self.codes.values()]
        return sum(a.nbytes for a in [*arrays, *self.numbers.values()]) + self.labels.nbytes

    def code(self, value: str | None) -> int:
        """The code of ``value`` (−2, which no row holds, when the workspace has no such
        value)."""
        if value is None:
            return -2
        at = int(np.searchsorted(self.vocab, value))
        return at if at < len(self.vocab) and self.vocab[at] == value else -2

    def rows_of(self, account_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row of each id, whether that id has a row here): from ``_positions`` when the ids
        are dense, else a binary search (a few times slower at a million)."""
        dense = self._positions
        if dense is not None:
            first, positions = dense
            offset = account_ids - first
            inside = (offset >= 0) & (offset < len(positions))
            at = np.where(inside, positions[np.where(inside, offset, 0)], -1)
            return np.maximum(at, 0), at >= 0
        at = np.searchsorted(self.ids, account_ids)
        at = np.minimum(at, max(len(self.ids) - 1, 0))
        found = self.ids[at] == account_ids if len(self.ids) else np.zeros(len(at), dtype=bool)
        return at, found

    @property
    def _positions(self) -> tuple[int, np.ndarray] | None:
        """(the first id, each id's row from it on, −1 for none) when the ids span at most
        ``DENSE_SPAN`` times their number (4 bytes per id of the span), else None."""
        return self._memo(("positions", ""), self._dense_positions)

    def _dense_positions(self) -> tuple[int, np.ndarray] | None:
        if not len(self.ids):
            return None
        first, span = int(self.ids[0]), int(self.ids[-1] - self.ids[0]) + 1
        if span > DENSE_SPAN * len(self.ids):
            return None
        positions = np.full(span, -1, dtype=np.int32)
        positions[self.ids - first] = np.arange(len(self.ids), dtype=np.int32)
        return first, positions

    def text_rows(self, name: str, code: int) -> np.ndarray:
        """The rows whose ``name`` (a TEXT column) holds ``code``, in row order."""
        order, bounds = self._text_order(name)
        if not 0 <= code < len(self.vocab):
            return np.array([], dtype=np.int64)
        return order[bounds[code] : bounds[code + 1]]  # a stable sort: in row order

    def _memo(self, key: tuple[str, str], make: Callable[[], Any]) -> Any:
        """``make()``, once per these columns (they never change; a new copy has its own)."""
        memo = self.__dict__.setdefault("_memos", {})  # frozen: the instance's own dict
        if key not in memo:
            memo[key] = make()
        return memo[key]

    def _text_order(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows ordered by their code of ``name``, where each code's rows start)."""
        return self._memo(("text", name), lambda: self._sorted_codes(name))

    def _sorted_codes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        codes = self.codes[name]
        if len(self.vocab) < 2**15:  # 16-bit codes: NumPy sorts them by radix, ~10 ms a million
            codes = codes.astype(np.int16)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(self.vocab) + 1))
        return order, bounds

    @property
    def niche_entry_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """``rows_of`` each niche entry's account (made once per copy)."""
        return self._memo(("niche", "rows"), lambda: self.rows_of(self.labels.niche_ids))

    def niche_rows(self, niche: str, confidence: float) -> np.ndarray:
        """The rows of the accounts that have ``niche`` (column_labels), in row order (their
        ids are sorted, and so are the rows)."""
        at, found = self.rows_of(self.labels.niche_accounts(niche, confidence))
        return at[found]

    def number_range(self, name: str, low: float | None, high: float | None) -> np.ndarray:
        """The rows whose ``name`` (a NUMBERS column) is within [low, high] (None: open), in
        the column's order; NaN is in no range."""
        order, ordered = self._memo(("number", name), lambda: self._sorted_numbers(name))
        start = 0 if low is None else int(np.searchsorted(ordered, low, side="left"))
        known = int(np.searchsorted(ordered, np.inf, side="right"))  # NaN sorts last
        end = known if high is None else int(np.searchsorted(ordered, high, side="right"))
        return order[start : max(start, end)]

    def _sorted_numbers(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.numbers[name], kind="stable")
        return order, self.numbers[name][order]


@dataclass(frozen=True)
class Asked:
    """What a query's filters compare, as stored: its country and language lowered by the
    database (``asked``), and its tier scheme."""

    country: str | None
    language: str | None
    scheme: str


def asked(session: Session, query: SearchQuery, scheme: str) -> Asked:
    """The query's country and language, stripped and lowered by the database's ``lower()``,
    the function that stored them (SQLite folds ASCII letters only, PostgreSQL by its locale);
    ``scheme``: the query's tier scheme (its own or the workspace's)."""
    country = query.country.strip() if query.country and query.country.strip() else None
    language = query.language.strip() if query.language and query.language.strip() else None
    if country is None and language is None:
        return Asked(None, None, scheme)
    lower = sa.func.lower
    row = session.execute(
        sa.select(lower(sa.literal(country or "")), lower(sa.literal(language or "")))
    ).one()
    return Asked(row[0] if country else None, row[1] if language else None, scheme)


def mask(
    cols: Columns,
    query: SearchQuery,
    asked: Asked,
    now: dt.datetime,
    rows: np.ndarray | None = None,
    niche: np.ndarray | None = None,
) -> np.ndarray:
    """Which rows (all, or those at ``rows``) pass the query's filters, exactly as
    discovery.filters' conditions do in the database; ``niche``: the niche's rows when the
    caller has them (``Columns.niche_rows``)."""

    def at(values: np.ndarray) -> np.ndarray:
        return values if rows is None else values[rows]

    n = len(cols) if rows is None else len(rows)
    keep = np.ones(n, dtype=bool)
    if query.platform:
        keep &= at(cols.codes["platform"]) == cols.code(query.platform)
    for name, low, high in (
        ("followers", query.min_followers, query.max_followers),
        ("er", query.min_er, query.max_er),
        ("aqs", query.min_quality, None),
    ):
        if low is not None:
            keep &= at(cols.numbers[name]) >= low
        if high is not None:
            keep &= at(cols.numbers[name]) <= high
    for own, creator, value in (
        ("country", "creator_country", asked.country),
        ("language", "creator_language", asked.language),
    ):
        if value is not None:
            code = cols.code(value)
            keep &= (at(cols.codes[own]) == code) | (at(cols.codes[creator]) == code)
    if query.has_email is not None:
        keep &= at(cols.has_email) == query.has_email
    if query.posted_within_days is not None:
        since = np.datetime64(now - dt.timedelta(days=query.posted_within_days), "us")
        keep &= at(cols.last_post_at) >= since
    return keep & _labelled(cols, query, asked, rows, niche)


def _labelled(
    cols: Columns,
    query: SearchQuery,
    asked: Asked,
    rows: np.ndarray | None,
    niche: np.ndarray | None,
) -> np.ndarray | bool:
    """``mask``'s tier and niche filters (True when neither is asked)."""
    keep: np.ndarray | bool = True
    if query.tier:
        tiers = cols.labels.tier_codes(asked.scheme, len(cols))
        keep = (tiers if rows is None else tiers[rows]) == cols.labels.tier_code(query.tier)
    if query.niche:
        if niche is None:
            niche = cols.niche_rows(query.niche, query.niche_confidence)
        flags = np.zeros(len(cols), dtype=bool)
        flags[niche] = True
        keep = keep & (flags if rows is None else flags[rows])
    return keep


def passing(cols: Columns, query: SearchQuery, asked: Asked, now: dt.datetime) -> np.ndarray:
    """The rows that pass the query's filters, in row order.

    Like the database's indexes: when the country (the account's or its creator's), a
    follower or ER range or a niche holds at most ``DRIVE_SHARE`` of the workspace, the
    narrowest of them drives (its rows from a sorted order, ``text_rows``/``number_range``, or
    the niche's entries) and the mask is evaluated on those rows alone; else on every row."""
    drivers: list[tuple[int, Callable[[], np.ndarray]]] = []
    if asked.country is not None:
        code = cols.code(asked.country)
        own, creator = cols.text_rows("country", code), cols.text_rows("creator_country", code)

        def either() -> np.ndarray:  # each row once: the creator's, unless the account's own
            return np.concatenate([own, creator[cols.codes["country"][creator] != code]])

        drivers.append((len(own) + len(creator), either))
    for name, low, high in (
        ("followers", query.min_followers, query.max_followers),
        ("er", query.min_er, query.max_er),
    ):
        if low is not None or high is not None:
            ranged = cols.number_range(name, low, high)
            drivers.append((len(ranged), lambda ranged=ranged: ranged))
    niche = None
    if query.niche:
        niche = cols.niche_rows(query.niche, query.niche_confidence)
        drivers.append((len(niche), lambda: niche))
    if drivers:
        size, driver = min(drivers, key=lambda d: d[0])
        if size <= DRIVE_SHARE * len(cols):
            rows = driver()  # in no order: only those that pass are sorted
            return np.sort(rows[mask(cols, query, asked, now, rows, niche)])
    return np.flatnonzero(mask(cols, query, asked, now, niche=niche))


# --- reading the rows --------------------------------------------------------------------------


def _read(session: Session, workspace_id: int, ids: np.ndarray | None) -> list[Any]:
    """The rows of the workspace (or of the accounts ``ids``) in ``_columns``' order. The time as
    the driver gives it (text on SQLite, read by NumPy, not parsed row by row in Python)."""
    s = AccountSearch
    read = [
        s.account_id,
        *(getattr(s, name) for name in (*TEXT, *NUMBERS)),
        s.has_email,
        sa.type_coerce(s.last_post_at, sa.String),
    ]
    stmt = column_labels.of_accounts(session, sa.select(*read), s, workspace_id, ids)
    return session.execute(stmt).all()


def _codes(values: tuple[Any, ...], vocab: np.ndarray) -> np.ndarray:
    series = pl.Series(values, dtype=pl.Utf8)
    return series.replace_strict(
        vocab.tolist(), list(range(len(vocab))), default=-1, return_dtype=pl.Int32
    ).to_numpy()


def _columns(rows: list[Any], labels: Callable[[np.ndarray], Labels]) -> Columns:
    """Columns of the rows (``_read``'s order), sorted by account id; ``labels(ids)``: their
    tiers and niches, aligned with the sorted ids."""
    if not rows:
        return Columns(
            np.array([], dtype=np.int64),
            np.array([], dtype=str),
            {name: np.array([], dtype=np.int32) for name in TEXT},
            {name: np.array([], dtype=np.float64) for name in NUMBERS},
            np.array([], dtype=bool),
            np.array([], dtype="datetime64[us]"),
            labels(np.array([], dtype=np.int64)),
        )
    fields = list(zip(*rows, strict=True))
    ids = np.asarray(fields[0], dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    texts = fields[1 : 1 + len(TEXT)]
    vocab = np.asarray(
        pl.concat([pl.Series(t, dtype=pl.Utf8) for t in texts]).drop_nulls().unique().sort(),
        dtype=str,
    )
    codes = {name: _codes(t, vocab)[order] for name, t in zip(TEXT, texts, strict=True)}
    at = 1 + len(TEXT)
    numbers = {
        name: np.asarray(fields[at + i], dtype=np.float64)[order] for i, name in enumerate(NUMBERS)
    }
    has_email = np.asarray(fields[-2], dtype=bool)[order]
    last = np.asarray(fields[-1], dtype="datetime64[us]")[order]
    return Columns(ids[order], vocab, codes, numbers, has_email, last, labels(ids[order]))


def _merged(old: Columns, changed: np.ndarray, fresh: Columns) -> Columns:
    """``old`` without the accounts ``changed`` (re-read, or deleted), with ``fresh``'s rows
    (those accounts' rows now), sorted by account id; one vocabulary for both."""
    keep = ~np.isin(old.ids, changed)
    vocab = np.union1d(old.vocab, fresh.vocab)

    def recoded(cols: Columns, name: str) -> np.ndarray:
        # a code into the merged vocabulary; −1 (none) picks the appended −1
        mapped = np.append(np.searchsorted(vocab, cols.vocab).astype(np.int32), np.int32(-1))
        return mapped[cols.codes[name]]

    ids = np.concatenate([old.ids[keep], fresh.ids])
    order = np.argsort(ids, kind="stable")

    def both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a[keep], b])[order]

    return Columns(
        ids[order],
        vocab,
        {name: both(recoded(old, name), recoded(fresh, name)) for name in TEXT},
        {name: both(old.numbers[name], fresh.numbers[name]) for name in NUMBERS},
        both(old.has_email, fresh.has_email),
        both(old.last_post_at, fresh.last_post_at),
        column_labels.merged(old.labels, keep, changed, fresh.labels, order),
    )


def build(session: Session, workspace_id: int, ids: np.ndarray | None = None) -> Columns:
    """The workspace's columns (or those of the accounts ``ids``) as stored now."""
    return _columns(
        _read(session, workspace_id, ids),
        lambda rows: column_labels.read(session, workspace_id, ids, rows),
    )


# --- the per-process copies, kept current by the change stamps --------------------------------


def _updated(
    session: Session, workspace_id: int, cols: Columns, changed: np.ndarray
) -> Columns | None:
    """``cols`` with the accounts ``changed`` read again, or None (read it all) past
    ``REREAD_SHARE`` of the workspace."""
    if len(changed) > REREAD_SHARE * max(len(cols), 1):
        return None
    return _merged(cols, changed, build(session, workspace_id, changed))


_COPIES = stamps.Copies(TABLE, build, _updated)


def columns_for(session: Session, workspace_id: int) -> Columns:
    """The workspace's search columns, current with the store (see the module)."""
    return _COPIES.get(session, workspace_id)


def forget(workspace_id: int | None = None) -> None:
    """Drop the cached columns (of one workspace, or all): the next search reads them again."""
    _COPIES.forget(workspace_id)


def cached(session: Session, workspace_id: int) -> Columns | None:
    """The columns this process holds for the workspace, as they are (no refresh), or None."""
    return _COPIES.cached(session, workspace_id)
