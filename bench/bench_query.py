"""Benchmark: query latency of grail vs Chroma and LanceDB on the same vectors and texts.

SciFact part: a grail index of the SciFact corpus (``--index DIR``, else built
once with ``Grail.index_texts`` into ``bench/results/scifact-index``). Chroma
(``PersistentClient``, cosine HNSW) and LanceDB (flat vector search + native
FTS, hybrid with its default RRF reranker) are loaded with **the very vectors
in grail's ``chunks.vector`` blobs** and the same ``index_text``, so only the
stores differ. For every query, every system runs once in turn (interleaved).

* end to end from the query text: grail ``Grail.search`` (dense, bm25,
  hybrid) and ``Grail.ask`` (extractive; ``--llm local`` adds a few local-LLM
  asks); Chroma and LanceDB embed the query with grail's own embedder (same
  model, same runtime) and then query.
* store only, given the query vector: grail ``SQLiteStore.dense_search`` /
  ``keyword_search`` / both + RRF (what ``Retriever`` does minus embedding),
  against Chroma ``query`` and LanceDB vector / FTS / hybrid search.

Synthetic part (``--synthetic N``, 0 to skip): N chunks of random words and
random unit 384-d vectors; grail's store is built with
``SQLiteStore.replace_document`` (no embedding model), then the same data go
into Chroma and LanceDB; dense top-10, keyword and hybrid latency are timed
per system, with the build time of each. The stores are kept in
``bench/results/synthetic-N/`` (shared with bench_footprint.py) and reused. Needs the bench env:

    bench/.venv/bin/python bench/bench_query.py [--index DIR] [--queries 300] [--synthetic 100000]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import machine, write_result

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SCIFACT = HERE.parents[1] / "shared" / "data" / "scifact"
DIM = 384




def rss_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MiB."""
    got = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            got[line.split(":")[0]] = int(line.split()[1]) / 1024
    return got.get("VmRSS", 0.0), got.get("VmHWM", 0.0)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


# -- the alternatives' stores ----------------------------------------------------
def build_chroma(path: Path, ids: Sequence[str], vecs: np.ndarray, texts: Sequence[str],
                 doc_ids: Sequence[str]) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
    col = client.get_or_create_collection("chunks", metadata={"hnsw:space": "cosine"}, embedding_function=None)
    step = min(5000, client.get_max_batch_size())
    for i in range(0, len(ids), step):
        col.add(ids=list(ids[i : i + step]), embeddings=vecs[i : i + step],
                documents=list(texts[i : i + step]), metadatas=[{"doc_id": d} for d in doc_ids[i : i + step]])
    return col


