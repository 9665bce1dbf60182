"""Evidence strength: is there enough in the retrieved passages to answer at all?

Computed before generating, from signals that hold for any corpus: how much
of the question the best passage covers (IDF-weighted content terms, over the
passage with its title, section and table header), whether the years the
question asks about appear there, whether the company's filings report the
years, quarters and days it asks about, and whether the names the question
capitalises occur anywhere in the searchable documents. A question about a
company or year the index does not hold should get "the documents do not
say", not the nearest lookalike. The decision: one number in [0, 1],
compared with ``min_evidence``, a threshold calibrated on FinanceBench with
each question's own filing held out (bench/calibrate_abstention.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from grail.records import Hit
from grail.store import Filters
from grail.store.sqlite import SQLiteStore
from grail.text_units import MONTHS, STOPWORDS, content_terms

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_NAME = re.compile(r"(?<![\w'])([A-Z][A-Za-z0-9&.\-]{2,})")
_QUESTION_WORDS = frozenset("what which who whom whose when where why how is are was were does did do can could "
                            "should would will has have had give provide answer base basing assume calculate compute "
                            "define round using use please state".split())


@dataclass(frozen=True)
class Evidence:
    strength: float
    coverage: float  # best IDF-weighted share of question terms found in one passage
    years_missing: tuple[int, ...] = ()
    names_missing: tuple[str, ...] = ()
    periods_missing: tuple[str, ...] = ()  # asked years/quarters/days no document of the named company reports
    statement: str = ""  # the page of the financial statement the question names, for the year it names
    notes: dict[str, float] = field(default_factory=dict)
    # the question names no company, and the passages that match it are from these companies' filings
    companies_apart: tuple[str, ...] = ()


def question_years(question: str) -> set[int]:
    return {int(y) for y in _YEAR.findall(question)}


def question_names(question: str) -> list[str]:
    """Capitalised words that are not the first word of a sentence nor question words."""
    names = []
    for m in _NAME.finditer(question):
        word = m.group(1).rstrip(".-")
        start = m.start()
        before = question[:start].rstrip()
        if not before or before[-1] in ".?!:":
            continue  # sentence-initial capital
        if word.lower() in STOPWORDS or word.lower() in _QUESTION_WORDS or _YEAR.fullmatch(word[-4:] or ""):
            continue
        if word.lower() in MONTHS:
            continue  # "as of September 30, 2023": a day, not a name (``periods_missing`` judges days)
        if word.isupper() and len(word.replace("&", "")) <= 4:
            continue  # acronyms (CEO, EPS, USD, PP&E) are vocabulary, not names
        names.append(word)
    return list(dict.fromkeys(names))


# personal pronouns STOPWORDS leaves in: "If we exclude ..." asks nothing of the documents. Kept here, not
# in STOPWORDS, which also shapes the BM25 query, the verifier and the extractive ranker (measured as they are).
_PRONOUNS = frozenset("we he she him her his".split())  # not "us": it is also "US"

_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z])")


def question_focus(question: str) -> str:
    """The part of a question that asks: its sentence ending in '?' (after a lead-in ending in ':').

    "Give a response ... relying on the cash flow statement." or "DPO is defined as ..."
    around the ask are instructions and definitions, not what the documents must cover.
    A question with no '?' sentence is its own focus.
    """
    asks = [s for s in _SENTENCE_END.split(question.strip()) if s.rstrip().endswith("?")]
    if not asks:
        return question
    focus = asks[0]
    head, colon, tail = focus.rpartition(":")
    return tail if colon and len(content_terms(tail)) >= 2 else focus


def evidence_strength(question: str, hits: Sequence[Hit], store: SQLiteStore | None = None,
                      filters: Filters | None = None, top: int = 5,
                      known: Callable[[str], bool] | None = None,
                      uncovered_periods: Sequence[str] = (),
                      named_in_doc: Mapping[str, Collection[str]] | None = None,
                      statement: str = "", company_of: Mapping[str, str] | None = None) -> Evidence:
    """``known(name)`` says a name is a recognised entity (e.g. a ticker) even if its spelling is absent;
    ``uncovered_periods``: asked years, quarters or days that no document of the named company reports
    (index metadata; a day: after every filing of the company came out, and named by none of them);
    ``named_in_doc``: doc_id -> the question's words naming the company that document is about ("JnJ" is present in every passage of a Johnson & Johnson filing, spelled or not); ``statement``:
    a retrieved page that is the financial statement the question names, in a filing of the fiscal
    year it names ("... in the balance sheet: what is the FY2018 net PP&E?" and 3M's FY2018 balance
    sheet): that page is what was asked for, though its rows use other words ("Property, plant and
    equipment - net"), so it covers the question; ``company_of``: doc_id -> company, given when the
    question names no company and the index holds several: when the top passages come from the filings
    of two or more, which one it is about nothing says ("Were there any board member nominees who had
    substantially more votes against ...?" over Lockheed Martin's and Foot Locker's vote results)."""
    terms = list(dict.fromkeys(content_terms(question_focus(question)))) or list(dict.fromkeys(content_terms(question)))
    terms = [t for t in terms if t not in _PRONOUNS] or terms
    passages = [h.chunk.index_text or h.chunk.text for h in hits[:top]]
    if not terms or not passages:
        return Evidence(0.0, 0.0)
    named = named_in_doc or {}
    present = [set(content_terms(p)) | set(named.get(h.chunk.doc_id, ())) for h, p in zip(hits, passages, strict=False)]
    # IDF over the retrieved passages: a term every passage shares says little
    df = {t: sum(t in have for have in present) for t in terms}
    idf = {t: math.log(1 + (len(passages) + 1) / (df[t] + 0.5)) for t in terms}
    total = sum(idf.values())
    coverage = max(sum(idf[t] for t in terms if t in have) / total for have in present)
    if statement:
        coverage = 1.0
    years = question_years(question)
    joined = "\n".join(passages)
    years_missing = tuple(sorted(y for y in years if str(y) not in joined))
    names_missing: tuple[str, ...] = ()
    if store is not None:
        names_missing = tuple(n for n in question_names(question)
                              if n.lower() not in joined.lower() and not (known and known(n))
                              and not store.keyword_search(n, 1, filters))
    strength = coverage
    if years and len(years_missing) == len(years):
        strength *= 0.5
    if names_missing:
        strength *= 0.5
    periods_missing = tuple(uncovered_periods)
    if periods_missing:  # a year, quarter or day the answer needs that no filing of the company reports
        strength *= 0.5
    apart = tuple(dict.fromkeys(c for h in hits[:top] if (c := (company_of or {}).get(h.chunk.doc_id))))
    apart = apart if len(apart) > 1 else ()
    if apart:
        strength *= 0.5
    return Evidence(strength, coverage, years_missing, names_missing, periods_missing, statement,
                    companies_apart=apart)
