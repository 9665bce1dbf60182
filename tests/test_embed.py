"""The bundled MiniLM embedders: same vector space in both runtimes, order-preserving batching."""

from __future__ import annotations

import numpy as np
import pytest

from grail.embed import get_embedder
from grail.registry import UnknownBackend

TEXTS = [
    "Purchases of property, plant and equipment (PP&E) (1,577) (1,373) (1,420)",
    "The cat sat on the mat.",
    "Capital expenditures rose because the company expanded its manufacturing capacity in Asia.",
    "a",
    "Revenue grew 12% year over year, driven by pricing and volume." * 8,
]


def test_vectors_are_unit_length_and_batching_keeps_input_order(embedder):
    v = embedder.embed(TEXTS, batch_size=2)
    assert v.shape == (len(TEXTS), 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    one_by_one = np.stack([embedder.embed([t])[0] for t in TEXTS])
    assert np.allclose(v, one_by_one, atol=1e-4)  # length-sorted batches return rows in input order


def test_semantics_are_sane(embedder):
    q, a, b = embedder.embed(["How much did the company invest in factories?", TEXTS[2], TEXTS[1]])
    assert q @ a > q @ b + 0.2


def test_token_count_matches_the_model_window(embedder):
    assert embedder.count_tokens("hello world") == 4  # [CLS] hello world [SEP]
    long = "word " * 1000
    assert embedder.count_tokens(long) > 256  # counting is not truncated, so chunking can see overflow


def test_int8_onnx_and_fp32_torch_give_the_same_space(embedder):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    fp32 = get_embedder("minilm-torch").embed(TEXTS)
    int8 = embedder.embed(TEXTS)
    cos = (fp32 * int8).sum(axis=1)
    assert cos.min() > 0.99 and cos.mean() > 0.998


def test_unknown_embedder_lists_the_choices():
    with pytest.raises(UnknownBackend, match="minilm-torch"):
        get_embedder("nope")
