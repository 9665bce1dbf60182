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

Numbers are parsed and matched by ``grail.quantities`` (scale-, sign- and
percent-aware).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from grail.eval.squad import f1_score, normalize_answer
from grail.quantities import Quantity, numbers_match, parse_numbers, parse_quantities, quantities_match

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
class AnswerJudgement:
    correct: bool
    method: str  # "number" | "polarity" | "polarity+number" | "token_f1" | "empty"
    detail: str = ""


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
