"""Query understanding: entities come from the index's own metadata, and narrow the search with a fallback."""

from __future__ import annotations

import datetime as dt

import pytest

from grail import Grail
from grail.retrieve.query import (
    EntityVocabulary,
    company_variants,
    fiscal_quarter_of,
    latest_report_day,
    question_dates,
    question_quarters,
)
from grail.store import DocumentInfo


def _cover(company: str, ticker: str, form: str, period: str, body: str) -> str:
    return (f"UNITED STATES\nSECURITIES AND EXCHANGE COMMISSION\nFORM {form}\n"
            f"For the fiscal year ended {period}\nCommission File Number 001-0000\n{company}\n"
            f"(Exact name of registrant as specified in its charter)\n"
            f"Common Stock, par value $0.01 {ticker} New York Stock Exchange\n\n{body}\n")


@pytest.fixture(scope="module")
def filings(tmp_path_factory):
    root = tmp_path_factory.mktemp("filings")
    docs = root / "docs"
    docs.mkdir()
    texts = {
        "orion_2021.txt": _cover("ORION WIDGETS CORPORATION", "ORWG", "10-K", "December 31, 2021",
                                 "Inventories were $410 million at year end. Revenue grew on widget demand."),
        "orion_2022.txt": _cover("ORION WIDGETS CORPORATION", "ORWG", "10-K", "December 31, 2022",
                                 "Inventories were $455 million at year end. Revenue grew on widget demand."),
        "vega_2022.txt": _cover("VEGA FOODS, INC.", "VEGF", "10-K", "May 29, 2022",
                                "Inventories were $1,910 million at year end. Revenue grew on cereal demand."),
    }
    for name, text in texts.items():
        (docs / name).write_text(text)
    g = Grail(root / "idx")
    assert g.index(docs).ok
    return g


def test_metadata_is_read_from_the_cover_page(filings):
    meta = {d.path.rsplit("/", 1)[-1]: d.metadata for d in filings.documents()}
    assert meta["orion_2022.txt"]["company"] == "Orion Widgets Corporation"
    assert meta["orion_2022.txt"]["fiscal_year"] == 2022 and meta["orion_2022.txt"]["form_type"] == "10-K"
    assert meta["vega_2022.txt"]["ticker"] == "VEGF"


@pytest.mark.parametrize("question,expected", [
    ("What were Orion's inventories in FY2022?", {"orion_2022.txt"}),
    ("What were Orion Widgets inventories?", {"orion_2021.txt", "orion_2022.txt"}),
    ("What were VEGF inventories in fiscal 2022?", {"vega_2022.txt"}),
    ("What were Vega Foods inventories in 2019?", {"vega_2022.txt"}),  # no 2019 filing: widen to the company
])
def test_recognised_entities_narrow_the_search(filings, question, expected):
    hits, trace = filings.search_traced(question, 3)
    assert {h.path.rsplit("/", 1)[-1] for h in hits} == expected
    assert trace["understanding"]["applied"]


def test_unrecognised_question_searches_everything(filings):
    hits, trace = filings.search_traced("what were the inventories at year end", 3)
    assert trace["understanding"]["applied"] is None and trace["understanding"]["companies"] == []
    assert len({h.path for h in hits}) == 3


def test_a_question_naming_no_company_over_several_companies_filings_is_ambiguous(filings):
    """Whose inventories? The passages come from Orion's and Vega's filings, and nothing in the question
    says which: the evidence is halved and the reason says so; naming the company settles it."""
    q = "What were the inventories at year end?"
    ev = filings.evidence(q, filings.search(q, 8))
    assert set(ev.companies_apart) == {"Orion Widgets Corporation", "Vega Foods, Inc"}
    assert ev.strength == pytest.approx(0.5 * ev.coverage)
    named = "What were Orion Widgets' inventories at year end?"
    assert filings.evidence(named, filings.search(named, 8)).companies_apart == ()
    strict = Grail(filings.settings.index, embedder=filings.embedder, min_evidence=0.6)
    answer = strict.ask(q)
    assert answer.abstained and "names no company" in answer.abstain_reason and "Vega Foods" in answer.abstain_reason
    assert not strict.ask(named).abstained


