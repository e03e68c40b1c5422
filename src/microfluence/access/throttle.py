"""Rate-limited sign-in: failures are counted per (e-mail, client IP) in the store.

After ``MAX_FAILURES`` failed attempts within ``WINDOW``, that pair is locked for ``LOCKOUT``
(answers 429 with Retry-After). A successful sign-in clears the count. The counts live in the
store, so the limit holds across restarts and across server processes. Keying on the pair (not on
the e-mail alone) stops an attacker from locking a real user out from elsewhere; a per-IP cap
(``MAX_FAILURES_PER_IP``) stops one client from trying many addresses.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.access.errors import RateLimitedError
from microfluence.access.tables import SignInThrottle
from microfluence.kernel.store.tables import utcnow

MAX_FAILURES = 5
MAX_FAILURES_PER_IP = 50
WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)


def _keys(email: str, ip: str | None) -> list[tuple[str, int]]:
    client = ip or "unknown"
    return [(f"pair:{email}|{client}", MAX_FAILURES), (f"ip:{client}", MAX_FAILURES_PER_IP)]


def check_allowed(session: Session, email: str, ip: str | None) -> None:
    """Raise RateLimitedError while this e-mail and IP are locked out."""
    now = utcnow()
    for key, _limit in _keys(email, ip):
        row = session.get(SignInThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            wait = math.ceil((row.locked_until - now).total_seconds())
            raise RateLimitedError(
                f"too many failed sign-ins: try again in {wait} seconds", retry_after=wait
            )


def record_failure(session: Session, email: str, ip: str | None) -> None:
    now = utcnow()
    for key, limit in _keys(email, ip):
        row = session.get(SignInThrottle, key)
        if row is None:
            row = SignInThrottle(key=key, failures=0, window_start=now)
            session.add(row)
        elif now - row.window_start > WINDOW:
            row.failures, row.window_start, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + LOCKOUT
    session.flush()


def record_success(session: Session, email: str, ip: str | None) -> None:
    key = _keys(email, ip)[0][0]
    row = session.get(SignInThrottle, key)
    if row is not None:
        session.delete(row)
        session.flush()


def forget_expired(session: Session) -> int:
    """Drop counts whose window and lockout are over (housekeeping)."""
    now = utcnow()
    rows = session.scalars(
        select(SignInThrottle).where(SignInThrottle.window_start < now - WINDOW)
    ).all()
    stale = [r for r in rows if r.locked_until is None or r.locked_until < now]
    for row in stale:
        session.delete(row)
    session.flush()
    return len(stale)
