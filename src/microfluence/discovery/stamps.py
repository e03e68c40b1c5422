"""Following the database's change stamps: which accounts changed since an in-process copy was
made (docs/discovery.md, "Index choices"). Two tables hold them, one row per account with its
latest change, written by the database's own triggers: ``account_text_changes`` (revision
0031; the keyword index, discovery.term_index) and ``account_search_changes`` (revision 0034;
the search columns, discovery.columns).

A copy keeps a ``Mark``: the stamp to read from next, and the stamps at or after it already
applied. Each read is one index range (``workspace_id, stamp``), usually empty.

* SQLite: a stamp is the workspace's largest + 1 (writers are serialised, so stamps grow in
  commit order); the next mark is the largest + 1.
* PostgreSQL: a stamp is the writing transaction's id; the next mark is the oldest transaction
  still running (``txid_snapshot_xmin``): a change not yet visible belongs to a transaction at
  or after it, so the next read from this mark sees it. Stamps at or after the mark can be
  read again; ``seen`` keeps them from being applied twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from microfluence.discovery.locks import KeyedLocks

TABLES = ("account_text_changes", "account_search_changes")
_SQLITE = """
SELECT NULL, NULL, coalesce(max(stamp), 0) + 1 FROM {table}
WHERE workspace_id = :ws
UNION ALL
SELECT account_id, stamp, NULL FROM {table}
WHERE workspace_id = :ws AND stamp >= :mark
"""
_PG = """
SELECT NULL::integer, NULL::bigint, txid_snapshot_xmin(txid_current_snapshot())
UNION ALL
SELECT account_id, stamp, NULL FROM {table}
WHERE workspace_id = :ws AND stamp >= :mark
"""
NEVER = 2**62  # a mark no stamp reaches: read the next mark alone
T = TypeVar("T")


@dataclass(frozen=True)
class Mark:
    at: int  # read the stamps from here on
    seen: dict[int, int] = field(default_factory=dict)  # account → stamp applied, at or after


def _changes(
    session: Session, table: str, workspace_id: int, mark: int
) -> tuple[int, dict[int, int]]:
    """(the next mark, account → stamp of the changes at or after ``mark``)."""
    if table not in TABLES:  # a name of ours, never user input
        raise ValueError(f"no stamps table {table!r}")
    sql = _SQLITE if session.get_bind().dialect.name == "sqlite" else _PG
    rows = session.execute(sa.text(sql.format(table=table)), {"ws": workspace_id, "mark": mark})
    rows = rows.all()
    next_mark = next(int(r[2]) for r in rows if r[0] is None)
    return next_mark, {int(r[0]): int(r[1]) for r in rows if r[0] is not None}


def start(session: Session, table: str, workspace_id: int) -> Mark:
    """The mark of a copy about to be read whole: read it after this, and every later change
    is seen by the next ``follow``."""
    at, _none = _changes(session, table, workspace_id, NEVER)
    return Mark(at)


def follow(
    session: Session, table: str, workspace_id: int, mark: Mark
) -> tuple[Mark, np.ndarray] | None:
    """(the next mark, the accounts changed since ``mark`` and not yet applied, as int64), or
    None when the stamps went back (another database at the same address): read it all again."""
    at, found = _changes(session, table, workspace_id, mark.at)
    if at < mark.at:
        return None
    new = [a for a, s in found.items() if mark.seen.get(a) != s]
    seen = {a: s for a, s in found.items() if s >= at}
    return Mark(at, seen), np.asarray(new, dtype=np.int64)


class Copies(Generic[T]):
    """The in-process copies of one kind (the keyword index, the search columns), one per
    (database, workspace), each kept current by a stamps table: made whole by ``make`` on
    first use, then on each use the accounts stamped since are handed to ``update`` (None from
    it: make the copy whole again). One lock per key (discovery.locks): a workspace's build
    holds only its own searches, which wait for it instead of building a second copy."""

    def __init__(
        self,
        table: str,
        make: Callable[[Session, int], T],
        update: Callable[[Session, int, T, np.ndarray], T | None],
    ) -> None:
        self.table, self.make, self.update = table, make, update
        self._copies: dict[tuple[str, int], tuple[T, Mark]] = {}
        self._locks = KeyedLocks()

    @staticmethod
    def _key(session: Session, workspace_id: int) -> tuple[str, int]:
        return (session.get_bind().engine.url.render_as_string(hide_password=True), workspace_id)

    def _made(self, session: Session, workspace_id: int) -> tuple[T, Mark]:
        mark = start(session, self.table, workspace_id)  # first: later changes are re-read
        return self.make(session, workspace_id), mark

    def get(self, session: Session, workspace_id: int) -> T:
        """The workspace's copy, current with the store."""
        key = self._key(session, workspace_id)
        with self._locks(key):
            held = self._copies.get(key)
            if held is None:
                held = self._made(session, workspace_id)
            else:
                followed = follow(session, self.table, workspace_id, held[1])
                if followed is None:
                    held = self._made(session, workspace_id)
                elif not len(followed[1]):
                    held = (held[0], followed[0])
                else:
                    updated = self.update(session, workspace_id, held[0], followed[1])
                    if updated is None:
                        held = self._made(session, workspace_id)
                    else:
                        held = (updated, followed[0])
            self._copies[key] = held
            return held[0]

    def forget(self, workspace_id: int | None = None) -> None:
        """Drop the copies (of one workspace, or all): the next use makes them again."""
        for key in [k for k in list(self._copies) if workspace_id in (None, k[1])]:
            with self._locks(key):
                self._copies.pop(key, None)

    def cached(self, session: Session, workspace_id: int) -> T | None:
        """The copy this process holds for the workspace, as it is (no refresh), or None."""
        held = self._copies.get(self._key(session, workspace_id))
        return None if held is None else held[0]
