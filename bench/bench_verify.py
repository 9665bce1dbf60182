"""Verifier speed: milliseconds per draft sentence, on real drafts against real packed passages.

The issue's budget is 50 ms per answer sentence on this CPU. The drafts are the
local model's sentences from a ``grail eval squad --answers local`` report; each
is verified against the passages ``grail ask`` would pack for its question
(``top_k`` hits of the same index, completed as ``ask`` completes them).

    python bench/bench_verify.py --report squad_local.json --index .grail-eval/squad-dev-v1.1 \
        --squad ../shared/data/squad-v1.1-dev/dev-v1.1.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from grail import Grail
from grail.context import pack_context
from grail.eval.squad import load_squad
from grail.verify.support import verify_draft


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--report", required=True, help="a grail eval squad --answers local report")
    ap.add_argument("--index", required=True, help="the SQuAD index that report ran on")
    ap.add_argument("--squad", required=True, help="the SQuAD v1.1 JSON file (for the question texts)")
    ap.add_argument("--threshold", type=float, default=None, help="default: settings")
    args = ap.parse_args()
    questions = {q.qid: q.question for q in load_squad(args.squad)}
    rows = [r for r in json.loads(Path(args.report).read_text())["per_query"] if r.get("sentences")]
    g = Grail(args.index)
    threshold = args.threshold if args.threshold is not None else g.settings.support_threshold
    per_sentence, n = [], 0
    for row in rows:
        hits = [g._complete(h) for h in g.search(questions[row["id"]], g.settings.top_k)]
        context = pack_context(questions[row["id"]], hits, count_tokens=g.embedder.count_tokens, budget=1 << 20)
        draft = " ".join(f"{s['text']} [{s['best_source']}]" for s in row["sentences"])
        t = time.perf_counter()
        verify_draft(draft, context, threshold=threshold)
        per_sentence.append((time.perf_counter() - t) / len(row["sentences"]))
        n += len(row["sentences"])
    ms = sorted(x * 1000 for x in per_sentence)
    result = {"answers": len(rows), "sentences": n, "passages_per_answer": g.settings.top_k,
              "ms_per_sentence_p50": round(statistics.median(ms), 3),
              "ms_per_sentence_p95": round(ms[int(0.95 * (len(ms) - 1))], 3), "ms_per_sentence_max": round(ms[-1], 3)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
