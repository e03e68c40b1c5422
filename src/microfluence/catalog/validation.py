"""The rules a stored value must follow, whichever way it comes in: handles, account references
(``PLATFORM:HANDLE``), links and times.

One rule per kind of value, in two forms side by side: a vectorised one (a Polars expression)
that the table importers apply to a whole column, and a scalar one for the REST API, the pages,
the commands and the record-by-record Instagram importer. Both forms use the same patterns and
limits, and tests/test_validation.py proves with generated text that they accept, refuse and
normalise alike, so a handle the importer rejects is rejected everywhere.

The handle rules are the table importers' (they were the strictest of the three ways in):
letters, digits, ``_``, ``.`` and ``-``, at most 100 characters, a leading ``@`` dropped, a
profile URL reduced to its first path segment, stored lower-case.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import polars as pl

from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import PLATFORMS

# --- handles --------------------------------------------------------------------------------

HANDLE_MAX = 100
HANDLE_TEXT_MAX = 200  # what may be sent where a handle belongs (a profile URL is longer)
# Checked apart from the length: a bounded repeat of Unicode classes builds a huge automaton.
HANDLE_PATTERN = r"^[\p{L}\p{N}_.\-]+$"
# A profile URL where a handle belongs: its first path segment is the handle.
PROFILE_URL_PATTERN = r"^(?:https?://)?(?:www\.|m\.)?[^/\s]+\.[a-z]+/@?([^/?#\s]+)"
_CONTROL = r"[\x00-\x1f\x7f]"
_CONTROL_RE = re.compile(_CONTROL)
MISSING_HANDLE = "missing handle"
INVALID_HANDLE = "not a valid handle (letters, digits, '_', '.', '-')"


def handle_rule(value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(handle, error) for a column of stripped text (null when blank): the handle lower-cased
    where ``error`` is null, the reason it was refused otherwise."""
    handle = (
        pl.when(value.str.contains("/", literal=True))
        .then(value.str.extract(PROFILE_URL_PATTERN, 1))
        .otherwise(value)
        .str.strip_chars_start("@")
    )
    error = (
        pl.when(value.is_null())
        .then(pl.lit(MISSING_HANDLE))
        .when(
            value.str.contains(_CONTROL)
            | ~handle.str.contains(HANDLE_PATTERN).fill_null(False)
            | (handle.str.len_chars() > HANDLE_MAX)
        )
        .then(pl.lit(INVALID_HANDLE))
    )
    return pl.when(error.is_null()).then(handle.str.to_lowercase()), error


# Whitespace as Polars (Rust) strips it: Python's str.strip() would also strip \x1c-\x1f.
_WHITE = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\x1c\x1d\x1e\x1f")
_PROFILE_URL_RE = re.compile(PROFILE_URL_PATTERN)
_HANDLE_PUNCTUATION = frozenset("_.-")


def _stripped(text: str | None) -> str | None:
    """Stripped text, None when blank (the columns' null)."""
    value = (text or "").strip(_WHITE)
    return value or None


def _handle_char(c: str) -> bool:
    return c in _HANDLE_PUNCTUATION or unicodedata.category(c)[0] in "LN"


def check_handle(text: str | None) -> tuple[str | None, str | None]:
    """:func:`handle_rule` for one value: (handle, None) or (None, reason)."""
    value = _stripped(text)
    if value is None:
        return None, MISSING_HANDLE
    if _CONTROL_RE.search(value):
        return None, INVALID_HANDLE
    if "/" in value:
        match = _PROFILE_URL_RE.match(value)
        handle = match.group(1) if match else ""
    else:
        handle = value
    handle = handle.lstrip("@")
    if not handle or len(handle) > HANDLE_MAX or not all(map(_handle_char, handle)):
        return None, INVALID_HANDLE
    return handle.lower(), None


def parse_handle(text: str | None, *, field: str = "handle") -> str:
    """A handle as stored (``'@Ana.Lima'`` → ``'ana.lima'``), or InputError naming ``field``."""
    if text is not None and len(text) > HANDLE_TEXT_MAX:
        raise InputError(f"longer than {HANDLE_TEXT_MAX} characters", field=field)
    handle, error = check_handle(text)
    if error is not None or handle is None:
        shown = f": {text[:60]!r}" if error == INVALID_HANDLE else ""
        raise InputError(f"{error}{shown}", field=field, value=text)
    return handle


def parse_platform(text: str | None, *, field: str = "platform") -> str:
    platform = (text or "").strip().lower()
    if platform not in PLATFORMS:
        raise InputError(
            f"unknown platform {text!r}; expected one of {', '.join(PLATFORMS)}", field=field
        )
    return platform


