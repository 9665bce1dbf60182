"""A finance glossary for the BM25 query: measured on FinanceBench and on held-out TAT-QA, not shipped.

The glossary below appends the words filings use to the words analysts ask in
("capital expenditure" -> "purchases of property plant and equipment"). It was
written with FinanceBench's misses in view, so a gain there proves little; the
check is TAT-QA dev, which it was not written on: each of its 278 report
contexts (a table and its paragraphs) is indexed as one Markdown file and a
question counts when its own context is the top-ranked file.

    python bench/glossary_check.py --fb-index fb --out bench/results/glossary.json

Result of 2026-11-29 (docs/benchmarks.md): FinanceBench page R@10 0.651 -> 0.714,
TAT-QA R@1 0.551 -> 0.543; so it is not part of grail.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grail import Grail
from grail.eval.datasets import load_financebench

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GLOSSARY = [
    (r"capital expenditures?|capex", "purchases of property plant and equipment"),
    (r"\bcogs\b|cost of goods sold", "cost of sales cost of revenue"),
    (r"net income", "net earnings"), (r"\brevenues?\b", "net sales"),
    (r"sg&a", "selling general and administrative"), (r"pp&e", "property plant and equipment"),
    (r"free cash flow", "net cash provided by operating activities purchases of property"),
    (r"working capital", "total current assets total current liabilities"),
    (r"gross margin", "gross profit"), (r"operating margin", "operating income"),
    (r"\bdividends?\b", "cash dividends paid"), (r"\broa\b|return on assets", "net income total assets"),
    (r"\bdpo\b|days payable", "accounts payable cost of sales"),
    (r"inventory turnover", "inventories cost of sales"),
    (r"\bebitda\b", "depreciation amortization operating income"),
]


def expand(query: str) -> str:
    extra = [words for pattern, words in GLOSSARY if re.search(pattern, query, re.I)]
    return query + (" " + " ".join(extra) if extra else "")


def with_glossary(g: Grail, on: bool) -> None:
    """Route the store's BM25 search through the glossary (or restore it)."""
    store = g.store
    if "_plain_keyword_search" not in store.__dict__:
        store.__dict__["_plain_keyword_search"] = store.keyword_search
    plain: Callable[..., Any] = store.__dict__["_plain_keyword_search"]
    store.keyword_search = (lambda q, k, f=None: plain(expand(q), k, f)) if on else plain  # type: ignore[method-assign]


def financebench(index: Path) -> dict[str, dict[str, float]]:
    g = Grail(index)
    questions = list(load_financebench(DATA / "financebench"))
    out = {}
    for on in (False, True):
        with_glossary(g, on)
        at = {1: 0, 10: 0, 20: 0}
        for q in questions:
            hits, _ = g.retriever.search(q.question, 20, per_page=True)
            gold = set(zip(q.evidence_doc_names, q.evidence_pages))
            rank = next((i + 1 for i, h in enumerate(hits) if (Path(h.path).stem, h.chunk.page) in gold), None)
            for k in at:
                at[k] += bool(rank and rank <= k)
        out["glossary" if on else "plain"] = {f"page_recall@{k}": v / len(questions) for k, v in at.items()}
    return out


def tatqa_index(workdir: Path) -> tuple[Grail, list[tuple[str, str]]]:
    """TAT-QA dev's 278 contexts indexed as one Markdown file each; (file name, question) pairs."""
    contexts = json.loads((DATA / "tatqa" / "tatqa_dataset_dev.json").read_text())
    docs = workdir / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for i, ctx in enumerate(contexts):
        rows = [[c.replace("|", "/") for c in r] for r in ctx["table"]["table"]]
        table = "\n".join(["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
                          + ["| " + " | ".join(r) + " |" for r in rows[1:]])
        paras = "\n\n".join(p["text"] for p in sorted(ctx["paragraphs"], key=lambda p: p["order"]))
        (docs / f"ctx{i:03d}.md").write_text(table + "\n\n" + paras + "\n", encoding="utf-8")
    g = Grail(workdir / "idx")
    g.index(docs)
    return g, [(f"ctx{i:03d}.md", q["question"]) for i, ctx in enumerate(contexts) for q in ctx["questions"]]


def tatqa(workdir: Path) -> dict[str, Any]:
    g, questions = tatqa_index(workdir)
    out: dict[str, Any] = {"questions": len(questions),
                           "expanded": sum(expand(q) != q for _, q in questions)}
    for on in (False, True):
        with_glossary(g, on)
        r1 = r5 = 0
        for gold, q in questions:
            hits, _ = g.search_traced(q, 10)
            ranked = list(dict.fromkeys(Path(h.path).name for h in hits))
            r1 += gold in ranked[:1]
            r5 += gold in ranked[:5]
        out["glossary" if on else "plain"] = {"R@1": r1 / len(questions), "R@5": r5 / len(questions)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fb-index", required=True, help="a grail index of the 38 FinanceBench filings")
    ap.add_argument("--workdir", default="bench/results/tatqa-contexts", help="where TAT-QA contexts are indexed")
    ap.add_argument("--out", default="bench/results/glossary.json")
    a = ap.parse_args()
    result = {"financebench": financebench(Path(a.fb_index)), "tatqa": tatqa(Path(a.workdir))}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
