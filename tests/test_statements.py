"""Statement routing: a question naming a financial statement gets that statement's titled page first."""

from __future__ import annotations

import pytest

from conftest import make_pdf
from grail import Grail
from grail.retrieve.statements import (
    asked_statements,
    implied_statements,
    measure_rows,
    named_statements,
    page_statements,
    title_kind,
)


@pytest.mark.parametrize("question,kinds", [
    ("Answer by relying on the details shown in the cash flow statement.", ("cash_flow_statement",)),
    ("using the P&L statement and the statement of cash flows", ("income_statement", "cash_flow_statement")),
    ("from the statement of financial position, what is the working capital ratio?", ("balance_sheet",)),
    ("what is shown in the balance sheet and the statement of income?", ("balance_sheet", "income_statement")),
    ("Per the consolidated statement of profit or loss, what was revenue?", ("income_statement",)),
    ("What drove the change in operating margin?", ()),
    ("Which activity brought in the most cash flow?", ()),  # a metric, not a statement
    ("What was free cash flow in FY2022?", ()),
])
def test_named_statements(question, kinds):
    assert named_statements(question) == kinds


@pytest.mark.parametrize("question,kinds", [
    ("Has Amcor's quick ratio improved between FY2023 and FY2022? If the quick ratio is not something an "
     "analyst would ask about, please explain why.", ("balance_sheet",)),  # the "why" is not the ask
    ("Does Orion have positive working capital based on FY2022 data?", ("balance_sheet",)),
    ("Are Best Buy's gross margins historically consistent?", ("income_statement",)),
    ("Which of operating, investing and financing activities brought in the most cash?", ("cash_flow_statement",)),
    ("Is 3M a capital-intensive business?", ("balance_sheet", "income_statement", "cash_flow_statement")),
    ("Calculate the inventory turnover ratio for FY2022.", ("balance_sheet", "income_statement")),
    ("What is the FY2019 days payable outstanding (DPO)?", ("balance_sheet", "income_statement")),
    ("What was the FY2017 ROA?", ("balance_sheet", "income_statement")),
    ("Which roe deer population is covered?", ()),  # abbreviations count in capitals only
    ("What drove operating margin change as of FY2022 for 3M?", ()),  # the discussion answers that
    ("Why did gross margin fall in FY2023?", ()),
    ("What capital expenditures does 3M expect for 2023?", ()),  # plans are in the discussion, not the rows
    ("Which activity brought in the most cash flow?", ()),  # no measure defined by a statement's rows
    ("What were total current assets?", ("balance_sheet",)),  # a line of the statement: its row answers
    ("What is the FY2016 COGS for Microsoft?", ("income_statement",)),
    ("What is the year end FY2018 net PPNE for 3M?", ("balance_sheet",)),
    ("How much did American Water Works pay out in cash dividends for FY2020?", ("cash_flow_statement",)),
    ("Which of JPM's business segments had the lowest net revenue in 2021 Q1?", ()),  # a segment: the notes
    ("What was 3M's adjusted EPS in 2022?", ()),  # non-GAAP: the release's reconciliation, not the statement
    ("Has CVS Health paid dividends to common shareholders in Q2 of FY2022?", ()),  # a 10-Q's cash flows are YTD
    ("How does Microsoft recognize revenue?", ()),  # a policy: the notes say it, not the revenue row
    ("What inventory costing method does Best Buy use?", ()),
    ("How much revenue did Microsoft report in FY2016?", ("income_statement",)),
    ("How did Amazon's revenue change from FY2016 to FY2017?", ("income_statement",)),  # amounts, compared
    ("What was capex in the six months ended June 30, 2023?", ("cash_flow_statement",)),
    ("Is 3M a capital-intensive business based on Q3 2022 data?", ("balance_sheet", "income_statement")),
    ("Which Best Buy product category performed the best by top line in the domestic market?", ()),
    ("Did JnJ's net earnings as a percent of sales increase in Q2 of FY2023?", ("income_statement",)),
    ("What was R&D as a % of revenue in 2022?", ("income_statement",)),
    ("Did wages expense as a percent of net sales increase?", ()),  # no line of the statement
    ("What drove the reduction in SG&A expense as a percent of net sales?", ()),  # the discussion says why
])
def test_implied_statements(question, kinds):
    assert implied_statements(question) == kinds


