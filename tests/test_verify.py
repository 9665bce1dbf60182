"""Claim-level verification: numbers are normalised, unsupported sentences are caught, citations repaired."""

from __future__ import annotations

import time

import pytest

from grail.records import Chunk, Context, Hit
from grail.verify.support import Evidence, numbers_supported, support_score, verify_draft

ROW = ("3M Company 10-K, fiscal year ended December 31, 2018 > Consolidated Statement of Cash Flows\n"
       "(Millions) 2018 2017 2016\nPurchases of property, plant and equipment (PP&E) (1,577) (1,373) (1,420)")


def _ctx(*texts: str) -> Context:
    hits = tuple(Hit(Chunk(f"c{i}", "d", i, t.split("\n")[-1], 1, 0, 10, (), 10, t), 1.0 / (i + 1))
                 for i, t in enumerate(texts))
    return Context("q", hits, "", "", 0, 0)


def test_numbers_match_across_scale_sign_and_format():
    ev = Evidence.of("Revenue was $3,100 million in fiscal 2022, down (4.5)% from 2021.")
    assert numbers_supported("Revenue was $3.1 billion in FY2022.", ev)
    assert numbers_supported("Revenue fell 4.5% in 2022.", ev)  # "(4.5)%" is the same magnitude
    assert not numbers_supported("Revenue fell 45% in 2022.", ev)
    assert not numbers_supported("Revenue was $3.4 billion.", ev)
    assert not numbers_supported("Revenue was $3.1 billion in 2019.", ev)  # a year the passage lacks


def test_support_uses_title_and_table_header_context():
    ok = support_score("3M's purchases of property, plant and equipment were $1,577 million in FY2018.", ROW)
    wrong_number = support_score("3M's purchases of property, plant and equipment were $1,100 million in 2018.", ROW)
    assert ok >= 0.8
    assert wrong_number < 0.35


def test_wrong_citation_is_repaired_and_unsupported_sentence_dropped():
    ctx = _ctx("The board met in Paris in March.", ROW)
    draft = ("3M spent $1,577 million on purchases of property, plant and equipment in 2018 [1]. "
             "The company also bought a fleet of zeppelins [2].")
    v = verify_draft(draft, ctx, threshold=0.5)
    first, second = v.sentences
    assert first.supported and first.citations == (2,) and v.repaired == 1
    assert not second.supported


def test_model_saying_it_does_not_know_is_recognised():
    v = verify_draft("The documents do not say.", _ctx(ROW), threshold=0.5)
    assert v.said_unknown and not v.sentences


def test_verifier_is_fast():
    ctx = _ctx(*([ROW] * 8))
    draft = " ".join(f"3M spent ${1577 + i} million on PP&E in 2018 [1]." for i in range(20))
    t = time.perf_counter()
    verify_draft(draft, ctx, threshold=0.5)
    per_sentence = (time.perf_counter() - t) / 20
    assert per_sentence < 0.05, f"{per_sentence * 1000:.1f} ms per sentence"


def test_looping_model_output_is_never_supported():
    looping = "3M net income in 2018 was " + " ".join(["2018 2017 2016"] * 8)
    assert support_score(looping, ROW + " net income 2018 2017 2016") == 0.0


def test_singular_and_plural_share_a_stem():
    from grail.text_units import content_terms, stem

    for a, b in [("expenditures", "expenditure"), ("companies", "company"), ("processes", "process"),
                 ("liabilities", "liability"), ("reported", "reporting"), ("taxes", "tax")]:
        assert stem(a) == stem(b), (a, b)
    assert content_terms("capital expenditure in FY2018") == ["capital", "expenditur"]  # the year is checked apart


def test_fragments_that_claim_nothing_are_never_supported():
    passage = "1. The document states that revenue grew. Sources: the annual report, page 4."
    for fragment in ("1.", "The document states:", "Sources:", "Revenue."):
        assert support_score(fragment, passage) == 0.0, fragment
    assert support_score("Revenue grew 4% in 2022.", "Revenue grew 4% in 2022 on higher volume.") > 0.0
    v = verify_draft("The sources say: 1. [1] Revenue grew on higher volume [1].",
                     _ctx("Revenue grew on higher volume."), threshold=0.5)
    assert [(s.text, s.supported) for s in v.sentences] == [("The sources say: 1.", False),
                                                            ("Revenue grew on higher volume.", True)]


