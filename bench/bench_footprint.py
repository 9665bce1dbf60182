"""Benchmark: disk and memory per 100,000 chunks, grail vs Chroma vs LanceDB.

The same synthetic chunks (random words, ~120 per chunk, and random unit
384-d vectors; ``bench_query.synthetic_data``) go into each store:

* ``grail``    ``SQLiteStore.replace_document`` (one page per 1,000 chunks,
               so the page texts a citation shows are stored too, as in a real
               grail index), then ``save_vector_index`` (the HNSW file)
* ``chroma``   ``PersistentClient`` collection, cosine HNSW
* ``lancedb``  table + native FTS index (+ IVF_HNSW_SQ vector index at >= 100k)

Each build runs in its own subprocess; then a fresh subprocess per system
imports the library, opens the store, runs one dense top-10 query (and one
keyword query where the store has one) and reports its RSS: after imports,
after open + query, and the peak. Bytes on disk are everything in the store's
folder. Figures are scaled to per 100,000 chunks. The stores are kept in
``bench/results/synthetic-N/`` (shared with bench_query.py) and reused unless
``--rebuild``. Needs the bench env:

    bench/.venv/bin/python bench/bench_footprint.py [--chunks 100000] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_query import (  # noqa: E402
    build_synthetic_store,
    folder_bytes,
    rss_mb,
    synthetic_data,
    synthetic_root,
)
from benchlib import machine, write_result  # noqa: E402

RESULTS = HERE / "results"
SYSTEMS = ("grail", "chroma", "lancedb")


def do_build(system: str, folder: Path, n: int) -> dict[str, Any]:
    vecs, texts, _ = synthetic_data(n)
    t = time.perf_counter()
    store = build_synthetic_store(system, folder, vecs, texts)
    if system == "grail":
        store.close()
    return {"build_s": round(time.perf_counter() - t, 1), "build_peak_rss_mb": round(rss_mb()[1], 1),
            "text_bytes": sum(len(x.encode()) for x in texts), "vector_bytes": int(vecs.nbytes)}


def do_open(system: str, folder: Path) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    q = rng.standard_normal(384).astype(np.float32)
    q /= np.linalg.norm(q)
    if system == "grail":
        from grail.store.sqlite import SQLiteStore

        base = rss_mb()[0]
        t = time.perf_counter()
        store = SQLiteStore(folder, embedder_name="synthetic", dim=384)
        hits = store.dense_search(q, 10)
        store.keyword_search("abc def", 10)
    elif system == "chroma":
        import chromadb  # noqa: F401  (imported before the baseline is read)
        from bench_query import chroma_dense, open_chroma

        base = rss_mb()[0]
        t = time.perf_counter()
        hits = chroma_dense(open_chroma(folder), q, 10, "chunk_id")
    elif system == "lancedb":
        import lancedb  # noqa: F401
        from bench_query import lance_dense, lance_fts, open_lance

        base = rss_mb()[0]
        t = time.perf_counter()
        table = open_lance(folder)
        hits = lance_dense(table, q, 10, "chunk_id")
        lance_fts(table, "abc def", 10, "chunk_id")
    else:
        raise SystemExit(f"unknown system {system!r}")
    first_query_s = time.perf_counter() - t
    rss, hwm = rss_mb()
    return {"rss_after_import_mb": round(base, 1), "rss_after_open_query_mb": round(rss, 1),
            "rss_delta_mb": round(rss - base, 1), "peak_rss_mb": round(hwm, 1),
            "open_first_query_s": round(first_query_s, 2), "hits": len(hits)}


def spawn(*args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2")))
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit {proc.returncode}: {(proc.stderr or proc.stdout)[-1500:]}"}
    return json.loads(lines[-1][len("RESULT "):])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--rebuild", action="store_true", help="rebuild stores kept in bench/results/synthetic-N")
    ap.add_argument("--json", type=Path, default=RESULTS / "footprint.json")
    ap.add_argument("--worker", nargs=3, metavar=("ACTION", "SYSTEM", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        action, system, folder = args.worker
        res = do_build(system, Path(folder), args.chunks) if action == "build" else do_open(system, Path(folder))
        print("RESULT " + json.dumps(res))
        return 0

    n = args.chunks
    root = synthetic_root(n)
    root.mkdir(parents=True, exist_ok=True)
    scale = 100_000 / n
    before = machine()
    rows: dict[str, dict[str, Any]] = {}
    for s in [x.strip() for x in args.systems.split(",") if x.strip()]:
        folder = root / s
        done = root / f"{s}.build.json"
        if args.rebuild or not done.exists():
            print(f"  building {s} with {n} chunks ...", file=sys.stderr)
            b = spawn("--chunks", str(n), "--worker", "build", s, str(folder))
            if "error" in b:
                rows[s] = b
                print(f"  {s} build failed: {b['error'][-500:]}", file=sys.stderr)
                continue
            done.write_text(json.dumps(b))
        b = json.loads(done.read_text())
        o = spawn("--chunks", str(n), "--worker", "open", s, str(folder))
        disk = folder_bytes(folder)
        rows[s] = {**b, **o, "disk_bytes": disk, "disk_mb_per_100k": round(disk / 2**20 * scale, 1)}
        if "rss_delta_mb" in o:
            rows[s]["rss_delta_mb_per_100k"] = round(o["rss_delta_mb"] * scale, 1)
        print(f"  {s}: {rows[s]}", file=sys.stderr)

    raw = next((r for r in rows.values() if "text_bytes" in r), None)
    print(f"\nFootprint: {n:,} synthetic chunks, scaled per 100,000 chunks"
          + (f" (raw data per 100k: texts {raw['text_bytes'] / 2**20 * scale:.0f} MiB, float32 vectors "
             f"{raw['vector_bytes'] / 2**20 * scale:.0f} MiB)" if raw else ""))
    print(f"{'system':<10}{'disk MiB':>10}{'RSS delta MiB':>15}{'RSS total MiB':>15}{'peak MiB':>10}"
          f"{'open+query s':>14}{'build s':>9}{'disk ÷ grail':>14}")
    g = rows.get("grail", {})
    for s, r in rows.items():
        if "error" in r or "disk_mb_per_100k" not in r:
            print(f"{s:<10} FAILED: {str(r.get('error'))[-200:]}")
            continue
        ratio = f"{r['disk_bytes'] / g['disk_bytes']:.2f}" if "disk_bytes" in g else "-"
        print(f"{s:<10}{r['disk_mb_per_100k']:>10}{r.get('rss_delta_mb_per_100k', '-'):>15}"
              f"{r.get('rss_after_open_query_mb', '-'):>15}{r.get('peak_rss_mb', '-'):>10}"
              f"{r.get('open_first_query_s', '-'):>14}{r['build_s']:>9}{ratio:>14}")
    result = {"benchmark": "footprint", "command": " ".join(sys.argv), "chunks": n, "machine_before": before,
              "machine_after": machine(), "results": rows}
    write_result(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