def test_lowercase_common_word_is_not_a_company():
    _, proper = company_variants("Advanced Micro Devices, Inc.")
    assert "advanced" in proper
    info = DocumentInfo("d1", "/x.pdf", "s", "pdf", "t", 1, 1, 1, 0.0, 0.0,
                        {"company": "Advanced Micro Devices, Inc.", "fiscal_year": 2015})
    vocab = EntityVocabulary([info])
    assert vocab.companies_in("How did Advanced grow?") == ["Advanced Micro Devices, Inc."]
    assert vocab.companies_in("what advanced packaging costs rose?") == []
    assert vocab.companies_in("What did advanced micro devices earn?") == ["Advanced Micro Devices, Inc."]


def test_initials_of_a_long_name_name_the_company_when_capitalised():
    # a 2015 cover page names no trading symbol; questions still say "AMD"
    info = DocumentInfo("d1", "/x.pdf", "s", "pdf", "t", 1, 1, 1, 0.0, 0.0,
                        {"company": "Advanced Micro Devices, Inc.", "fiscal_year": 2015})
    vocab = EntityVocabulary([info])
    assert vocab.companies_in("What is the FY2015 D&A margin for AMD?") == ["Advanced Micro Devices, Inc."]
    assert vocab.companies_in("how much amd stock") == []
    assert "ww" not in company_variants("Water Works Inc.")[1]  # two words: no initials


def test_excluded_documents_are_neither_searched_nor_recognised(filings):
    vega = next(d.doc_id for d in filings.documents() if d.path.endswith("vega_2022.txt"))
    from grail.store import Filters

    hits, trace = filings.search_traced("What were Vega Foods inventories?", 3,
                                        filters=Filters(exclude_doc_ids=(vega,)))
    assert all(not h.path.endswith("vega_2022.txt") for h in hits)
    assert trace["understanding"]["companies"] == []  # as if the filing had never been indexed


def test_refresh_metadata_rereads_the_cover_page_without_reembedding(filings):
    doc = next(d for d in filings.documents() if d.path.endswith("orion_2022.txt"))
    chunks_before = filings.status()["chunks"]
    filings.store.update_metadata(doc.doc_id, {})  # as if indexed by an older grail
    assert filings.refresh_metadata() == 1
    meta = next(d for d in filings.documents() if d.doc_id == doc.doc_id).metadata
    assert meta["company"] == "Orion Widgets Corporation" and meta["ticker"] == "ORWG"
    assert filings.status()["chunks"] == chunks_before


@pytest.mark.parametrize("question,uncovered", [
    ("What were Orion's inventories in FY2022?", ()),
    ("What were Orion's inventories in FY2019?", ()),  # the FY2021 10-K reports 2019 as a comparative year
    ("What were Orion's inventories in FY2018?", (2018,)),
    ("What were Orion's inventories in FY2018 and FY2021?", (2018,)),
    ("What were Vega Foods inventories in 2024?", (2024,)),
    ("What were inventories in 2018?", ()),  # no company named: nothing to check against
    ("What were Orion's inventories?", ()),  # no year asked
])
def test_uncovered_years_come_from_the_named_company_filings(filings, question, uncovered):
    assert filings.retriever.vocabulary().uncovered_years(question) == uncovered


def test_abstention_names_the_period_no_filing_reports(filings):
    ans = filings.ask("What were Orion Widgets inventories at year end in FY2015?")
    assert ans.abstained and "reports 2015" in ans.abstain_reason
    evidence = next(s for s in ans.trace.stages if s.name == "evidence")
    assert evidence.data["periods_missing"] == ["2015"]
    ok = filings.ask("What were Orion Widgets inventories at year end in FY2022?")
    assert not ok.abstained  # FY2022 is reported: no period penalty


@pytest.mark.parametrize("question,quarters", [
    ("Was there any change in the number of stores between Q2 of FY2024 and FY2023?", ((2, 2024),)),
    ("Which segment had the lowest net revenue in 2021 Q1?", ((1, 2021),)),
    ("Did VaR in the second fiscal quarter of 2023 decrease?", ((2, 2023),)),
    ("Compare Q4 FY23 with 1Q22.", ((4, 2023), (1, 2022))),
    ("What was revenue in FY2022?", ()),
    ("What does the Q3 10-Q say about leases?", ()),
])
def test_question_quarters(question, quarters):
    assert question_quarters(question) == quarters


