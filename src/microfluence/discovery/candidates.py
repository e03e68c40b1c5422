"""The methods the niche model is measured against (discovery.evaluation), each trained and
scored the same way: ``fit`` on labelled accounts, then ``predict`` one niche per account.

* :class:`Shipped` — the shipped recipe (training.train: hashed words, hashtags, character
  n-grams, alt texts, location names and account tokens, BM25-weighted with idf; weak labels;
  seed documents; SGD blended with Complement NB, an NB-SVM averaged in; the training accounts
  augmented with their single and pooled posts);
* :class:`Shipped` with ``previous=True`` — the previous model (niches-hashed-sgd-4): the
  same trained on the accounts as they are, not augmented;
* :class:`Keywords` — the seed lists alone (training.keyword_baseline);
* :class:`ZeroShot` — sentence embeddings (discovery.embedding) of each account against
  short category descriptions (taxonomy.DESCRIPTIONS): the nearest description wins;
* :class:`EmbeddingLinear` — the embedding of the account's text and, apart, of its alt texts
  (2 × 256 numbers) into a linear classifier;
* :class:`Combined` — the shipped features with the embeddings appended (one linear model).

Only the shipped recipe ships; the others exist to be measured next to it in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import polars as pl

from microfluence.discovery.embedding import embed_texts
from microfluence.discovery.features import META_COLUMNS, documents, featurise
from microfluence.discovery.model import NicheModel
from microfluence.discovery.taxonomy import DESCRIPTIONS, NICHES
from microfluence.discovery.training import ALPHA, EPOCHS, keyword_baseline, linear, train

if TYPE_CHECKING:
    import scipy.sparse as sp
    from sklearn.linear_model import SGDClassifier

PREVIOUS = "previous model (sgd-4)"
EMBEDDING_ALPHA = 1e-4
EMBEDDING_EPOCHS = 30
# The weight of the embedding block next to the unit-length hashed features (Combined).
COMBINED_WEIGHT = 0.5


class Method(Protocol):
    """``vectors`` are the accounts' :func:`embeddings`, worked out once per run when a method
    ``uses_vectors`` (an empty array otherwise)."""

    name: str
    uses_vectors: bool

    def fit(self, accounts: pl.DataFrame, vectors: np.ndarray, seed: int) -> None: ...

    def predict(self, accounts: pl.DataFrame, vectors: np.ndarray) -> np.ndarray: ...


def without_alt_texts(accounts: pl.DataFrame) -> pl.DataFrame:
    return accounts.with_columns(alt_texts=pl.lit(""))


def without_account_numbers(accounts: pl.DataFrame) -> pl.DataFrame:
    """No location names, post types or account numbers: what niches-hashed-sgd-2 read."""
    return accounts.drop(["locations", "post_types", *META_COLUMNS], strict=False)


def hashtags_only(accounts: pl.DataFrame) -> pl.DataFrame:
    """Each caption cut down to its hashtags; no bio, name, alt text, location or account
    numbers (the handle stays)."""
    return without_account_numbers(accounts).with_columns(
        captions=pl.col("captions").fill_null("").str.extract_all(r"#\w+").list.join(" "),
        bio=pl.lit(""),
        name=pl.lit(""),
        alt_texts=pl.lit(""),
    )


def embeddings(accounts: pl.DataFrame) -> np.ndarray:
    """(accounts × 512): the embedding of the words document and of the alt texts alone."""
    words = documents(accounts)["words"].to_list()
    alt = documents(accounts.select("alt_texts").with_columns(handle=pl.lit("")))["words"]
    return np.hstack([embed_texts(words), embed_texts(alt.to_list())])


@dataclass
class Shipped:
    name: str = "model"
    previous: bool = False
    uses_vectors: bool = False
    model: NicheModel | None = None

    def fit(self, accounts: pl.DataFrame, vectors: np.ndarray, seed: int) -> None:
        if self.previous:
            self.model = train(accounts, version="cv", seed=seed, augment=False)
        else:
            self.model = train(accounts, version="cv", seed=seed)

    def predict(self, accounts: pl.DataFrame, vectors: np.ndarray) -> np.ndarray:
        assert self.model is not None
        probs = self.model.probabilities(accounts)
        return np.array(self.model.niches, dtype=object)[probs.argmax(axis=1)]


@dataclass
class Keywords:
    name: str = "keyword baseline"
    uses_vectors: bool = False

    def fit(self, accounts: pl.DataFrame, vectors: np.ndarray, seed: int) -> None:
        """Nothing to learn: the seed lists are written by hand."""

    def predict(self, accounts: pl.DataFrame, vectors: np.ndarray) -> np.ndarray:
        return keyword_baseline(featurise(accounts))


@dataclass
class ZeroShot:
    name: str = "zero-shot embeddings"
    uses_vectors: bool = True
    descriptions: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def fit(self, accounts: pl.DataFrame, vectors: np.ndarray, seed: int) -> None:
        """Nothing to learn: the descriptions are written by hand (taxonomy.DESCRIPTIONS)."""
        self.descriptions = embed_texts([DESCRIPTIONS[n] for n in NICHES])

    def predict(self, accounts: pl.DataFrame, vectors: np.ndarray) -> np.ndarray:
        both = vectors[:, :256] + vectors[:, 256:]
        return np.array(NICHES, dtype=object)[(both @ self.descriptions.T).argmax(axis=1)]


@dataclass
class EmbeddingLinear:
    name: str = "embeddings, linear"
    uses_vectors: bool = True
    classifier: SGDClassifier | None = None

    def fit(self, accounts: pl.DataFrame, vectors: np.ndarray, seed: int) -> None:
        labels = accounts["label"].to_numpy().astype(object)
        self.classifier = linear(seed, EMBEDDING_ALPHA, EMBEDDING_EPOCHS)
        self.classifier.fit(vectors, labels)

    def predict(self, accounts: pl.DataFrame, vectors: np.ndarray) -> np.ndarray:
        assert self.classifier is not None
        return self.classifier.predict(vectors)


@dataclass
class Combined:
    name: str = "hashed + embeddings"
    uses_vectors: bool = True
    classifier: SGDClassifier | None = None

    @staticmethod
    def _features(accounts: pl.DataFrame, vectors: np.ndarray) -> sp.csr_matrix:
        import scipy.sparse as sp  # on first use: SciPy and scikit-learn cost 0.2–1 s to import

        dense = sp.csr_matrix(vectors * COMBINED_WEIGHT)
        return sp.hstack([featurise(accounts), dense], format="csr")

    def fit(self, accounts: pl.DataFrame, vectors: np.ndarray, seed: int) -> None:
        labels = accounts["label"].to_numpy().astype(object)
        self.classifier = linear(seed, ALPHA, EPOCHS)
        self.classifier.fit(self._features(accounts, vectors), labels)

    def predict(self, accounts: pl.DataFrame, vectors: np.ndarray) -> np.ndarray:
        assert self.classifier is not None
        return self.classifier.predict(self._features(accounts, vectors))


def hashed_methods() -> list[Method]:
    """The model, the previous model and the keyword baseline: no embeddings needed."""
    return [Shipped(), Shipped(name=PREVIOUS, previous=True), Keywords()]


def all_methods() -> list[Method]:
    return [*hashed_methods(), ZeroShot(), EmbeddingLinear(), Combined()]
