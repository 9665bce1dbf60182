"""Financial statements a question names, and the pages that hold them.

An analyst writes "... shown in the balance sheet" or "using the cash flow
statement and the income statement": the answer is a row of that statement,
and the statement is one titled page of the filing ("CONSOLIDATED BALANCE
SHEETS", "Consolidated Statements of Operations"). Passages of the notes and
of the MD&A use the same words and outrank the statement itself (a table of
numbers has few words to match). The decision: when a question names a
statement and the search is narrowed to some documents, the titled pages of
that statement in those documents come first, ordered by their own retrieval
rank; nothing is added that retrieval did not find. A question that asks for a
measure made of a statement's rows by its textbook definition ("quick ratio",
"working capital": the balance sheet; "gross margin": the income statement;
"capex", "free cash flow": the cash flow statement; "inventory turnover",
"ROA", "DPO": the income statement and the balance sheet) asks for those
statements too, unless it asks what drove a change or what is expected (the
discussion answers those, not the rows). Any other question is not touched.

Titles are read from the first lines of each page, so an existing index needs
no re-ingest. Only the three primary statements are recognised, under the
names SEC filings and IFRS reports use for them; a bare "cash flow" names
neither a statement nor a measure, and is not routed.
"""

from __future__ import annotations

import re

from grail.retrieve.query import FORWARD, asks_quarter
from grail.text_units import collapse
from grail.verify.evidence import question_focus

KINDS = ("balance_sheet", "income_statement", "cash_flow_statement")

# what a question calls a statement
_ASKED = {
    "balance_sheet": re.compile(r"(?i)\bbalance[\s-]+sheets?\b|\bstatements?\s+of\s+(?:consolidated\s+)?financial\s+"
                                r"(?:position|condition)\b"),
    "income_statement": re.compile(r"(?i)\bincome\s+statements?\b|\bstatements?\s+of\s+(?:consolidated\s+)?"
                                   r"(?:income|operations|earnings|profit\s+or\s+loss)\b|\bP\s?&\s?L\b"
                                   r"|\bprofit\s+(?:and|&)\s+loss\b"),
    "cash_flow_statement": re.compile(r"(?i)\bcash[\s-]+flows?\s+statements?\b|\bstatements?\s+of\s+"
                                      r"(?:consolidated\s+)?cash\s+flows?\b"),
}

# how a filing titles it, matched against a line with everything but letters and digits removed
# ("Consolidated Balance Shee t" and "CONSOLIDATED BALANCE SHEETS" read alike)
_TITLE = {
    "balance_sheet": r"balancesheets?|statements?of(?:consolidated)?financial(?:position|condition)",
    "income_statement": r"statements?of(?:consolidated)?(?:income|operations|earnings|profitorloss)(?:loss)?"
                        r"|incomestatements?|profitandlossaccounts?",
    "cash_flow_statement": r"statements?of(?:consolidated)?cashflows?|cashflows?statements?",
}
_TITLE_LINE = {kind: re.compile(r"(?:condensed)?(?:consolidated)?(?:combined)?(?:" + pattern +
                                r")(?:and(?:other)?comprehensive(?:income|loss|earnings)+)?"
                                r"(?:continued|unaudited|in(?:millions|thousands|billions)\w*)*")
               for kind, pattern in _TITLE.items()}
_CAPS_SUFFIX = re.compile(r"\s+[A-Z][A-Z0-9 ,.&'()\-]*[A-Z.)]$")  # "... Earnings GENERAL MILLS, INC. AND SUBSIDIARIES"
_CAPS_PREFIX = re.compile(r"^[A-Z0-9][A-Z0-9 ,.&'\-]*?[A-Z.](?=\s+[A-Z][a-z])")  # "GENERAL MILLS, INC. Consolidated ..."
HEAD_LINES = 15  # a title sits within the first lines of its page
HEAD_CHARS = 800


def named_statements(question: str) -> tuple[str, ...]:
    """The primary financial statements a question names, in KINDS order."""
    return tuple(kind for kind in KINDS if _ASKED[kind].search(question))