@pytest.mark.parametrize("period_end,year_end,expected", [
    ((2023, 7, 29), (1, 28), (2, 2024)),  # a retailer's year ends in late January and is named after it
    ((2022, 12, 31), (6, 30), (2, 2023)),  # a June year end: December closes the second quarter
    ((2021, 3, 31), (12, 31), (1, 2021)),
    ((2023, 7, 2), (1, 1), (2, 2023)),  # a 52/53-week year ending January 1, 2023 is fiscal 2022
    ((2023, 1, 28), (2, 2), (4, 2023)),
])
def test_fiscal_quarter_of_a_period_end(period_end, year_end, expected):
    assert fiscal_quarter_of(period_end, year_end) == expected


def _doc(doc_id: str, **meta) -> DocumentInfo:
    return DocumentInfo(doc_id, f"/{doc_id}.pdf", "s", "pdf", "t", 1, 1, 1, 0.0, 0.0, {"company": "Vega Foods, Inc.", **meta})


def _vega_filings(*more: DocumentInfo) -> EntityVocabulary:
    """Vega Foods' filings: a May year end, a 10-Q for Q2 of fiscal 2023, a results 8-K and a vote 8-K."""
    return EntityVocabulary([
        _doc("k22", form_type="10-K", period_end="May 29, 2022", fiscal_year=2022),
        _doc("q", form_type="10-Q", period_end="November 27, 2022", fiscal_year=2022),  # Q2 of fiscal 2023
        _doc("results", form_type="8-K", report_date="March 20, 2023", fiscal_year=2023, items=["2.02", "9.01"]),
        _doc("vote", form_type="8-K", report_date="September 1, 2023", fiscal_year=2023, items=["5.07"]),
        *more,
    ])


def test_uncovered_quarters_read_each_filing_s_period():
    vocab = _vega_filings()
    assert vocab.uncovered_quarters("What was Vega Foods' margin in Q2 of FY2023?") == ()
    assert vocab.uncovered_quarters("What was Vega Foods' margin in Q3 FY2023?") == ()  # the results 8-K
    assert vocab.uncovered_quarters("What was Vega Foods' margin in Q1 2021?") == ()  # the 10-K's prior year
    assert vocab.uncovered_quarters("What was Vega Foods' margin in Q4 of FY2023?") == ((4, 2023),)
    assert vocab.uncovered_quarters("What was Vega Foods' margin in Q1 2020?") == ((1, 2020),)
    assert vocab.uncovered_periods("What was Vega Foods' margin in Q1 2020?") == ("Q1 2020",)
    assert vocab.uncovered_periods("What was Vega Foods' margin in Q1 2019 and in 2018?") == ("2018", "Q1 2019")
    assert vocab.uncovered_quarters("What was margin in Q1 2020?") == ()  # no company named
    unknown = EntityVocabulary([_doc("k22", form_type="10-K", period_end="May 29, 2022", fiscal_year=2022),
                                _doc("memo", fiscal_year=2023)])  # a period this cannot read: no judgement
    assert unknown.uncovered_quarters("What was Vega Foods' margin in Q1 2020?") == ()


def test_quarter_reports_are_the_reports_of_the_quarter_asked():
    vocab = _vega_filings(_doc("release", form_type="earnings release", fiscal_quarter=4, fiscal_year=2023))
    assert vocab.quarter_reports("Did Vega Foods' store count change between Q2 of FY2023 and FY2022?") == {"q"}
    assert vocab.quarter_reports("What was Vega Foods' margin in Q3 FY2023?") == {"results"}
    assert vocab.quarter_reports("What was Vega Foods' margin in Q4 FY2023?") == {"release"}
    assert vocab.quarter_reports("What was Vega Foods' margin in FY2023?") == frozenset()  # no quarter asked
    assert vocab.quarter_reports("What was the margin in Q2 of FY2023?") == frozenset()  # no company named


