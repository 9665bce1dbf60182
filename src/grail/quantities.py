"""Quantities in text: parse "$3.1 billion", "(370)", "4.5%" and compare them across scales.

Shared by answer verification (every number an answer states must be in its
source) and answer evaluation (is the predicted number the gold one).

Number parsing (``parse_quantities``): "$1,577.00" -> 1577; "(370)" or
"($1,577)" -> negative (accounting parentheses around a bare number; "(3.4)%"
too, but "(3.4%)" or "($1.8 bn)" are parentheticals and stay positive);
"-3.5%", "−3.5", "negative 3.5", "minus 3.5" -> negative (but "- 5" opening
a line is a list bullet); scale words and
suffixes multiply: thousand/million/billion/trillion (also plural), bn, mn,
mm, tn, and glued k/m/b only after a currency sign ("$3.1B", "-$1561M") so
that "3M" or "10K" stay labels; "2.7x" is 2.7. A percentage keeps its percent
value with ``is_percent`` set ("3.5%" -> 3.5; ``Quantity.fraction`` gives
0.035). Numbers glued to letters ("FY2022", "Q2", "COVID-19") are labels, not
quantities. Integers 1900-2100 without currency, sign, decimals, commas,
percent or scale, and days after a month name ("August 30"), are flagged
``is_date``: dates, not quantities.

Matching: signs must agree. Non-percent numbers match when a / b is within
``rel_tol`` (1%) of 1000^k for an integer k in -3..3, so 1577 (millions) and
"$1.577 billion" or "1,577,000,000" all match, while 1.6 billion does not. A
percent gold matches a percent (or a bare number) of the same percent value,
never a fraction: 1.9% matches "1.9%" or "1.9", not "0.019". A percent
prediction never matches a non-percent gold.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_SCALES = {
    "thousand": 1e3, "thousands": 1e3, "k": 1e3,
    "million": 1e6, "millions": 1e6, "mn": 1e6, "mm": 1e6, "m": 1e6,
    "billion": 1e9, "billions": 1e9, "bn": 1e9, "b": 1e9,
    "trillion": 1e12, "trillions": 1e12, "tn": 1e12,
}  # fmt: skip
_GLUED_NEEDS_CURRENCY = {"k", "m", "b"}

_QUANTITY = re.compile(
    r"""
    (?<![\w.,$€£%\-−–])                      # not glued to a word, a number or a sign
    (?P<sign>[-−–]\s?)?
    (?P<cur>US\$|\$|€|£|USD\s?)?\s?
    (?P<sign2>[-−])?
    (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    (?!\d)
    (?P<pct>\s?%|\s(?:percentage\s+points?|percent|per\s+cent|pct)\b)?
    (?P<scale>\s(?:thousand|million|billion|trillion)s?\b|\s?(?:bn|mn|mm|tn)\b)?
    (?P<suffix>[A-Za-z]+)?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_MONTH_BEFORE = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s$",
    re.IGNORECASE,
)
_NEGATIVE_WORD = re.compile(r"\b(?:negative|minus)\s+$", re.IGNORECASE)
@dataclass(frozen=True)
class Quantity:
    value: float  # signed, scale applied; a percentage keeps its percent value (3.5% -> 3.5)
    is_percent: bool
    is_date: (
        bool  # a year (1900-2100) or a day after a month name: a date, not a quantity
    )
    text: str  # the matched source text
    start: int
    end: int

    @property
    def fraction(self) -> float:
        """The value as a fraction: 3.5% -> 0.035; non-percentages unchanged."""
        return self.value / 100.0 if self.is_percent else self.value


def parse_quantities(text: str) -> list[Quantity]:
    """Every quantity in ``text``, in order (see the module docstring for the rules)."""
    out: list[Quantity] = []
    for m in _QUANTITY.finditer(text):
        suffix = (m.group("suffix") or "").lower()
        scale = 1.0
        if m.group("scale"):
            scale = _SCALES[m.group("scale").strip().lower()]
        elif suffix:
            if (
                suffix in _GLUED_NEEDS_CURRENCY
                and m.group("cur")
                and not m.group("pct")
            ):
                scale = _SCALES[suffix]
            elif suffix == "x" and not m.group("pct"):
                pass  # "2.7x" = 2.7 times
            elif (
                suffix in _SCALES
                and suffix not in _GLUED_NEEDS_CURRENCY
                and not m.group("pct")
            ):
                scale = _SCALES[suffix]  # "1.8bn", "2,018mn"
            else:
                continue  # a label such as "3M", "10K", "1st"
        number = m.group("num")
        value = float(number.replace(",", "")) * scale
        sign = m.group("sign") or ""
        line_start = not text[: m.start()].split("\n")[-1].strip()
        if sign.endswith((" ", "\t")) and line_start:
            sign = ""  # "- 5 stores": a list bullet, not a minus
        negative = bool(sign or m.group("sign2"))
        is_percent = bool(m.group("pct"))
        end = m.end()
        before = text[: m.start()]
        stripped_before = before.rstrip()
        start = m.start()
        if stripped_before.endswith("(") and not m.group("scale") and not is_percent:
            close = re.match(r"\s?\)(?:\s?%)?", text[end:])
            if close:  # "(370)", "($1,577)", "(3.4)%"
                negative = True
                is_percent = close.group().endswith("%")
                start = len(stripped_before) - 1
                end += close.end()
        if not negative and _NEGATIVE_WORD.search(before):
            negative = True
        if negative:
            value = -value
        plain_integer = number.isdigit() and not (
            m.group("cur") or negative or is_percent or scale != 1.0 or suffix
        )
        is_date = plain_integer and (
            (len(number) == 4 and 1900 <= int(number) <= 2100)  # a year
            or (
                1 <= int(number) <= 31 and bool(_MONTH_BEFORE.search(before))
            )  # "August 30"
        )
        out.append(
            Quantity(value, is_percent, is_date, text[start:end].strip(), start, end)
        )
    return out


def parse_numbers(text: str) -> list[float]:
    """The values of ``parse_quantities(text)``: signed, scaled, percentages as percent."""
    return [q.value for q in parse_quantities(text)]


def numbers_match(a: float, b: float, rel_tol: float = 0.01) -> bool:
    """Same sign and a / b within ``rel_tol`` of 1000^k for some integer k in -3..3."""
    if a == b:
        return True
    if a == 0 or b == 0 or (a < 0) != (b < 0):
        return False
    return any(math.isclose(a, b * 1000.0**k, rel_tol=rel_tol) for k in range(-3, 4))


def quantities_match(
    prediction: Quantity, gold: Quantity, rel_tol: float = 0.01
) -> bool:
    """Whether a predicted quantity matches the gold one (percent-, sign- and scale-aware)."""
    if gold.is_date:
        return prediction.value == gold.value
    if gold.is_percent:
        bare = not re.search(r"[$€£]|[A-Za-z]", prediction.text)
        if not (prediction.is_percent or bare):
            return False
        return prediction.value == gold.value or (
            (prediction.value < 0) == (gold.value < 0)
            and math.isclose(prediction.value, gold.value, rel_tol=rel_tol)
        )
    if prediction.is_percent:
        return False
    return numbers_match(prediction.value, gold.value, rel_tol)


