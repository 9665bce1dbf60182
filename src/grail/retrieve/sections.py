"""Sections of a filing a question asks about, found by their headings.

A 10-K (and a 10-Q) is laid out by Regulation S-K's items, under the same
headings in every filing: what the company does is told at the start of
"Item 1. Business"; its lawsuits in "Item 3. Legal Proceedings" and the
contingencies note ("Litigation and Regulatory Proceedings", "Legal
Matters"). A question about either rarely shares its words with the passage
that answers it ("What industry does Amcor primarily operate in?" and "Amcor
is a global leader in developing and producing responsible packaging"), while
risk-factor and forward-looking-statement passages that mention "industry",
"legal" or "litigation" in passing outrank it. The decision: when a question
asks for one of these sections and the search is narrowed to some documents,
the pages under that section's heading come first (``Retriever._route_sections``);
the heading path of every chunk is stored at ingest, so no re-ingest is needed.

``business``: "what industry / sector / line of business", "what does X do /
make / sell", "describe X's business": the first page of Item 1 of an annual
report (its overview), then the next.
``legal``: legal proceedings, litigation, lawsuits, legal battles or disputes:
the pages under a legal-proceedings, litigation or legal-matters heading, in
retrieval order.
``results``: what drove (caused, explains) a change in sales, a margin, costs,
income or earnings, or how fast the company grows: the passages under
"Results of Operations" or "Analysis of Consolidated Sales / Earnings" (not
Item 7's own title, which names results of operations for every page of the
discussion), in retrieval order.
``officers``: a new, former or current CEO (CFO, president), who holds the
post, an officer's background, the executive officers: a 10-K's "Information
about our Executive Officers" and an 8-K's Item 5.02 (the departure and
appointment of officers, where a new CEO is announced with their career), in
retrieval order.

An item heading too long for the loaders to take as a heading ("Item 5.02.
Departure of Directors or Certain Officers; Election of Directors; ...") is
read from the first lines of its page (``item_lines``), and puts all of that
page in the item; any other page is in a section by the headings of its
passages, and only those passages are. Nothing under Item 1A (risk factors,
which name litigation and results as what may happen) is in a section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from grail.text_units import collapse
from grail.verify.evidence import question_focus


@dataclass(frozen=True)
class Section:
    name: str
    asked: re.Pattern[str]  # in the sentence that asks
    heading: re.Pattern[str]  # in a collapsed heading ("Item 1. - Busines s" -> "item1business")
    overview_first: bool  # its first pages answer (an overview), not the ones retrieval ranks highest


SECTIONS = (
    Section("business",
            re.compile(r"(?i)\bwhat\s+(?:kind\s+of\s+|type\s+of\s+)?(?:industry|industries|sector|line\s+of\s+business)\b"
                       r"|\b(?:industry|sector)\s+(?:does|is|are)\b|\bwhat\s+(?:does|do)\s+[\w&.,' -]{1,40}?\s+do\s*(?:[?.!]|$)"
                       r"|\bwhat\s+(?:does|do)\s+[\w&.,' -]{1,40}?\s+(?:make|sell|produce|manufacture)\b"
                       r"|\b(?:primary|main|core)\s+business\b|\bdescribe\s+[\w&.,' -]{0,40}?business\b"
                       r"|\bwhat\s+business\s+(?:is|are)\b"),
            re.compile(r"^item1\W*business"), True),
    Section("legal",
            re.compile(r"(?i)\blegal\s+(?:proceedings|battles?|matters|disputes?|actions?|cases?|claims?|challenges?"
                       r"|issues?|risks?|troubles?)\b|\blitigations?\b|\blawsuits?\b|\bsued\b|\bclass\s+actions?\b"),
            re.compile(r"legalproceedings|litigation|legalmatters"), False),
    Section("results",
            re.compile(r"(?i)(?=.*\b(?:margins?|sales|revenues?|expenses?|SG&A|income|earnings|EPS|profits?|costs?)\b)"
                       r"(?:.*\bwhat\s+(?:drove|drives|caused|explains?)\b|.*\bdrivers?\s+(?:of|behind)\b"
                       r"|.*\bwhy\s+(?:did|has|have|was|were)\b|.*\breasons?\s+(?:for|behind)\b)"
                       r"|\b(?:high|fast|rapid|strong)[\s-]+growth\b|\bgrowth\s+(?:company|business|stock)\b"),
            # not Item 7's own title ("Management's Discussion and Analysis of Financial Condition and Results
            # of Operations"), which every page of the discussion is under
            re.compile(r"^(?!.*discussionandanalysis).*(?:resultsofoperations|analysisofconsolidated)"), False),
    Section("officers",
            re.compile(r"(?i)\b(?:new|incoming|next|former|outgoing|current|interim)\s+(?:CEO|CFO|COO|chief\s+\w+\s+officer"
                       r"|president|chair(?:man|woman)?)\b|\b(?:CEO|CFO|COO)(?:'s|’s)\s+(?:experience|background|career)\b"
                       r"|\bwho\s+(?:is|was|will\s+be|became)\s+(?:the\s+)?(?:CEO|CFO|COO|chief\s+\w+\s+officer|president)\b"
                       r"|\bexecutive\s+officers\b|\bmanagement\s+team\b"),
            re.compile(r"executiveofficers|^item502"), False),
)
BY_NAME = {s.name: s for s in SECTIONS}
_ITEM = re.compile(r"^item\d")
_CONTENTS_ENTRY = re.compile(r"\s\d+\s*$")  # "Item 1. Business 5": a table of contents' line and its page
HEAD_LINES = 6


def asked_sections(question: str) -> tuple[str, ...]:
    """The sections the sentence that asks names (its instructions around it do not count)."""
    focus = question_focus(question)
    return tuple(s.name for s in SECTIONS if s.asked.search(focus))


def heading_sections(heading_path: Sequence[str], names: Sequence[str]) -> list[str]:
    """Of ``names``, the sections a chunk's headings put it in: Item 1 by its top item heading only (a
    "Business Segments" heading under Item 7 is not Item 1), the others by any heading."""
    collapsed = [collapse(h) if not _CONTENTS_ENTRY.search(h) else "" for h in heading_path]
    out = []
    for name in names:
        s = BY_NAME[name]
        if s.overview_first:
            hit = any(s.heading.match(h) for h in collapsed[:2])  # "PART I" > "Item 1. Business"
        else:  # not under Item 1A: a risk factor names litigation or results as what may happen
            hit = any(s.heading.search(h) for h in collapsed) and not any("riskfactors" in h for h in collapsed)
        if hit:
            out.append(name)
    return out


def item_lines(page_head: str) -> tuple[str, ...]:
    """The lines among the first of a page that open a form's item ("Item 5.02. Departure of ..."); not a
    table of contents' entry, which ends in its page number ("Item 1. Business 5")."""
    return tuple(line for line in page_head.splitlines()[:HEAD_LINES]
                 if _ITEM.match(collapse(line)) and not _CONTENTS_ENTRY.search(line))


__all__ = ["SECTIONS", "Section", "asked_sections", "heading_sections", "item_lines"]
