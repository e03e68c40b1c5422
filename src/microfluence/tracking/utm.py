"""The UTM builder: a destination URL tagged with Google Analytics campaign parameters.

Rules (docs/tracking.md, "UTM tags"):

* only ``http`` and ``https`` URLs with a host are tagged; anything else (and control characters)
  is refused, naming the field ``url``; blanks around the URL are dropped, spaces inside it sent
  as ``%20``, as a browser does;
* the URL's other query parameters are kept byte for byte and in their order, and so is its
  fragment; the six GA parameters (``utm_source``, ``utm_medium``, ``utm_campaign``,
  ``utm_content``, ``utm_term``, ``utm_id``) already in it are removed, whatever their case, and
  the given ones appended in that order — a tagged URL names one campaign;
* values are percent-encoded as UTF-8 (a space is ``%20``, never ``+``), their case kept; an
  empty optional value leaves its parameter out.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from microfluence.kernel.errors import InputError

# In the order they are appended (GA's own order of its campaign builder).
UTM_KEYS = ("source", "medium", "campaign", "content", "term", "id")
UTM_NAMES = frozenset(f"utm_{key}" for key in UTM_KEYS)
MAX_URL = 4000
MAX_VALUE = 500


def check_url(url: str, *, field: str = "url") -> str:
    """``url`` if it is an absolute http(s) URL with a host, else an InputError naming ``field``."""
    if not isinstance(url, str) or not url.strip():
        raise InputError("a URL is required (http:// or https://)", field=field)
    if len(url) > MAX_URL:
        raise InputError(f"the URL is longer than {MAX_URL} characters", field=field)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise InputError("the URL contains control characters (a tab, a line break …)", field=field)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        shown = parts.scheme or "none"
        raise InputError(f"only http and https URLs can be tagged (scheme: {shown})", field=field)
    try:
        host = parts.hostname
        parts.port  # noqa: B018  a malformed port raises here
    except ValueError as exc:
        raise InputError(f"the URL's host or port is malformed ({exc})", field=field) from exc
    if not host:
        raise InputError("the URL has no host", field=field)
    return url


def _name(piece: str) -> str:
    return unquote(piece.partition("=")[0]).strip().lower()


def append_params(url: str, params: Mapping[str, str], *, drop: frozenset[str]) -> str:
    """``url`` with the query parameters whose lower-cased names are in ``drop`` removed, then
    ``params`` appended (percent-encoded), the rest of the query and the fragment untouched."""
    parts = urlsplit(url)
    kept = [p for p in parts.query.split("&") if p and _name(p) not in drop]
    added = [f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in params.items()]
    return urlunsplit(parts._replace(query="&".join(kept + added)))


def utm_params(
    *,
    source: str | None,
    medium: str | None = None,
    campaign: str | None = None,
    content: str | None = None,
    term: str | None = None,
    id: str | None = None,  # noqa: A002  GA's own name (utm_id)
) -> dict[str, str]:
    """The ``utm_*`` parameters, in GA's order, without empty ones; ``source`` is required."""
    values = dict(zip(UTM_KEYS, (source, medium, campaign, content, term, id), strict=True))
    if values["source"] is None or not values["source"].strip():
        raise InputError("utm_source is required (where the visitor comes from)", field="source")
    params = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        if not value.strip():
            raise InputError("is blank: give a value or leave it out", field=key)
        if len(value) > MAX_VALUE:
            raise InputError(f"is longer than {MAX_VALUE} characters", field=key)
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise InputError("contains control characters (a tab, a line break …)", field=key)
        params[f"utm_{key}"] = value
    return params


def clean_url(url: str, *, field: str = "url") -> str:
    """A checked URL without surrounding blanks, inner spaces as ``%20`` (as browsers send it)."""
    return check_url(url.strip().replace(" ", "%20") if isinstance(url, str) else url, field=field)


def tag_url(url: str, **utm: str | None) -> str:
    """``url`` tagged with the given UTM values (keywords of :func:`utm_params`)."""
    return append_params(clean_url(url), utm_params(**utm), drop=UTM_NAMES)
