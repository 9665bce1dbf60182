"""Abstention on FinanceBench, the issue's honest construction: every question asked twice.

Once against the shared index of all filings (answerable) and once with its own
filing held out (``Filters(exclude_doc_ids=...)``: not searched, and its
company and years unknown to query understanding, as if never indexed). Beside
it, never used to choose anything: every filing of the company held out. The
decision measured is the evidence gate of ``Grail.ask`` (``Grail.evidence``
against ``min_evidence``), so ``grail eval financebench --abstention`` reports
what the product does and ``bench/calibrate_abstention.py`` chooses the
threshold from the same rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from grail.eval.datasets import FinanceBenchQuestion
from grail.facade import Grail
from grail.ingest.loaders import doc_id_for
from grail.store import Filters

SETTINGS = ("answerable", "held_out", "company_held_out")


def abstention_rows(g: Grail, folder: Path, questions: Sequence[FinanceBenchQuestion],
                    tick: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """Per question and setting: evidence strength and its parts; and whether the evidence page is in the top 10."""
    rows = []
    company_of = {d.doc_id: d.metadata.get("company") for d in g.documents()}
    for i, q in enumerate(questions):
        gold_docs = {doc_id_for(folder / "pdfs" / f"{name}.pdf") for name in q.evidence_doc_names or (q.doc_name,)}
        companies = {company_of.get(d) for d in gold_docs} - {None}
        company_docs = {d for d, c in company_of.items() if c in companies} | gold_docs
        row: dict[str, Any] = {"id": q.id, "question": q.question}
        for label, filters in (("answerable", None), ("held_out", Filters(exclude_doc_ids=tuple(sorted(gold_docs)))),
                               ("company_held_out", Filters(exclude_doc_ids=tuple(sorted(company_docs))))):
            t = time.perf_counter()
            hits, _ = g.search_traced(q.question, 10, filters=filters)
            ev = g.evidence(q.question, hits, filters)
            row[label] = {"strength": ev.strength, "coverage": ev.coverage, "years_missing": list(ev.years_missing),
                          "names_missing": list(ev.names_missing), "periods_missing": list(ev.periods_missing),
                          "companies_apart": list(ev.companies_apart),
                          "seconds": time.perf_counter() - t}
            if label == "answerable":
                gold_pages = set(zip(q.evidence_doc_names or (q.doc_name,) * len(q.evidence_pages),
                                     q.evidence_pages, strict=True))
                row["evidence_in_top10"] = any((Path(h.path).stem, h.chunk.page) in gold_pages for h in hits)
        rows.append(row)
        if tick:
            tick(i + 1, len(questions))
    return rows


def abstention_rates(rows: Sequence[dict[str, Any]], threshold: float) -> dict[str, float]:
    """The issue's rates at ``threshold`` (abstain when strength < threshold).

    ``answered_when_evidence_in_top10``: answerable questions whose evidence page is in the top 10 and that are
    answered; ``abstained_when_held_out``: questions abstained on with their filing held out (= abstention recall);
    ``abstention_precision``: of all abstentions over the 2N asks, the share on held-out asks.
    """
    with_evidence = [r for r in rows if r["evidence_in_top10"]]
    n = max(len(rows), 1)
    tp = sum(r["held_out"]["strength"] < threshold for r in rows)
    fp = sum(r["answerable"]["strength"] < threshold for r in rows)
    return {"answered_when_evidence_in_top10": sum(r["answerable"]["strength"] >= threshold for r in with_evidence)
            / max(len(with_evidence), 1),
            "abstained_when_held_out": tp / n,
            "answered_all_answerable": sum(r["answerable"]["strength"] >= threshold for r in rows) / n,
            "abstention_precision": tp / (tp + fp) if tp + fp else 0.0,
            "abstention_recall": tp / n,
            "abstained_when_company_held_out": sum(r["company_held_out"]["strength"] < threshold for r in rows) / n}


__all__ = ["SETTINGS", "abstention_rates", "abstention_rows"]
