"""Training the niche model: labelled accounts, weak labels for the niches the labels miss,
seed documents, and a linear classifier (scikit-learn SGD, logistic loss, balanced classes)
blended with a Complement Naive Bayes model of the same features. Half the training accounts
(``ALT_DROPOUT``, drawn with the seed) are shown without their alt texts, and an independent
half (``ACCOUNT_DROPOUT``) without their location names, post types and account numbers, so
the model does not come to rely on them: accounts that come without them are still read.

The blend (``NB_WEIGHT``): both models are linear in the features — SGD's scores are
x·wₖ + bₖ, Complement NB's joint log-likelihoods x·θₖ (Rennie, Shih, Teevan & Karger, "Tackling
the Poor Assumptions of Naive Bayes Text Classifiers", ICML 2003; scikit-learn's
``ComplementNB``) — so their weighted sum is one linear model, shipped as one weight matrix:
wₖ + c·(θₖ − θ̄) with θ̄ the mean of θ over the niches (which moves every niche's score by the
same amount) and c = ``NB_WEIGHT`` · σ̄(SGD scores) / σ̄(NB scores), σ̄ the mean over the training
accounts of the spread (standard deviation) of their scores across the niches, which puts the
two on one scale.

Weak labels (taxonomy.SEEDS): an account labelled ``other`` whose words hit one unlabelled
niche's seeds at least ``WEAK_MIN_HITS`` times, and more than any other niche's, is relabelled to
that niche. Every niche also gets ``SEED_DOCS`` synthetic accounts made of a few of its seeds
as hashtags, so each niche of the taxonomy has examples.

Since ``niches-hashed-sgd-4`` the text counts are weighted BM25-style with an idf learnt on the
training accounts (features.TermWeights, shipped with the model), and an **NB-SVM** (Wang &
Manning, "Baselines and Bigrams: Simple, Good Sentiment and Topic Classification", ACL 2012) is
averaged in: for each niche k the log-count ratio rₖ = log((pₖ/‖pₖ‖₁)/(qₖ/‖qₖ‖₁)), pₖ and qₖ
the smoothed (``NBSVM_SMOOTHING``) counts of the accounts with and without the niche that have
each feature, scales the features, and a binary logistic model (SGD) learns vₖ on x∘rₖ. Its
score x·(rₖ∘vₖ) + cₖ is again linear in x, so the mean of the two models' scores,
(1 − γ)·(x·wₖ + bₖ) + γ·(x·(rₖ∘vₖ) + cₖ) with γ = ``NBSVM_WEIGHT``, ships as one weight matrix.

Since ``niches-hashed-sgd-5`` the training accounts are **augmented** (:func:`augmented`) when
they come with their posts (``post_rows``, from dataset.read_accounts): each post of an account
with several is also an account of its own, and the accounts' first posts are pooled ``POOL``
at a time within a label (dataset.pooled) into longer accounts, so the model learns from
accounts of one post as most of the data set's are, and of several as imports' are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from microfluence.discovery.dataset import pooled, single_posts
from microfluence.discovery.features import (
    META_COLUMNS,
    N_FEATURES,
    TermWeights,
    counts,
    featurise,
    idf,
    weigh,
)
from microfluence.discovery.model import NicheModel
from microfluence.discovery.taxonomy import NICHES, SEEDS, WEAK

if TYPE_CHECKING:
    import scipy.sparse as sp
    from sklearn.linear_model import SGDClassifier

WEAK_MIN_HITS = 2
SEED_DOCS = 40
SEED_WORDS = 4
ALPHA = 1e-5
EPOCHS = 15
# Share of the training accounts whose alt texts are hidden from the training, so the model
# still reads accounts that come without alt texts (most table imports, other platforms).
ALT_DROPOUT = 0.5
# The same for the location names, post types and account numbers (features.meta_tokens):
# tables without follower counts or post types are common, and without this the model read
# hashtag-only accounts clearly worse than the previous one (docs/discovery.md).
ACCOUNT_DROPOUT = 0.5
NB_WEIGHT = 0.3
NB_SMOOTHING = 0.3  # Complement NB's additive (Laplace/Lidstone) smoothing α
NBSVM_WEIGHT = 0.5  # γ: the NB-SVM's share in the mean of the two models' scores
NBSVM_ALPHA = 1e-4  # the NB-SVM's L2 penalty (SGD)
NBSVM_SMOOTHING = 1.0  # added to each feature's account counts pₖ and qₖ
POOL = 2  # first posts of one label pooled into one training account (augmented)


def seed_matrix() -> sp.csr_matrix:
    """(niches × features): 1 where a niche's seed word or hashtag lands."""
    seeds = pl.DataFrame(
        {
            "handle": [""] * len(NICHES),
            "name": [" ".join(SEEDS[n]) for n in NICHES],
            "bio": [""] * len(NICHES),
            "captions": [""] * len(NICHES),
            "hashtags": [" ".join(SEEDS[n]) for n in NICHES],
        }
    )
    matrix = featurise(seeds)
    matrix.data[:] = 1.0
    return matrix


