"""Choose ``rerank_weight`` and ``rerank_depth`` without touching any test split.

The dev queries are the quarter of SciFact **train** that ``grail rerank
train --scifact`` leaves out of training (``scifact_dev_query``). For each
(depth, weight) the script runs grail's real retrieval (hybrid convex, the
defaults) with the reranker and reports document nDCG@10 and the p50 time per
query, plus the same without the reranker.

    python bench/sweep_rerank.py --index /path/to/scifact-index --reranker /path/to/reranker \
        --out bench/results/sweep_rerank.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from grail import Grail
from grail.eval.datasets import load_beir
from grail.eval.metrics import ndcg_at_k, top_k_unique
from grail.rerank.train import scifact_dev_query
from grail.retrieve.search import Retriever

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"


def evaluate(g: Grail, queries: dict[str, str], qrels: dict[str, dict[str, int]], **settings: object) -> dict:
    r = Retriever(g.store, g.embedder, g.settings.replace(**settings))
    ndcg, secs = [], []
    for qid, text in queries.items():
        t = time.perf_counter()
        hits, _ = r.search(text, 100)
        secs.append(time.perf_counter() - t)
        ndcg.append(ndcg_at_k(top_k_unique((h.chunk.doc_id for h in hits), 100), qrels[qid], 10))
    return {"ndcg@10": round(float(np.mean(ndcg)), 4), "p50_ms": round(float(np.percentile(secs, 50)) * 1000, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True, help="an index of the SciFact corpus (grail eval retrieval builds one)")
    ap.add_argument("--reranker", required=True)
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--weights", default="0.2,0.35,0.5,0.65,0.8,1.0")
    ap.add_argument("--depths", default="10,20,30")
    ap.add_argument("--out")
    args = ap.parse_args()
    data = load_beir(args.data, split="train")
    queries = {q: t for q, t in data.queries.items() if scifact_dev_query(q)}
    g = Grail(args.index)
    rows = [{"rerank": False, **evaluate(g, queries, data.qrels, rerank=False)}]
    print(rows[-1], flush=True)
    for depth in (int(x) for x in args.depths.split(",")):
        for w in (float(x) for x in args.weights.split(",")):
            rows.append({"rerank": True, "depth": depth, "weight": w,
                         **evaluate(g, queries, data.qrels, rerank=True, reranker=args.reranker,
                                    rerank_depth=depth, rerank_weight=w)})
            print(rows[-1], flush=True)
    best = max((r for r in rows if r["rerank"]), key=lambda r: r["ndcg@10"])
    result = {"dev_queries": len(queries), "rows": rows, "best": best,
              "reranker": json.loads((Path(args.reranker) / "reranker.json").read_text())}
    print("best:", best)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