def open_chroma(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
    return client.get_collection("chunks", embedding_function=None)


def chroma_dense(col: Any, vec: np.ndarray, k: int, key: str = "doc_id") -> list[str]:
    res = col.query(query_embeddings=[vec], n_results=k, include=["metadatas", "distances"])
    return list(res["ids"][0]) if key == "chunk_id" else [m[key] for m in res["metadatas"][0]]


def build_lance(path: Path, ids: Sequence[str], vecs: np.ndarray, texts: Sequence[str],
                doc_ids: Sequence[str], *, vector_index: bool = False) -> Any:
    import lancedb
    import pyarrow as pa

    db = lancedb.connect(str(path))
    schema = pa.schema([("chunk_id", pa.string()), ("doc_id", pa.string()), ("text", pa.string()),
                        ("vector", pa.list_(pa.float32(), DIM))])
    table = None
    step = 50_000
    for i in range(0, len(ids), step):
        flat = pa.array(np.ascontiguousarray(vecs[i : i + step], dtype=np.float32).ravel(), type=pa.float32())
        batch = pa.Table.from_arrays([pa.array(list(ids[i : i + step])), pa.array(list(doc_ids[i : i + step])),
                                      pa.array(list(texts[i : i + step])),
                                      pa.FixedSizeListArray.from_arrays(flat, DIM)], schema=schema)
        if table is None:
            table = db.create_table("chunks", data=batch, mode="overwrite")
        else:
            table.add(batch)
    assert table is not None
    table.create_fts_index("text", replace=True)
    if vector_index:
        table.create_index(metric="cosine", vector_column_name="vector", index_type="IVF_HNSW_SQ")
    return table


def open_lance(path: Path) -> Any:
    import lancedb

    return lancedb.connect(str(path)).open_table("chunks")


def lance_dense(t: Any, vec: np.ndarray, k: int, key: str = "doc_id") -> list[str]:
    return [r[key] for r in t.search(vec, vector_column_name="vector").metric("cosine").limit(k)
            .select([key]).to_list()]


def lance_fts(t: Any, text: str, k: int, key: str = "doc_id") -> list[str]:
    return [r[key] for r in t.search(text, query_type="fts").limit(k).select([key]).to_list()]


def lance_hybrid(t: Any, vec: np.ndarray, text: str, k: int, key: str = "doc_id") -> list[str]:
    q = t.search(query_type="hybrid").vector(vec).text(text).limit(k).select([key])
    return [r[key] for r in q.to_list()]


def grail_store_hybrid(store: Any, vec: np.ndarray, text: str, k: int, n: int = 50) -> list[str]:
    """What ``Retriever.search(mode='hybrid')`` does once the query is embedded: both lists + RRF."""
    from grail.retrieve.fusion import reciprocal_rank_fusion

    with store.snapshot():
        dense = store.dense_search(vec, n)
        kw = store.keyword_search(text, n)
    by_id = {c.chunk_id: c.doc_id for c, _ in dense + kw}
    fused = reciprocal_rank_fusion({"dense": [(c.chunk_id, s) for c, s in dense],
                                    "bm25": [(c.chunk_id, s) for c, s in kw]})
    return [by_id[str(cid)] for cid, _ in fused[:k]]


# -- timing --------------------------------------------------------------------
def time_interleaved(systems: dict[str, Callable[[int], list[str]]], n: int,
                     warmup: int = 3) -> tuple[dict[str, list[float]], dict[str, list[list[str]]]]:
    """Run query i on every system in turn, for i in 0..n-1; latencies in ms and the ranked doc ids."""
    for fn in systems.values():
        for i in range(min(warmup, n)):
            fn(i)
    lat: dict[str, list[float]] = {s: [] for s in systems}
    got: dict[str, list[list[str]]] = {s: [] for s in systems}
    for i in range(n):
        for s, fn in systems.items():
            t = time.perf_counter()
            ids = fn(i)
            lat[s].append((time.perf_counter() - t) * 1000)
            got[s].append(ids)
    return lat, got


def summarise(lat: dict[str, list[float]], base: str | None = None) -> dict[str, dict[str, float]]:
    """p50/p99/mean per system; ``p50_ratio`` = its p50 / the p50 of ``base`` (the first grail row)."""
    out = {}
    for s, xs in lat.items():
        out[s] = {"n": len(xs), "p50_ms": round(float(np.percentile(xs, 50)), 2),
                  "p99_ms": round(float(np.percentile(xs, 99)), 2), "mean_ms": round(statistics.fmean(xs), 2)}
    if base and base in out:
        for s in out:
            out[s]["p50_ratio"] = round(out[s]["p50_ms"] / out[base]["p50_ms"], 2)
    return out


def print_table(title: str, rows: dict[str, dict[str, Any]], extra: Sequence[str] = ()) -> None:
    print(f"\n{title}")
    cols = ["p50_ms", "p99_ms", "mean_ms", *[c for c in next(iter(rows.values())) if c == "p50_ratio"], *extra]
    print(f"{'system':<34}" + "".join(f"{c:>12}" for c in cols))
    for s, r in rows.items():
        print(f"{s:<34}" + "".join(f"{r.get(c, '-')!s:>12}" for c in cols))


# -- SciFact ---------------------------------------------------------------------
def scifact_index(index: Path | None) -> Path:
    if index is not None:
        return index
    out = RESULTS / "scifact-index"
    if not (out / "index.db").exists():
        from grail.eval.datasets import load_beir
        from grail.facade import Grail

        data = load_beir(SCIFACT, "test")
        print(f"  building grail SciFact index at {out} (embeds {len(data.corpus)} docs) ...", file=sys.stderr)
        g = Grail(out)
        g.index_texts((i, d.title, d.text) for i, d in data.corpus.items())
        g.close()
    return out


def run_scifact(args: argparse.Namespace) -> dict[str, Any]:
    import sqlite3
    import tempfile

    from grail.eval.datasets import load_beir
    from grail.eval.metrics import ndcg_at_k
    from grail.facade import Grail

    data = load_beir(SCIFACT, "test")
    g = Grail(scifact_index(args.index), embedder=None)
    conn = sqlite3.connect(f"file:{g.store.db_path}?mode=ro", uri=True)
    rows = conn.execute("SELECT chunk_id, doc_id, index_text, vector FROM chunks ORDER BY id").fetchall()
    conn.close()
    ids, doc_ids, texts = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    vecs = np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32).reshape(-1, DIM)
    work = Path(tempfile.mkdtemp(prefix="bench-query-", dir=RESULTS))
    atexit.register(shutil.rmtree, work, True)  # removed even when a system fails mid-run
    t = time.perf_counter()
    col = build_chroma(work / "chroma", ids, vecs, texts, doc_ids)
    chroma_build = time.perf_counter() - t
    t = time.perf_counter()
    lt = build_lance(work / "lance", ids, vecs, texts, doc_ids)
    lance_build = time.perf_counter() - t

    qids = list(data.queries)[: args.queries]
    qtext = [data.queries[q] for q in qids]
    emb = g.embedder
    qvec = emb.embed(qtext)
    doc = lambda hits: [h.chunk.doc_id for h in hits]  # noqa: E731
    k = 10
    end_to_end = {
        "grail dense": lambda i: doc(g.search(qtext[i], k, mode="dense")),
        "grail bm25": lambda i: doc(g.search(qtext[i], k, mode="bm25")),
        "grail hybrid (default)": lambda i: doc(g.search(qtext[i], k, mode="hybrid")),
        "chroma dense (+embed)": lambda i: chroma_dense(col, emb.embed([qtext[i]])[0], k),
        "lancedb dense (+embed)": lambda i: lance_dense(lt, emb.embed([qtext[i]])[0], k),
        "lancedb fts": lambda i: lance_fts(lt, qtext[i], k),
        "lancedb hybrid (+embed)": lambda i: lance_hybrid(lt, emb.embed([qtext[i]])[0], qtext[i], k),
    }
    store = g.store
    store_only = {
        "grail store dense": lambda i: [c.doc_id for c, _ in store.dense_search(qvec[i], k)],
        "grail store keyword": lambda i: [c.doc_id for c, _ in store.keyword_search(qtext[i], k)],
        "grail store hybrid (RRF)": lambda i: grail_store_hybrid(store, qvec[i], qtext[i], k),
        "chroma dense": lambda i: chroma_dense(col, qvec[i], k),
        "lancedb dense (flat)": lambda i: lance_dense(lt, qvec[i], k),
        "lancedb fts": lambda i: lance_fts(lt, qtext[i], k),
        "lancedb hybrid (RRF)": lambda i: lance_hybrid(lt, qvec[i], qtext[i], k),
    }
    out: dict[str, Any] = {"chunks": len(ids), "queries": len(qids),
                           "build_s": {"chroma": round(chroma_build, 1), "lancedb": round(lance_build, 1)}}
    for name, systems, base in (("end_to_end", end_to_end, "grail dense"),
                                ("store_only", store_only, "grail store dense")):
        lat, got = time_interleaved(systems, len(qids))
        table = summarise(lat, base)
        for s in systems:
            table[s]["ndcg@10"] = round(statistics.fmean(
                ndcg_at_k(got[s][j], data.qrels[q], 10) for j, q in enumerate(qids)), 4)
        out[name] = table
        print_table(f"SciFact {name.replace('_', ' ')}: {len(ids)} chunks, {len(qids)} test queries, top-{k};"
                    f" p50_ratio = p50 / p50 of '{base}'", table, ["ndcg@10"])
    # ask: grail's default abstains before generating when retrieval evidence is weak (min_evidence), so
    # it is timed as shipped and with allow_weak=True (always generates); abstentions are counted.
    abstained: dict[str, dict[int, bool]] = {}  # per query index: warm-up calls are overwritten

    def asker(label: str, llm: str, weak: bool) -> Callable[[int], list[str]]:
        def run(i: int) -> list[str]:
            a = g.ask(qtext[i], llm=llm, allow_weak=weak)
            abstained.setdefault(label, {})[i] = a.abstained
            return [c.doc_id for c in a.citations]
        return run

    n_ask = min(args.ask_queries, len(qids))
    lat, _ = time_interleaved({"grail ask extractive": asker("grail ask extractive", "extractive", False),
                               "grail ask extractive (allow_weak)":
                                   asker("grail ask extractive (allow_weak)", "extractive", True)}, n_ask, warmup=1)
    out["ask"] = summarise(lat)
    if args.llm:
        label = f"grail ask {args.llm} (allow_weak)"
        lat, _ = time_interleaved({label: asker(label, args.llm, True)}, min(args.llm_queries, len(qids)), warmup=1)
        out["ask"].update(summarise(lat))
    for label, row in out["ask"].items():
        row["abstained"] = sum(abstained.get(label, {}).values())
    llm_note = f" ({args.llm}: {min(args.llm_queries, len(qids))})" if args.llm else ""
    print_table(f"SciFact ask: {n_ask} queries{llm_note}", out["ask"],
                ["n", "abstained"])
    g.close()
    shutil.rmtree(work, ignore_errors=True)
    return out


