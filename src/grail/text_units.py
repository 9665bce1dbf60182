"""Small text units shared by answering and verification: sentences, terms, numbers.

The decision: one definition of "sentence", "content term" and "number" for
the whole answer path, so the extractive answerer, the verifier and the
evaluation agree on what they count.
"""

from __future__ import annotations

import calendar
import re

# A sentence ends at a blank line (a paragraph's end), before a bulleted line, at . ! ? before a capital
# or digit, or at a line break unless the line ends mid-phrase (lowercase letter, comma, semicolon,
# hyphen): PDF text wraps prose lines, while table rows end in numbers.
# Function words carry no evidence and make OR-queries slow; BM25's IDF would
# give them near-zero weight anyway.
STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have how i if in "
    "into is it its of on or our so than that the their them then there these they this those to "
    "was were what when where which who whom why will with would you your".split()
)

# month names and their abbreviations ("sept" too) -> month number: dates in questions and cover pages
MONTHS = {name.lower(): i for names in (calendar.month_name, calendar.month_abbr) for i, name in enumerate(names) if name}
MONTHS["sept"] = 9

_SENT = re.compile(r"[ \t]*\n[ \t]*\n\s*|[ \t]*\n\s*(?=[•●▪◦■►])|(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9$])|(?<![a-z,;\-])[ \t]*\n\s*"
                   r"|[ \t]*\n\s*(?=[^\n]*[\d)%][ \t]*(?:\n|$))")  # a table row (ends in a number) is its own line
_TERM = re.compile(r"[a-z][a-z0-9\-]+|\d+(?:[.,]\d+)*")
_NUMBER = re.compile(r"(?<![\w.])[-(]?\$?\d[\d,]*(?:\.\d+)?\)?%?")
CITE = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")


# a full stop that ends an abbreviation, not a sentence, when the next sentence-like piece follows on the
# same line: a case caption ("U.S. ex rel. Gill et al. v. CVS Health Corp. et al. (U.S. District Court"),
# a title ("Dr. Smith"), a middle initial ("Richard A. Johnson"), a number sign ("No. 3"); not a form's
# letter ("Form 10-K. In 2022 ..."). Not "Inc." or "Co.": they end a company's name as often as a
# sentence ("... Best Buy Co., Inc. Shareholders' Equity" is a table's heading and its first line)
_ABBREVIATION = re.compile(r"(?:(?<![\w.\-])(?:v|vs|al|rel|Mr|Mrs|Ms|Dr|No|Nos|e\.g|i\.e|cf|U\.S|[A-Z])\.)$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of sentences or lines in ``text``, trimmed; a sentence is not cut after an
    abbreviation (``_ABBREVIATION``) on its line."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENT.finditer(text):
        if "\n" not in m.group() and _ABBREVIATION.search(text, max(pos, m.start() - 8), m.start()):
            continue  # the piece after it is the same sentence: keep reading
        _add(text, pos, m.start(), spans)
        pos = m.end()
    _add(text, pos, len(text), spans)
    return spans


def _add(text: str, s: int, e: int, out: list[tuple[int, int]]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append((s, e))


def stem(word: str) -> str:
    """A crude, fast stem that maps singular and plural to one form.

    "expenditures" and "expenditure" -> "expenditur"; "companies" and "company" -> "compani";
    "reported" and "reporting" -> "report". Only the final e/y/s/ed/ing/ly is touched, so
    related words meet without a dictionary.
    """
    w = word
    for suf in ("ations", "ation", "ings", "ing", "ed", "ly"):
        if len(w) > len(suf) + 3 and w.endswith(suf):
            w = w[: -len(suf)]
            break
    else:
        if len(w) > 4 and w.endswith("ies"):
            w = w[:-3] + "i"
        elif len(w) > 4 and w.endswith(("sses", "shes", "ches", "xes", "zes")):
            w = w[:-2]
        elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
            w = w[:-1]
    if len(w) > 3 and w.endswith("y"):
        w = w[:-1] + "i"
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


_FISCAL_YEAR = re.compile(r"fy\d{2,4}")


def collapse(text: str) -> str:
    """Lowercase letters and digits only: "J&J" -> "jj", "Balance Shee t" -> "balancesheet"."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def content_terms(text: str) -> list[str]:
    """Stemmed words that carry meaning: no function words, no numbers, no "FY2018" (years are checked apart)."""
    return [stem(w) for w in _TERM.findall(text.lower())
            if w not in STOPWORDS and not w[0].isdigit() and not _FISCAL_YEAR.fullmatch(w)]


def numbers(text: str) -> list[str]:
    """Numbers as normalised strings: '$1,577.00' -> '1577', '(370)' -> '-370', '4.5%' -> '4.5%'."""
    out: list[str] = []
    for raw in _NUMBER.findall(text):
        neg = raw.startswith("-") or (raw.startswith("(") and raw.endswith(")"))
        pct = raw.endswith("%")
        digits = raw.strip("-()$%").replace(",", "")
        if not digits or not digits[0].isdigit():
            continue
        if "." in digits:
            digits = digits.rstrip("0").rstrip(".")
        if len(digits) == 4 and digits.startswith(("19", "20")) and not pct:
            out.append(digits)  # a year: sign and parentheses are not part of it
            continue
        out.append(("-" if neg else "") + digits + ("%" if pct else ""))
    return out


def strip_citations(text: str) -> tuple[str, list[int]]:
    cited: list[int] = []
    for m in CITE.finditer(text):
        cited.extend(int(x) for x in re.findall(r"\d+", m.group(1)))
    return CITE.sub("", text).strip(), cited
