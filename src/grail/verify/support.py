"""Support: how well a passage backs one answer sentence, and citation repair.

A score in [0, 1] from what runs fast on a CPU: the share of the sentence's
content terms (crudely stemmed) found in the passage, and a hard gate on numbers: every quantity
the sentence states must appear in the passage after normalising scale, sign
and format ("$3.1 billion" = "3,100 million"; signs are ignored because statements
show outflows as "(370)"), and every
year it names must be there too; a sentence that fails the gate keeps 30% of
its score. The passage side is the chunk's ``index_text``: its text plus the
document title, section and table header it sits under, so "FY2018" can be
supported by a row under a "(Millions) 2018 2017 2016" header.

The decision: a cited passage that does not support its sentence is replaced
by the retrieved passage that does; a sentence no passage supports is not
shipped. The threshold (``support_threshold``, 0.95) was calibrated on 267 draft
sentences of the bundled SmolLM2-135M labelled by hand (bench/faithfulness_audit.py,
docs/benchmarks.md): no threshold reaches 95% precision, because a small model
recombines the passage's own words into false statements, and precision rises
with the threshold all the way up, so cross-validation picks the top of the grid.
Term coverage cannot see word order; that is the known limit of this check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from grail.quantities import Quantity, numbers_match, parse_quantities
from grail.records import AnswerSentence, Context
from grail.text_units import STOPWORDS, content_terms, split_sentences, strip_citations

ABSTAIN_PHRASES = ("documents do not say", "do not contain the answer", "cannot answer", "not mentioned",
                   "no information", "don't know", "do not know", "does not say", "not provided")
NUMBER_GATE = 0.3


@dataclass(frozen=True)
class Evidence:
    """A passage prepared once for scoring many sentences against it."""

    terms: frozenset[str]
    quantities: tuple[Quantity, ...]
    years: frozenset[int]

    @classmethod
    def of(cls, text: str) -> Evidence:
        qs = parse_quantities(text)
        years = {int(q.value) for q in qs if q.is_date and 1900 <= q.value <= 2100}
        years |= {int(t[-4:]) for t in _year_tokens(text)}
        return cls(frozenset(content_terms(text)), tuple(q for q in qs if not q.is_date), frozenset(years))


_YEAR_TOKEN = re.compile(r"(?<!\d)(?:FY|fy|Fiscal\s|fiscal\s)?'?((?:19|20)\d{2})(?!\d)")


def _year_tokens(text: str) -> list[str]:
    return _YEAR_TOKEN.findall(text)


def _same_magnitude(a: Quantity, b: Quantity) -> bool:
    """Scale-aware equality of absolute values: statements show outflows as "(1,577)"."""
    if a.is_percent != b.is_percent:
        return False
    if a.is_percent:
        return abs(abs(a.value) - abs(b.value)) <= 0.005 * max(abs(b.value), 1e-9)
    return numbers_match(abs(a.value), abs(b.value), rel_tol=0.005)


def numbers_supported(sentence: str, ev: Evidence) -> bool:
    return _numbers_in(parse_quantities(sentence), _year_tokens(sentence), ev)


def _numbers_in(quantities: Sequence[Quantity], year_tokens: Sequence[str], ev: Evidence) -> bool:
    for q in quantities:
        if q.is_date:
            if 1900 <= q.value <= 2100 and int(q.value) not in ev.years:
                return False
            continue
        if not any(_same_magnitude(q, p) for p in ev.quantities):
            return False
    for y in year_tokens:  # "FY2018" is a year, even glued
        if int(y[-4:]) not in ev.years:
            return False
    return True


def degenerate(sentence: str) -> bool:
    """Looping model output ("2018 2017 2016 2018 2018 ..."): few distinct words among many."""
    words = sentence.lower().split()
    return len(words) >= 10 and len(set(words)) / len(words) < 0.5


_WORDS = re.compile(r"[A-Za-z][A-Za-z'&\-]*")
_VERBS = frozenset("is was are were be been has have had will did does do".split())
# the lower-case words of a case caption ("U.S. ex rel. Gill et al. v. CVS Health Corp. et al."): it names
# a lawsuit as a title names a topic
_CAPTION_WORDS = frozenset("v vs ex rel et al".split())


def is_title(sentence: str) -> bool:
    """A title or caption line ("CONSOLIDATED BALANCE SHEETS", "Acme Widgets, Inc."): no value, no verb
    among the common ones, every other word but function words capitalised. It names a topic."""
    if any(not q.is_date for q in parse_quantities(sentence)):
        return False  # "Total Net Sales $ 1,234" is a table row with a value
    return _title_words(sentence)


def _title_words(sentence: str) -> bool:
    """``is_title`` without the value check (for callers that parsed the sentence's quantities already)."""
    tokens = _WORDS.findall(sentence)
    if any(t.lower() in _VERBS for t in tokens):
        return False  # "The Eleventh Doctor was in Project: Lazarus." says something
    words = [w for w in tokens if w.lower() not in STOPWORDS and w not in _CAPTION_WORDS]
    return len(words) >= 2 and all(w[0].isupper() for w in words)


def not_a_claim(sentence: str, terms: Sequence[str]) -> bool:
    """Too little to check: a list marker ("1."), a lead-in ("The document states:"), one bare word,
    a title line, or a parenthetical on its own ("(in millions, except per share data)")."""
    stripped = sentence.strip().rstrip(".")
    if stripped.endswith(":") or (stripped.startswith("(") and stripped.endswith(")")):
        return True
    quantities = [q for q in parse_quantities(sentence) if not q.is_date]
    if not quantities and _title_words(sentence):
        return True
    return len(set(terms)) < 2 and not (terms and quantities)


_POINTER = re.compile(r"(?i)^(?:\(?[a-z0-9]{1,2}\)\s*)?(?:refer\s+to|see)\b"
                      r"|^for\s+(?:a\s+)?(?:further\s+|additional\s+|more\s+)?(?:discussion|information|details?)\b"
                      r"[^.]*?,?\s+(?:see|refer\s+to)\b"  # "For discussion on ... see the Company's Annual Report"
                      r"|^(?:further\s+|additional\s+|more\s+)?(?:details?|information|discussion)\b[^.]*?"
                      r"\b(?:can|may|will)\s+be\s+found\b")  # "Further details ... can be found under ..."
_UNIT_LEGEND = re.compile(r"(?i)\bin\s+(?:millions|thousands|billions)\s*(?:[,;)]|$|except\b)|\bexcept\s+per[\s-]share\b"
                          r"|(?:US)?[$€£]\s*(?:millions?|billions?|thousands?|m|bn)\b")  # a column header's "$ million"


def unit_legend(sentence: str) -> bool:
    """A table's unit line with no value in it: "(Dollars in millions, except per share amount) 2018 2017",
    "Consolidated Balance Sheets $ in millions, except per share and share amounts", a column header
    "Adjusted non-GAAP results 2022 $ million 2023 $ million"."""
    return bool(_UNIT_LEGEND.search(sentence)) and all(q.is_date for q in parse_quantities(sentence))


# What every filing of a form says whatever the company: the cover page's check boxes ("Indicate by check
# mark whether the registrant ... Yes ☒ No ☐", "Emerging growth company ☐"), the officers' Sarbanes-Oxley
# certification ("I have reviewed this annual report on Form 10-K of ...") and the safe-harbour legend
# ("... contains forward-looking statements within the meaning of the Private Securities Litigation Reform
# Act"). They say nothing about the business a question asks about.
_BOILERPLATE = re.compile(
    r"(?i)[☐☒]|\bcheck\s+mark\b"  # "Indicate by check mark whether ..."
    r"|\bI\s+have\s+reviewed\s+this\s+(?:annual|quarterly|transition)?\s*report\b"
    r"|\bbased\s+on\s+my\s+knowledge,\s+this\s+report\b|\bother\s+certifying\s+officer"
    r"|\bforward-looking\s+statements?\b[^.]*\bwithin\s+the\s+meaning\b|\bsafe\s+harbou?r\s+provisions?\b")


def form_boilerplate(sentence: str) -> bool:
    """A filing form's fixed text (``_BOILERPLATE``): a cover check box, a certification, a safe-harbour legend."""
    return bool(_BOILERPLATE.search(sentence))


def _after_titles(sentence: str) -> str:
    """The sentence without the title lines it begins with ("Results of Operations / Analysis of Consolidated
    Sales / For discussion ... see ..." -> "For discussion ... see ...")."""
    lines = sentence.split("\n")
    while len(lines) > 1 and is_title(lines[0]):
        lines = lines[1:]
    return "\n".join(lines).strip()


def _pointer(sentence: str) -> bool:
    """A pointer elsewhere (``_POINTER``), after any title lines it begins with; the titles are only read
    when the sentence says "see" or "refer" at all (``quotable`` runs on every sentence of every source)."""
    if _POINTER.match(sentence):
        return True
    low = sentence.lower()
    return ("see" in low or "refer" in low) and bool(_POINTER.match(_after_titles(sentence)))


def quotable(sentence: str) -> bool:
    """Whether a source sentence can stand as an answer by itself: not a heading ("# ..."), a title line,
    a lead-in or a fragment (``not_a_claim``), nor a pointer elsewhere ("(b) Refer to Business Segment
    Results on page 18", "See accompanying notes"), nor a table's unit legend (``unit_legend``), nor a
    form's fixed text (``form_boilerplate``). The extractive ranker and quote decoding both ask this."""
    stripped = sentence.strip()
    return (len(stripped) >= 3 and not stripped.startswith("#") and not _pointer(stripped)
            and not unit_legend(stripped) and not heading_lines(stripped) and not form_boilerplate(stripped)
            and not not_a_claim(stripped, content_terms(stripped)))


def heading_lines(sentence: str) -> bool:
    """Short lines stacked with no full stop and no value: a page's heading block ("Amcor plc and
    Subsidiaries / Consolidated Balance Sheets"), not a sentence that says something."""
    lines = [ln.strip() for ln in sentence.splitlines() if ln.strip()]
    return (len(lines) >= 2 and all(len(ln) <= 60 and ln[-1] not in ".!?;" for ln in lines)
            and all(q.is_date for q in parse_quantities(sentence)))


def quotable_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each ``quotable`` sentence of a passage; not the first when the passage begins inside a
    sentence (a chunk cut mid-sentence starts "of securities of the Company representing ...": a tail)."""
    spans = split_sentences(text)
    if spans and text[spans[0][0]].islower():
        spans = spans[1:]
    return [(s, e) for s, e in spans if quotable(text[s:e])]


def support_scores(sentence: str, passages: Sequence[str | Evidence]) -> list[float]:
    """The sentence's support by each passage; what depends on the sentence alone is read once."""
    if degenerate(sentence):
        return [0.0] * len(passages)
    terms = content_terms(sentence)
    if not_a_claim(sentence, terms):
        return [0.0] * len(passages)
    quantities, year_tokens = parse_quantities(sentence), _year_tokens(sentence)
    out = []
    for passage in passages:
        ev = passage if isinstance(passage, Evidence) else Evidence.of(passage)
        score = sum(t in ev.terms for t in terms) / len(terms)
        if not _numbers_in(quantities, year_tokens, ev):
            score *= NUMBER_GATE
        out.append(score)
    return out


def support_score(sentence: str, passage: str | Evidence) -> float:
    return support_scores(sentence, [passage])[0]


@dataclass(frozen=True)
class Verified:
    sentences: tuple[AnswerSentence, ...]
    said_unknown: bool  # the model itself said the documents do not answer
    repaired: int  # citations re-pointed to a better passage
    best: tuple[tuple[int, float], ...] = ()  # per sentence: (1-based source, score) of its best support anywhere


def verify_draft(draft: str, context: Context, *, threshold: float) -> Verified:
    evidence = [Evidence.of(h.chunk.index_text or h.chunk.text) for h in context.sources]
    out: list[AnswerSentence] = []
    repaired = 0
    said_unknown = False
    bests: list[tuple[int, float]] = []
    parts: list[tuple[str, list[int]]] = []
    for s, e in split_sentences(draft):
        text, cited = strip_citations(draft[s:e])
        if not text and cited and parts:  # "... 5 years. [1]": the marker after the full stop cites that sentence
            parts[-1][1].extend(cited)
            continue
        parts.append((text, list(cited)))
    for text, cited in parts:
        if not text or not any(ch.isalnum() for ch in text):
            continue
        if any(p in text.lower() for p in ABSTAIN_PHRASES):
            said_unknown = True
            continue
        valid = [n for n in dict.fromkeys(cited) if 1 <= n <= len(evidence)]
        scores = support_scores(text, evidence)
        best = max(range(len(scores)), key=scores.__getitem__) if scores else -1
        cited_best = max((scores[n - 1] for n in valid), default=0.0)
        bests.append((best + 1, round(scores[best], 4)) if best >= 0 else (0, 0.0))
        if valid and cited_best >= threshold:
            keep = tuple(n for n in valid if scores[n - 1] >= threshold)
            out.append(AnswerSentence(text, keep, cited_best, True, tuple(valid)))
        elif best >= 0 and scores[best] >= threshold:
            repaired += 1
            out.append(AnswerSentence(text, (best + 1,), scores[best], True, tuple(valid)))
        else:
            out.append(AnswerSentence(text, tuple(valid), max(cited_best, scores[best] if best >= 0 else 0.0), False,
                                      tuple(valid)))
    return Verified(tuple(out), said_unknown, repaired, tuple(bests))


def render(sentences: Sequence[AnswerSentence]) -> str:
    parts = []
    for s in sentences:
        if s.supported:
            marks = "".join(f"[{n}]" for n in s.citations)
            parts.append(f"{s.text} {marks}".strip())
    return " ".join(parts)
