"""Calibrate ``min_evidence`` (when grail says "the documents do not say") on FinanceBench.

Unanswerable questions are built honestly: each FinanceBench dev question is
asked once against the shared index of all filings (answerable) and once with
its own filing held out (``Filters(exclude_doc_ids=...)``: not searched, and
its company/years unknown to query understanding, as if never indexed).
Evidence strength (``verify/evidence.py``) is computed for both; a threshold is
chosen by two-fold cross-validation (odd/even questions) so that the number
reported is measured on questions the threshold was not chosen on.

    python bench/calibrate_abstention.py --index /path/to/financebench-index --out bench/results/abstention.json

Targets (issue #5): abstain on >= 80% of unanswerable questions while answering
>= 80% of answerable ones whose evidence page is retrieved in the top 10.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from grail import Grail
from grail.eval.abstention import abstention_rates, abstention_rows
from grail.eval.datasets import load_financebench

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "financebench"


def measure(g: Grail, folder: Path) -> list[dict]:
    return abstention_rows(g, folder, load_financebench(folder))


rates = abstention_rates


def choose(rows: list[dict]) -> float:
    """The threshold maximising the smaller of the two target rates (ties: the lower threshold)."""
    candidates = sorted({round(r[k]["strength"], 4) for r in rows for k in ("answerable", "held_out")} | {0.0})
    best, best_score = 0.0, -1.0
    for t in candidates:
        r = rates(rows, t + 1e-9)
        score = min(r["answered_when_evidence_in_top10"], r["abstained_when_held_out"])
        if score > best_score:
            best, best_score = t + 1e-9, score
    return best


def tatqa_price(workdir: Path, threshold: float) -> dict[str, float]:
    """Share of TAT-QA dev questions answered (not abstained) at ``threshold``: all, and those whose own
    context is among the top 10 files (every TAT-QA question is answerable from its context)."""
    from glossary_check import tatqa_index

    g, questions = tatqa_index(workdir)
    answered = answered_found = found = 0
    for gold, q in questions:
        hits, _ = g.search_traced(q, 10)
        ev = g.evidence(q, hits)
        in_top = any(Path(h.path).name == gold for h in hits)
        found += in_top
        answered += ev.strength >= threshold
        answered_found += in_top and ev.strength >= threshold
    return {"questions": len(questions), "context_in_top10": found / len(questions),
            "answered": answered / len(questions), "answered_when_context_in_top10": answered_found / max(found, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True, help="a grail index holding all FinanceBench PDFs")
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--out", default="bench/results/abstention.json")
    ap.add_argument("--tatqa", metavar="DIR", help="also measure the price on TAT-QA dev (answerable financial "
                    "questions the threshold was not chosen on); its contexts are indexed under DIR")
    args = ap.parse_args()
    g = Grail(args.index)
    rows = measure(g, Path(args.data))
    folds = [rows[0::2], rows[1::2]]
    cv = []
    for i in (0, 1):
        t = choose(folds[i])
        cv.append({"threshold": t, "chosen_on": f"fold {i}", **rates(folds[1 - i], t)})
    final = choose(rows)
    result = {"questions": len(rows), "evidence_in_top10": sum(r["evidence_in_top10"] for r in rows),
              "cross_validated": cv,
              "cv_mean": {k: statistics.fmean(c[k] for c in cv) for k in cv[0] if k not in ("threshold", "chosen_on")},
              "threshold_all": final, "rates_all_in_sample": rates(rows, final), "rows": rows}
    if args.tatqa:
        result["tatqa"] = tatqa_price(Path(args.tatqa), final)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    main()