# measures an analyst computes from the rows of one or more statements, by their textbook definitions:
# (what the question says, the statements whose rows make the measure, those rows); abbreviations count in
# capitals only ("ROA", not the "roe" of a deer)
_BS, _IS, _CF = KINDS
_CURRENT = "total current assets total current liabilities"
_PPE = "purchases of property plant and equipment capital expenditures"
_MEASURES: list[tuple[re.Pattern[str], tuple[str, ...], str]] = [
    (re.compile(p, re.I), kinds, rows) for p, kinds, rows in [
        (r"\bworking\s+capital\b|\bcurrent\s+ratio\b", (_BS,), _CURRENT),
        (r"\bquick\s+ratio\b|\bacid[\s-]+test\b", (_BS,), f"{_CURRENT} inventories"),
        (r"\bdebt[\s-]+to[\s-]+equity\b", (_BS,), "long-term debt total shareholders equity"),
        (r"\bgross\s+(?:profit\s+)?margins?\b", (_IS,), "gross profit net sales revenue cost of sales"),
        (r"\boperating\s+(?:profit\s+)?margins?\b", (_IS,), "operating income net sales revenue"),
        (r"\bnet\s+(?:profit\s+)?margins?\b", (_IS,), "net income net sales revenue"),
        (r"\bcapital\s+expenditures?\b|\bcapex\b", (_CF,), _PPE),
        (r"\bfree\s+cash\s+flows?\b", (_CF,), f"net cash provided by operating activities {_PPE}"),
        (r"\b(?:operating|investing|financing)\s+activities\b", (_CF,),
         "net cash provided by used in operating activities investing activities financing activities"),
        (r"\bcapital[\s-]+intensi(?:ve|ty)\b", (_BS, _IS, _CF), f"{_PPE} property plant and equipment net total assets"),
        (r"\binventory\s+turnover\b|\bdays\s+inventory\s+outstanding\b|\b(?-i:DIO)\b", (_BS, _IS),
         "inventories cost of sales"),
        (r"\b(?:receivables?\s+turnover|days\s+sales\s+outstanding)\b|\b(?-i:DSO)\b", (_BS, _IS),
         "accounts receivable net sales revenue"),
        (r"\bdays\s+payables?\s+outstanding\b|\b(?-i:DPO)\b", (_BS, _IS), "accounts payable cost of sales"),
        (r"\bcash\s+conversion\s+cycle\b", (_BS, _IS), "inventories accounts receivable accounts payable cost of sales"),
        (r"\b(?:fixed\s+|total\s+)?assets?\s+turnover\b", (_BS, _IS), "net sales revenue total assets property plant and equipment"),
        (r"\breturn\s+on\s+(?:average\s+)?(?:total\s+)?assets\b|\b(?-i:ROA)\b", (_BS, _IS), "net income total assets"),
        (r"\breturn\s+on\s+(?:average\s+)?(?:shareholders'?\s+|stockholders'?\s+)?equity\b|\b(?-i:ROE)\b", (_BS, _IS),
         "net income total shareholders equity"),
    ]
]
# the lines each statement reports, by their usual captions (US GAAP and IFRS wording; abbreviations in
# capitals): a question asking for one of them is answered by that statement's row ("What is the FY2016
# COGS for Microsoft?", "the year end FY2018 net PPNE for 3M"), which shares few of its words
_LINES: list[tuple[str, str, str]] = [  # (what the question says, statement, the row's words)
    (r"property,?\s+plant,?\s+and\s+equipment|(?-i:PP&E|PPNE)", _BS, "property plant and equipment net"),
    (r"inventor(?:y|ies)", _BS, "inventories"),
    (r"(?:accounts|trade)\s+receivables?", _BS, "accounts receivable net"),
    (r"accounts\s+payable", _BS, "accounts payable"),
    (r"total\s+(?:current\s+)?assets", _BS, "total assets total current assets"),
    (r"total\s+(?:current\s+)?liabilities", _BS, "total liabilities total current liabilities"),
    (r"(?:shareholders|stockholders)['’]?\s+equity", _BS, "total shareholders equity"),
    (r"long[\s-]+term\s+debt", _BS, "long-term debt"),
    (r"cash\s+(?:and|&)\s+cash\s+equivalents", _BS, "cash and cash equivalents"),
    (r"retained\s+earnings", _BS, "retained earnings"),
    (r"(?:total\s+|net\s+)?revenues?|net\s+sales|top[\s-]+line", _IS, "net sales revenue total revenues"),
    (r"cost\s+of\s+(?:goods\s+sold|sales|revenues?|products\s+sold)|(?-i:COGS)", _IS,
     "cost of sales cost of goods sold cost of revenue"),
    (r"gross\s+profit", _IS, "gross profit"),
    (r"operating\s+(?:income|profit)", _IS, "operating income"),
    (r"income\s+before\s+(?:income\s+)?taxes", _IS, "income before income taxes"),
    (r"net\s+(?:income|earnings)", _IS, "net income net earnings"),
    (r"earnings\s+per\s+share|(?-i:EPS)", _IS, "earnings per share diluted basic"),
    (r"selling,?\s+general\s+and\s+administrative|(?-i:SG&A)", _IS, "selling general and administrative expenses"),
    (r"research\s+and\s+development|(?-i:R&D)", _IS, "research and development expense"),
    (r"interest\s+expense", _IS, "interest expense"),
    (r"(?:cash\s+)?dividends\s+paid|pa(?:y|ys|id)\s+(?:out\s+)?(?:in\s+)?(?:cash\s+)?dividends|cash\s+dividends", _CF,
     "cash dividends paid"),
    (r"depreciation\s+and\s+amortization|(?-i:D&A)", _CF, "depreciation and amortization"),
    (r"(?:share|stock)\s+(?:repurchases?|buybacks?)|repurchases?\s+of\s+(?:common\s+)?(?:stock|shares)", _CF,
     "repurchases of common stock"),
]
# a line of the income statement as a share of sales (common-size analysis): "net earnings as a percent of
# sales", "R&D as a % of revenue": the line and the sales it is divided by
_PER = r"(?:as\s+an?\s+)?(?:percent(?:age)?|%)\s+(?:of|to)\s+(?:net\s+|total\s+)?(?:sales|revenues?)\b"
_OF_SALES = r"(?:\s+expenses?)?\s+" + _PER
_MEASURES += [(re.compile(r"(?i)\b(?:" + line + ")" + _OF_SALES), (_IS,), f"{rows} net sales revenue")
              for line, kind, rows in _LINES if kind == _IS and "revenue" not in rows]
