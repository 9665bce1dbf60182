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

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from grail.ingest.metadata import fiscal_year_named, parse_date
from grail.store import DocumentInfo
from grail.text_units import MONTHS, collapse, content_terms

_SUFFIXES = frozenset("inc incorporated corp corporation company co com plc ltd limited llc lp group holdings "
                      "the and of sa nv ag".split())
_COMMON = frozenset("american general international national united global first best new data company "
                    "bank financial capital health water works energy systems".split())
_FY = re.compile(r"(?i)\b(?:fy|fiscal(?:\s+year)?)\s*'?(\d{4}|\d{2})\b|(?<![\w$.,])((?:19|20)\d{2})(?![\d%]|[.,]\d)")
_FORMS = [(re.compile(r"(?i)\b10-?k\b|\bannual report\b"), "10-K"),
          (re.compile(r"(?i)\b10-?q\b|\bquarterly report\b"), "10-Q"),
          (re.compile(r"(?i)\b8-?k\b|\bcurrent report\b"), "8-K"),
          (re.compile(r"(?i)\bearnings (?:release|call|report)\b|\bpress release\b"), "earnings release")]
_WORD = re.compile(r"[A-Za-z0-9&]+")
_Y = r"(?:FY|fiscal\s+(?:year\s+)?)?\s*'?(\d{4}|\d{2})(?![\w-])"  # not "Q3 10-Q"
_QUARTERS = [  # (pattern, group of the quarter, group of the year)
    (re.compile(r"(?i)\bQ([1-4])\s*(?:of\s+|,\s*)?" + _Y), 1, 2),  # Q2 of FY2024, Q4 FY23, Q1 2021
    (re.compile(r"(?i)\b(?:FY\s*)?'?(\d{4}|\d{2})\s*Q([1-4])\b"), 2, 1),  # 2021 Q1, FY2023Q2
    (re.compile(r"(?i)\b([1-4])Q\s*'?(\d{4}|\d{2})\b"), 1, 2),  # 1Q23
    (re.compile(r"(?i)\b(first|second|third|fourth)\s+(?:fiscal\s+)?quarter\s+(?:of\s+|,\s*)?" + _Y), 1, 2),
]
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4}
ANNUAL_FORMS = ("10-K", "20-F", "40-F", "10-KT")


def asked_years(question: str) -> list[int]:
    """Fiscal or calendar years a question names, sorted: "FY2022", "fiscal 23", "in 2019"."""
    return sorted({2000 + int(y) if len(y) == 2 else int(y)
                   for m in _FY.finditer(question) for y in [m.group(1) or m.group(2)]})


# what a company expects for a year it says before the year begins (guidance in the prior year's release);
# not a "pension plan" or a "projected benefit obligation"
FORWARD = re.compile(r"(?i)\bexpect(?:s|ed|ations?)?\b|\bplann(?:ed|ing)\b|\bplans?\s+(?:to|for)\b|\bguidance\b"
                     r"|\boutlook\b|\bforecasts?\b|\bprojections?\b|\banticipated?\b|\bwill\b")
# a quarter asked for, and the other interim periods (half years, nine months, year to date, a 10-Q)
_A_QUARTER = re.compile(r"(?i)\bquarters?\b|\bQ[1-4]\b|\b[1-4]Q\b")
_INTERIM = re.compile(r"(?i)\bquarterly\b|\b10-?Q\b|\binterim\b|\bhalf\b|\bH[12]\b|\b(?:three|six|nine)[- ]months?\b"
                      r"|\byear[- ]to[- ]date\b|\bYTD\b")

# the periods a page's columns report: a column header opens a line in title or upper case ("Three Months Ended
# June 30, 2023"; a wrapped sentence's "quarter ended June 26, 2022" does not); a year anywhere on the page
# keeps it. "Year to date" is neither: a fourth-quarter release's is the year.
_INTERIM_COLUMNS = re.compile(r"(?m)^(?:For the )?(?:(?:Three|Six|Nine|3|6|9) Months|(?:Fiscal )?Quarters?"
                              r"|(?:13|26|39|Thirteen|Twenty-[Ss]ix|Thirty-[Nn]ine) Weeks) Ended\b"
                              r"|^(?:FOR THE )?(?:(?:THREE|SIX|NINE) MONTHS|QUARTERS?|(?:13|26|39) WEEKS) ENDED\b")