# -- synthetic -----------------------------------------------------------------------
def synthetic_data(n: int, seed: int = 0, words_per_chunk: int = 120) -> tuple[np.ndarray, list[str], list[str]]:
    """Unit vectors, chunk texts (Zipf-distributed words from a 30,000-word vocabulary) and the vocabulary."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = sorted({"".join(rng.choice(letters, size=int(rng.integers(3, 11)))) for _ in range(30_000)})
    vocab_arr = np.array(vocab)
    texts: list[str] = []
    for start in range(0, n, 20_000):
        m = min(20_000, n - start)
        idx = np.minimum(rng.zipf(1.2, size=(m, words_per_chunk)) - 1, len(vocab) - 1)
        idx = rng.permutation(len(vocab))[idx]  # scatter Zipf ranks over the sorted vocabulary
        texts.extend(" ".join(row) for row in vocab_arr[idx])
    vecs = rng.standard_normal((n, DIM), dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs, texts, vocab


def build_grail_synthetic(path: Path, vecs: np.ndarray, texts: Sequence[str], per_doc: int = 1000) -> Any:
    """grail's store with precomputed vectors: one Document per ``per_doc`` chunks, one page each."""
    from grail.records import Chunk, Document, Page
    from grail.store.sqlite import SQLiteStore

    store = SQLiteStore(path, embedder_name="synthetic", dim=DIM)
    for d, start in enumerate(range(0, len(texts), per_doc)):
        part = texts[start : start + per_doc]
        page_text = "\n".join(part)
        chunks, pos = [], 0
        for j, t in enumerate(part):
            chunks.append(Chunk(chunk_id=f"s{start + j}", doc_id=f"d{d}", seq=j, text=t, page=1, char_start=pos,
                                char_end=pos + len(t), n_tokens=len(t.split()), index_text=t))
            pos += len(t) + 1
        doc = Document(doc_id=f"d{d}", path=f"synthetic://d{d}", sha256=f"{d:064x}", doc_type="text",
                       title=f"d{d}", pages=(Page(1, page_text),))
        store.replace_document(doc, chunks, vecs[start : start + len(part)], size=len(page_text), mtime=0.0)
    store.save_vector_index()  # builds and saves the HNSW graph, as index_texts does
    return store


