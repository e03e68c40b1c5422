"""Secrets at rest: credentials and tokens are stored encrypted, never in clear.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) seals each value. The key never
lives in the store it protects: it comes from ``MICROFLUENCE_SECRETS_KEY`` (several keys,
comma-separated, rotate: the first seals, each one opens) or from a key file beside the data
(``MICROFLUENCE_SECRETS_KEY_FILE``), made with mode 0600 on first use.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from microfluence.kernel.config import get_settings
from microfluence.kernel.errors import MicrofluenceError

if TYPE_CHECKING:
    from pathlib import Path


class VaultError(MicrofluenceError):
    """A sealed value cannot be opened, or the key cannot be read."""


def _read_or_make_key_file(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: read theirs
            pass
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(Fernet.generate_key())
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise VaultError(f"cannot read the secrets key file {path}: {exc}") from exc


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])
    except ValueError as exc:
        raise VaultError(
            "MICROFLUENCE_SECRETS_KEY (or the key file) must hold Fernet keys, comma-separated: "
            "32 url-safe base64-encoded bytes each (Fernet.generate_key())"
        ) from exc


def _keys() -> str:
    settings = get_settings()
    keys = settings.secrets_key or _read_or_make_key_file(settings.secrets_key_file)
    if not keys.strip():
        raise VaultError("the secrets key is empty")
    return keys


def seal(plaintext: str) -> str:
    """``plaintext`` encrypted and authenticated, as ASCII text fit for a column."""
    return _fernet(_keys()).encrypt(plaintext.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> str:
    """The text ``seal`` was given; a tampered value or a foreign key is a ``VaultError``."""
    try:
        return _fernet(_keys()).decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise VaultError(
            "a stored secret cannot be opened with the secrets key: it was sealed with another "
            "key (set MICROFLUENCE_SECRETS_KEY to that key, first) or altered"
        ) from exc


def reseal(sealed: str) -> str:
    """``sealed`` under the first key (after a rotation), same plaintext."""
    try:
        return _fernet(_keys()).rotate(sealed.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise VaultError("a stored secret cannot be opened with the secrets key") from exc
