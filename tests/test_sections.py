"""Section routing: a question about what a company does, or about its lawsuits, reads the filing's section for it."""

from __future__ import annotations

import pytest

from conftest import make_pdf
from grail import Grail
from grail.retrieve.sections import asked_sections, heading_sections


@pytest.mark.parametrize("question,sections", [
    ("What industry does AMCOR primarily operate in?", ("business",)),
    ("What does Orion do?", ("business",)),
    ("What does Orion sell?", ("business",)),
    ("Describe Orion's business.", ("business",)),
    ("Which sector is Orion in? What industry is it?", ("business",)),
    ("What does Orion do to cut costs in 2022?", ()),  # an action, not the business
    ("Is 3M a capital-intensive business based on FY2022 data?", ()),  # a measure, not a description
    ("What does 3M expect its capex to be?", ()),
    ("Has CVS Health reported any materially important ongoing legal battles from 2022, 2021 and 2020?", ("legal",)),
    ("What lawsuits is Orion facing?", ("legal",)),
    ("Was Orion sued in 2022?", ("legal",)),
    ("Summarize the litigation against Orion.", ("legal",)),
    ("Please answer from the legal proceedings section. What was Orion's revenue in FY2022?", ()),  # an instruction
    ("What drove operating margin change as of FY2022 for 3M?", ("results",)),
    ("Why did Orion's revenue fall in 2022?", ("results",)),
    ("Are JnJ's FY2022 financials that of a high growth company?", ("results",)),
    ("What drove the increase in Ulta Beauty's merchandise inventories balance at end of FY2023?", ()),  # liquidity
    ("Does Foot Locker's new CEO have previous CEO experience in a similar company to Footlocker?", ("officers",)),
    ("Who is the CFO of 3M?", ("officers",)),
    ("Who are AMCOR's executive officers?", ("officers",)),
    ("What is the CEO pay ratio?", ()),
])
def test_asked_sections(question, sections):
    assert asked_sections(question) == sections


def test_item_lines_are_item_headings_not_contents_entries():
    from grail.retrieve.sections import item_lines
    head = ("Table of Contents\nItem 1. Business 5\nItem 5.02. Departure of Directors or Certain Officers; Election\n"
            "Item 3. Legal Proceedings\nThe Company is a party to several lawsuits.")
    assert item_lines(head) == ("Item 5.02. Departure of Directors or Certain Officers; Election", "Item 3. Legal Proceedings")
    assert heading_sections(("", "Item 5.02. Departure of Directors or Certain Officers"), ["officers"]) == ["officers"]
    assert heading_sections(("PART I", "Item 1. Business 5"), ["business"]) == []  # a contents entry


def test_heading_sections():
    assert heading_sections(("PART I", "Item 1. - Busines s", "The Company"), ["business", "legal"]) == ["business"]
    assert heading_sections(("PART II", "Item 7. MD&A", "Business Segments"), ["business"]) == []  # not Item 1
    assert heading_sections(("PART I", "Item 1A. Risk Factors"), ["business"]) == []
    assert heading_sections(("PART II", "NOTE 16. Commitments and Contingencies", "Product Liability Litigation"),
                            ["legal"]) == ["legal"]
    assert heading_sections(("PART I", "ITEM 3. LEGAL PROCEEDINGS"), ["legal"]) == ["legal"]
    assert heading_sections(("PART I", "Item 1A. Risk Factors", "Litigation"), ["legal"]) == []  # what may happen
    assert heading_sections(("PART II", "RESULTS OF OPERATIONS"), ["results"]) == ["results"]
    assert heading_sections(("PART II", "Item 7. Management's Discussion and Analysis of Financial Condition and "
                                        "Results of Operations"), ["results"]) == []  # every page of Item 7


COVER = ["UNITED STATES", "SECURITIES AND EXCHANGE COMMISSION", "FORM 10-K",
         "For the fiscal year ended December 31, 2022", "Commission File Number 001-0000",
         "ORION WIDGETS CORPORATION", "(Exact name of registrant as specified in its charter)",
         "Common Stock, par value $0.01 ORWG New York Stock Exchange"]
# words of the questions on pages that do not answer them: risk factors say "industry" and "legal" often
PAGES = [
    ["FORWARD-LOOKING STATEMENTS",
     "Risks that could affect the industry in which we primarily operate include industry competition, the",
     "industry cycle and changes in industry demand; the industry we operate in may change and we operate in",
     "an industry where legal and regulatory battles are common and legal costs are hard to predict."],
    ["PART I", "ITEM 1. BUSINESS", "General",
     "Orion Widgets Corporation designs and manufactures precision widgets and gears for makers of",
     "aircraft, cars and medical devices. It was founded in 1921 and sells to customers in 40 countries."],
    ["Raw Materials",
     "Steel, aluminium and polymers are the main raw materials the company buys for its plants in Ohio.",
     "Prices of steel rose in 2022, and long-term supply contracts cover most of the year's purchases."],
    ["ITEM 1A. RISK FACTORS",
     "Legal battles in our industry are costly. Legal proceedings against companies in our industry, and legal",
     "and regulatory changes in the industry, could affect us; ongoing legal matters in the industry and legal",
     "costs in the industry may rise, and the industry may face legal challenges we cannot foresee."],
    ["ITEM 3. LEGAL PROCEEDINGS",
     "In March 2021 a distributor filed suit against Orion in the District of Ohio alleging breach of a supply",
     "agreement and seeking damages of $12 million. Orion disputes the claims and the trial is set for 2023."],
]