def test_measure_rows_are_what_the_measure_is_made_of():
    assert measure_rows("Has Amcor's quick ratio improved?") == "total current assets total current liabilities inventories"
    assert measure_rows("What drove the change in Amcor's quick ratio?") == ""
    assert measure_rows("What was revenue?") == "net sales revenue total revenues"
    assert measure_rows("Who is the CEO?") == ""
    assert measure_rows("What is SG&A as a percentage of total revenues?") == (
        "selling general and administrative expenses net sales revenue")


def test_asked_statements_are_the_named_and_the_implied():
    q = "What is the FY2017 - FY2019 average of capex as a % of revenue, using the income statement?"
    assert asked_statements(q) == ("income_statement", "cash_flow_statement")


@pytest.mark.parametrize("line,kind", [
    ("CONSOLIDATED BALANCE SHEETS", "balance_sheet"),
    ("Consolidated Balance Shee t", "balance_sheet"),  # PDF text splits words
    ("CASH FLOWS STATEMENTS", "cash_flow_statement"),
    ("INCOME STATEMENTS", "income_statement"),
    ("Consolidated Statements of Earnings GENERAL MILLS, INC. AND SUBSIDIARIES", "income_statement"),
    ("Condensed Consolidated Statements of Operations (Unaudited)", "income_statement"),
    ("Consolidated Statements of Income and Comprehensive Income", "income_statement"),
    ("Consolidated Statement of Financial Position", "balance_sheet"),
    ("Consolidated Statement of Cash Flow s", "cash_flow_statement"),
    ("CONSOLIDATED STATEMENTS OF INCOME (LOSS)", "income_statement"),
    ("Consolidated Statements of Operations and Comprehensive Income (Loss)", "income_statement"),
    ("Consolidated Statement of Profit or Loss", "income_statement"),  # IFRS
    ("Consolidated Statement of Comprehensive Income", None),  # not one of the three
    ("Notes to Consolidated Financial Statements", None),
    ("Consolidated Statement of Operations:", None),  # labels part of a note's table
    ("Statements of Earnings.", None),  # the end of a wrapped sentence ("... in our Consolidated" / "Statements of Earnings.")
    ("Balance Sheet", None),  # a column header more often than a title
    ("remaining net deferred tax assets in our consolidated balance sheet.", None),  # wrapped prose
    ("Consolidated Statement of Cash Flows for the years ended December 31, 2018, 2017 and 2016 60", None),  # contents
])
def test_title_kind(line, kind):
    assert title_kind(line) == kind


def test_page_statements_reads_only_the_head_of_a_page():
    head = "Table of Contents\n3M Company and Subsidiaries\nConsolidated Statement of Cash Flows\nYears ended\n"
    assert page_statements(head) == {"cash_flow_statement"}
    late = "\n".join(["Some prose line."] * 30) + "\nCONSOLIDATED BALANCE SHEETS\n"
    assert page_statements(late) == set()
    wrapped = "ACME CORP\nCONSOLIDATED STATEMENTS OF\nCASH FLOWS\n(in millions)\n"
    assert page_statements(wrapped) == {"cash_flow_statement"}
    column = "Offsetting of Financial Assets\nPresented in the Consolidated\nBalance Sheet\nGross Amounts\n"
    assert page_statements(column) == set()  # a column header, not a title
    assert page_statements("Amounts netted on the\nConsolidated\nbalance sheets\nNet\n") == set()
    # after a line of prose, a title-like line is a column of the table the prose introduces (Best Buy's note)
    note = ("Table of Contents\nThe following table presents the effects of derivatives not designated as hedging "
            "instruments on our Consolidated Statements of Earnings ($ in millions):\nGain (Loss) Recognized\n"
            "Contract Type\nStatement of Earnings\nLocation 2019 2018\n")
    assert page_statements(note) == set()


COVER = ["UNITED STATES", "SECURITIES AND EXCHANGE COMMISSION", "FORM 10-K",
         "For the fiscal year ended December 31, 2022", "Commission File Number 001-0000", "{company}",
         "(Exact name of registrant as specified in its charter)",
         "Common Stock, par value $0.01 {ticker} New York Stock Exchange"]
