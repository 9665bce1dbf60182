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
import time
from pathlib import Path

from grail import Grail
from grail.eval.datasets import load_financebench
from grail.ingest.loaders import doc_id_for
from grail.store import Filters
from grail.verify.evidence import evidence_strength

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "financebench"


def measure(g: Grail, folder: Path) -> list[dict]:
    rows = []
    company_of = {d.doc_id: d.metadata.get("company") for d in g.documents()}
    for q in load_financebench(folder):
        gold_docs = {doc_id_for(folder / "pdfs" / f"{name}.pdf") for name in q.evidence_doc_names}
        # the cleaner construction, reported beside the issue's: every filing of the company held out
        companies = {company_of.get(d) for d in gold_docs} - {None}
        company_docs = {d for d, c in company_of.items() if c in companies} | gold_docs
        row = {"id": q.id, "question": q.question}
        for label, filters in (("answerable", None), ("held_out", Filters(exclude_doc_ids=tuple(sorted(gold_docs)))),
                               ("company_held_out", Filters(exclude_doc_ids=tuple(sorted(company_docs))))):
            t = time.perf_counter()
            hits, _ = g.search_traced(q.question, 10, filters=filters)
            vocab = g.retriever.vocabulary(filters)
            ev = evidence_strength(q.question, hits, g.store, filters, known=lambda n, v=vocab: bool(v.companies_in(n)),
                                   uncovered_periods=vocab.uncovered_periods(q.question),
                                   named_in_doc=vocab.named_in_doc(q.question))
            row[label] = {"strength": ev.strength, "coverage": ev.coverage, "years_missing": list(ev.years_missing),
                          "names_missing": list(ev.names_missing), "periods_missing": list(ev.periods_missing),
                          "seconds": time.perf_counter() - t}
            if label == "answerable":
                gold_pages = set(zip(q.evidence_doc_names, q.evidence_pages))
                row["evidence_in_top10"] = any((Path(h.path).stem, h.chunk.page) in gold_pages for h in hits)
        rows.append(row)
    return rows


def rates(rows: list[dict], threshold: float) -> dict[str, float]:
    answerable = [r for r in rows if r["evidence_in_top10"]]
    answered = sum(r["answerable"]["strength"] >= threshold for r in answerable) / max(len(answerable), 1)
    abstained = sum(r["held_out"]["strength"] < threshold for r in rows) / max(len(rows), 1)
    all_answerable_answered = sum(r["answerable"]["strength"] >= threshold for r in rows) / max(len(rows), 1)
    # abstention as a classifier over all 2N asks: positive = "should abstain" (held out)
    company_abstained = sum(r["company_held_out"]["strength"] < threshold for r in rows) / max(len(rows), 1)
    tp = sum(r["held_out"]["strength"] < threshold for r in rows)
    fp = sum(r["answerable"]["strength"] < threshold for r in rows)
    precision = tp / (tp + fp) if tp + fp else 0.0
    return {"answered_when_evidence_in_top10": answered, "abstained_when_held_out": abstained,
            "answered_all_answerable": all_answerable_answered, "abstention_precision": precision,
            "abstention_recall": abstained, "abstained_when_company_held_out": company_abstained}


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
        vocab = g.retriever.vocabulary()
        ev = evidence_strength(q, hits, g.store, known=lambda n, v=vocab: bool(v.companies_in(n)),
                               uncovered_periods=vocab.uncovered_periods(q), named_in_doc=vocab.named_in_doc(q))
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