_ANNUAL_COLUMNS = re.compile(r"(?i)\b(?:twelve|12)\s+months\s+ended\b|\byears?\s+ended\b|\bfiscal\s+years?\b"
                             r"|\b(?:52|53|fifty-two|fifty-three)\s+weeks\s+ended\b|\bfull[- ]year\b|\bannual\b"
                             r"|\bfiscal\s+'?(?:19|20)?\d\d\b|\bFY\s*'?\d{2,4}\b")


def interim_only(page: str) -> bool:
    """The page's columns report only a quarter or other interim period ("Three Months Ended June 30, 2023")
    and nothing says it reports a year: a fiscal year's figures are not on it."""
    return bool(_INTERIM_COLUMNS.search(page)) and not _ANNUAL_COLUMNS.search(page)


# what filings call a measure a question describes by what it leaves out: sales growth "excluding the impact
# of M&A" is organic growth ("Organic sales" in 3M's table by segment), "excluding FX" is growth at constant
# currency ("constant currency", "operational" at J&J)
_WITHOUT = r"(?:exclud(?:e|es|ed|ing)|without|net\s+of|ignor(?:e|ing)|strip(?:ping)?\s+out|adjust(?:ed|ing)?\s+for)"
_EXCLUDED = [
    (re.compile(_WITHOUT + r"\b[^.?;]{0,30}?\b(?:M\s?&\s?A|acquisitions?|divestitures?|mergers?)\b", re.I),
     "organic"),
    (re.compile(_WITHOUT + r"\b[^.?;]{0,30}?\b(?:FX|foreign\s+(?:exchange|currency)|currency|exchange\s+rates?)\b", re.I),
     "constant currency operational"),
]


def in_filings_words(question: str) -> str:
    """The question with what it excludes said as filings say the measure (``_EXCLUDED``): "If we exclude
    the impact of M&A, which segment ..." -> "If we organic, which segment ..."; unchanged otherwise."""
    for pattern, words in _EXCLUDED:
        question = pattern.sub(words, question)
    return question


_NO_QUARTER = (0, 0)  # a document that reports no quarter (an 8-K about something else)


def _reported_quarter(meta: dict[str, Any], year_end: tuple[int, int]) -> tuple[int, int] | None:
    """(fiscal quarter, fiscal year) a quarterly report reports: a release's own, a 10-Q's from its period end and
    the company's year end, a results 8-K's (Item 2.02) the quarter that ended before it was filed;
    ``_NO_QUARTER`` for an 8-K about anything else; None when its period cannot be read."""
    fy = meta.get("fiscal_year")
    if isinstance(meta.get("fiscal_quarter"), int) and isinstance(fy, int):
        return (meta["fiscal_quarter"], fy)
    if meta.get("form_type") == "10-Q" and (end := parse_date(meta.get("period_end"))):
        return fiscal_quarter_of(end, year_end)
    if meta.get("form_type") == "8-K" and "items" in meta:
        if "2.02" not in meta["items"] or not (filed := parse_date(meta.get("report_date"))):
            return _NO_QUARTER
        y, m, _ = filed  # the last quarter end before the report date
        m2 = m - ((m - year_end[0]) % 3 or 3)
        return fiscal_quarter_of((y - (m2 < 1), (m2 - 1) % 12 + 1, year_end[1]), year_end)
    return None


def asks_quarter(question: str) -> bool:
    """The question asks about a quarter ("in Q2 of FY2022", "the fourth quarter"), not a year or a
    year to date."""
    return bool(question_quarters(question) or _A_QUARTER.search(question))


def asks_annual(question: str) -> bool:
    """The question names a year and no quarter or other interim period: it asks for a fiscal year's figures."""
    return bool(asked_years(question)) and not asks_quarter(question) and not _INTERIM.search(question)


