"""Embeddings: the ``Embedder`` protocol and its registry.

An embedder maps texts to unit-length float32 vectors so that cosine
similarity is a dot product. It also owns the tokenizer whose word-piece
count decides whether a chunk fits (``max_tokens``), because a chunk longer
than the model's window is silently half-embedded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from grail.registry import Registry


@runtime_checkable
class Embedder(Protocol):
    name: str  # identifies the vector space: vectors of different names never mix
    dim: int
    max_tokens: int  # word pieces the model reads, special tokens included

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]: ...


embedders: Registry[Embedder] = Registry("embedder")


def get_embedder(spec: str) -> Embedder:
    from grail.embed import minilm  # noqa: F401  (registers the bundled backends)

    return embedders.create(spec)