_LINE_ITEMS = [(re.compile(r"(?i)\b(?:" + line + r")\b"), (kind,), rows) for line, kind, rows in _LINES]
_PER_SALES = re.compile(r"(?i)\b" + _PER)
# asked about a line but not for its amount: how it is recognised or valued, what it consists of, its risks
_NOT_AN_AMOUNT = re.compile(r"(?i)\bpolic(?:y|ies)\b|\brecogni[sz]|\baccounting\s+(?:for|treatment|method)|\bmethods?\b"
                            r"|\brisks?\b|\b(?-i:LIFO|FIFO)\b|\bvalu(?:ed|ation)\b|\bconsists?\s+of\b|\bcomposition\b")
# a part of the company (a segment, a region, a product category) or an adjusted figure: the face of a
# statement reports neither, the notes and the discussion do
_PART = re.compile(r"(?i)\bsegments?\b|\bregions?\b|\bregional\b|\bgeograph|\bdomestic\b|\binternational\b"
                   r"|\bcategor(?:y|ies)\b|\bbusiness\s+units?\b|\bdivisions?\b|\bproduct\s+lines?\b|\badjusted\b"
                   r"|\bnon[\s-]?GAAP\b|\borganic(?:ally)?\b|\bsame[\s-]store\b|\bcomparable\s+sales\b")
# "what drove operating margin change" is answered by the discussion of it (MD&A), not by the rows; so is
# what the company expects ("capex planned for 2024"): statements report the past
_DRIVERS = re.compile(r"(?i)\bwhat\s+(?:drove|drives|caused|explains?)\b|\bwhy\b|\bdrivers?\b|\breasons?\b")