def question_quarters(question: str) -> tuple[tuple[int, int], ...]:
    """(quarter, year) pairs a question asks about: "Q2 of FY2024", "2021 Q1", "second quarter of 2023"."""
    found: list[tuple[int, int]] = []
    for pattern, qg, yg in _QUARTERS:
        for m in pattern.finditer(question):
            q = m.group(qg).lower()
            year = int(m.group(yg))
            pair = (_ORDINAL.get(q) or int(q), year + 2000 if year < 100 else year)
            if pair not in found:
                found.append(pair)
    return tuple(found)


_MONTH = r"(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_ORD = r"(?:st|nd|rd|th)?"
_DATES = [  # (pattern, group of the year, of the month, of the day)
    (re.compile(r"(?i)\b" + _MONTH + r"\s+(\d{1,2})" + _ORD + r",?\s+((?:19|20)\d{2})\b"), 3, 1, 2),  # August 30, 2023
    (re.compile(r"(?i)\b(\d{1,2})" + _ORD + r"\s+(?:of\s+)?" + _MONTH + r",?\s+((?:19|20)\d{2})\b"), 3, 2, 1),  # 1st July 2022
    (re.compile(r"\b((?:19|20)\d{2})-(\d{2})-(\d{2})\b"), 1, 2, 3),  # 2023-08-30
    (re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})\b"), 3, 1, 2),  # 8/30/2023 (US order)
]
# how long after its period ends a filing may come out (SEC deadlines: a 10-K within 90 days, a foreign
# issuer's 20-F or 40-F within four months, a 10-Q within 45); an earnings release comes before its report
_FILED_WITHIN = {"annual": 90, "foreign annual": 122, "quarter": 45}


def day_mentions(question: str) -> list[tuple[dt.date, tuple[int, int]]]:
    """(day, span) of each calendar day a question names: "as of August 30, 2023", "dated 1st July 2022"."""
    found: list[tuple[dt.date, tuple[int, int]]] = []
    for pattern, yg, mg, dg in _DATES:
        for m in pattern.finditer(question):
            month = m.group(mg)
            number = int(month) if month.isdigit() else MONTHS[month.lower()]
            try:
                found.append((dt.date(int(m.group(yg)), number, int(m.group(dg))), m.span()))
            except ValueError:
                continue  # "February 30": not a day
    return found


def question_dates(question: str) -> tuple[dt.date, ...]:
    """Calendar days a question names, in order, once each."""
    return tuple(dict.fromkeys(day for day, _ in day_mentions(question)))


def without_days(question: str, days: Iterable[dt.date]) -> str:
    """The question with its mentions of ``days`` blanked out: "notes due March 1, 2030" asks for no year 2030."""
    blank = set(days)
    spans = sorted(span for day, span in day_mentions(question) if day in blank)
    out, at = [], 0
    for a, b in spans:
        if a >= at:
            out += [question[at:a], " " * (b - a)]
            at = b
    return "".join(out) + question[at:]


def date_phrases(day: dt.date) -> tuple[str, ...]:
    """The ways a document may write ``day``, as word sequences ("august 30 2023", "aug 30 2023", "30 august 2023")."""
    months = {calendar.month_name[day.month].lower(), calendar.month_abbr[day.month].lower()}
    if day.month == 9:
        months.add("sept")
    out = [f"{m} {day.day} {day.year}" for m in sorted(months)]
    out += [f"{day.day} {m} {day.year}" for m in sorted(months)]
    out += [f"{day.year} {day.month:02d} {day.day:02d}", f"{day.month} {day.day} {day.year}",
            f"{day.month:02d} {day.day:02d} {day.year}"]
    return tuple(dict.fromkeys(out))


def _quarter_end(quarter: int, fiscal_year: int, year_end: tuple[int, int]) -> dt.date:
    """The latest day quarter ``quarter`` of ``fiscal_year`` can end on for a company whose year ends on
    ``year_end``: a year ending in January or February may be named after the calendar year it starts in
    (a retailer's "fiscal 2022" ends January 28, 2023), so such a year is taken to end in the next one."""
    month, day = year_end
    end_year = fiscal_year + 1 if month <= 2 else fiscal_year
    months_back = 3 * (4 - quarter)
    y, m = divmod(end_year * 12 + (month - 1) - months_back, 12)
    return dt.date(y, m + 1, min(day, calendar.monthrange(y, m + 1)[1]))