def test_the_quarter_asked_is_answered_from_its_report(embedder):
    from grail.generate.extractive import rank_sentences
    from grail.records import Chunk, Context, Hit

    annual = "In fiscal 2024, we expect to close approximately 20 to 30 Vega stores and to open 5 outlet stores."
    quarter = "Vega stores open at the end of the second quarter: 969, against 982 a year before."
    hits = (Hit(Chunk("a", "k23", 1, annual, 1, 0, len(annual)), 1.0),
            Hit(Chunk("b", "q2", 1, quarter, 1, 0, len(quarter)), 0.5))
    q = "Was there any change in the number of Vega stores between Q2 of FY2024 and FY2023?"
    ctx = Context(q, hits, "", "", 0, 0)
    assert rank_sentences(q, ctx, embedder)[0].text == annual, "or this test proves nothing"
    assert rank_sentences(q, ctx, embedder, quarter_docs=frozenset({"q2"}))[0].text == quarter


@pytest.mark.parametrize("question,days", [
    ("What is the gain accruing to JnJ as of August 30, 2023?", (dt.date(2023, 8, 30),)),
    ("What was the key agenda of the 8k filing dated 1st July 2022?", (dt.date(2022, 7, 1),)),
    ("Which notes mature on Sept. 15, 2030 or 2031-03-01?", (dt.date(2030, 9, 15), dt.date(2031, 3, 1))),
    ("What did the board decide on 6/30/2022?", (dt.date(2022, 6, 30),)),
    ("What was revenue in FY2022 and in May 2023?", ()),  # a year or a month is not a day
    ("What happened on February 30, 2023?", ()),  # not a day
])
def test_question_dates(question, days):
    assert question_dates(question) == days


def test_latest_report_day_allows_each_kind_of_filing_its_deadline():
    assert latest_report_day({"form_type": "8-K", "report_date": "August 30, 2023"}, (12, 31)) == dt.date(2023, 8, 30)
    assert latest_report_day({"form_type": "10-K", "period_end": "December 31, 2022"}, (12, 31)) == dt.date(2023, 3, 31)
    assert latest_report_day({"form_type": "10-Q", "period_end": "June 30, 2023"}, (12, 31)) == dt.date(2023, 8, 14)
    assert latest_report_day({"form_type": "20-F", "period_end": "December 31, 2022"}, (12, 31)) == dt.date(2023, 5, 2)
    # an earnings release dated only by its quarter: J&J's 52/53-week year ending January 1 puts Q2 2023 at July 1
    release = {"form_type": "earnings release", "fiscal_year": 2023, "fiscal_quarter": 2}
    assert latest_report_day(release, (1, 1)) == dt.date(2023, 8, 15)
    # a retailer's fiscal 2022 may end in January 2023: its fourth quarter's release may come 90 days after
    assert latest_report_day({"form_type": "earnings release", "fiscal_year": 2022, "fiscal_quarter": 4},
                             (1, 28)) == dt.date(2023, 4, 28)
    assert latest_report_day({"form_type": "8-K", "fiscal_year": 2023}, (12, 31)) is None


def test_uncovered_dates_are_days_after_every_filing_of_the_company():
    vocab = EntityVocabulary([
        _doc("k22", form_type="10-K", period_end="December 31, 2022", fiscal_year=2022),
        _doc("release", form_type="earnings release", fiscal_year=2023, fiscal_quarter=2),
        _doc("vote", form_type="8-K", report_date="May 20, 2023", fiscal_year=2023, items=["5.07"]),
    ])
    assert vocab.uncovered_dates("What did Vega Foods report as of August 30, 2023?") == (dt.date(2023, 8, 30),)
    assert vocab.uncovered_dates("What did Vega Foods report as of August 10, 2023?") == ()  # the Q2 release may
    assert vocab.uncovered_dates("What did Vega Foods vote on May 20, 2023?") == ()
    assert vocab.uncovered_dates("What happened as of August 30, 2023?") == ()  # no company named
    undated = EntityVocabulary([_doc("k22", form_type="10-K", period_end="December 31, 2022", fiscal_year=2022),
                                _doc("memo", fiscal_year=2023)])  # a document this cannot date: no judgement
    assert undated.uncovered_dates("What did Vega Foods report as of August 30, 2023?") == ()