# the prose pages say "balance sheet" and "current assets" far more often than the statement does
PROSE = [
    ["ITEM 7. MANAGEMENT'S DISCUSSION AND ANALYSIS",
     "Our balance sheet remained strong in 2022. Total current assets on the balance sheet grew as current assets",
     "such as receivables and inventories rose; the balance sheet shows current assets well above current liabilities.",
     "We manage current assets and the balance sheet carefully, and current assets are reviewed every quarter."],
    ["NOTE 4. RECEIVABLES",
     "Receivables are current assets on the consolidated balance sheet. Current assets include trade receivables",
     "net of allowances; the balance sheet presents current assets and total current assets by class.",
     "Total current assets reported on the balance sheet include receivables of the widget segment."],
]
STATEMENT = ["{company}", "CONSOLIDATED BALANCE SHEETS", "(In millions)", "December 31, 2022 2021",
             "Cash and cash equivalents 1,204 1,010", "Receivables 870 802", "Inventories 455 410",
             "Total current assets 2,529 2,222", "Property, plant and equipment 3,100 2,950", "Total assets 5,629 5,172"]


EARNINGS = ["{company}", "CONSOLIDATED STATEMENTS OF EARNINGS", "(In millions)", "Fiscal Year 2022 2021",
            "Net sales 9,120 8,450", "Cost of sales 6,010 5,600", "Gross profit 3,110 2,850", "Net earnings 1,020 940"]


def _filing(company: str, ticker: str, *extra: list[str]) -> bytes:
    cover = [line.format(company=company, ticker=ticker) for line in COVER]
    pages = [STATEMENT, *extra]
    return make_pdf([cover, *PROSE, *([line.format(company=company) for line in page] for page in pages)])


