"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendations)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from microfluence.kernel.errors import InputError

MIN_LENGTH = 8
MAX_LENGTH = 1024

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so that a wrong e-mail costs as much time as
    a wrong password and timing does not tell which addresses have accounts. Made on first use,
    not on import: one hash costs about 0.2 s, and every command and process imports this."""
    return _hasher.hash("microfluence-timing-equaliser")


def check_password_strength(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise InputError(f"a password needs at least {MIN_LENGTH} characters", field="password")
    if len(password) > MAX_LENGTH:
        raise InputError(f"a password has at most {MAX_LENGTH} characters", field="password")
    if password.strip() != password or not password.strip():
        raise InputError("a password may not start or end with spaces", field="password")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password_strength(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends the time of one verification."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
