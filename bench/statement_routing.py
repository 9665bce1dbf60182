"""Statement routing on and off, interleaved in one process: FinanceBench page recall and latency.

    python bench/statement_routing.py --index fb

Each of the 63 questions is searched twice per round (pages, k=20), once with
``statement_routing`` on and once off, alternating which goes first, and the
evidence gate ``ask`` runs is timed the same way (it re-reads retrieval's
unrouted order when routing moved anything, reusing the question's embedding).
Every timing starts from a question not yet embedded. Reports page R@1/R@10 and p50/p95
milliseconds for each, and which questions routing moved. ``--asking-sentence`` asks each
question as its sentence that asks alone, without FinanceBench's instructions ("... relying on
the cash flow statement", "If the quick ratio is not ... explain why"), as a user would type it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from pathlib import Path

from grail import Grail
from grail.eval.datasets import load_financebench
from grail.retrieve.statements import asked_statements, named_statements
from grail.verify.evidence import question_focus

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "financebench"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True, help="a grail index holding all FinanceBench PDFs")
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default="bench/results/statement_routing.json")
    ap.add_argument("--asking-sentence", action="store_true", help="ask only each question's sentence that asks")
    args = ap.parse_args()
    questions = load_financebench(args.data)
    if args.asking_sentence:
        questions = [dataclasses.replace(q, question=question_focus(q.question).strip()) for q in questions]
    g = Grail(args.index)
    times: dict[str, list[float]] = {"on": [], "off": [], "gate_on": [], "gate_off": []}
    ranks: dict[str, list[int | None]] = {"on": [], "off": []}
    for r in range(args.rounds):
        for i, q in enumerate(questions):
            gold = set(zip(q.evidence_doc_names or (q.doc_name,) * len(q.evidence_pages), q.evidence_pages, strict=True))
            for setting in (("on", "off") if (i + r) % 2 == 0 else ("off", "on")):
                route = setting == "on"
                g.retriever._last_vector = None  # each timing embeds the question, as a new question would
                t = time.perf_counter()
                pages, _ = g.retriever.search(q.question, 20, per_page=True, route=route)
                times[setting].append(time.perf_counter() - t)
                g.retriever._last_vector = None
                t = time.perf_counter()
                hits, _ = g.retriever.search(q.question, g.settings.top_k, route=route)
                g.evidence(q.question, hits)
                times["gate_" + setting].append(time.perf_counter() - t)
                if r == 0:
                    rank = next((n for n, h in enumerate(pages, 1) if (Path(h.path).stem, h.chunk.page) in gold), None)
                    ranks[setting].append(rank)

    def recall(rs: list[int | None], k: int) -> float:
        return sum(x is not None and x <= k for x in rs) / len(rs)

    def ms(xs: list[float], p: float) -> float:
        return round(1000 * statistics.quantiles(xs, n=100)[int(p) - 1], 1)

    result = {
        "questions": len(questions), "rounds": args.rounds,
        "naming_a_statement": sum(bool(named_statements(q.question)) for q in questions),
        "asking_for_a_statement": sum(bool(asked_statements(q.question)) for q in questions),  # or its measure
        **{f"page_recall@{k}_{s}": recall(ranks[s], k) for s in ("on", "off") for k in (1, 5, 10, 20)},
        **{f"{name}_p{p}_ms": ms(xs, p) for name, xs in times.items() for p in (50, 95)},
        "moved": [{"id": q.id, "off": ranks["off"][i], "on": ranks["on"][i]}
                  for i, q in enumerate(questions) if ranks["off"][i] != ranks["on"][i]],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "moved"}, indent=1))
    print(f"{len(result['moved'])} questions moved; "
          f"{sum((m['on'] or 99) > (m['off'] or 99) for m in result['moved'])} of them down")


if __name__ == "__main__":
    main()