def latest_report_day(meta: dict[str, Any], year_end: tuple[int, int]) -> dt.date | None:
    """The latest day a document can report on: its report date, else its period end (or the end of
    its fiscal quarter) plus the time a filing of its kind may take to come out; None when unknown."""
    if reported := parse_date(meta.get("report_date")):
        return dt.date(*reported)
    annual = meta.get("form_type") in ANNUAL_FORMS or meta.get("fiscal_quarter") == 4
    end: dt.date | None = None
    if period_end := parse_date(meta.get("period_end")):
        end = dt.date(*period_end)
    elif isinstance(q := meta.get("fiscal_quarter"), int) and isinstance(fy := meta.get("fiscal_year"), int):
        end = _quarter_end(q, fy, year_end)
    if end is None:
        return None
    kind = "foreign annual" if meta.get("form_type") in ("20-F", "40-F") else "annual" if annual else "quarter"
    return end + dt.timedelta(days=_FILED_WITHIN[kind])


def year_end_of(metas: Iterable[dict[str, Any]]) -> tuple[int, int] | None:
    """(month, day) a company's fiscal year ends on, from the period end of its latest annual report."""
    ends = [e for mt in metas if mt.get("form_type") in ANNUAL_FORMS and (e := parse_date(mt.get("period_end")))]
    return (max(ends)[1], max(ends)[2]) if ends else None


def fiscal_quarter_of(day: tuple[int, int, int], year_end: tuple[int, int]) -> tuple[int, int]:
    """(fiscal quarter, fiscal year) of a quarter ending on ``day`` for a company whose year ends on
    ``year_end`` (month, day); the fiscal year is named after the calendar year it ends in, the
    way filings' cover pages date it ("fiscal year ended January 28, 2023")."""
    y, m, d = day
    months = ((m + d / 31) - (year_end[0] + year_end[1] / 31)) % 12
    q = round(months / 3) or 4
    end_year = y + ((m - 1) + 12 - 3 * q) // 12 if q < 4 else y  # Q4 ends the year
    return q, fiscal_year_named(end_year, *year_end)