@pytest.fixture(scope="module")
def filings(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("statements")
    docs = root / "docs"
    docs.mkdir()
    (docs / "orion_2022_10k.pdf").write_bytes(_filing("ORION WIDGETS CORPORATION", "ORWG"))
    (docs / "vega_2022_10k.pdf").write_bytes(_filing("VEGA FOODS, INC.", "VEGF", EARNINGS))  # and page 5
    g = Grail(root / "idx", embedder=embedder)
    assert g.index(docs).ok
    yield g, root
    g.close()


QUESTION = "What were Orion's total current assets in FY2022 according to the balance sheet?"


def test_the_named_statement_page_comes_first(filings):
    g, root = filings
    off = Grail(root / "idx", embedder=g.embedder, statement_routing=False)
    plain = off.search(QUESTION, 4, per_page=True)
    assert plain[0].chunk.page != 4, "prose should outrank the statement without routing, or this test proves nothing"

    pages, trace = g.search_traced(QUESTION, 4, per_page=True)
    assert (pages[0].path.endswith("orion_2022_10k.pdf"), pages[0].chunk.page) == (True, 4)
    assert {h.path.rsplit("/", 1)[-1] for h in pages} == {"orion_2022_10k.pdf"}  # still within the company
    assert trace["statements"]["asked"] == ["balance_sheet"] and trace["statements"]["by_measure"] == []
    assert trace["statements"]["pages"][0]["page"] == 4
    assert pages[0].ranks["statement"] == 1
    scores = [h.score for h in pages]
    assert scores == sorted(scores, reverse=True)  # downstream readers of the score see the same order

    chunks = g.search(QUESTION, 6)  # chunk ranking: the statement's chunks lead, the rest follow in order
    assert chunks[0].chunk.page == 4
    # routing reorders, it never drops: what retrieval found without it is still there
    assert {h.chunk.chunk_id for h in plain} <= {h.chunk.chunk_id for h in g.search(QUESTION, 200)}


def test_a_question_without_a_company_or_statement_is_not_routed(filings):
    g, _ = filings
    _, trace = g.search_traced("What were total current assets according to the balance sheet?", 4)
    assert "statements" not in trace  # no documents recognised: a statement page of every company is no answer
    _, trace = g.search_traced("How does Orion manage its widget business in FY2022?", 4)
    assert "statements" not in trace


def test_the_named_statement_of_the_named_year_is_evidence(filings):
    g, root = filings
    # the statement has no row called "quick ratio": by the question's words alone the evidence is weak
    question = "Using the balance sheet, what was Orion's FY2022 quick ratio?"
    off = Grail(root / "idx", embedder=g.embedder, statement_routing=False)
    plain = off.evidence(question, off.search(question, 8))
    assert plain.statement == "" and plain.strength < g.settings.min_evidence, "or this test proves nothing"
    ev = g.evidence(question, g.search(question, 8))
    assert ev.statement == "orion_2022_10k.pdf p.4" and ev.coverage == 1.0 and ev.strength >= g.settings.min_evidence
    answer = g.ask(question)
    assert not answer.abstained
    assert answer.trace.stage("evidence").data["statement"] == "orion_2022_10k.pdf p.4"
    # another year's statement is not the one asked for
    other = "Using the balance sheet, what was Orion's FY2019 quick ratio?"
    assert g.evidence(other, g.search(other, 8)).statement == ""


def test_the_answer_quotes_the_statement_row(filings):
    g, root = filings
    off = Grail(root / "idx", embedder=g.embedder, statement_routing=False).ask(QUESTION)
    # without routing the statement's page is retrieved below the prose, and its row still wins: a sentence
    # is read with the heading it sits under ("CONSOLIDATED BALANCE SHEETS"), which names what is asked
    assert "Total current assets 2,529" in off.text and [c.n for c in off.citations] != [1]
    answer = g.ask(QUESTION)
    assert not answer.abstained and "Total current assets 2,529" in answer.text
    assert {c.page for c in answer.citations} == {4}


def test_extraction_falls_back_when_the_statement_has_nothing_quotable(embedder):
    from grail.generate.extractive import rank_sentences
    from grail.records import Chunk, Context, Hit

    def hit(n: int, text: str, **ranks: int) -> Hit:
        return Hit(Chunk(f"c{n}", "d", n, text, n, 0, len(text)), 1.0 / n, ranks=dict(ranks))

    title_only = hit(1, "CONSOLIDATED BALANCE SHEETS", statement=1)
    prose = hit(2, "Total current assets were $2,529 million at the end of 2022.")
    rows = hit(3, "Total current assets 2,529 2,222", statement=2)
    q = "What were total current assets in 2022?"
    both = Context(q, (title_only, prose, rows), "", "", 0, 0)
    assert {x.source for x in rank_sentences(q, both, embedder)} == {3}  # only the statement's rows
    alone = Context(q, (title_only, prose), "", "", 0, 0)
    assert [x.source for x in rank_sentences(q, alone, embedder)] == [2]  # nothing quotable there: every source


def test_rows_are_ranked_by_the_sentence_that_asks(embedder):
    from grail.generate.extractive import rank_sentences
    from grail.records import Chunk, Context, Hit

    text = ("Net cash provided by operating activities 1,426 1,383\nDividends paid (389) (353)\n"
            "Cash flows used in financing activities, as outlined (1,200) (900)")
    page = Hit(Chunk("c1", "d", 1, text, 1, 0, len(text)), 1.0, ranks={"statement": 1})
    q = ("How much did Orion pay out in cash dividends in FY2022? Compute the answer by primarily using "
         "the details outlined in the statement of cash flows.")  # instruction words match the wrong row
    best = rank_sentences(q, Context(q, (page,), "", "", 0, 0), embedder)[0]
    assert best.text.startswith("Dividends paid")


@pytest.mark.parametrize("mode", ["bm25", "dense"])
def test_a_single_retriever_routes_too(filings, mode):
    g, _ = filings
    hits, trace = g.search_traced(QUESTION, 2, mode=mode)
    assert trace["statements"]["pages"] and hits[0].chunk.page == 4


def test_the_cli_says_which_passages_routing_moved(filings):
    import os
    import subprocess
    import sys

    _, root = filings
    proc = subprocess.run([sys.executable, "-m", "grail.cli", "search", QUESTION, "-k", "3", "--index",
                           str(root / "idx")], capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "200"})
    first = proc.stdout.splitlines()[0]
    assert "p.4" in first and "a statement the query asks for" in first


def test_the_gate_reuses_the_question_s_embedding(filings, monkeypatch):
    g, _ = filings
    question = "What were Orion's FY2022 total current assets, as shown in the balance sheet?"
    seen: list[list[str]] = []
    real = g.embedder.embed
    monkeypatch.setattr(g.embedder, "embed", lambda texts, **kw: (seen.append(list(texts)), real(texts, **kw))[1])
    hits = g.search(question, 8)
    assert "statement" in hits[0].ranks
    g.evidence(question, hits)  # searches again, unrouted
    assert sum(texts == [question] for texts in seen) == 1


