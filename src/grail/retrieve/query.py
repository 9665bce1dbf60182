"""Query understanding: recognise in a question the entities the index holds.

The vocabulary comes from the index itself (each document's company name and
its variants, ticker, fiscal year and form type, read at ingest), never from
a list written for one data set. A question naming a company is searched
within that company's documents; a fiscal year or form type narrows further
when some document matches it. The decision: recognised entities become
filters with a fallback, not hard rules: when the narrowed search finds fewer
than ``k`` passages, the search widens step by step, and ``--explain`` shows
what was recognised and what was done.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from grail.store import DocumentInfo

_SUFFIXES = frozenset("inc incorporated corp corporation company co com plc ltd limited llc lp group holdings "
                      "the and of sa nv ag".split())
_COMMON = frozenset("american general international national united global first best new data company "
                    "bank financial capital health water works energy systems".split())
_FY = re.compile(r"(?i)\b(?:fy|fiscal(?:\s+year)?)\s*'?(\d{4}|\d{2})\b|(?<![\w$.,])((?:19|20)\d{2})(?![\d,.%])")
_FORMS = [(re.compile(r"(?i)\b10-?k\b|\bannual report\b"), "10-K"),
          (re.compile(r"(?i)\b10-?q\b|\bquarterly report\b"), "10-Q"),
          (re.compile(r"(?i)\b8-?k\b|\bcurrent report\b"), "8-K"),
          (re.compile(r"(?i)\bearnings (?:release|call|report)\b|\bpress release\b"), "earnings release")]
_WORD = re.compile(r"[A-Za-z0-9&]+")


def _collapse(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def company_variants(name: str) -> tuple[set[str], set[str]]:
    """Collapsed spellings a question may use: (any case, proper-noun only).

    Any case: the full name, the name without suffixes, "J&J"/"JnJ" for a two-word
    name. Proper noun only (the question must capitalise it): the first word alone,
    so "Amazon's" finds Amazon.com, Inc. while "advanced" does not find Advanced
    Micro Devices.
    """
    words = _WORD.findall(name.lower().replace("&", " "))
    core = [w for w in words if w not in _SUFFIXES]
    exact = {_collapse(name)}
    proper: set[str] = set()
    if core:
        exact.add("".join(core))
        if len(core) == 2:
            exact |= {core[0][0] + core[1][0], core[0][0] + "n" + core[1][0]}
        if len(core) > 1 and len(core[0]) >= 4 and core[0] not in _COMMON:
            proper.add(core[0])
    return {v for v in exact if len(v) >= 2}, proper - exact


@dataclass(frozen=True)
class Understanding:
    companies: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    forms: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()  # the narrowest non-empty document set recognised
    widenings: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (label, doc_ids) from narrow to wide
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_trace(self) -> dict[str, Any]:
        return {"companies": list(self.companies), "years": list(self.years), "forms": list(self.forms),
                "steps": [{"filter": label, "documents": len(ids)} for label, ids in self.widenings]}


class EntityVocabulary:
    """Companies, tickers, years and forms of the indexed documents."""

    def __init__(self, docs: Iterable[DocumentInfo]) -> None:
        self.docs = list(docs)
        self.by_variant: dict[str, set[str]] = {}  # collapsed variant -> canonical company
        self.by_proper: dict[str, set[str]] = {}  # variants that count only when capitalised
        self.by_ticker: dict[str, str] = {}
        self.company_docs: dict[str, set[str]] = {}
        canon: dict[str, str] = {}  # collapsed core name or ticker -> canonical company
        for d in self.docs:
            name = str(d.metadata.get("company") or "").strip()
            ticker = str(d.metadata.get("ticker") or "").strip()
            if not name:
                continue
            key = ticker or "".join(w for w in _WORD.findall(name.lower()) if w not in _SUFFIXES)
            company = canon.setdefault(key, name)
            canon.setdefault("".join(w for w in _WORD.findall(name.lower()) if w not in _SUFFIXES), company)
            self.company_docs.setdefault(company, set()).add(d.doc_id)
            exact, proper = company_variants(name)
            for v in exact:
                self.by_variant.setdefault(v, set()).add(company)
            for v in proper:
                self.by_proper.setdefault(v, set()).add(company)
            if ticker:
                self.by_ticker[ticker.upper()] = company
        # a variant shared by several companies ("american") identifies none of them
        self.by_variant = {v: c for v, c in self.by_variant.items() if len(c) == 1}
        self.by_proper = {v: c for v, c in self.by_proper.items() if len(c) == 1 and v not in self.by_variant}

    def companies_in(self, question: str) -> list[str]:
        found: list[str] = []
        tokens = _WORD.findall(question)
        lowered = [t.lower() for t in tokens]
        for n in (4, 3, 2, 1):
            for i in range(len(tokens) - n + 1):
                gram = "".join(_collapse(t) for t in lowered[i : i + n])
                hits = set(self.by_variant.get(gram, ()))
                if n == 1 and tokens[i][:1].isupper():
                    hits |= self.by_proper.get(gram, set())
                for c in sorted(hits):
                    if c not in found:
                        found.append(c)
        for t in tokens:
            up = t.upper()
            if up in self.by_ticker and (t.isupper() or (len(t) >= 3 and any(ch.isupper() for ch in t))):
                c = self.by_ticker[up]
                if c not in found:
                    found.append(c)
        return found

    def uncovered_years(self, question: str) -> tuple[int, ...]:
        """Fiscal years the question asks about that no document of the company it names reports.

        A filing reports its own fiscal year and the comparative years it must show:
        an annual report three years of results (fiscal_year - 2 .. fiscal_year), any
        other filing the prior year too; plus fiscal_year + 1, because companies whose
        year ends in January name it after either calendar year. Empty when the question
        names no company the index holds, no year, or a document of that company has no
        known fiscal year.
        """
        u = self.understand(question)
        if not u.companies or not u.years:
            return ()
        meta = {d.doc_id: d.metadata for d in self.docs}
        covered: set[int] = set()
        for doc_id in set().union(*(self.company_docs[c] for c in u.companies)):
            fy = meta[doc_id].get("fiscal_year")
            if not isinstance(fy, int):
                return ()
            back = 2 if meta[doc_id].get("form_type") in ("10-K", "20-F", "40-F", "10-KT") else 1
            covered.update(range(fy - back, fy + 2))
        return tuple(y for y in u.years if y not in covered)

    def understand(self, question: str) -> Understanding:
        companies = self.companies_in(question)
        years = sorted({(2000 + int(a) if len(a) == 2 else int(a)) for a, b in
                        ((m.group(1) or m.group(2), None) for m in _FY.finditer(question))})
        forms = [form for pattern, form in _FORMS if pattern.search(question)]
        if not companies:
            return Understanding(years=tuple(years), forms=tuple(forms))
        base = set().union(*(self.company_docs[c] for c in companies))
        meta = {d.doc_id: d.metadata for d in self.docs}
        steps: list[tuple[str, tuple[str, ...]]] = []
        narrowed = base
        if years:
            by_year = {i for i in narrowed if meta[i].get("fiscal_year") in years}
            if by_year:
                narrowed = by_year
                if forms:
                    by_form = {i for i in narrowed if meta[i].get("form_type") in forms}
                    if by_form:
                        steps.append((f"{', '.join(companies)} + {years} + {forms}", tuple(sorted(by_form))))
                steps.append((f"{', '.join(companies)} + {years}", tuple(sorted(narrowed))))
        elif forms:
            by_form = {i for i in narrowed if meta[i].get("form_type") in forms}
            if by_form:
                steps.append((f"{', '.join(companies)} + {forms}", tuple(sorted(by_form))))
        steps.append((", ".join(companies), tuple(sorted(base))))
        return Understanding(tuple(companies), tuple(years), tuple(forms), steps[0][1], tuple(steps))
