"""FinanceBench over one shared index of all 38 dev filings (slow: the index takes ~30-60 minutes to build here).

Runs when GRAIL_FINANCEBENCH_INDEX names an index folder (it is built or
brought up to date there, incrementally) or GRAIL_SLOW=1 (built in
~/.cache/grail/financebench). The share it reports is recorded in
docs/benchmarks.md; `grail eval financebench` gives the full report.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conftest import need_data
from grail import Grail
from grail.eval.runners import run_financebench

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fb_index() -> Path:
    folder = os.environ.get("GRAIL_FINANCEBENCH_INDEX")
    if not folder and os.environ.get("GRAIL_SLOW") != "1":
        pytest.skip("slow: set GRAIL_FINANCEBENCH_INDEX=DIR (or GRAIL_SLOW=1) to index all 38 FinanceBench filings")
    need_data("financebench", "pdfs")
    return Path(folder or Path.home() / ".cache" / "grail" / "financebench")


def test_evidence_page_recall_over_one_shared_index(fb_index):
    data = need_data("financebench")
    result = run_financebench(data, fb_index)
    assert result["index"]["failed"] == []  # encrypted filings included
    assert result["index"]["files"] == 38
    r = result["totals"]["retrieval"]
    print(f"\nFinanceBench dev, {result['totals']['questions']} questions: evidence page in top 10 for "
          f"{r['evidence_recall@10']:.3f}, top 20 {r['evidence_recall@20']:.3f}, MRR {r['mrr@20']:.3f}")
    assert r["evidence_recall@10"] > 0.14  # the BM25 page baseline measured in issue #4


def test_second_run_embeds_nothing_and_is_fast(fb_index):
    need_data("financebench", "pdfs")
    g = Grail(fb_index)
    t = time.perf_counter()
    report = g.index(need_data("financebench", "pdfs"))
    seconds = time.perf_counter() - t
    assert report.chunks_embedded == 0 and len(report.unchanged) == 38
    assert seconds < 5, f"re-index of an unchanged folder took {seconds:.1f}s"