@pytest.mark.parametrize("question,focus", [
    ("What is the FY2018 capital expenditure amount (in USD millions) for 3M? Give a response to the question "
     "by relying on the details shown in the cash flow statement.",
     "What is the FY2018 capital expenditure amount (in USD millions) for 3M?"),
    ("Assume that you are an analyst. Answer the following question using the balance sheet: what is the "
     "year end FY2018 net PP&E for 3M?", " what is the year end FY2018 net PP&E for 3M?"),
    ("What is Amazon's FY2017 DPO? DPO is defined as: 365 * (average accounts payable) / COGS.",
     "What is Amazon's FY2017 DPO?"),
    ("Summarise the liquidity section.", "Summarise the liquidity section."),  # no '?': all of it
])
def test_question_focus_is_the_sentence_that_asks(question, focus):
    from grail.verify.evidence import question_focus

    assert question_focus(question) == focus


def test_a_citation_after_the_full_stop_belongs_to_that_sentence():
    ctx = _ctx("The warranty covers the motor for 5 years.", "Replace the seal every 2,000 hours.")
    v = verify_draft("The warranty covers the motor for 5 years. [1]\nReplace the seal every 2,000 hours. [2]",
                     ctx, threshold=0.9)
    assert [(s.draft_citations, s.citations) for s in v.sentences] == [((1,), (1,)), ((2,), (2,))]
    assert v.repaired == 0


@pytest.mark.parametrize("sentence,ok", [
    ("Amcor plc and Subsidiaries\nConsolidated Balance Sheets", False),  # a page's heading block
    ("Reconciliation of Non-GAAP Measures\nThree Months Ended June 30, 2023", False),
    ("Gross profit\n2,820 2,725", True),  # a row and its values
    ("Sales rose in 2022\nbecause demand grew.", True),  # a sentence wrapped over two lines
    ("Net sales were $3.2 billion", True),
    # a pointer elsewhere answers nothing (Amcor's release: it outranked the reconciliation's row)
    ("Further details related to non-GAAP measures and reconciliations to GAAP measures can be found under "
     "\"Presentation of non-GAAP information\" in this release.", False),
    ("Information about our segments can be found in Note 19.", False),
    ("Details of the plan were found to be incomplete by the auditors.", True),
    # a filing form's fixed text says nothing about the company
    ("If an emerging growth company, indicate by check mark if the registrant has elected not to use the "
     "extended transition period for complying with any new or revised financial accounting standards.", False),
    ("Emerging growth company ☐", False),
    ("I have reviewed this annual report on Form 10-K of CVS Health Corporation;", False),
    ("This release contains forward-looking statements within the meaning of the Private Securities "
     "Litigation Reform Act of 1995.", False),
    ("The Company is a defendant in a class action under the Private Securities Litigation Reform Act.", True),
    # a case caption names a lawsuit, as a title names a topic
    ("U.S. ex rel. Gill et al. v. CVS Health Corp. et al.", False),
    ("The Company is defending itself against these claims.", True),
])
def test_headings_pointers_form_text_and_case_captions_are_not_quotable(sentence, ok):
    from grail.verify.support import quotable
    assert quotable(sentence) is ok


@pytest.mark.parametrize("text,sentences", [
    ("U.S. ex rel. Gill et al. v. CVS Health Corp. et al. (U.S. District Court for the Northern District). "
     "In July 2022, the office moved.",
     ["U.S. ex rel. Gill et al. v. CVS Health Corp. et al. (U.S. District Court for the Northern District).",
      "In July 2022, the office moved."]),
    ("Dr. Smith joined in 2020. See Note No. 3 for details.", ["Dr. Smith joined in 2020.", "See Note No. 3 for details."]),
    ("Best Buy Co., Inc. Shareholders' Equity", ["Best Buy Co., Inc.", "Shareholders' Equity"]),  # a name's end is cut
    ("Sales rose 5%. Costs fell.", ["Sales rose 5%.", "Costs fell."]),
    ("Richard A. Johnson will step down. Mary N. Dillon was appointed.",
     ["Richard A. Johnson will step down.", "Mary N. Dillon was appointed."]),
    ("See the Annual Report on Form 10-K. In 2022, sales rose.", ["See the Annual Report on Form 10-K.",
                                                                  "In 2022, sales rose."]),  # a form, not an initial
    ("A heading of the year\n\nIn fiscal 2022, we acquired it.", ["A heading of the year", "In fiscal 2022, we acquired it."]),
    ("Separation\n• Company expects sales growth of 7.0% - 8.0%, and\nadjusted growth of 6.2%; figures exclude the vaccine\n"
     "• Company expects EPS of $10.00", ["Separation", "• Company expects sales growth of 7.0% - 8.0%, and\nadjusted growth "
                                          "of 6.2%; figures exclude the vaccine", "• Company expects EPS of $10.00"]),
])
def test_a_sentence_is_not_cut_after_an_abbreviation(text, sentences):
    from grail.text_units import split_sentences
    assert [text[s:e] for s, e in split_sentences(text)] == sentences
