"""HNSW: the approximate nearest-neighbour index, a derived cache of SQLite.

The vectors live in SQLite (the source of truth). This usearch HNSW graph
(M=16, inner product on unit vectors = cosine) is rebuilt or caught up from
SQLite's change log on open, and saved beside the database together with the
last change it reflects. Losing or corrupting the file loses nothing: it is
rebuilt. The decision: usearch, because it ships prebuilt wheels (hnswlib
compiles from source here) and answers top-10 over 200k vectors in well under
a millisecond; below ``exact_below`` vectors an exact scan is both exact and
faster, so the graph is only consulted for larger collections.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np


class VectorIndex:
    def __init__(self, dim: int, *, connectivity: int = 16, exact_below: int = 10_000) -> None:
        from usearch.index import Index

        self.dim = dim
        self.connectivity = connectivity
        self.exact_below = exact_below
        self.index = Index(ndim=dim, metric="ip", dtype="f32", connectivity=connectivity,
                           expansion_add=128, expansion_search=96)
        self.last_seq = 0
        self.lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.index)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        if len(keys) == 0:
            return
        with self.lock:
            fresh = np.array([k for k in keys if not self.index.contains(int(k))], dtype=np.uint64)
            if len(fresh) != len(keys):
                mask = np.isin(keys.astype(np.uint64), fresh)
                vectors = vectors[mask]
            if len(fresh):
                self.index.add(fresh, np.ascontiguousarray(vectors, dtype=np.float32))

    def remove(self, keys: list[int]) -> None:
        with self.lock:
            for k in keys:
                if self.index.contains(int(k)):
                    self.index.remove(int(k))

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        with self.lock:
            n = len(self.index)
            if n == 0:
                return []
            m = self.index.search(np.asarray(vector, dtype=np.float32), min(k, n),
                                  exact=n < self.exact_below)
        return [(int(key), 1.0 - float(d)) for key, d in zip(m.keys, m.distances)]

    # -- persistence -----------------------------------------------------
    def save(self, path: Path, fingerprint: str) -> None:
        """Write atomically: a crash mid-save leaves the previous file (or none). Each writer writes its own
        temporary file: two processes opening one index (``grail serve`` and ``grail ask``) both save the
        graph they rebuilt, and a shared temporary name let one rename the other's file from under it."""
        with self.lock:
            meta = path.with_suffix(".json")
            tag = f"{os.getpid()}-{threading.get_ident()}.tmp"
            tmp, tmp_meta = path.with_name(f"{path.name}.{tag}"), meta.with_name(f"{meta.name}.{tag}")
            try:
                self.index.save(str(tmp))
                os.replace(tmp, path)
                tmp_meta.write_text(json.dumps({"last_seq": self.last_seq, "fingerprint": fingerprint,
                                                "count": len(self.index)}))
                os.replace(tmp_meta, meta)
            finally:
                for leftover in (tmp, tmp_meta):
                    leftover.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path, dim: int, fingerprint: str, **kw: int) -> VectorIndex | None:
        """The saved graph if it matches ``fingerprint`` and reads cleanly, else None."""
        meta = path.with_suffix(".json")
        if not path.exists() or not meta.exists():
            return None
        try:
            info = json.loads(meta.read_text())
            if info.get("fingerprint") != fingerprint:
                return None
            vi = cls(dim, **kw)
            vi.index.load(str(path))
            if len(vi.index) != info.get("count") or vi.index.ndim != dim:
                return None
            vi.last_seq = int(info["last_seq"])
            return vi
        except Exception:  # a damaged cache is rebuilt, never trusted
            return None
