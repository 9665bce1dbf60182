"""Financial statements a question names, and the pages that hold them.

An analyst writes "... shown in the balance sheet" or "using the cash flow
statement and the income statement": the answer is a row of that statement,
and the statement is one titled page of the filing ("CONSOLIDATED BALANCE
SHEETS", "Consolidated Statements of Operations"). Passages of the notes and
of the MD&A use the same words and outrank the statement itself (a table of
numbers has few words to match). The decision: when a question names a
statement and the search is narrowed to some documents, the titled pages of
that statement in those documents come first, ordered by their own retrieval
rank; nothing is added that retrieval did not find, and a question that names
no statement is not touched.

Titles are read from the first lines of each page, so an existing index needs
no re-ingest. Only the three primary statements are recognised, under the
names SEC filings and IFRS reports use for them; a bare "cash flow" is a
metric, not a statement, and is not routed.
"""

from __future__ import annotations

import re

from grail.text_units import collapse

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


def page_statements(page_head: str) -> set[str]:
    """The statements titled in the first lines of a page. A title in capitals may wrap onto a second
    line ("CONSOLIDATED STATEMENTS OF" / "CASH FLOWS"); mixed-case pairs are not joined, since a table's
    wrapped column header reads the same ("Amounts netted on the Consolidated" / "balance sheets")."""
    lines = [line.strip() for line in page_head[:HEAD_CHARS].split("\n")[:HEAD_LINES]]
    found = set()
    for i, line in enumerate(lines):
        wrapped = f"{line} {lines[i + 1]}" if i + 1 < len(lines) else ""
        for candidate in (line, wrapped if wrapped.isupper() else ""):
            kind = title_kind(candidate)
            if kind:
                found.add(kind)
    return found
