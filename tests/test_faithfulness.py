"""The faithfulness judge (independent of the verifier) and the before/after audit of real answers."""

from __future__ import annotations

import pytest

from grail import Grail
from grail.eval.faithfulness import AnswerAudit, audit_answer, judge, summarize
from grail.records import Answer, AnswerSentence, StageTrace, Trace

PASSAGE = ("Purchases of property, plant and equipment (PP&E) were $1,577 million in 2018 and "
           "$1,373 million in 2017. Total revenue for 2018 was 32,765 million dollars.")


@pytest.mark.parametrize("sentence,expected", [
    ("Purchases of property, plant and equipment were $1,577 million in 2018.", True),
    ("Purchases of property, plant and equipment were $1.577 billion in 2018.", True),  # same value, other scale
    ("Purchases of property, plant and equipment were $1,677 million in 2018.", False),  # wrong number
    ("Purchases of property, plant and equipment were $1,577 million in 2019.", False),  # wrong year
    ("Capital spending on new factories was $1,577 million in 2018.", False),  # words the passage does not use
    ("The.", False),  # nothing to check is not support
])
def test_judge_demands_near_literal_grounding(sentence, expected):
    assert judge(sentence, PASSAGE) is expected


def _answer(sentences, abstained=False):
    sources = [{"n": 1, "path": "/d/3M_2018_10K.pdf", "page": 60, "text": PASSAGE},
               {"n": 2, "path": "/d/3M_2018_10K.pdf", "page": 12, "text": "The company employs 93,000 people."}]
    return Answer(question="q", text="", sentences=tuple(sentences), abstained=abstained,
                  trace=Trace((StageTrace("context", 0.0, {"sources": sources}),)))


def test_audit_counts_before_and_after_verification_and_citation_accuracy():
    on_gold = lambda src: src["page"] == 60  # noqa: E731
    ans = _answer([
        # the model cited the wrong source; the verifier repaired it to [1]
        AnswerSentence("Purchases of property, plant and equipment were $1,577 million in 2018.", (1,), 0.9, True, (2,)),
        # faithful as drafted and shipped
        AnswerSentence("Total revenue for 2018 was 32,765 million dollars.", (1,), 0.9, True, (1,)),
        # unsupported: dropped by the verifier
        AnswerSentence("The company employs 120,000 people.", (2,), 0.3, False, (2,)),
    ])
    a = audit_answer(ans, on_gold)
    assert (a.draft_sentences, a.draft_faithful) == (3, 1)
    assert (a.shipped_sentences, a.shipped_faithful, a.kept_faithful) == (2, 2, 1)
    assert (a.draft_supported_anywhere, a.kept_supported_anywhere) == (2, 2)
    assert (a.draft_citations, a.draft_citations_on_gold) == (2, 1)
    assert (a.shipped_citations, a.shipped_citations_on_gold) == (1, 1)
    s = summarize([a, AnswerAudit()])
    assert s["faithfulness_before"] == round(1 / 3, 4) and s["faithfulness_after"] == 1.0
    assert s["citation_accuracy_before"] == 0.5 and s["citation_accuracy_after"] == 1.0


def test_abstained_answer_ships_nothing():
    ans = _answer([AnswerSentence("The company employs 120,000 people.", (2,), 0.3, False, (2,))], abstained=True)
    a = audit_answer(ans, lambda src: False)
    assert a.draft_sentences == 1 and a.shipped_sentences == 0


