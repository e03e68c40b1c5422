"""Sentence embeddings from the model the ``wordllama`` wheel ships (no download, ever).

WordLlama's ``l2_supercat`` model is a 32,000-token embedding table (256 dimensions, float16,
16 MB inside the wheel) taken from a large language model's input layer and trained to average
into sentence vectors (https://github.com/dleemiller/WordLlama). A text's vector is the
mean of its tokens' vectors; this module L2-normalises it, so a dot product is the cosine.

``WordLlama.load()`` looks for the bundled tokenizer under ``tokenizer/`` while the wheel puts
it under ``tokenizers/``, and then tries Hugging Face. The model is therefore assembled here
from the two bundled files, and nothing is ever fetched.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

MODEL_NAME = "wordllama-l2_supercat-256"
DIMENSIONS = 256


@lru_cache(maxsize=1)
def _model():  # noqa: ANN202 - WordLlamaInference, imported lazily with the package
    import wordllama
    from safetensors import safe_open
    from wordllama.inference import WordLlamaInference
    from wordllama.wordllama import WordLlama

    root = Path(wordllama.__file__).parent
    weights = root / "weights" / "l2_supercat_256.safetensors"
    tokenizer_file = root / "tokenizers" / "l2_supercat_tokenizer_config.json"
    for path in (weights, tokenizer_file):
        if not path.exists():
            raise RuntimeError(f"the wordllama package has no bundled model file {path}")
    tokenizer = WordLlama.load_tokenizer(tokenizer_file)
    with safe_open(str(weights), framework="np", device="cpu") as tensors:
        table = tensors.get_tensor("embedding.weight")
    return WordLlamaInference(table, tokenizer)


BATCH = 64  # texts per batch, after sorting by length (see embed_texts)


def embed_texts(texts: Sequence[str], *, batch_size: int = BATCH) -> np.ndarray:
    """One L2-normalised float32 row of ``DIMENSIONS`` per text (an empty text gives zeros),
    in the order given.

    The model pads each batch to its longest text (no truncation), so one 4,000-character
    caption in a batch of 2,048 short ones costs 2,048 long rows (2,000 captions took 158 s that
    way). The texts are therefore embedded sorted by length, in batches of ``batch_size``, and
    put back in their order: each batch holds texts of about the same length and wastes little.
    """
    if len(texts) == 0:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    clean = [text or "" for text in texts]
    order = np.argsort(np.fromiter((len(t) for t in clean), dtype=np.int64, count=len(clean)))
    ordered = [clean[i] for i in order]
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty text's norm is 0
        vectors = _model().embed(ordered, norm=True, batch_size=batch_size)
    vectors = np.nan_to_num(np.asarray(vectors, dtype=np.float32), copy=False)
    out = np.empty_like(vectors)
    out[order] = vectors
    return out