def company_variants(name: str) -> tuple[set[str], set[str]]:
    """Collapsed spellings a question may use: (any case, proper-noun only).

    Any case: the full name, the name without suffixes, "J&J"/"JnJ" for a two-word
    name. Proper noun only (the question must capitalise it): the first word alone,
    so "Amazon's" finds Amazon.com, Inc. while "advanced" does not find Advanced
    Micro Devices; and the initials of a name of three words or more ("AMD"), for
    filings whose cover page names no trading symbol.
    """
    words = _WORD.findall(name.lower().replace("&", " "))
    core = [w for w in words if w not in _SUFFIXES]
    exact = {collapse(name)}
    proper: set[str] = set()
    if core:
        exact.add("".join(core))
        if len(core) == 2:
            exact |= {core[0][0] + core[1][0], core[0][0] + "n" + core[1][0]}
        if len(core) > 1 and len(core[0]) >= 4 and core[0] not in _COMMON:
            proper.add(core[0])
        if len(core) >= 3:  # "AMD" for Advanced Micro Devices: written in capitals, so proper-noun only
            proper.add("".join(w[0] for w in core))
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
        self.company_of: dict[str, str] = {}  # doc_id -> its company, as ``company_docs`` names it
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
            self.company_of[d.doc_id] = company
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
        self.fiscal_years = self._fiscal_years()

    def _fiscal_years(self) -> dict[str, int | None]:
        """doc_id -> the fiscal year the document reports, as its company names it.

        A 10-Q's cover gives only its period end, and ingest names the year after that date's calendar year;
        the company's annual reports give its year end, which names the quarter's fiscal year: Best Buy's
        quarter ended July 29, 2023 is in fiscal 2024 (its year ends in late January), Amcor's ended
        December 31, 2022 in fiscal 2023 (June). Other documents keep the year ingest read."""
        meta = {d.doc_id: d.metadata for d in self.docs}
        out: dict[str, int | None] = {i: (fy if isinstance(fy := m.get("fiscal_year"), int) else None)
                                      for i, m in meta.items()}
        for doc_ids in self.company_docs.values():
            if (year_end := year_end_of(meta[i] for i in doc_ids)) is None:
                continue
            for i in doc_ids:
                if meta[i].get("form_type") == "10-Q" and (end := parse_date(meta[i].get("period_end"))):
                    out[i] = fiscal_quarter_of(end, year_end)[1]
        return out

    def companies_in(self, question: str) -> list[str]:
        return list(dict.fromkeys(c for c, _ in self.company_mentions(question)))

    def company_mentions(self, question: str) -> list[tuple[str, str]]:
        """(company, the words of the question that name it): [("Johnson & Johnson", "JnJ")]."""
        found: list[tuple[str, str]] = []
        spans = [m.span() for m in _WORD.finditer(question)]
        tokens = [question[a:b] for a, b in spans]
        lowered = [t.lower() for t in tokens]
        for n in (4, 3, 2, 1):
            for i in range(len(tokens) - n + 1):
                gram = "".join(collapse(t) for t in lowered[i : i + n])
                hits = set(self.by_variant.get(gram, ()))
                if n == 1 and tokens[i][:1].isupper():
                    hits |= self.by_proper.get(gram, set())
                for c in sorted(hits):
                    found.append((c, question[spans[i][0] : spans[i + n - 1][1]]))
        for t in tokens:
            up = t.upper()
            if up in self.by_ticker and (t.isupper() or (len(t) >= 3 and any(ch.isupper() for ch in t))):
                found.append((self.by_ticker[up], t))
        return list(dict.fromkeys(found))

    def named_in_doc(self, question: str) -> dict[str, frozenset[str]]:
        """doc_id -> the question's content terms that name the company the document is about."""
        out: dict[str, set[str]] = {}
        for company, words in self.company_mentions(question):
            for doc_id in self.company_docs.get(company, ()):
                out.setdefault(doc_id, set()).update(content_terms(words))
        return {d: frozenset(t) for d, t in out.items()}

    def uncovered_years(self, question: str, balance_sheet: bool = False) -> tuple[int, ...]:
        """Fiscal years the question asks about that no document of the company it names reports.

        A filing reports its own fiscal year and the comparative years it must show:
        an annual report three years of results (fiscal_year - 2 .. fiscal_year) but two
        balance sheets (``balance_sheet``: the question needs one, so only fiscal_year - 1
        .. fiscal_year count), any other filing the prior year too; plus fiscal_year + 1,
        because companies whose year ends in January name it after either calendar year.
        Empty when the question names no company the index holds, no year, or a document of
        that company has no known fiscal year.
        """
        u = self.understand(question)
        if not u.companies or not u.years:
            return ()
        meta = {d.doc_id: d.metadata for d in self.docs}
        covered: set[int] = set()
        for doc_id in set().union(*(self.company_docs[c] for c in u.companies)):
            fy = self.fiscal_years.get(doc_id)
            if fy is None:
                return ()
            back = 2 if meta[doc_id].get("form_type") in ANNUAL_FORMS and not balance_sheet else 1
            covered.update(range(fy - back, fy + 2))
        return tuple(y for y in u.years if y not in covered)

    def _filings_named(self, question: str) -> tuple[list[dict[str, Any]], tuple[int, int]]:
        """The metadata of every document of the companies a question names, and their fiscal year end
        (from their latest annual report; December when there is none)."""
        companies = self.companies_in(question)
        meta = [d.metadata for d in self.docs if any(d.doc_id in self.company_docs[c] for c in companies)]
        return meta, year_end_of(meta) or (12, 31)

    def uncovered_quarters(self, question: str) -> tuple[tuple[int, int], ...]:
        """(quarter, fiscal year) pairs the question asks about that no document of the company it names reports.

        An annual report covers every quarter of its year and the year before (quarterly
        data, comparative columns); a 10-Q or a quarterly earnings release its quarter and
        the same quarter a year before, plus a year after (fiscal years ending in January
        are named after either calendar year); an 8-K only when it reports results of
        operations (Item 2.02), for the quarter that ended before it was filed. A 10-Q's
        quarter is read from its period end and the company's fiscal year end (from its
        annual reports; December when there is none). Empty when the question names no
        company or quarter, or a document of that company has a period this cannot read.
        """
        asked = question_quarters(question)
        meta, year_end = self._filings_named(question) if asked else ([], (12, 31))
        if not meta:
            return ()
        covered: set[tuple[int, int]] = set()
        for mt in meta:
            fy = mt.get("fiscal_year")
            if mt.get("form_type") in ANNUAL_FORMS and isinstance(fy, int):
                covered.update((q, y) for q in range(1, 5) for y in (fy - 1, fy))
                continue
            reported = _reported_quarter(mt, year_end)
            if reported is _NO_QUARTER:
                continue
            if reported is None:
                return ()  # a period this cannot read: do not judge
            q, y = reported
            covered.update({(q, y - 1), (q, y), (q, y + 1)})
        return tuple(p for p in asked if p not in covered)

    def quarter_reports(self, question: str) -> frozenset[str]:
        """doc_ids of the quarterly reports (10-Q, quarterly release, results 8-K) of the companies the question
        names whose own quarter is one it asks about ("Q2 of FY2024": Best Buy's 10-Q for the quarter ended July
        29, 2023): the filing of record for that quarter's figures."""
        asked = set(question_quarters(question))
        if not asked:
            return frozenset()
        companies = self.companies_in(question)
        docs = [d for d in self.docs if any(d.doc_id in self.company_docs[c] for c in companies)]
        year_end = year_end_of(d.metadata for d in docs) or (12, 31)
        return frozenset(d.doc_id for d in docs if d.metadata.get("form_type") not in ANNUAL_FORMS
                         and (q := _reported_quarter(d.metadata, year_end)) not in (None, _NO_QUARTER) and q in asked)

    def uncovered_dates(self, question: str) -> tuple[dt.date, ...]:
        """Days the question names ("as of August 30, 2023") after the last day any document of the company it
        names can report on (``latest_report_day``): every one of them came out before that day. Empty when the
        question names no company or no day, or a document of that company has no date this can read.
        Whether the documents mention the day anyway (a note due then, an event planned for it) is for the
        caller to check against the text (``Grail.evidence``)."""
        asked = question_dates(question)
        meta, year_end = self._filings_named(question) if asked else ([], (12, 31))
        if not meta:
            return ()
        latest: list[dt.date] = []
        for mt in meta:
            day = latest_report_day(mt, year_end)
            if day is None:
                return ()  # a document this cannot date: do not judge
            latest.append(day)
        return tuple(d for d in asked if latest and d > max(latest))

    def uncovered_periods(self, question: str, balance_sheet: bool = False) -> tuple[str, ...]:
        """Asked years and quarters no document of the named company reports: ("2018", "Q1 2021");
        ``balance_sheet``: the question needs a balance sheet (two years of them in an annual report)."""
        quarters = self.uncovered_quarters(question)
        years = self.uncovered_years(question, balance_sheet)
        return (tuple(str(y) for y in years if y not in {y for _, y in quarters})
                + tuple(f"Q{q} {y}" for q, y in quarters))

    def understand(self, question: str) -> Understanding:
        companies = self.companies_in(question)
        years = asked_years(question)
        forms = [form for pattern, form in _FORMS if pattern.search(question)]
        if not companies:
            return Understanding(years=tuple(years), forms=tuple(forms))
        base = set().union(*(self.company_docs[c] for c in companies))
        meta = {d.doc_id: d.metadata for d in self.docs}
        steps: list[tuple[str, tuple[str, ...]]] = []
        narrowed = base
        if years:
            # a year's outlook is published in the year before it: JnJ's FY2023 guidance is in its FY2022 Q4 release
            reported_in = set(years) | ({y - 1 for y in years} if FORWARD.search(question) else set())
            by_year = {i for i in narrowed if self.fiscal_years.get(i) in reported_in}
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
