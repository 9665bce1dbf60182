"""Fusion settings on two finance sets at once: FinanceBench evidence-page R@k and TAT-QA dev context R@k.

    python bench/fusion_check.py --fb-index fb --out fusion_check.json   # TAT-QA contexts indexed on first use

The convex weight was chosen on SciFact train; this checks it against finance data without choosing on it.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from glossary_check import DATA, tatqa_index

from grail import Grail
from grail.eval.datasets import load_financebench

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--fb-index", required=True, help="a grail index of the 38 FinanceBench filings")
ap.add_argument("--workdir", default="bench/results/tatqa-contexts", help="where TAT-QA contexts are indexed")
ap.add_argument("--out", required=True)
a = ap.parse_args()
fb = Grail(a.fb_index)
qs = load_financebench(DATA / "financebench")
tq, tq_qs = tatqa_index(Path(a.workdir))
settings = [("convex", 0.4), ("convex", 0.5), ("convex", 0.6), ("convex", 0.3), ("rrf", None)]
out = []
for fusion, w in settings:
    for g in (fb, tq):
        g.settings = dataclasses.replace(g.settings, fusion=fusion, convex_dense_weight=w if w is not None else 0.4)
        g.retriever.settings = g.settings
    row = {"fusion": fusion, "dense_weight": w}
    at = {1: 0, 5: 0, 10: 0}
    for q in qs:
        hits = fb.search(q.question, 20, per_page=True)
        pages = [(Path(h.path).stem, h.chunk.page) for h in hits]
        rank = next((i for i, p in enumerate(pages, 1) if p[0] == q.doc_name and p[1] in q.evidence_pages), None)
        for k in at:
            at[k] += bool(rank and rank <= k)
    row.update({f"fb_R@{k}": round(v / len(qs), 3) for k, v in at.items()})
    r1 = r5 = 0
    for gold, q in tq_qs:
        hits = tq.search(q, 10)
        ranked = list(dict.fromkeys(Path(h.path).name for h in hits))
        r1 += gold in ranked[:1]
        r5 += gold in ranked[:5]
    row.update({"tatqa_R@1": round(r1 / len(tq_qs), 4), "tatqa_R@5": round(r5 / len(tq_qs), 4)})
    print(row, flush=True)
    out.append(row)
Path(a.out).write_text(json.dumps(out, indent=1))