def test_the_gate_reads_the_order_routing_started_from_without_searching_again(filings, monkeypatch):
    g, root = filings
    question = "What were Orion's FY2022 total current assets, as shown in the balance sheet?"
    off = Grail(root / "idx", embedder=g.embedder, statement_routing=False)
    unrouted = [h.chunk.chunk_id for h in off.search(question, 5)]
    searches: list[str] = []
    real = g.store.keyword_search
    monkeypatch.setattr(g.store, "keyword_search", lambda q, k, f=None: (searches.append(q), real(q, k, f))[1])
    hits = g.search(question, 8)
    assert "statement" in hits[0].ranks and len(searches) == 1
    again, _ = g.retriever.search(question, 5, route=False)  # what the evidence gate asks for
    assert [h.chunk.chunk_id for h in again] == unrouted and len(searches) == 1
    g.evidence(question, hits)
    assert len(searches) == 1
    g.retriever.search("What were Orion's FY2022 inventories?", 5, route=False)  # another question searches
    assert len(searches) == 2


def test_a_measure_routes_the_statements_that_define_it(filings):
    g, root = filings
    question = "Does Orion have positive working capital based on FY2022 data?"
    off = Grail(root / "idx", embedder=g.embedder, statement_routing=False)
    assert off.search(question, 4, per_page=True)[0].chunk.page != 4, "or this test proves nothing"
    pages, trace = g.search_traced(question, 4, per_page=True)
    assert pages[0].chunk.page == 4 and trace["statements"]["by_measure"] == ["balance_sheet"]
    ev = g.evidence(question, g.search(question, 8))
    assert ev.statement == "orion_2022_10k.pdf p.4" and ev.coverage == 1.0
    # what drove it is in the discussion, not in the rows: not routed
    _, trace = g.search_traced("What drove Orion's working capital change in FY2022?", 4)
    assert "statements" not in trace


def test_statement_evidence_needs_every_statement_the_measure_is_made_of(filings):
    g, _ = filings
    # inventory turnover needs cost of sales (income statement) and inventories (balance sheet); these
    # filings hold only a balance sheet: routed, but not evidence enough by itself
    question = "What was Orion's FY2022 inventory turnover ratio?"
    hits, trace = g.search_traced(question, 8)
    assert trace["statements"]["asked"] == ["balance_sheet", "income_statement"] and hits[0].chunk.page == 4
    assert g.evidence(question, hits).statement == ""


@pytest.mark.parametrize("question,rows", [
    ("Has Orion's quick ratio improved in FY2022?", {"Total current assets 2,529 2,222", "Total current liabilities 1,310 1,205"}),
    ("Does Orion have positive working capital based on FY2022 data?",
     {"Total current assets 2,529 2,222", "Total current liabilities 1,310 1,205"}),
    ("Is Orion a capital-intensive business?", {"Property, plant and equipment, net 3,100 2,950", "Total assets 5,629 5,172"}),
])
def test_the_extractive_ranker_reads_the_rows_a_measure_is_made_of(embedder, question, rows):
    from grail.generate.extractive import rank_sentences
    from grail.records import Chunk, Context, Hit

    text = ("Cash and cash equivalents 1,204 1,010\nReceivables 870 802\nInventories 455 410\n"
            "Total current assets 2,529 2,222\nRetained earnings 2,000 1,800\nTotal current liabilities 1,310 1,205\n"
            "Total shareholders' equity 3,100 2,900\nProperty, plant and equipment, net 3,100 2,950\n"
            "Total assets 5,629 5,172")
    page = Hit(Chunk("c1", "d", 1, text, 4, 0, len(text)), 1.0, ranks={"statement": 1})  # routed here
    ranked = rank_sentences(question, Context(question, (page,), "", "", 0, 0), embedder)
    assert {x.text for x in ranked[:2]} == rows  # no row says "quick ratio"; these make it


@pytest.mark.parametrize("k", [1, 8])
def test_statement_evidence_reads_the_filing_not_the_top_k(filings, k):
    g, _ = filings
    # Vega's FY2022 10-K holds both statements inventory turnover is made of; however few passages are
    # asked for, the routed statements of that filing are the evidence
    question = "What was Vega Foods' FY2022 inventory turnover ratio?"
    hits = g.search(question, k)
    assert "statement" in hits[0].ranks and len(hits) == k
    assert g.evidence(question, hits).statement.startswith("vega_2022_10k.pdf p.")