def test_abstention_names_a_day_after_every_filing_unless_a_filing_names_it(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lyra_2022.txt").write_text(_cover(
        "LYRA OPTICS CORPORATION", "LYRO", "10-K", "December 31, 2022",
        "Inventories were $120 million at year end. The 4.5% senior notes are due March 1, 2030, and the "
        "company plans to separate its lens business by June 30, 2024."))
    g = Grail(tmp_path / "idx")
    assert g.index(docs).ok
    # 2023 is a year the FY2022 10-K may report (fiscal years ending early in January), its last day is not
    late = g.ask("What were Lyra Optics inventories as of September 30, 2023?")
    assert late.abstained and "reports September 30, 2023" in late.abstain_reason
    evidence = next(s for s in late.trace.stages if s.name == "evidence")
    assert evidence.data["periods_missing"] == ["September 30, 2023"] and evidence.data["names_missing"] == []
    for question in ("What is the interest rate of Lyra Optics notes due March 1, 2030?",
                     "Which business will Lyra Optics separate by June 30, 2024?"):  # the 10-K names the day
        hits = g.search(question, 5)
        assert g.evidence(question, hits).periods_missing == ()


def test_a_quarterly_report_belongs_to_the_fiscal_year_its_company_names():
    vocab = EntityVocabulary([
        _doc("k23", form_type="10-K", period_end="January 28, 2023", fiscal_year=2023),
        _doc("q", form_type="10-Q", period_end="July 29, 2023", fiscal_year=2023),  # ingest reads the calendar year
        _doc("release", form_type="earnings release", fiscal_year=2023, fiscal_quarter=4),
    ])
    assert vocab.fiscal_years == {"k23": 2023, "q": 2024, "release": 2023}
    assert vocab.understand("Which category grew most at Vega Foods in Q2 of FY2024?").doc_ids == ("q",)
    assert vocab.understand("What were Vega Foods' FY2023 sales?").doc_ids == ("k23", "release")
    alone = EntityVocabulary([_doc("q", form_type="10-Q", period_end="July 29, 2023", fiscal_year=2023)])
    assert alone.fiscal_years == {"q": 2023}  # no annual report to tell the year end: as ingest read it


def test_eight_k_records_its_items():
    from grail.ingest.metadata import extract_filing_metadata
    from grail.records import Document, Page

    text = ("FORM 8-K\nCURRENT REPORT\nDate of Report (Date of earliest event reported): July 20, 2023\n"
            "VEGA FOODS, INC.\n(Exact name of registrant as specified in its charter)\n"
            "Item 2.02 Results of Operations and Financial Condition\nItem 9.01 Financial Statements and Exhibits\n")
    meta = extract_filing_metadata(Document("d", "/x.pdf", "s", "pdf", "", (Page(1, text),), {}))
    assert meta["form_type"] == "8-K" and meta["items"] == ["2.02", "9.01"]


def test_the_company_a_passage_belongs_to_counts_as_named_in_it():
    from grail.records import Chunk, Hit
    from grail.verify.evidence import evidence_strength

    vocab = EntityVocabulary([_doc("k22", form_type="10-K", period_end="May 29, 2022", fiscal_year=2022, ticker="VEGF")])
    assert vocab.named_in_doc("What were VEGF inventories?") == {"k22": frozenset({"vegf"})}
    text = "Inventories were $1,910 million at year end."
    hits = [Hit(Chunk("c1", "k22", 0, text, 1, 0, len(text), index_text=text), 1.0)]
    plain = evidence_strength("What were VEGF inventories?", hits)
    named = evidence_strength("What were VEGF inventories?", hits, named_in_doc=vocab.named_in_doc("What were VEGF inventories?"))
    assert plain.coverage < 1.0 and named.coverage == 1.0


@pytest.mark.parametrize("question,annual", [
    ("What was Amcor's FY2023 quick ratio?", True),
    ("How did sales change between 2021 and 2022?", True),
    ("What were total assets in Q2 of FY2024?", False),
    ("What did the quarterly report for 2022 say about leases?", False),
    ("What was the second quarter 2023 gross margin?", False),
    ("What is the 10-Q's 2022 inventory?", False),
    ("What is the quick ratio?", False),  # no year: nothing says which filing is of record
    ("What were 2023 first-half sales?", False),  # interim periods, not the year
    ("What was the six months ended June 30, 2023 operating income?", False),
    ("What was the 2022 YTD free cash flow?", False),
])
def test_asks_annual(question, annual):
    from grail.retrieve.query import asks_annual
    assert asks_annual(question) is annual


