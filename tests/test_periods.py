"""A question about a fiscal year is not answered from a page that reports only a quarter."""

from __future__ import annotations

import pytest

from conftest import make_pdf
from grail import Grail
from grail.retrieve.query import interim_only

COVER = ["UNITED STATES", "SECURITIES AND EXCHANGE COMMISSION", "FORM 10-K",
         "For the fiscal year ended December 31, 2023", "Commission File Number 001-0000",
         "ORION WIDGETS CORPORATION", "(Exact name of registrant as specified in its charter)",
         "Common Stock, par value $0.01 ORWG New York Stock Exchange"]
# the quarter's reconciliation carries the title that shares the question's words; the year's continues it
QUARTER = ["Reconciliation of Non-GAAP Measures",
           "Reconciliation of adjusted EBITDA, the non-GAAP measure, to net income",
           "Three Months Ended December 31, 2022 Three Months Ended December 31, 2023",
           "Net income 109 181", "Depreciation and amortization 145 144", "Adjusted EBITDA 609 540"]
YEAR = ["Twelve Months Ended December 31, 2022 Twelve Months Ended December 31, 2023",
        "Net income 805 1,048", "Depreciation and amortization 579 569", "Adjusted EBITDA 2,117 2,018"]


@pytest.mark.parametrize("page,interim", [
    ("\n".join(QUARTER), True),
    ("\n".join(YEAR), False),
    ("\n".join(QUARTER + YEAR), False),  # a quarter's columns and then a year's (a release's exhibits 1 and 2)
    ("Thirteen Weeks Ended\nJanuary 28, 2023\nNet sales $ 3,226", True),
    ("THREE MONTHS ENDED JUNE 30, 2023\nNet sales 1,200", True),
    ("Three Months Ended June 30, 2023 Fiscal Year 2023\nNet sales 1,200", False),
    # a sentence wrapped onto a line that begins with the period is not a column header
    ("charges for the pension plans in the\nquarter ended June 26, 2022, which represents", False),
    ("Revenue grew 4% in the year.", False),
])
def test_interim_only(page, interim):
    assert interim_only(page) is interim


@pytest.fixture(scope="module")
def filing(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("periods")
    docs = root / "docs"
    docs.mkdir()
    (docs / "orion_2023_10k.pdf").write_bytes(make_pdf([COVER, QUARTER, YEAR]))
    g = Grail(root / "idx", embedder=embedder)
    assert g.index(docs).ok
    yield g, root
    g.close()


def test_a_year_asked_reads_the_year_s_columns_not_the_quarter_s(filing):
    g, root = filing
    question = "What was Orion Widgets' adjusted non-GAAP EBITDA for FY 2023?"
    off = Grail(root / "idx", embedder=g.embedder, statement_routing=False)
    assert off.search(question, 1, per_page=True)[0].chunk.page == 2, "or this test proves nothing"
    pages, trace = g.search_traced(question, 3, per_page=True)
    assert [p.chunk.page for p in pages] == [3, 1, 2] and "interim" in pages[2].ranks  # behind even the cover
    assert trace["interim_later"] == [{"path": pages[2].path, "page": 2}]
    scores = [h.score for h in pages]
    assert scores == sorted(scores, reverse=True)
    answer = g.ask(question, llm="extractive")
    assert not answer.abstained and {c.page for c in answer.citations} == {3} and "2,018" in answer.text


@pytest.mark.parametrize("question", [
    "What was Orion Widgets' adjusted non-GAAP EBITDA in Q4 of FY 2023?",  # a quarter asked
    "What was Orion Widgets' adjusted non-GAAP EBITDA for the three months ended December 31, 2023?",
    "What is Orion Widgets' adjusted non-GAAP EBITDA?",  # no year asked
])
def test_a_quarter_or_no_year_keeps_retrieval_s_order(filing, question):
    g, _ = filing
    pages, trace = g.search_traced(question, 3, per_page=True)
    assert pages[0].chunk.page == 2 and "interim_later" not in trace


def test_the_cli_says_which_passages_the_period_asked_put_last(filing):
    import os
    import subprocess
    import sys

    _, root = filing
    proc = subprocess.run([sys.executable, "-m", "grail.cli", "search",
                           "What was Orion Widgets' adjusted non-GAAP EBITDA for FY 2023?", "-k", "5", "--pages",
                           "--index", str(root / "idx")], capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "250"})
    marked = [line for line in proc.stdout.splitlines() if "reports only a quarter" in line]
    assert len(marked) == 1 and " p.2 " in marked[0] and "ranked 1 by retrieval" in marked[0]
