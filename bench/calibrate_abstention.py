"""Calibrate ``min_evidence`` (when grail says "the documents do not say") on FinanceBench.

Unanswerable questions are built honestly: each FinanceBench dev question is
asked once against the shared index of all filings (answerable) and once with
its own filing held out (``Filters(exclude_doc_ids=...)``: not searched, and
its company/years unknown to query understanding, as if never indexed).
Evidence strength (``verify/evidence.py``) is computed for both; a threshold is
chosen by two-fold cross-validation (odd/even questions) so that the number
reported is measured on questions the threshold was not chosen on.

    python bench/calibrate_abstention.py --index /path/to/financebench-index --out bench/results/abstention.json
    python bench/calibrate_abstention.py --index fb --tatqa tatqa-dir --squad-index squad-idx \
        --thresholds 0.318,0.347,0.36        # and what each threshold costs where every question is answerable

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


def tatqa_strengths(workdir: Path) -> list[tuple[float, bool]]:
    """(evidence strength, own context among the top 10 files) per TAT-QA dev question; every one of
    them is answerable from its context, so refusing any is the threshold's price."""
    from glossary_check import tatqa_index

    g, questions = tatqa_index(workdir)
    out = []
    for gold, q in questions:
        hits, _ = g.search_traced(q, 10)
        out.append((g.evidence(q, hits).strength, any(Path(h.path).name == gold for h in hits)))
    return out


def tatqa_price(strengths: list[tuple[float, bool]], threshold: float) -> dict[str, float]:
    """Share of TAT-QA dev questions answered (not abstained) at ``threshold``: all, and those whose own
    context is among the top 10 files."""
    found = [s for s, in_top in strengths if in_top]
    return {"questions": len(strengths), "context_in_top10": len(found) / len(strengths),
            "answered": sum(s >= threshold for s, _ in strengths) / len(strengths),
            "answered_when_context_in_top10": sum(s >= threshold for s in found) / max(len(found), 1)}


def squad_strengths(index: Path, n: int = 300) -> list[float]:
    """Evidence strength of the SQuAD dev questions ``grail eval squad --questions n`` asks (top_k hits),
    over the index that command built; every one is answerable."""
    from grail.eval.runners import _evenly, _squad_file
    from grail.eval.squad import load_squad

    g = Grail(index)
    questions = _evenly(load_squad(_squad_file(DATA.parent / "squad-v1.1-dev")), n)
    k = g.settings.top_k
    return [g.evidence(q.question, g.search(q.question, k)).strength for q in questions]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True, help="a grail index holding all FinanceBench PDFs")
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--out", default="bench/results/abstention.json")
    ap.add_argument("--tatqa", metavar="DIR", help="also measure the price on TAT-QA dev (answerable financial "
                    "questions the threshold was not chosen on); its contexts are indexed under DIR")
    ap.add_argument("--squad-index", metavar="DIR", help="also measure the price on the 300 SQuAD dev questions of "
                    "`grail eval squad --questions 300`, over the index that command built")
    ap.add_argument("--thresholds", default="", help="comma-separated thresholds to tabulate beside the chosen one "
                    "(e.g. the configured default)")
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
    tat = tatqa_strengths(Path(args.tatqa)) if args.tatqa else None
    squad = squad_strengths(Path(args.squad_index)) if args.squad_index else None
    if tat:
        result["tatqa"] = tatqa_price(tat, final)
    table = []
    for t in sorted({final, *(float(x) for x in args.thresholds.split(",") if x.strip())}):
        row: dict[str, float] = {"threshold": t, **rates(rows, t)}
        if tat:
            row["tatqa_answered"] = tatqa_price(tat, t)["answered"]
        if squad:
            row["squad_abstained"] = sum(x < t for x in squad) / len(squad)
        table.append(row)
    result["by_threshold"] = table
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    main()
