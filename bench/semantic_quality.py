"""How well account vectors find accounts of the same kind, on labelled real accounts.

    python -m bench.semantic_quality /path/to/niches-kim-dev/accounts.jsonl [--limit N]

Each account of Kim et al. (WWW 2020; one or two posts each, labelled with one of eight
categories or other) is embedded as search embeds an account (discovery.vectors: name,
category, captions, hashtags). **Lookalike precision@10**: the share of an account's ten nearest
other accounts (exact cosine) that carry its label, averaged per label over its accounts; the
**baseline** in the same run is what ten random accounts give: the label's share of accounts.
**Brief precision@50**: the category's name as a brief
("fashion", "food and drink" …), and the share of the 50 nearest accounts with that label.
Figures go in docs/discovery.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

from microfluence.discovery.dataset import read_accounts
from microfluence.discovery.embedding import embed_texts
from microfluence.discovery.vectors import MAX_CHARS

K = 10
BRIEF_K = 50
BRIEFS = {
    "fashion": "fashion, outfits and style",
    "beauty": "beauty, makeup and skincare",
    "fitness": "fitness, gym workouts and training",
    "food_drink": "food, cooking, recipes and drinks",
    "travel": "travel, trips and destinations",
    "family_parenting": "family, kids and parenting",
    "home_interior": "home decor and interior design",
    "pets": "pets, dogs and cats",
}


def _texts(accounts: pl.DataFrame) -> list[str]:
    parts = [
        c
        for c in ("handle", "name", "category", "bio", "hashtags", "captions")
        if c in accounts.columns
    ]
    return (
        accounts.select(
            pl.concat_str([pl.col(c).cast(pl.Utf8).fill_null("") for c in parts], separator="\n")
        )
        .to_series()
        .to_list()
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    accounts = read_accounts(args.data, limit=args.limit)
    labels = accounts["label"].to_numpy()
    t = time.perf_counter()
    vectors = embed_texts([t[:MAX_CHARS] for t in _texts(accounts)])
    print(f"{len(labels):,} accounts embedded in {time.perf_counter() - t:.0f} s")
    named = np.isin(labels, list(BRIEFS))
    precisions, chance = {}, {}
    for lo in range(0, len(labels), 2_000):
        sims = vectors[lo : lo + 2_000] @ vectors.T
        rows = np.arange(sims.shape[0])
        sims[rows, lo + rows] = -np.inf  # not itself
        top = np.argpartition(-sims, K, axis=1)[:, :K]
        same = (labels[top] == labels[lo : lo + 2_000, None]).mean(axis=1)
        for label in BRIEFS:
            mine = labels[lo : lo + 2_000] == label
            precisions.setdefault(label, []).extend(same[mine].tolist())
    shares = {label: float((labels == label).mean()) for label in BRIEFS}
    print(f"lookalike precision@{K} (model / random):")
    for label in BRIEFS:
        chance[label] = shares[label]
        print(f"  {label:<18} {np.mean(precisions[label]):.3f} / {chance[label]:.3f}")
    macro = np.mean([np.mean(precisions[x]) for x in BRIEFS])
    print(f"  macro mean         {macro:.3f} / {np.mean(list(chance.values())):.3f}")
    print(f"brief precision@{BRIEF_K} (model / random):")
    brief_vectors = embed_texts(list(BRIEFS.values()))
    scores = []
    for (label, brief), q in zip(BRIEFS.items(), brief_vectors, strict=True):
        top = np.argpartition(-(vectors @ q), BRIEF_K)[:BRIEF_K]
        p = float((labels[top] == label).mean())
        scores.append(p)
        print(f"  {label:<18} {p:.2f} / {shares[label]:.2f}   ({brief!r})")
    print(f"  macro mean         {np.mean(scores):.3f} / {np.mean(list(shares.values())):.3f}")
    print(f"({named.sum():,} accounts of the eight named categories)")


if __name__ == "__main__":
    main()
