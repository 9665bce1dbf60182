"""Retrieval: dense (HNSW over MiniLM vectors), keyword (FTS5 BM25) and hybrid.

Hybrid runs both retrievers inside one store snapshot and fuses them
(``retrieve/fusion.py``). The method and its parameters come from settings;
the default was chosen by measurement on SciFact test (docs/benchmarks.md).
Every call returns the hits plus a trace of what each retriever found.
"""

from __future__ import annotations

import time
from typing import Any

from grail.config import Settings
from grail.embed import Embedder
from grail.records import Chunk, Hit
from grail.retrieve.fusion import convex_combination, reciprocal_rank_fusion
from grail.store import Filters
from grail.store.sqlite import SQLiteStore

MODES = ("hybrid", "dense", "bm25")


class Retriever:
    def __init__(self, store: SQLiteStore, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings

    def search(self, query: str, k: int = 10, *, mode: str | None = None, filters: Filters | None = None,
               fusion: str | None = None) -> tuple[list[Hit], dict[str, Any]]:
        mode = mode or self.settings.retrieval
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        if not query.strip():
            raise ValueError("empty query: ask something")
        fusion = fusion or self.settings.fusion
        n = max(k, self.settings.candidates)
        trace: dict[str, Any] = {"mode": mode}
        lists: dict[str, list[tuple[Chunk, float]]] = {}
        paths, titles = {}, {}
        with self.store.snapshot():
            if mode in ("hybrid", "dense"):
                t = time.perf_counter()
                vec = self.embedder.embed([query])[0]
                trace["embed_s"] = time.perf_counter() - t
                t = time.perf_counter()
                lists["dense"] = self.store.dense_search(vec, n if mode == "hybrid" else k, filters)
                trace["dense_s"] = time.perf_counter() - t
            if mode in ("hybrid", "bm25"):
                t = time.perf_counter()
                lists["bm25"] = self.store.keyword_search(query, n if mode == "hybrid" else k, filters)
                trace["bm25_s"] = time.perf_counter() - t
            paths = self.store.paths()
            titles = self.store.titles()

        by_id: dict[str, Chunk] = {}
        scores: dict[str, dict[str, float]] = {}
        ranks: dict[str, dict[str, int]] = {}
        for name, ranked in lists.items():
            for r, (chunk, s) in enumerate(ranked, start=1):
                by_id[chunk.chunk_id] = chunk
                scores.setdefault(chunk.chunk_id, {})[name] = s
                ranks.setdefault(chunk.chunk_id, {})[name] = r
            trace[name] = [{"rank": r, "chunk_id": c.chunk_id, "page": c.page, "score": round(s, 4),
                            "path": paths.get(c.doc_id, "")} for r, (c, s) in enumerate(ranked[:k], 1)]

        if mode == "hybrid":
            id_lists = {name: [(c.chunk_id, s) for c, s in ranked] for name, ranked in lists.items()}
            if fusion == "convex":
                w = self.settings.convex_dense_weight
                fused = convex_combination(id_lists, {"dense": w, "bm25": 1.0 - w})
            elif fusion == "rrf":
                fused = reciprocal_rank_fusion(id_lists, k=self.settings.rrf_k)
            else:
                raise ValueError(f"unknown fusion {fusion!r}; choose rrf or convex")
            trace["fusion"] = fusion
        else:
            fused = [(c.chunk_id, s) for c, s in lists[mode]]

        hits: list[Hit] = []
        for r, (cid, s) in enumerate(fused[:k], start=1):
            chunk = by_id[str(cid)]
            sc = dict(scores[str(cid)])
            rk = dict(ranks[str(cid)])
            if mode == "hybrid":
                sc["fused"] = s
                rk["fused"] = r
            hits.append(Hit(chunk=chunk, score=s, scores=sc, ranks=rk, path=paths.get(chunk.doc_id, ""),
                            title=titles.get(chunk.doc_id, "")))
        if mode == "hybrid":
            trace["fused"] = [{"rank": h.ranks["fused"], "chunk_id": h.chunk.chunk_id, "page": h.chunk.page,
                               "score": round(h.score, 4), "path": h.path} for h in hits]
        return hits, trace