@pytest.mark.parametrize("question,years", [
    ("Any legal battles from 2022, 2021 and 2020?", [2020, 2021, 2022]),  # a list of years, not "2,022"
    ("What was revenue in 2022.", [2022]),
    ("What is FY2023, FY2022 and FY2021 capex?", [2021, 2022, 2023]),
    ("How many of the 2,022 stores closed?", []),
    ("Margins rose 2020.5 basis points", []),
    ("Costs of $2019 per unit", []),
])
def test_asked_years(question, years):
    from grail.retrieve.query import asked_years
    assert asked_years(question) == years


def test_an_outlook_for_a_year_is_read_in_the_filings_of_the_year_before():
    vocab = EntityVocabulary([
        _doc("k22", form_type="10-K", period_end="December 31, 2022", fiscal_year=2022),
        _doc("r22", form_type="earnings release", fiscal_year=2022, fiscal_quarter=4),
        _doc("k23", form_type="10-K", period_end="December 31, 2023", fiscal_year=2023),
        _doc("k21", form_type="10-K", period_end="December 31, 2021", fiscal_year=2021),
    ])
    # FY2023 guidance was given in January 2023, in the release of FY2022's results
    assert set(vocab.understand("Is Vega Foods' EPS growth expected to accelerate in FY2023?").doc_ids) == {"k22", "r22", "k23"}
    assert set(vocab.understand("What guidance did Vega Foods give for 2023 capex?").doc_ids) == {"k22", "r22", "k23"}
    # what happened in a year is reported in that year's filings
    assert set(vocab.understand("Did Vega Foods' EPS grow in FY2023?").doc_ids) == {"k23"}


@pytest.mark.parametrize("cover,name", [
    ("BEST BUY CO., INC.", "Best Buy Co., Inc"),
    ("CVS HEALTH CORPORATION", "CVS Health Corporation"),  # a short word that is no word stays an acronym
    ("THE COCA-COLA COMPANY", "The Coca-Cola Company"),
    ("AMAZON.COM, INC.", "Amazon.com, Inc"),
    ("AT&T INC.", "AT&T Inc"),
    ("Activision Blizzard, Inc.", "Activision Blizzard, Inc"),  # written in its own case: kept
])
def test_company_names_in_capitals_read_as_the_company_writes_them(cover, name):
    from grail.ingest.metadata import _clean_company
    assert _clean_company(cover) == name


@pytest.mark.parametrize("question,forward", [
    ("What capex does Vega plan for 2024?", True),
    ("What was the planned capex for 2024?", True),
    ("What is the FY2023 outlook?", True),
    ("What were pension plan assets in FY2022?", False),  # a plan, not a plan to
    ("What was the projected benefit obligation in 2022?", False),
])
def test_forward_looking_questions(question, forward):
    from grail.retrieve.query import FORWARD
    assert bool(FORWARD.search(question)) is forward


def test_an_annual_report_holds_two_balance_sheets_and_three_years_of_results():
    vocab = EntityVocabulary([_doc("k22", form_type="10-K", period_end="December 31, 2022", fiscal_year=2022)])
    # FY2020 results are in the FY2022 10-K's income statement; its balance sheets are of 2022 and 2021 only
    assert vocab.uncovered_years("What was Vega Foods' FY2020 revenue?") == ()
    assert vocab.uncovered_years("What was Vega Foods' FY2020 working capital?", balance_sheet=True) == (2020,)
    assert vocab.uncovered_years("What was Vega Foods' FY2021 working capital?", balance_sheet=True) == ()
    assert vocab.uncovered_periods("What was Vega Foods' FY2020 working capital?", balance_sheet=True) == ("2020",)


@pytest.mark.parametrize("question,rewritten", [
    ("If we exclude the impact of M&A, which segment has dragged down 3M's overall growth in 2022?",
     "If we organic, which segment has dragged down 3M's overall growth in 2022?"),
    ("What was Amcor's sales growth in FY 2023 excluding the impact of FX movement?",
     "What was Amcor's sales growth in FY 2023 constant currency operational movement?"),
    ("What was growth excluding acquisitions and divestitures?", "What was growth organic and divestitures?"),
    ("What acquisitions did 3M make in 2022?", "What acquisitions did 3M make in 2022?"),  # asked, not excluded
])
def test_a_measure_defined_by_what_it_excludes_is_searched_by_its_filing_name(question, rewritten):
    from grail.retrieve.query import in_filings_words
    assert in_filings_words(question) == rewritten