EIGHT_K = [
    ["UNITED STATES", "SECURITIES AND EXCHANGE COMMISSION", "FORM 8-K", "CURRENT REPORT",
     "Date of Report: August 19, 2022", "ORION WIDGETS CORPORATION",
     "(Exact name of registrant as specified in its charter)"],
    ["Orion Widgets names a new CEO. The new CEO will lead the CEO succession; the CEO transition and the new CEO's",
     "experience as a CEO were discussed by the board, and the outgoing CEO thanked the new CEO and the CEO search team."],
    ["Item 5.02. Departure of Directors or Certain Officers; Election of Directors; Appointment of Certain Officers;",
     "Jane Roe, 58, former Chief Executive Officer of Vega Gears, Inc., has been appointed President and Chief",
     "Executive Officer of the Company. She led Vega Gears, a maker of precision gears, from 2015 to 2022."],
]


@pytest.fixture(scope="module")
def filing(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("sections")
    docs = root / "docs"
    docs.mkdir()
    (docs / "orion_2022_10k.pdf").write_bytes(make_pdf([COVER, *PAGES]))
    (docs / "orion_2022_8k.pdf").write_bytes(make_pdf(EIGHT_K))
    g = Grail(root / "idx", embedder=embedder)
    assert g.index(docs).ok
    yield g, root
    g.close()


@pytest.mark.parametrize("question,doc,page", [
    ("What industry does Orion Widgets primarily operate in?", "10k", 3),  # the first page of Item 1
    ("Has Orion Widgets reported any ongoing legal battles?", "10k", 6),  # Item 3
    ("Does Orion Widgets' new CEO have previous CEO experience?", "8k", 3),  # an 8-K's Item 5.02
])
def test_the_section_asked_for_comes_first(filing, question, doc, page):
    g, root = filing
    off = Grail(root / "idx", embedder=g.embedder, statement_routing=False)
    top = off.search(question, 1, per_page=True)[0]
    assert (top.path.endswith(f"_{doc}.pdf"), top.chunk.page) != (True, page), "or this test proves nothing"
    pages, trace = g.search_traced(question, 3, per_page=True)
    assert pages[0].path.endswith(f"_{doc}.pdf") and pages[0].chunk.page == page and pages[0].ranks["section"] == 1
    assert trace["sections"]["pages"][0]["page"] == page
    scores = [h.score for h in pages]
    assert scores == sorted(scores, reverse=True)
    answer = g.ask(question, llm="extractive")
    assert not answer.abstained and {c.page for c in answer.citations} == {page}


def test_routing_reorders_and_never_drops(filing):
    g, root = filing
    question = "What industry does Orion Widgets primarily operate in?"
    off = Grail(root / "idx", embedder=g.embedder, statement_routing=False)
    assert {h.chunk.chunk_id for h in off.search(question, 5)} <= {h.chunk.chunk_id for h in g.search(question, 50)}


def test_no_company_no_section_routing(filing):
    g, _ = filing
    _, trace = g.search_traced("What industry does the company operate in?", 3)
    assert "sections" not in trace  # no documents recognised: every company's Item 1 is no answer
    _, trace = g.search_traced("What raw materials does Orion Widgets buy?", 3)
    assert "sections" not in trace


def test_the_cli_says_which_passages_section_routing_moved(filing):
    import os
    import subprocess
    import sys

    _, root = filing
    proc = subprocess.run([sys.executable, "-m", "grail.cli", "search", "What lawsuits is Orion Widgets facing?",
                           "-k", "3", "--index", str(root / "idx")], capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "200"})
    first = proc.stdout.splitlines()[0]
    assert "p.6" in first and "a filing section the query asks for" in first


def test_only_the_passages_under_the_section_move(tmp_path, embedder):
    """A page may end one section and begin the next: the discussion's overview repeats the question's words,
    the results of operations answer it; only the latter moves (and Item 7's own title, which names "Results of
    Operations", puts no page in the section)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    page = ["ITEM 7. MANAGEMENT'S DISCUSSION AND ANALYSIS OF FINANCIAL CONDITION AND RESULTS OF OPERATIONS",
            "OVERVIEW",
            "Operating margin is a measure management watches; operating margin targets and operating margin change are",
            "set each year, and the operating margin of each segment drives pay. Operating margin changed in 2022.",
            "RESULTS OF OPERATIONS",
            "Operating income was 14.2% of sales in 2022 against 16.0% in 2021, as steel prices rose and volumes fell."]
    (docs / "orion_2022_10k.pdf").write_bytes(make_pdf([COVER, page]))
    g = Grail(tmp_path / "idx", embedder=embedder)
    try:
        assert g.index(docs).ok
        question = "What drove Orion Widgets' operating margin change in 2022?"
        off = Grail(tmp_path / "idx", embedder=embedder, statement_routing=False)
        assert off.search(question, 1)[0].chunk.heading_path == ("OVERVIEW",), "or this test proves nothing"
        hits = g.search(question, 3)
        assert hits[0].chunk.heading_path == ("RESULTS OF OPERATIONS",) and hits[0].ranks["section"] == 1
        assert [h for h in hits if "section" in h.ranks] == hits[:1]
        answer = g.ask(question, llm="extractive")
        assert answer.text.startswith("Operating income was 14.2% of sales in 2022")
    finally:
        g.close()


def test_the_trace_says_what_the_retrievers_searched(filing):
    g, _ = filing
    _, trace = g.search_traced("If we exclude the impact of M&A, how did Orion Widgets grow in 2022?", 3)
    assert trace["searched_as"] == "If we organic, how did Orion Widgets grow in 2022?"
    _, trace = g.search_traced("How did Orion Widgets grow in 2022?", 3)
    assert "searched_as" not in trace
