"""Vectorised text pieces: picking from vocabularies, handles, usernames and id encodings.

Every function here works on whole NumPy arrays / Polars series at once. Per-row randomness that
must be stable whatever the chunking (a fan's handle, a bot's name) comes from hashing integer
keys with SplitMix64 instead of drawing from a generator.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np
import polars as pl

from microfluence.demo import vocabulary as V

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix(keys: np.ndarray, salt: int = 0) -> np.ndarray:
    """SplitMix64 of integer keys: a well-mixed uint64 per key (Steele et al., 2014)."""
    with np.errstate(over="ignore"):
        z = keys.astype(np.uint64) + np.uint64(
            (0x9E3779B97F4A7C15 * (salt + 1)) & 0xFFFFFFFFFFFFFFFF
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def unit(keys: np.ndarray, salt: int = 0) -> np.ndarray:
    """A uniform [0, 1) float per integer key, stable across runs and chunkings."""
    return (splitmix(keys, salt) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def ascii_fold(text: str) -> str:
    """'Lucía' -> 'lucia': usernames are ASCII letters, digits, '.' and '_' on the platforms."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


class Vocab:
    """Groups of strings flattened into one Series, to gather by (group, uniform) arrays."""

    def __init__(self, groups: Sequence[Sequence[str]]) -> None:
        self.values = pl.Series([v for g in groups for v in g], dtype=pl.String)
        self.lengths = np.array([len(g) for g in groups], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    def index(self, group: np.ndarray, u: np.ndarray) -> np.ndarray:
        lengths = self.lengths[group]
        return self.offsets[group] + np.minimum((u * lengths).astype(np.int64), lengths - 1)

    def take(self, group: np.ndarray, u: np.ndarray) -> pl.Series:
        return self.values.gather(self.index(group, u))


NICHE_KEYS = tuple(n[0] for n in V.NICHES)
LANGUAGES = tuple(dict.fromkeys(c[1] for c in V.COUNTRIES))
LANG_INDEX = {lang: i for i, lang in enumerate(LANGUAGES)}

SUBJECTS = Vocab([V.NICHE_WORDS[n]["subject"] for n in NICHE_KEYS])
NICHE_TAGS = Vocab([V.NICHE_WORDS[n]["tags"] for n in NICHE_KEYS])
BRANDS = Vocab([V.NICHE_WORDS[n]["brands"] for n in NICHE_KEYS])
FIRST = Vocab([V.FIRST_NAMES[lang] for lang in LANGUAGES])
LAST = Vocab([V.LAST_NAMES[lang] for lang in LANGUAGES])
FIRST_ASCII = Vocab([[ascii_fold(x) for x in V.FIRST_NAMES[lang]] for lang in LANGUAGES])
LAST_ASCII = Vocab([[ascii_fold(x) for x in V.LAST_NAMES[lang]] for lang in LANGUAGES])
OPENERS = Vocab([V.OPENERS[lang] for lang in LANGUAGES])
CLOSERS = Vocab([V.CLOSERS[lang] for lang in LANGUAGES])
CITIES = Vocab([V.CITIES[c[0]] for c in V.COUNTRIES])
ALL_FIRST_ASCII = pl.Series(
    sorted({ascii_fold(x) for names in V.FIRST_NAMES.values() for x in names}), dtype=pl.String
)
ALL_LAST_ASCII = pl.Series(
    sorted({ascii_fold(x) for names in V.LAST_NAMES.values() for x in names}), dtype=pl.String
)
ALL_FIRST = pl.Series(
    sorted({x for names in V.FIRST_NAMES.values() for x in names}), dtype=pl.String
)
ALL_LAST = pl.Series(sorted({x for names in V.LAST_NAMES.values() for x in names}), dtype=pl.String)
WORDS = pl.Series(V.USERNAME_WORDS, dtype=pl.String)


def gather(values: Sequence[str] | pl.Series, h: np.ndarray) -> pl.Series:
    """values[h mod len(values)] for a uint64 hash array."""
    series = values if isinstance(values, pl.Series) else pl.Series(values, dtype=pl.String)
    return series.gather((h % np.uint64(len(series))).astype(np.int64))


def digits(h: np.ndarray, width: np.ndarray | int) -> pl.Series:
    """A run of ``width`` decimal digits from a hash (leading zeros kept)."""
    width = np.broadcast_to(np.asarray(width, dtype=np.int64), h.shape)
    number = (h >> np.uint64(13)) % np.uint64(10**9)
    frame = pl.DataFrame(
        {"t": pl.Series(number.astype(np.int64)).cast(pl.String).str.zfill(9), "w": width}
    )
    return frame.select(pl.col("t").str.slice(0, pl.col("w")))["t"]


def fan_handles(keys: np.ndarray) -> pl.Series:
    """Plausible usernames of real people: 'emma.walker', 'sunny_liam', 'mia_92'."""
    h1, h2, h3 = splitmix(keys, 101), splitmix(keys, 102), splitmix(keys, 103)
    first, last, word = gather(ALL_FIRST_ASCII, h1), gather(ALL_LAST_ASCII, h2), gather(WORDS, h3)
    style = (h1 >> np.uint64(40)) % np.uint64(5)
    frame = pl.DataFrame(
        {"f": first, "l": last, "w": word, "s": style.astype(np.int8), "d": digits(h2, 2)}
    )
    return frame.select(
        pl.when(pl.col("s") == 0)
        .then(pl.concat_str("f", pl.lit("."), "l"))
        .when(pl.col("s") == 1)
        .then(pl.concat_str("w", pl.lit("_"), "f"))
        .when(pl.col("s") == 2)
        .then(pl.concat_str("f", pl.lit("_"), "d"))
        .when(pl.col("s") == 3)
        .then(pl.concat_str("f", "l"))
        .otherwise(pl.concat_str("f", pl.lit("."), "w"))
        .alias("handle")
    )["handle"]


def bot_handles(keys: np.ndarray) -> pl.Series:
    """Usernames of farm accounts: long digit runs, 'user' prefixes, random suffixes."""
    h1, h2 = splitmix(keys, 201), splitmix(keys, 202)
    first, word = gather(ALL_FIRST_ASCII, h1), gather(WORDS, h2)
    style = (h2 >> np.uint64(40)) % np.uint64(4)
    width = 5 + ((h1 >> np.uint64(50)) % np.uint64(4)).astype(np.int64)
    frame = pl.DataFrame(
        {"f": first, "w": word, "s": style.astype(np.int8), "d": digits(h1 ^ h2, width)}
    )
    return frame.select(
        pl.when(pl.col("s") == 0)
        .then(pl.concat_str("f", "d"))
        .when(pl.col("s") == 1)
        .then(pl.concat_str(pl.lit("user"), "d"))
        .when(pl.col("s") == 2)
        .then(pl.concat_str("w", pl.lit("_"), "f", "d", pl.lit("x")))
        .otherwise(pl.concat_str("f", pl.lit("."), "d", pl.lit("_")))
        .alias("handle")
    )["handle"]


_B64 = pl.Series(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))


def base64_code(numbers: np.ndarray, width: int = 11) -> pl.Series:
    """Instagram shortcodes and YouTube video ids are base-64 spellings of a 64-bit id."""
    values = numbers.astype(np.uint64)
    parts = []
    for position in range(width - 1, -1, -1):  # 11 columns, not rows
        digit = (values >> np.uint64(6 * position)) & np.uint64(63)
        parts.append(_B64.gather(digit.astype(np.int64)).alias(f"c{position}"))
    return pl.DataFrame(parts).select(pl.concat_str(pl.all()).alias("code"))["code"]