def test_a_year_asked_gets_the_annual_reports_statement_before_a_quarters(tmp_path, embedder):
    # the 10-Q's balance sheet repeats the question's words; the 10-K's is the year's figures of record
    quarter_cover = ["UNITED STATES", "SECURITIES AND EXCHANGE COMMISSION", "FORM 10-Q",
                     "For the quarterly period ended June 30, 2022", "LYRA TOOLS, INC.",
                     "Common Stock, par value $0.01 LYRT Nasdaq"]
    quarter_sheet = ["LYRA TOOLS, INC.", "CONDENSED CONSOLIDATED BALANCE SHEETS", "(Unaudited, in millions)",
                     "Lyra Tools total current assets and current liabilities June 30, 2022 December 31, 2021",
                     "Inventories 301 280", "Total current assets 1,650 1,590", "Total current liabilities 900 880"]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lyra_2022_10k.pdf").write_bytes(_filing("LYRA TOOLS, INC.", "LYRT"))
    (docs / "lyra_2022q2_10q.pdf").write_bytes(make_pdf([quarter_cover, quarter_sheet]))
    g = Grail(tmp_path / "idx", embedder=embedder)
    try:
        assert g.index(docs).ok
        question = "What were Lyra Tools' total current assets in FY2022 according to the balance sheet?"
        pages, trace = g.search_traced(question, 4, per_page=True)
        first = {(p["path"].rsplit("/", 1)[-1], p["page"]) for p in trace["statements"]["pages"]}
        assert first == {("lyra_2022_10k.pdf", 4), ("lyra_2022q2_10q.pdf", 2)}
        retrieved = {h.path.rsplit("/", 1)[-1]: h.ranks["retrieved"] for h in pages[:2]}
        assert retrieved["lyra_2022q2_10q.pdf"] < retrieved["lyra_2022_10k.pdf"], \
            "retrieval should prefer the quarter's sheet, or this test proves nothing"
        assert (pages[0].path.endswith("lyra_2022_10k.pdf"), pages[0].chunk.page) == (True, 4)
        # a quarter asked for keeps retrieval's order
        quarter = "What were Lyra Tools' total current assets in Q2 of FY2022 according to the balance sheet?"
        assert g.search(quarter, 4, per_page=True)[0].path.endswith("lyra_2022q2_10q.pdf")
    finally:
        g.close()


def test_an_html_filing_is_routed_by_its_printed_pages(tmp_path, embedder):
    # EDGAR's HTML marks the original's pages with CSS breaks: the statement is a titled page, as in a PDF
    from html import escape
    company = "ORION WIDGETS CORPORATION"
    pages = [[line.format(company=company, ticker="ORWG") for line in COVER], *PROSE,
             [line.format(company=company) for line in STATEMENT]]
    body = '<hr style="page-break-after:always"/>'.join(
        "<div>" + "".join(f"<p>{escape(line)}</p>" for line in page) + "</div>" for page in pages)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "orion-20221231.htm").write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    g = Grail(tmp_path / "idx", embedder=embedder)
    try:
        assert g.index(docs).ok
        assert g.store.documents()[0].n_pages == 4
        off = Grail(tmp_path / "idx", embedder=embedder, statement_routing=False)
        assert off.search(QUESTION, 4, per_page=True)[0].chunk.page != 4, "or this test proves nothing"
        pages_found, trace = g.search_traced(QUESTION, 4, per_page=True)
        assert pages_found[0].chunk.page == 4 and trace["statements"]["pages"][0]["page"] == 4
        answer = g.ask(QUESTION)
        assert not answer.abstained and "Total current assets 2,529" in answer.text
        assert {c.page for c in answer.citations} == {4}
    finally:
        g.close()


def test_a_statement_retrieval_did_not_find_is_added(filings):
    g, root = filings
    # two candidates per retriever: the prose pages fill them and the balance sheet is not among them
    narrow = Grail(root / "idx", embedder=g.embedder, candidates=2)
    question = "Does Orion have positive working capital based on FY2022 data?"
    unrouted = Grail(root / "idx", embedder=g.embedder, candidates=2, statement_routing=False)
    assert all(h.chunk.page != 4 for h in unrouted.search(question, 2)), "or this test proves nothing"
    hits, trace = narrow.search_traced(question, 2)
    assert hits[0].chunk.page == 4 and "retrieved" not in hits[0].ranks and hits[0].path.endswith("orion_2022_10k.pdf")
    assert trace["statements"]["pages"] == [
        {"path": hits[0].path, "page": 4, "statements": ["balance_sheet"], "retrieved": False}]
    assert {h.chunk.page for h in hits if "statement" in h.ranks} == {4}  # the whole page, nothing else
    answer = narrow.ask(question)
    assert not answer.abstained and {c.page for c in answer.citations} == {4}
