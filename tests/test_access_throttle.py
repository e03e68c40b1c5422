"""The sign-in throttle: one atomic statement per attempt, so the limit holds under concurrency,
on SQLite and PostgreSQL; expired counts are pruned."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from api_support import (
    PASSWORD,
    make_user,
)
from microfluence.access import sessions, throttle
from microfluence.access.errors import AuthenticationError, RateLimitedError
from microfluence.access.tables import SignInThrottle
from microfluence.kernel.store.tables import utcnow

GUESSES = 25


class CountingVerify:
    """Wraps the password check: counts the checks that really ran. The pause stands in for
    argon2's real cost (the tests use cheap parameters), which is what widens the race."""

    def __init__(self, real) -> None:  # type: ignore[no-untyped-def]
        self.real = real
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, password_hash, password):  # type: ignore[no-untyped-def]
        with self.lock:
            self.calls += 1
        time.sleep(0.05)
        return self.real(password_hash, password)


def test_concurrent_wrong_passwords_get_at_most_the_limit_of_checks(store, monkeypatch):
    make_user(store, "ann@example.com", "acme", "owner")
    counting = CountingVerify(sessions.verify_password)
    monkeypatch.setattr(sessions, "verify_password", counting)
    start = threading.Barrier(GUESSES, timeout=30)

    def guess(_: int) -> str:
        start.wait()
        try:
            sessions.sign_in(store, email="ann@example.com", password="a wrong guess", ip="1.1.1.1")
        except RateLimitedError:
            return "limited"
        except AuthenticationError:
            return "wrong"
        return "in"

    with ThreadPoolExecutor(max_workers=GUESSES) as pool:
        outcomes = list(pool.map(guess, range(GUESSES)))
    assert counting.calls == throttle.MAX_FAILURES
    assert outcomes.count("wrong") == throttle.MAX_FAILURES
    assert outcomes.count("limited") == GUESSES - throttle.MAX_FAILURES
    # Locked now, even with the right password, and no check is spent on it.
    with pytest.raises(RateLimitedError):
        sessions.sign_in(store, email="ann@example.com", password=PASSWORD, ip="1.1.1.1")
    assert counting.calls == throttle.MAX_FAILURES
    with store.transaction() as session:
        pair = session.get(SignInThrottle, "pair:ann@example.com|1.1.1.1")
        assert pair.failures == GUESSES + 1 and pair.locked_until > utcnow()


def test_the_limit_counts_attempts_in_the_window_and_the_lock_ends(store):
    make_user(store, "ann@example.com", "acme", "owner")
    for _ in range(throttle.MAX_FAILURES):
        with pytest.raises(AuthenticationError):
            sessions.sign_in(store, email="ann@example.com", password="wrong guess", ip="2.2.2.2")
    with pytest.raises(RateLimitedError) as caught:
        sessions.sign_in(store, email="ann@example.com", password=PASSWORD, ip="2.2.2.2")
    assert 0 < caught.value.retry_after <= throttle.LOCKOUT.total_seconds()
    # The lockout runs out: the next attempt starts a new window.
    with store.transaction() as session:
        row = session.get(SignInThrottle, "pair:ann@example.com|2.2.2.2")
        row.locked_until = utcnow() - dt.timedelta(seconds=1)
        row.window_start = utcnow() - throttle.WINDOW - dt.timedelta(seconds=1)
    sessions.sign_in(store, email="ann@example.com", password=PASSWORD, ip="2.2.2.2")
    with store.transaction() as session:
        # A success clears the pair and gives the IP its attempt back (5 wrong, 1 refused).
        assert session.get(SignInThrottle, "pair:ann@example.com|2.2.2.2") is None
        assert session.get(SignInThrottle, "ip:2.2.2.2").failures == throttle.MAX_FAILURES + 1


def test_one_ip_trying_many_addresses_is_capped(store, monkeypatch):
    monkeypatch.setattr(throttle, "MAX_FAILURES_PER_IP", 3)
    for n in range(3):
        with pytest.raises(AuthenticationError):
            sessions.sign_in(store, email=f"x{n}@example.com", password="guess guess", ip="3.3.3.3")
    with pytest.raises(RateLimitedError):
        sessions.sign_in(store, email="y@example.com", password="guess guess", ip="3.3.3.3")
    # Another client is not affected.
    with pytest.raises(AuthenticationError):
        sessions.sign_in(store, email="y@example.com", password="guess guess", ip="4.4.4.4")


def test_expired_counts_are_pruned(store):
    now = utcnow()
    old = now - throttle.WINDOW - dt.timedelta(minutes=1)
    with store.transaction() as session:
        session.add_all(
            [
                SignInThrottle(key="pair:old|1", failures=2, window_start=old),
                SignInThrottle(
                    key="pair:lock-over|1",
                    failures=9,
                    window_start=old,
                    locked_until=now - dt.timedelta(seconds=5),
                ),
                SignInThrottle(
                    key="pair:still-locked|1",
                    failures=9,
                    window_start=old,
                    locked_until=now + dt.timedelta(minutes=5),
                ),
                SignInThrottle(key="pair:fresh|1", failures=1, window_start=now),
            ]
        )
    with store.transaction() as session:
        assert throttle.forget_expired(session) == 2
    with store.transaction() as session:
        kept = set(session.scalars(sa.select(SignInThrottle.key)))
    assert kept == {"pair:still-locked|1", "pair:fresh|1"}
    # A sign-in attempt prunes too (at most once per PRUNE_EVERY per process).
    with store.transaction() as session:
        session.add(SignInThrottle(key="pair:old|2", failures=1, window_start=old))
    throttle.prune_soon()
    with pytest.raises(AuthenticationError):
        sessions.sign_in(store, email="nobody@example.com", password="guess guess", ip="5.5.5.5")
    with store.transaction() as session:
        assert session.get(SignInThrottle, "pair:old|2") is None
