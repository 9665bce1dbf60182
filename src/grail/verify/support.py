"""Support: how well a passage backs one answer sentence, and citation repair.

Score in [0, 1] built from what runs fast on a CPU: the share of the
sentence's content terms found in the passage, and a hard check that every
number in the sentence appears in the passage (a sentence with a number the
passage lacks is scored down to 30%). The decision: a cited passage that does
not support its sentence is replaced by the retrieved passage that does; a
sentence no passage supports is not shipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grail.records import AnswerSentence, Context
from grail.text_units import content_terms, numbers, split_sentences, strip_citations

ABSTAIN_PHRASES = ("documents do not say", "do not contain the answer", "cannot answer", "not mentioned",
                   "no information", "don't know", "do not know")


def support_score(sentence: str, passage: str) -> float:
    terms = content_terms(sentence)
    sentence_numbers = numbers(sentence)
    if not terms and not sentence_numbers:
        return 0.0
    have = set(content_terms(passage))
    recall = sum(t in have for t in terms) / len(terms) if terms else 1.0
    if sentence_numbers:
        pnums = {n.lstrip("-") for n in numbers(passage)}
        if not all(n.lstrip("-") in pnums for n in sentence_numbers):
            recall *= 0.3
    return recall


@dataclass(frozen=True)
class Verified:
    sentences: tuple[AnswerSentence, ...]
    said_unknown: bool  # the model itself said the documents do not answer
    repaired: int  # citations re-pointed to a better passage


def verify_draft(draft: str, context: Context, *, threshold: float) -> Verified:
    passages = [h.chunk.text for h in context.sources]
    out: list[AnswerSentence] = []
    repaired = 0
    said_unknown = False
    for s, e in split_sentences(draft):
        raw = draft[s:e]
        text, cited = strip_citations(raw)
        if not text:
            continue
        if any(p in text.lower() for p in ABSTAIN_PHRASES):
            said_unknown = True
            continue
        valid = [n for n in dict.fromkeys(cited) if 1 <= n <= len(passages)]
        scores = [support_score(text, p) for p in passages]
        best = max(range(len(scores)), key=scores.__getitem__) if scores else -1
        cited_best = max((scores[n - 1] for n in valid), default=0.0)
        if valid and cited_best >= threshold:
            keep = tuple(n for n in valid if scores[n - 1] >= threshold)
            out.append(AnswerSentence(text, keep, cited_best, True))
        elif best >= 0 and scores[best] >= threshold:
            repaired += 1
            out.append(AnswerSentence(text, (best + 1,), scores[best], True))
        else:
            out.append(AnswerSentence(text, tuple(valid), max(cited_best, scores[best] if best >= 0 else 0.0), False))
    return Verified(tuple(out), said_unknown, repaired)


def render(sentences: Sequence[AnswerSentence]) -> str:
    parts = []
    for s in sentences:
        if s.supported:
            marks = "".join(f"[{n}]" for n in s.citations)
            parts.append(f"{s.text} {marks}".strip())
    return " ".join(parts)
