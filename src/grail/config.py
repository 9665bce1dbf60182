"""Settings: defaults, then ``grail.toml``, then ``GRAIL_*`` environment variables.

One flat, documented table (see docs/configuration.md). The decision: every
setting has a working offline default, so ``grail index DIR`` and
``grail ask "..."`` need no configuration at all.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    index: str = ".grail"  # collection folder (SQLite db + HNSW cache)
    embedder: str = "minilm"  # minilm (= minilm-onnx, int8) | minilm-torch (fp32)
    llm: str = "extractive"  # extractive | local | openai[:BASE_URL]
    openai_model: str = ""  # model name for the openai backend ("" = the server's first)
    retrieval: str = "hybrid"  # hybrid | dense | bm25
    understand_query: bool = True  # recognise companies/years/forms of the index in questions; filter with fallback
    statement_routing: bool = True  # a question naming a financial statement (or a filing section) gets its pages first
    fusion: str = "convex"  # convex | rrf (convex measured better on SciFact, docs/benchmarks.md)
    rrf_k: int = 60
    convex_dense_weight: float = 0.4  # chosen on the SciFact TRAIN split (sweep), reported on test
    candidates: int = 200  # hits taken from each retriever before fusion (SciFact train: more is better; docs/benchmarks.md)
    prf: str = "none"  # pseudo-relevance feedback: none | dense (Rocchio) | bm25 (RM3-style terms) | both
    prf_docs: int = 3  # feedback passages
    prf_beta: float = 0.5  # Rocchio weight of the feedback centroid
    prf_terms: int = 10  # expansion terms for BM25
    rerank: bool = False  # reorder the top fused hits with the trained cross-encoder (grail rerank train)
    reranker: str = ""  # folder of a trained reranker ("" = <index>/reranker)
    rerank_depth: int = 20  # fused hits the reranker reads
    rerank_weight: float = 0.2  # share of the reranker in the final score; chosen on SciFact train dev (bench/sweep_rerank.py)
    top_k: int = 8  # hits handed to the generator
    chunk_tokens: int = 200  # target word pieces of prose per chunk
    chunk_overlap: int = 32
    max_file_mb: int = 200
    context_tokens: int = 1536  # prompt budget for the generator (instructions + sources)
    answer_tokens: int = 256
    decoding: str = "auto"  # auto (= quotes for the local model, free for servers) | quotes | free (docs/benchmarks.md)
    quote_sources: int = 1  # quotes: copy only from the N sources holding the sentence ranker's best sentences (0 = any)
    min_evidence: float = 0.318  # abstain below this evidence strength (calibrated: bench/calibrate_abstention.py)
    support_threshold: float = 0.95  # a sentence below this support is not shipped (calibrated: bench/faithfulness_audit.py)
    prompt_template: str = ""  # path to a prompt file overriding the bundled one

    def replace(self, **changes: Any) -> Settings:
        known = {f.name for f in dataclasses.fields(self)}
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if k in known and v is not None})


def _coerce(value: str, like: Any) -> Any:
    if isinstance(like, bool):
        return value.lower() in ("1", "true", "yes", "on")
    if isinstance(like, int):
        return int(value)
    if isinstance(like, float):
        return float(value)
    return value


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Defaults < grail.toml (``config_file`` or ./grail.toml) < GRAIL_* env < overrides."""
    base = Settings()
    values: dict[str, Any] = {}
    path = Path(config_file) if config_file else Path(os.environ.get("GRAIL_CONFIG", "grail.toml"))
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: invalid TOML: {exc}") from exc
        table = data.get("grail", data)
        known = {f.name for f in dataclasses.fields(base)}
        unknown = sorted(set(table) - known - {"grail"})
        if unknown:
            raise ValueError(f"{path}: unknown setting(s) {', '.join(unknown)}; see docs/configuration.md")
        values.update({k: v for k, v in table.items() if k in known})
    for f in dataclasses.fields(base):
        env = os.environ.get(f"GRAIL_{f.name.upper()}")
        if env is not None:
            values[f.name] = _coerce(env, getattr(base, f.name))
    values.update({k: v for k, v in overrides.items() if v is not None})
    return base.replace(**values)
