"""Synthetic account texts in bulk (bench/semantic.py, the vector index tests): each account a
main niche of the demo vocabulary, with subjects, hashtags and brands mostly from it and some
from a second niche, so the texts cluster by topic and overlap like real creators' do.
Vectorised: NumPy picks indices, Polars joins the words."""

from __future__ import annotations

import numpy as np
import polars as pl

from microfluence.demo import vocabulary as V

SUBJECTS = 3
TAGS = 5


def _table(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Every niche's words of ``kind`` in one array, and each niche's start offset."""
    words = [list(V.NICHE_WORDS[n][kind]) for n in V.NICHE_WORDS]
    sizes = np.array([len(w) for w in words])
    return np.array([w for ws in words for w in ws], dtype=object), np.concatenate(
        [[0], np.cumsum(sizes)]
    )


def synthetic_texts(n: int, seed: int = 7) -> list[str]:
    """``n`` account texts (bio-like subjects, hashtags and a brand), reproducible by seed."""
    rng = np.random.default_rng(seed)
    k = len(V.NICHE_WORDS)
    main = rng.integers(0, k, n)
    second = (main + rng.integers(1, k, n)) % k
    columns: dict[str, pl.Series] = {}
    for kind, count in (("subject", SUBJECTS), ("tags", TAGS), ("brands", 1)):
        words, start = _table(kind)
        size = np.diff(start)
        for j in range(count):
            niche = np.where(rng.random(n) < 0.75, main, second)
            at = start[niche] + (rng.random(n) * size[niche]).astype(np.int64)
            prefix = "#" if kind == "tags" else ""
            columns[f"{kind}{j}"] = (
                pl.Series(words[at].astype(str)).map_elements(
                    lambda w, p=prefix: p + w, return_dtype=pl.Utf8
                )
                if prefix
                else pl.Series(words[at].astype(str))
            )
    frame = pl.DataFrame(columns)
    return frame.select(pl.concat_str(pl.all(), separator=" ")).to_series().to_list()
