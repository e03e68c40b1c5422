"""Keyword search: the query's words and the page's explanations of the profile's matches
(docs/discovery.md, "Search" and "Keyword index"). The words are scored by the in-process
index (discovery.term_index, discovery.terms), the same on both stores.

Terms are the runs of letters and digits of the query (``#vegan`` → ``vegan``,
``vegan_baker`` → ``vegan``, ``baker``), at most ``MAX_TERMS``; a handle also matches a word it
starts with (``kettlebellkate`` for ``kettlebell``; words of ``MIN_PREFIX`` letters or more).
The profile's fields weigh ``PROFILE_WEIGHT`` times their own weights (discovery.terms).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from microfluence.kernel.errors import InputError

MAX_TERMS = 12
MAX_TERM_LENGTH = 60
PROFILE_WEIGHT = 3.0
MIN_PREFIX = 3  # a handle matches a word it starts with, from this length on
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
FIELDS = ("handle", "name", "bio", "caption", "hashtags")


def terms(query: str | None) -> list[str]:
    """The query's words, lower case, each once, in order; InputError past ``MAX_TERMS``."""
    if not query:
        return []
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    if len(words) > MAX_TERMS:
        raise InputError(f"a query has at most {MAX_TERMS} words", field="q")
    return [w[:MAX_TERM_LENGTH] for w in words]


def fold(text: str) -> str:
    """Lower case without diacritics (NFKD, marks dropped): how the keyword index folds words
    (discovery.terms)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _starts(field: str, tokens: set[str], word: str) -> bool:
    return field == "handle" and len(word) >= MIN_PREFIX and any(t.startswith(word) for t in tokens)


def profile_hits(fields: dict[str, str | None], words: Sequence[str]) -> dict[str, list[str]]:
    """Which query words one account's handle, name and bio contain, case and accents folded
    as the keyword index folds them (page-sized work)."""
    wanted = {fold(w): w for w in words}
    found: dict[str, list[str]] = {}
    for field, value in fields.items():
        tokens = {fold(t) for t in _WORD.findall(value or "")}
        hit = [wanted[t] for t in wanted if t in tokens or _starts(field, tokens, t)]
        if hit:
            found[field] = hit
    return found