def synthetic_root(n: int) -> Path:
    """Where the synthetic stores of ``n`` chunks are kept, shared with bench_footprint.py."""
    return RESULTS / f"synthetic-{n}"


def build_synthetic_store(system: str, folder: Path, vecs: np.ndarray, texts: Sequence[str]) -> Any:
    n = len(texts)
    ids = [f"s{i}" for i in range(n)]
    doc_ids = [f"d{i // 1000}" for i in range(n)]
    shutil.rmtree(folder, ignore_errors=True)
    if system == "grail":
        return build_grail_synthetic(folder, vecs, texts)
    if system == "chroma":
        return build_chroma(folder, ids, vecs, texts, doc_ids)
    if system == "lancedb":
        return build_lance(folder, ids, vecs, texts, doc_ids, vector_index=n >= 100_000)
    raise SystemExit(f"unknown system {system!r}; choose grail, chroma or lancedb")


def open_synthetic_store(system: str, folder: Path) -> Any:
    if system == "grail":
        from grail.store.sqlite import SQLiteStore

        return SQLiteStore(folder, embedder_name="synthetic", dim=DIM)
    return open_chroma(folder) if system == "chroma" else open_lance(folder)


def run_synthetic(n: int, queries: int, systems: Sequence[str], rebuild: bool = False) -> dict[str, Any]:
    """Build (or reuse from ``synthetic_root(n)``) each store, then time interleaved queries."""
    t = time.perf_counter()
    vecs, texts, vocab = synthetic_data(n)
    gen_s = time.perf_counter() - t
    rng = np.random.default_rng(1)
    qvec = rng.standard_normal((queries, DIM), dtype=np.float32)
    qvec /= np.linalg.norm(qvec, axis=1, keepdims=True)
    qtext = [" ".join(rng.choice(vocab, size=3)) for _ in range(queries)]  # keyword queries: three words
    build: dict[str, float] = {}
    disk: dict[str, int] = {}
    handles: dict[str, Any] = {}
    root = synthetic_root(n)
    for s in systems:
        done = root / f"{s}.build.json"
        if done.exists() and not rebuild:
            handles[s] = open_synthetic_store(s, root / s)
        else:
            print(f"  synthetic {n}: building {s} ...", file=sys.stderr)
            t = time.perf_counter()
            handles[s] = build_synthetic_store(s, root / s, vecs, texts)
            done.write_text(json.dumps({"build_s": round(time.perf_counter() - t, 1)}))
        build[s] = json.loads(done.read_text())["build_s"]
        disk[s] = folder_bytes(root / s)
        print(f"  synthetic {n}: {s} built in {build[s]}s, {disk[s] / 2**20:.0f} MiB", file=sys.stderr)
    k = 10
    fns: dict[str, Callable[[int], list[str]]] = {}
    if "grail" in handles:
        st = handles["grail"]
        fns["grail dense (HNSW)"] = lambda i: [c.chunk_id for c, _ in st.dense_search(qvec[i], k)]
        fns["grail keyword (FTS5 BM25)"] = lambda i: [c.chunk_id for c, _ in st.keyword_search(qtext[i], k)]
        fns["grail hybrid (RRF)"] = lambda i: grail_store_hybrid(st, qvec[i], qtext[i], k)
    if "chroma" in handles:
        fns["chroma dense (HNSW)"] = lambda i: chroma_dense(handles["chroma"], qvec[i], k, "chunk_id")
    if "lancedb" in handles:
        lt = handles["lancedb"]
        label = "IVF_HNSW_SQ" if n >= 100_000 else "flat"
        fns[f"lancedb dense ({label})"] = lambda i: lance_dense(lt, qvec[i], k, "chunk_id")
        fns["lancedb fts"] = lambda i: lance_fts(lt, qtext[i], k, "chunk_id")
        fns["lancedb hybrid (RRF)"] = lambda i: lance_hybrid(lt, qvec[i], qtext[i], k, "chunk_id")
    lat, got = time_interleaved(fns, queries)
    table = summarise(lat, "grail dense (HNSW)" if "grail" in handles else None)
    exact = np.argsort(-(qvec @ vecs.T), axis=1)[:, :k]  # recall@10 of the dense searches vs exact
    for s in fns:
        if "dense" in s:
            hit = [len({f"s{j}" for j in exact[i]} & set(got[s][i])) / k for i in range(queries)]
            table[s]["recall@10"] = round(statistics.fmean(hit), 3)
    print_table(f"Synthetic {n:,} chunks: {queries} queries, top-{k}; p50_ratio = p50 / p50 of grail dense;"
                " recall@10 vs exact search", table, ["recall@10"])
    return {"chunks": n, "queries": queries, "generate_s": round(gen_s, 1), "build_s": build,
            "disk_bytes": disk, "latency": table}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, help="an existing grail SciFact index (else built in bench/results)")
    ap.add_argument("--queries", type=int, default=300, help="SciFact test queries timed (300 = all)")
    ap.add_argument("--ask-queries", type=int, default=50)
    ap.add_argument("--llm", help="also time ask with this backend, e.g. local")
    ap.add_argument("--llm-queries", type=int, default=3)
    ap.add_argument("--synthetic", type=int, default=100_000, help="synthetic chunks (0 skips)")
    ap.add_argument("--synthetic-queries", type=int, default=200)
    ap.add_argument("--synthetic-systems", default="grail,chroma,lancedb")
    ap.add_argument("--rebuild", action="store_true", help="rebuild synthetic stores kept in bench/results")
    ap.add_argument("--skip-scifact", action="store_true")
    ap.add_argument("--threads", type=int, default=2, help="GRAIL_THREADS / OMP threads")
    ap.add_argument("--json", type=Path, default=RESULTS / "query.json")
    args = ap.parse_args(argv)
    os.environ.setdefault("GRAIL_THREADS", str(args.threads))
    RESULTS.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"benchmark": "query", "command": " ".join(sys.argv), "machine_before": machine()}
    if not args.skip_scifact:
        result["scifact"] = run_scifact(args)
    if args.synthetic:
        result["synthetic"] = run_synthetic(args.synthetic, args.synthetic_queries,
                                            [s.strip() for s in args.synthetic_systems.split(",") if s.strip()],
                                            args.rebuild)
    result["machine_after"] = machine()
    result["rss_mb_end"] = rss_mb()
    write_result(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