def _measures_asked(question: str) -> list[tuple[tuple[str, ...], str]]:
    """(statements, rows) of each measure or line item the question asks for; none when it asks what drove
    a change or what is expected (the sentence that asks, not "... please explain why"), or about a part
    of the company or an adjusted figure; not the cash flow statement for a quarter."""
    focus = question_focus(question)
    if _DRIVERS.search(focus) or FORWARD.search(focus) or _PART.search(focus):
        return []
    lines = _PER_SALES.sub(" ", focus)  # "wages as a percent of net sales" asks for wages, not for sales
    found = [(kinds, rows) for pattern, kinds, rows in _MEASURES if pattern.search(question)]
    if not _NOT_AN_AMOUNT.search(focus):
        found += [(kinds, rows) for pattern, kinds, rows in _LINE_ITEMS if pattern.search(lines)]
    if asks_quarter(focus):  # a quarter's cash flows: a 10-Q's statement of cash flows is year to date
        found = [(tuple(k for k in kinds if k != _CF), rows) for kinds, rows in found]
    return [(kinds, rows) for kinds, rows in found if kinds]


def implied_statements(question: str) -> tuple[str, ...]:
    """The statements whose rows define a measure the question asks for ("quick ratio": the balance
    sheet; "inventory turnover": the income statement and the balance sheet), in KINDS order; none
    when it asks what drove a change or what is expected (the discussion answers those, not the rows)."""
    wanted = {kind for kinds, _ in _measures_asked(question) for kind in kinds}
    return tuple(kind for kind in KINDS if kind in wanted)


def measure_rows(question: str) -> str:
    """The rows that make the measures a question asks for ("quick ratio": "total current assets total
    current liabilities inventories"): what to look for on the statement, whose rows never say "quick
    ratio". Empty when it asks none, or asks what drove a change or what is expected."""
    rows = list(dict.fromkeys(rows for _, rows in _measures_asked(question)))
    return " ".join(r for r in rows if not any(r != other and r in other for other in rows))  # SG&A in "SG&A % of sales"


def asked_statements(question: str) -> tuple[str, ...]:
    """The statements a question names or asks a measure of, in KINDS order."""
    wanted = set(named_statements(question)) | set(implied_statements(question))
    return tuple(kind for kind in KINDS if kind in wanted)


def title_kind(line: str) -> str | None:
    """The statement a page-title line names, or None for any other line.

    The line must be the title alone, possibly with the company name in capitals
    before or after it and "(continued)", "(unaudited)" or "(in millions)" after
    it; a wrapped prose line ending in "... in our consolidated balance sheet.", a
    table of contents entry ("... for the years ended ... 60") or a label inside a
    table ("Consolidated Statement of Operations:") is not a title.
    A title in mixed case must say "statement", "consolidated" or "condensed"
    ("Balance Sheet" alone is more often a column header than a title).
    """
    line = line.strip()
    if not line or len(line) > 120 or line.endswith(":"):  # "Consolidated Statement of Operations:" labels a table part
        return None
    if line.endswith(".") and not line.isupper():
        return None  # the end of a wrapped sentence ("... in cost of sales in our Consolidated" / "Statements of Earnings.")
    variants = [line]
    if m := _CAPS_SUFFIX.search(line):
        variants.append(line[: m.start()])
    if m := _CAPS_PREFIX.match(line):
        variants += [v[m.end():] for v in list(variants)]
    for v in variants:
        c = collapse(v)
        if not c:
            continue
        for kind in KINDS:
            if _TITLE_LINE[kind].fullmatch(c) and (v.isupper() or re.search("statement|consolidated|condensed", c)):
                return kind
    return None


_PROSE = re.compile(r"^(?=(?:\S+\s+){11})(?=.*\b[a-z]{3,} [a-z]{3,} [a-z]{3,}\b)")  # 12+ words, a lower-case run


def page_statements(page_head: str) -> set[str]:
    """The statements titled in the first lines of a page, before any line of prose. A title in capitals may
    wrap onto a second line ("CONSOLIDATED STATEMENTS OF" / "CASH FLOWS"); mixed-case pairs are not joined,
    since a table's wrapped column header reads the same ("Amounts netted on the Consolidated" / "balance
    sheets")."""
    lines = [line.strip() for line in page_head[:HEAD_CHARS].split("\n")[:HEAD_LINES]]
    found = set()
    for i, line in enumerate(lines):
        if _PROSE.search(line):  # a title comes before the page's prose; after it, "Statement of Earnings" is a
            break  # column of a note's table ("Contract Type / Statement of Earnings / Location 2019 2018")
        wrapped = f"{line} {lines[i + 1]}" if i + 1 < len(lines) else ""
        for candidate in (line, wrapped if wrapped.isupper() else ""):
            kind = title_kind(candidate)
            if kind:
                found.add(kind)
    return found