def test_extractive_answers_are_faithful_to_what_they_cite(tmp_path, embedder):
    """Extracts are copied from their source, so the independent judge must find every one supported."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pumps.md").write_text(
        "# Pump manual\n\n## Maintenance\n\nReplace the impeller seal every 2,000 operating hours. "
        "The seal kit part number is PK-448.\n\n## Warranty\n\nThe warranty covers the motor for 5 years.\n")
    g = Grail(tmp_path / "idx", embedder=embedder)
    assert g.index(docs).ok
    ans = g.ask("How often should the impeller seal be replaced?", llm="extractive")
    assert not ans.abstained, ans.abstain_reason
    a = audit_answer(ans, lambda src: "2,000" in src["text"])
    assert a.shipped_sentences >= 1 and a.shipped_faithful == a.shipped_sentences
    assert a.shipped_citations_on_gold >= 1


def test_sentence_details_show_both_judgements_and_the_passages():
    from grail.eval.faithfulness import sentence_details

    ans = _answer([
        AnswerSentence("Purchases of property, plant and equipment were $1,577 million in 2018.", (1,), 0.9, True, (2,)),
        AnswerSentence("The company employs 120,000 people.", (2,), 0.3, False, (2,)),
    ])
    d = sentence_details(ans)
    assert [(r["judge_before"], r["judge_after"]) for r in d["sentences"]] == [(False, True), (False, False)]
    assert set(d["passages"]) == {"1", "2"} and "1,577" in d["passages"]["1"]


def test_extractive_never_quotes_a_title_line(tmp_path, embedder):
    """A statement title names the topic the question asks about; quoting it answers nothing."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "acme.txt").write_text(
        "ACME WIDGETS, INC.\n\nConsolidated Statements of Cash Flows\n\n"
        "Purchases of property, plant and equipment were $1,577 million in the year.\n"
        "Depreciation and amortization were $1,488 million.\n")
    g = Grail(tmp_path / "idx", embedder=embedder)
    assert g.index(docs).ok
    ans = g.ask("What were Acme Widgets purchases of property and equipment in the cash flow statement?",
                llm="extractive")
    assert not ans.abstained, ans.abstain_reason
    assert "Statements of Cash Flows" not in ans.text and "ACME WIDGETS, INC." not in ans.text
    assert "1,577" in ans.text


def test_title_lines_are_recognised():
    from grail.verify.support import is_title, not_a_claim

    assert is_title("Consolidated Statements of Cash Flows") and is_title("ACME WIDGETS, INC.")
    assert not is_title("Total Net Sales $ 1,234")  # a table row with its value
    assert not is_title("The Board of Directors declared a dividend.")
    assert not is_title("The Eleventh Doctor was in Project: Lazarus.")  # a claim, if a wrong one
    assert not_a_claim("(in millions, except per share data)", ["million", "except", "share", "data"])
    assert not_a_claim("AMAZON.COM, INC.", ["amazon", "com", "inc"])


def test_a_pointer_elsewhere_is_not_an_answer():
    from grail.verify.support import quotable

    assert not quotable("(b) Refer to Business Segment Results on page 18 for discussion of revenue sharing.")
    assert not quotable("See accompanying notes to consolidated financial statements.")
    assert not quotable("Results of Operations\nAnalysis of Consolidated Sales\nFor discussion on results of operations "
                        "pertaining to the fiscal years 2021 and 2020 see the Company's Annual Report on Form 10-K.")
    assert not quotable("For additional information, refer to Note 4.")
    assert quotable("Seeds of the plant were sown in 1850.")  # "see" only as a word of its own
    assert quotable("Net income was $5.2 billion in 2022; see Note 4.")  # a claim that also points


def test_a_unit_legend_is_not_an_answer():
    from grail.verify.support import quotable

    assert not quotable("(Dollars in millions, except per share amount) 2018 2017 Consolidated Balance Shee t")
    assert not quotable("Consolidated Balance Sheets $ in millions, except per share and share amounts")
    assert not quotable("Adjusted non-GAAP results 2022 $ million 2023 $ million currency ∆%")  # a column header
    assert quotable("In 2023 the board approved $ 500 million of buybacks.")
    assert quotable("Revenue was $5.2 billion in 2018, in millions of units sold 3.1.")  # it states values
    assert quotable("Merchandise inventories 5,409 5,209")
    assert quotable("Fleas regurgitate, resulting in thousands of plague bacteria being flushed into the site.")