def seed_hits(features: sp.csr_matrix) -> np.ndarray:
    """(accounts × niches): how many of each niche's seed features an account has."""
    present = features.copy()
    present.data[:] = 1.0
    return np.asarray((present @ seed_matrix().T).todense())


def keyword_baseline(features: sp.csr_matrix) -> np.ndarray:
    """The niche with most seed hits per account; ``other`` where none hits."""
    hits = seed_hits(features)
    best = hits.argmax(axis=1)
    names = np.array(NICHES, dtype=object)
    return np.where(hits.max(axis=1) > 0, names[best], "other")


def weak_labels(features: sp.csr_matrix, labels: np.ndarray) -> np.ndarray:
    """``labels`` with clear ``other`` accounts moved to an unlabelled niche (see above)."""
    hits = seed_hits(features)
    weak = np.array([NICHES.index(n) for n in WEAK if n != "other"])
    weak_hits = hits[:, weak]
    best = weak_hits.argmax(axis=1)
    top = weak_hits.max(axis=1)
    rest = np.delete(hits, weak, axis=1).max(axis=1)
    move = (labels == "other") & (top >= WEAK_MIN_HITS) & (top > rest)
    out = labels.astype(object).copy()
    out[move] = np.array([NICHES[i] for i in weak], dtype=object)[best[move]]
    return out


