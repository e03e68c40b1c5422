"""The bundled sentence-embedding model loads offline and places related texts together."""

import numpy as np

from microfluence.discovery.embedding import DIMENSIONS, embed_texts


def test_vectors_are_unit_length_and_empty_text_is_zero():
    vectors = embed_texts(["vegan baker in Lyon", "", "kettlebell coach"])
    assert vectors.shape == (3, DIMENSIONS)
    assert vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    assert np.allclose(norms[[0, 2]], 1.0, atol=1e-4)
    assert norms[1] == 0.0
    assert embed_texts([]).shape == (0, DIMENSIONS)


def test_a_translation_is_nearer_than_another_topic():
    baker, boulangerie, kettlebell = embed_texts(
        ["vegan baker in Lyon", "boulangerie végétale à Lyon", "kettlebell coach for seniors"]
    )
    assert baker @ boulangerie > baker @ kettlebell + 0.2


def test_vectors_come_back_in_the_texts_order_whatever_their_lengths():
    """embed_texts sorts by length and batches; each text must still get its own vector."""
    texts = ["kettlebell coach " * 40, "vegan", "", "travel photographer in Lisbon", "dog " * 300]
    together = embed_texts(texts, batch_size=2)
    alone = np.vstack([embed_texts([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert not np.allclose(together[0], together[3], atol=1e-3)
