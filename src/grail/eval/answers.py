"""Answer correctness for financial QA (FinanceBench, TAT-QA): numbers first, words second.

A gold answer such as "$1577.00" (USD millions), "1.9%" or "AMCOR's Adj.
EBITDA was $2,018mn in FY 2023" is judged by its **principal number**; other
golds by yes/no polarity or by SQuAD token F1. The rules, in order:

1. **Polarity.** A gold that opens with "Yes"/"No" followed by punctuation
   ("No, ...", "Yes.") needs a prediction that opens the same way. Then, if the
   rest of the gold has a principal number, that number must match as in 2;
   otherwise agreeing polarity is enough.
2. **Principal number.** The gold's first sentence (after any yes/no) holding
   exactly one quantity that is not a date makes the gold numeric. A bare-year
   gold ("2019") is numeric too and must be matched exactly. The prediction is
   correct when one of its *candidate* numbers matches (``quantities_match``).
   Candidates, to stop a list of numbers from scoring by luck: all the
   prediction's non-date quantities when there are at most 3, otherwise only
   the first 3 of its first sentence.
3. **Words.** Anything else (several numbers, none, a name) is correct when
   SQuAD-normalised token F1 against the whole gold is >= 0.5.

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
from collections.abc import Sequence
from dataclasses import dataclass

from grail.eval.squad import f1_score, normalize_answer

__all__ = [
    "AnswerJudgement",
    "Quantity",
    "answer_correct",
    "first_sentence",
    "judge_answer",
    "numbers_match",
    "parse_numbers",
    "parse_quantities",
    "principal_number",
    "quantities_match",
    "scaled_answer_text",
    "token_f1",
]

# A prediction with more numbers is judged on its first sentence's first 3.
MAX_CANDIDATES = 3
F1_THRESHOLD = 0.5

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
_POLARITY = re.compile(
    r"^\W*(yes|no)(?=\s*[,.;:!\-—–]|\s*$)[\s,.;:!\-—–]*", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")
_ABBREVIATIONS = frozenset(
    {
        "inc", "corp", "co", "ltd", "llc", "plc", "adj", "approx", "vs", "mr",
        "mrs", "ms", "dr", "jr", "sr", "st", "fig", "est", "avg", "yr",
        "yrs", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
        "oct", "nov", "dec", "e.g", "i.e", "u.s", "u.k", "etc",
    }
)  # fmt: skip


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


@dataclass(frozen=True)
class AnswerJudgement:
    correct: bool
    method: str  # "number" | "polarity" | "polarity+number" | "token_f1" | "empty"
    detail: str = ""


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


def first_sentence(text: str) -> str:
    """Text up to the first sentence end or line break (common abbreviations don't end one)."""
    text = text.strip()
    for m in _SENTENCE_END.finditer(text):
        if m.group() == "\n":
            return text[: m.start()].strip()
        word = re.search(r"(\S+)$", text[: m.start()])
        w = word.group(1).lower().lstrip("(\"'") if word else ""
        if w in _ABBREVIATIONS or (len(w) == 1 and w.isalpha()):
            continue
        return text[: m.end()].strip()
    return text


def _split_polarity(text: str) -> tuple[str | None, str]:
    m = _POLARITY.match(text)
    if not m:
        return None, text
    return m.group(1).lower(), text[m.end() :]


def principal_number(gold: str) -> Quantity | None:
    """The gold's one non-date quantity in its first sentence, a bare year, or None."""
    _, rest = _split_polarity(gold)
    quantities = [q for q in parse_quantities(first_sentence(rest)) if not q.is_date]
    if len(quantities) == 1:
        return quantities[0]
    if not quantities:
        whole = parse_quantities(rest.strip())
        if (
            len(whole) == 1
            and whole[0].is_date
            and normalize_answer(rest) == whole[0].text
        ):
            return whole[0]
    return None


def _candidates(prediction: str, include_dates: bool) -> list[Quantity]:
    def keep(qs: list[Quantity]) -> list[Quantity]:
        return [q for q in qs if include_dates or not q.is_date]

    everything = keep(parse_quantities(prediction))
    if len(everything) <= MAX_CANDIDATES:
        return everything
    return keep(parse_quantities(first_sentence(prediction)))[:MAX_CANDIDATES]


def _number_found(prediction: str, gold: Quantity, rel_tol: float) -> tuple[bool, str]:
    candidates = _candidates(prediction, include_dates=gold.is_date)
    shown = ", ".join(q.text for q in candidates) or "none"
    hit = any(quantities_match(q, gold, rel_tol) for q in candidates)
    return hit, f"gold {gold.text!r}; prediction numbers: {shown}"


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token F1 (official normalisation) between a prediction and one gold answer."""
    return f1_score(prediction, gold)


def judge_answer(prediction: str, gold: str, rel_tol: float = 0.01) -> AnswerJudgement:
    """Judge one prediction against one gold answer, saying which rule decided."""
    if not gold.strip():
        raise ValueError("The gold answer is empty; an empty gold cannot be judged.")
    if not prediction.strip():
        return AnswerJudgement(False, "empty", "no prediction")
    gold_polarity, _ = _split_polarity(gold)
    principal = principal_number(gold)
    if gold_polarity is not None:
        pred_polarity, pred_rest = _split_polarity(prediction)
        if pred_polarity != gold_polarity:
            return AnswerJudgement(
                False,
                "polarity",
                f"gold {gold_polarity!r}, prediction {pred_polarity!r}",
            )
        if principal is None:
            return AnswerJudgement(True, "polarity", f"both {gold_polarity!r}")
        hit, detail = _number_found(pred_rest, principal, rel_tol)
        return AnswerJudgement(hit, "polarity+number", detail)
    if principal is not None:
        hit, detail = _number_found(prediction, principal, rel_tol)
        return AnswerJudgement(hit, "number", detail)
    f1 = token_f1(prediction, gold)
    return AnswerJudgement(f1 >= F1_THRESHOLD, "token_f1", f"F1 {f1:.3f}")


def answer_correct(prediction: str, gold: str, rel_tol: float = 0.01) -> bool:
    """True when ``prediction`` answers ``gold`` (see the module docstring for the rules)."""
    return judge_answer(prediction, gold, rel_tol).correct


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def scaled_answer_text(answer: str | float | Sequence[str], scale: str) -> str:
    """A TAT-QA gold (answer + ``scale``) as one text: (-12.6, "million") -> "-12.6 million".

    ``scale`` "percent" appends "%"; "thousand"/"million"/"billion" append the
    word. Only items that are bare numbers get the scale; multi-span answers are
    joined with "; ".
    """
    if isinstance(answer, (list, tuple)):
        return "; ".join(
            scaled_answer_text(item, scale) for item in answer if str(item).strip()
        )
    text = (
        _format_number(answer)
        if isinstance(answer, (int, float))
        else str(answer).strip()
    )
    quantities = parse_quantities(text)
    if not scale or len(quantities) != 1 or quantities[0].text != text.strip():
        return text
    if quantities[0].is_percent or quantities[0].text.endswith(")"):
        return text
    return f"{text}%" if scale == "percent" else f"{text} {scale}"
