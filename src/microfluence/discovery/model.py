"""The niche model: a linear classifier over hashed text features (features.py): words of the
bio, name, captions and alt texts, whole hashtags, character n-grams.

It is a weight matrix (features × niches), a bias per niche and, since
``niches-hashed-sgd-4``, an idf per text slot (features.TermWeights); scoring a batch of accounts
is one sparse matrix product and a logistic function (NumPy/SciPy), a fraction of a second
per thousand accounts. The shipped weights (``models/niche_model.npz``, float16, a few MB)
are built by ``microfluence.discovery.training`` and hold no training text: the features are
hashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl

from microfluence.discovery.features import N_FEATURES, N_TEXT, TermWeights, featurise
from microfluence.discovery.taxonomy import NICHES
from microfluence.kernel.errors import InputError

SHIPPED_MODEL = "niche_model.npz"
# The version the current recipe (features + training) writes into the model it builds; a new
# version re-scores every account once (niches.fingerprints). 2: alt texts read. 3: location
# names and account tokens read, Complement NB blended in. 4: BM25-weighted counts with idf,
# an NB-SVM averaged in. 5: trained also on the accounts' single posts and on pooled posts.
VERSION = "niches-hashed-sgd-5"


@dataclass(frozen=True)
class NicheModel:
    version: str
    niches: tuple[str, ...]
    weights: np.ndarray  # (N_FEATURES, len(niches)), float32 once loaded
    bias: np.ndarray  # (len(niches),)
    idf: np.ndarray | None = None  # (N_TEXT,): BM25 counts times idf; None: log(1 + n)

    def probabilities(self, accounts: pl.DataFrame) -> np.ndarray:
        """Each account's probability per niche (rows sum to 1), in ``self.niches`` order."""
        if accounts.height == 0:
            return np.zeros((0, len(self.niches)), dtype=np.float32)
        terms = None if self.idf is None else TermWeights(self.idf)
        scores = np.asarray(featurise(accounts, terms) @ self.weights) + self.bias
        # One-vs-rest logistic scores, normalised to sum to 1 (as scikit-learn's predict_proba
        # does for a one-vs-rest log-loss classifier).
        probs = 1.0 / (1.0 + np.exp(-np.clip(scores, -30.0, 30.0)))
        probs /= probs.sum(axis=1, keepdims=True)
        return probs.astype(np.float32)

    def save(self, path: Path) -> None:
        idf = {} if self.idf is None else {"idf": self.idf.astype(np.float16)}
        np.savez_compressed(
            path,
            version=np.array(self.version),
            niches=np.array(self.niches),
            weights=self.weights.astype(np.float16),
            bias=self.bias.astype(np.float32),
            **idf,
        )

    @classmethod
    def load(cls, path: Path) -> NicheModel:
        try:
            with np.load(path, allow_pickle=False) as data:
                model = cls(
                    version=str(data["version"]),
                    niches=tuple(str(n) for n in data["niches"]),
                    weights=data["weights"].astype(np.float32),
                    bias=data["bias"].astype(np.float32),
                    idf=data["idf"].astype(np.float32) if "idf" in data.files else None,
                )
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(f"{path}: not a niche model ({exc})") from None
        fits = model.weights.shape == (N_FEATURES, len(model.niches)) and (
            model.idf is None or model.idf.shape == (N_TEXT,)
        )
        if not fits or not set(model.niches) <= set(NICHES):
            raise InputError(f"{path}: the niche model does not fit this version's features")
        return model


@lru_cache(maxsize=1)
def load_shipped_model() -> NicheModel:
    """The model that ships in the package."""
    resource = resources.files("microfluence.discovery") / "models" / SHIPPED_MODEL
    return NicheModel.load(Path(str(resource)))