def seed_documents(seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for niche in NICHES:
        words = SEEDS[niche]
        if not words:
            continue
        for _ in range(SEED_DOCS):
            pick = rng.choice(len(words), size=min(SEED_WORDS, len(words)), replace=False)
            rows.append(" ".join("#" + words[i] for i in pick))
    labels = [n for n in NICHES if SEEDS[n] for _ in range(SEED_DOCS)]
    return pl.DataFrame(
        {"handle": "", "name": "", "bio": "", "captions": rows, "hashtags": "", "label": labels}
    )


def _drop_alt_texts(accounts: pl.DataFrame, seed: int) -> pl.DataFrame:
    """``accounts`` with the alt texts of a random ``ALT_DROPOUT`` share of them emptied."""
    if "alt_texts" not in accounts.columns:
        return accounts
    hide = np.random.default_rng(seed).random(accounts.height) < ALT_DROPOUT
    return accounts.with_columns(
        alt_texts=pl.when(pl.Series(hide)).then(pl.lit("")).otherwise(pl.col("alt_texts"))
    )


def _spread(scores: np.ndarray) -> float:
    return float(np.asarray(scores).std(axis=1).mean()) or 1.0


def _blend(
    classifier: SGDClassifier, x: sp.csr_matrix, y: np.ndarray, nb_weight: float
) -> np.ndarray:
    """The SGD weights (features × classes) plus the scaled Complement NB ones (module doc)."""
    # on first use: SciPy and scikit-learn cost 0.2–1 s to import
    from sklearn.naive_bayes import ComplementNB

    coef = classifier.coef_.T.astype(np.float64)
    if nb_weight <= 0:
        return coef
    nb = ComplementNB(alpha=NB_SMOOTHING).fit(x, y)
    assert list(nb.classes_) == list(classifier.classes_)
    # Centred over the classes: a constant per account, so the argmax is unchanged, but the
    # scores stay near the SGD model's and the logistic probabilities keep their meaning.
    theta = (nb.feature_log_prob_ - nb.feature_log_prob_.mean(axis=0, keepdims=True)).T
    scale = nb_weight * _spread(x @ coef) / _spread(x @ theta)
    return coef + scale * theta


def _drop_account_numbers(accounts: pl.DataFrame, seed: int) -> pl.DataFrame:
    """``accounts`` with the location names, post types and account numbers of a random
    ``ACCOUNT_DROPOUT`` share of them unknown (a draw independent of the alt texts')."""
    columns = [c for c in ("locations", "post_types", *META_COLUMNS) if c in accounts.columns]
    if not columns:
        return accounts
    hide = pl.Series(np.random.default_rng([seed, 1]).random(accounts.height) < ACCOUNT_DROPOUT)
    return accounts.with_columns(
        [pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in columns]
    )


def log_count_ratios(x: sp.csr_matrix, y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """(features × classes): each class's NB-SVM log-count ratio rₖ (module doc)."""
    import scipy.sparse as sp  # on first use: SciPy and scikit-learn cost 0.2–1 s to import

    present = x.copy()
    present.data[:] = 1.0
    members = sp.csr_matrix((y[:, None] == classes[None, :]).astype(np.float64))
    with_class = np.asarray((members.T @ present).todense()).T  # (features × classes)
    without = np.asarray(present.sum(axis=0)).reshape(-1, 1) - with_class
    p = with_class + NBSVM_SMOOTHING
    q = without + NBSVM_SMOOTHING
    return np.log(p / p.sum(axis=0)) - np.log(q / q.sum(axis=0))


def nbsvm(x: sp.csr_matrix, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The NB-SVM's weights rₖ∘vₖ (features × classes, classes sorted as scikit-learn sorts
    them) and biases cₖ: one binary model per class (a loop over the 20 niches, not the rows)."""
    import scipy.sparse as sp  # on first use: SciPy costs 0.2–1 s to import

    classes = np.unique(y)
    ratios = log_count_ratios(x, y, classes)
    weights = np.zeros_like(ratios)
    bias = np.zeros(len(classes))
    for k, niche in enumerate(classes):
        binary = linear(seed, NBSVM_ALPHA).fit(
            x @ sp.diags(ratios[:, k]), (y == niche).astype(np.int8)
        )
        weights[:, k] = ratios[:, k] * binary.coef_.ravel()
        bias[k] = binary.intercept_[0]
    return weights, bias


def linear(seed: int, alpha: float, epochs: int = EPOCHS) -> SGDClassifier:
    """The niches' linear learner: logistic loss, L2 penalty ``alpha``, classes weighted
    inversely to their frequency, ``epochs`` passes (scikit-learn ``SGDClassifier``)."""
    from sklearn.linear_model import SGDClassifier  # on first use: 0.2–1 s to import

    return SGDClassifier(
        loss="log_loss",
        alpha=alpha,
        class_weight="balanced",
        max_iter=epochs,
        tol=None,
        random_state=seed,
    )


def augmented(accounts: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The accounts, then each post of those with several as an account of its own, then
    their first posts pooled ``POOL`` at a time within a label (shuffled by ``seed``); the
    accounts alone when they come without ``post_rows``."""
    if "post_rows" not in accounts.columns:
        return accounts
    several = single_posts(accounts.filter(pl.col("posts") > 1))
    firsts = pooled(single_posts(accounts, first_only=True), POOL, seed)
    return pl.concat([accounts, several, firsts]).drop("post_rows")


def train(
    accounts: pl.DataFrame,
    version: str,
    seed: int = 0,
    *,
    nb_weight: float = NB_WEIGHT,
    nbsvm_weight: float = NBSVM_WEIGHT,
    term_weights: bool = True,
    augment: bool = True,
) -> NicheModel:
    """A model from labelled accounts (documents' columns plus ``label``); ``nb_weight`` 0
    leaves Complement NB out, ``nbsvm_weight`` 0 the NB-SVM, ``term_weights`` False keeps
    log(1 + n) counts without idf (with the NB-SVM left out: ``niches-hashed-sgd-3``), and
    ``augment`` False trains on the accounts as they are (:func:`augmented`)."""
    import scipy.sparse as sp  # on first use: SciPy costs 0.2–1 s to import

    if augment:
        accounts = augmented(accounts, seed)
    docs = seed_documents(seed)
    text, tokens = counts(_drop_account_numbers(_drop_alt_texts(accounts, seed), seed))
    seed_text, seed_tokens = counts(docs)
    terms = TermWeights(idf(sp.vstack([text, seed_text], format="csr"))) if term_weights else None
    features = weigh(text, tokens, terms)
    labels = weak_labels(features, accounts["label"].to_numpy())
    x = sp.vstack([features, weigh(seed_text, seed_tokens, terms)], format="csr")
    y = np.concatenate([labels, docs["label"].to_numpy().astype(object)])
    classifier = linear(seed, ALPHA).fit(x, y)
    blended = _blend(classifier, x, y, nb_weight)
    intercept = classifier.intercept_.astype(np.float64)
    if nbsvm_weight > 0:
        extra, extra_bias = nbsvm(x, y, seed)
        blended = (1.0 - nbsvm_weight) * blended + nbsvm_weight * extra
        intercept = (1.0 - nbsvm_weight) * intercept + nbsvm_weight * extra_bias
    weights = np.zeros((N_FEATURES, len(NICHES)), dtype=np.float32)
    bias = np.full(len(NICHES), -30.0, dtype=np.float32)
    for row, niche in enumerate(classifier.classes_):
        weights[:, NICHES.index(niche)] = blended[:, row]
        bias[NICHES.index(niche)] = intercept[row]
    return NicheModel(
        version=version,
        niches=NICHES,
        weights=weights,
        bias=bias,
        idf=None if terms is None else terms.idf,
    )
