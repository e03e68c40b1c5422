"""Rate-limited password checks: attempts are counted per (e-mail, client IP) in the store.

Every password check (signing in, changing a password, accepting an invitation as an existing
user) first *reserves* an attempt: one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
per key adds it to the count and answers the count. An attempt beyond ``MAX_FAILURES`` within
``WINDOW`` is refused before the password is looked at, and the pair stays locked for
``LOCKOUT`` (answers 429 with Retry-After). Reserving before checking is what makes the limit
hold under concurrency: 25 simultaneous guesses get exactly 5 checks, because each one is
counted in the same statement that decides it (a read, a check and a later write would let all
25 read "0 so far"). A successful check gives its reservation back (the pair's count is cleared,
the IP's lowered by one).

The counts live in the store, so the limit holds across restarts and across server processes.
Keying on the pair (not on the e-mail alone) stops an attacker from locking a real user out from
elsewhere; a per-IP cap (``MAX_FAILURES_PER_IP``) stops one client from trying many addresses.
Rows whose window and lockout are over are deleted (``forget_expired``), at most once per
``PRUNE_EVERY`` per process while attempts come in, and when the app starts.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from microfluence.access.errors import RateLimitedError
from microfluence.access.tables import SignInThrottle
from microfluence.kernel.store.tables import utcnow

MAX_FAILURES = 5
MAX_FAILURES_PER_IP = 50
WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)
PRUNE_EVERY = 300.0  # seconds between prunes of expired rows, per process

_table = SignInThrottle.__table__
_prune_lock = threading.Lock()
_next_prune = 0.0  # time.monotonic() after which the next attempt prunes


@dataclass(frozen=True)
class Reservation:
    """The outcome of reserving one password check."""

    allowed: bool
    retry_after: int = 0  # seconds, when refused

    def raise_if_refused(self) -> None:
        if not self.allowed:
            raise RateLimitedError(
                f"too many failed sign-ins: try again in {self.retry_after} seconds",
                retry_after=self.retry_after,
            )


def _keys(email: str, ip: str | None) -> list[tuple[str, int]]:
    client = ip or "unknown"
    return [(f"pair:{email}|{client}", MAX_FAILURES), (f"ip:{client}", MAX_FAILURES_PER_IP)]


def _over(now: dt.datetime) -> sa.ColumnElement[bool]:
    """The stored row's window and lockout are over: the next attempt starts afresh."""
    c = _table.c
    return sa.or_(
        sa.and_(c.locked_until.is_(None), c.window_start < now - WINDOW),
        sa.and_(c.locked_until.is_not(None), c.locked_until <= now),
    )


def _count_attempt(session: Session, key: str, limit: int, now: dt.datetime) -> tuple[int, object]:
    """Add one attempt to ``key`` and answer (attempts in the window, locked_until): one
    statement, so concurrent attempts are counted one after the other by the database."""
    c = _table.c
    lock = now + LOCKOUT
    restart = _over(now)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(_table)
        .values(key=key, failures=1, window_start=now, locked_until=lock if limit <= 1 else None)
        .on_conflict_do_update(
            index_elements=[c.key],
            set_={
                "failures": sa.case((restart, 1), else_=c.failures + 1),
                "window_start": sa.case((restart, now), else_=c.window_start),
                # Locked when this attempt reaches the limit; an existing lock is not extended.
                "locked_until": sa.case(
                    (restart, lock if limit <= 1 else None),
                    (c.locked_until.is_not(None), c.locked_until),
                    (c.failures + 1 >= limit, lock),
                    else_=None,
                ),
            },
        )
        .returning(c.failures, c.locked_until)
    )
    failures, locked_until = session.execute(statement).one()
    return failures, locked_until


def reserve(session: Session, email: str, ip: str | None) -> Reservation:
    """Count one password check for this e-mail and IP; refused when over either limit.

    Commit ``session`` before checking the password, so that the count is seen by concurrent
    attempts and no lock is held while the slow password hash runs."""
    now = utcnow()
    _maybe_prune(session)
    refused_until = None
    for key, limit in _keys(email, ip):
        failures, locked_until = _count_attempt(session, key, limit, now)
        if failures > limit:
            until = locked_until if isinstance(locked_until, dt.datetime) else now + LOCKOUT
            refused_until = max(refused_until or until, until)
    if refused_until is None:
        return Reservation(allowed=True)
    return Reservation(
        allowed=False, retry_after=max(1, math.ceil((refused_until - now).total_seconds()))
    )


def record_success(session: Session, email: str, ip: str | None) -> None:
    """The password was right: clear the pair's count and give the IP its attempt back."""
    (pair, _), (client, _) = _keys(email, ip)
    session.execute(sa.delete(_table).where(_table.c.key == pair))
    session.execute(
        sa.update(_table)
        .where(_table.c.key == client, _table.c.failures > 0)
        .values(failures=_table.c.failures - 1)
    )


def forget_expired(session: Session) -> int:
    """Delete the counts whose window and lockout are over, in one statement; how many.

    On PostgreSQL, rows that a concurrent attempt holds are skipped (``SKIP LOCKED``) rather than
    waited for: a prune never waits on, or deadlocks with, a sign-in (the attempt restarts an
    expired count itself)."""
    over = _over(utcnow())
    if session.get_bind().dialect.name == "postgresql":
        free = sa.select(_table.c.key).where(over).with_for_update(skip_locked=True)
        statement = sa.delete(_table).where(_table.c.key.in_(free.scalar_subquery()))
    else:
        statement = sa.delete(_table).where(over)
    result = session.execute(statement)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _maybe_prune(session: Session) -> None:
    global _next_prune
    with _prune_lock:
        if time.monotonic() < _next_prune:
            return
        _next_prune = time.monotonic() + PRUNE_EVERY
    forget_expired(session)


def prune_soon() -> None:
    """Make the next attempt prune (tests, and after the app starts)."""
    global _next_prune
    with _prune_lock:
        _next_prune = 0.0