def parse_account_reference(
    reference: str | None, *, default_platform: str | None = None, field: str = "account"
) -> tuple[str, str]:
    """``PLATFORM:HANDLE`` (``Instagram:@Ana`` → ``("instagram", "ana")``), the one way every
    command, route and importer names an account. With ``default_platform``, a bare handle is
    taken to be on that platform."""
    text = (reference or "").strip()
    platform, sep, handle = text.partition(":")
    if not sep and default_platform is not None:
        platform, handle = default_platform, text
    elif not sep or not platform.strip() or not handle.strip():
        raise InputError(
            f"expected PLATFORM:HANDLE (e.g. instagram:anna), got {text[:80]!r}",
            field=field,
            value=reference,
        )
    platform = parse_platform(platform, field=field)
    try:
        return platform, parse_handle(handle, field=field)
    except InputError as exc:
        raise InputError(
            f"expected PLATFORM:HANDLE (e.g. instagram:anna): {exc.message}",
            field=field,
            value=reference,
        ) from None


# --- links ----------------------------------------------------------------------------------

URL_MAX = 1000
# A scheme, as in "javascript:" or "https:". Anything with one must be http or https.
_SCHEME = r"^[A-Za-z][A-Za-z0-9+.\-]*:"
# http(s), "//", then a host: no spaces, no backslashes (browsers read "\" as "/"), no controls.
SAFE_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#\\@]*@?[^\s/?#\\@:]+(?::[0-9]{1,5})?(?:[/?#][^\s\\]*)?$"
)
# Scheme-less, as exports and bios write them: "instagram.com/ana", "www.site.fr".
_BARE_HOST = r"^[^\s/?#\\@:]+\.[A-Za-z]{2,}(?:[/?#][^\s\\]*)?$"
INVALID_URL = "not a web link (http:// or https:// and a host)"
_SAFE_URL = re.compile(SAFE_URL_PATTERN)
_SCHEME_RE = re.compile(_SCHEME)
_BARE_HOST_RE = re.compile(_BARE_HOST)


def url_rule(value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(url, error) for a column of stripped text (null when blank): an http(s) link kept as
    written, a scheme-less one ("instagram.com/ana") given ``https://``; any other scheme
    (``javascript:``, ``data:``, ``file:``…) refused. Blank stays null, without an error."""
    bare = ~value.str.contains(_SCHEME) & value.str.contains(_BARE_HOST)
    url = pl.when(bare).then(pl.lit("https://") + value).otherwise(value)
    error = (
        pl.when(value.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(value.str.contains(_CONTROL) | ~url.str.contains(SAFE_URL_PATTERN))
        .then(pl.lit(INVALID_URL))
        .when(url.str.len_chars() > URL_MAX)
        .then(pl.lit(f"longer than {URL_MAX} characters"))
    )
    return pl.when(error.is_null()).then(url), error


def check_url(text: str | None) -> tuple[str | None, str | None]:
    """:func:`url_rule` for one value: (url, None), (None, None) for blank, or (None, reason)."""
    value = _stripped(text)
    if value is None:
        return None, None
    if _CONTROL_RE.search(value):
        return None, INVALID_URL
    bare = not _SCHEME_RE.match(value) and _BARE_HOST_RE.match(value)
    url = "https://" + value if bare else value
    if not _SAFE_URL.match(url):
        return None, INVALID_URL
    if len(url) > URL_MAX:
        return None, f"longer than {URL_MAX} characters"
    return url, None


def parse_url(text: str | None, *, field: str = "url") -> str | None:
    """A link as stored (http or https only; ``https://`` added to a bare host), None for blank;
    InputError naming ``field`` for anything else."""
    if text is not None and len(text) > URL_MAX:
        raise InputError(f"longer than {URL_MAX} characters", field=field)
    url, error = check_url(text)
    if error is not None:
        raise InputError(f"{error}: {(text or '')[:60]!r}", field=field, value=text)
    return url


def safe_link(url: object) -> str | None:
    """``url`` when a page may use it as a link (http or https with a host), else None: links
    stored before this rule existed are shown as text, never followed."""
    if isinstance(url, str) and _SAFE_URL.match(url) and not _CONTROL_RE.search(url):
        return url
    return None


# --- times ----------------------------------------------------------------------------------


def naive_utc(value: dt.datetime, *, field: str = "time") -> dt.datetime:
    """A time as stored: UTC without a zone (a time without one is taken as UTC). InputError for
    a time whose UTC falls outside what a datetime holds (``0001-01-01T00:00+14:00``)."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:
        raise InputError(f"{value.isoformat()} is out of range in UTC", field=field) from None
