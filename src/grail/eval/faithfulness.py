"""Faithfulness and citation accuracy of answers, before and after verification.

The judge here is a lexical proxy kept apart from grail's verifier
(``verify/support.py``): it reads only the passages a sentence *cites* (the
verifier searches every packed passage and may move a citation, and reads the
passage's title and section too), wants ``JUDGE_TERMS`` (90%) of the
sentence's content words in that passage, and every number in it with the same
value (scale-normalised, so "$3.1 billion" = "3,100 million").

It is not an independent truth: like the verifier it counts words, so a
sentence that recombines a passage's words into a false statement passes both.
Against 267 draft sentences labelled by hand (``bench/faithfulness_audit.py``)
it agreed 85% of the time but was right only 42% of the times it said
"faithful"; docs/benchmarks.md reports the hand-labelled numbers as the
reference and this judge's as the cheap, reproducible proxy.

Measured per answer (from the ``Answer`` record and its context trace):
before = every draft sentence with the citations the model wrote;
after = the shipped sentences with their (possibly repaired) citations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grail.quantities import numbers_match, parse_quantities
from grail.records import Answer
from grail.text_units import content_terms

JUDGE_TERMS = 0.9
# said by the number itself, which is checked scale-aware: "$3.1 billion" vs "3,100 million"
_SCALE = {"thousand", "million", "billion", "trillion", "percent", "dollar", "usd", "mn", "bn"}


def _terms(text: str) -> list[str]:
    return [t for t in content_terms(text) if t not in _SCALE]


def judge(sentence: str, passage: str) -> bool:
    """Is ``sentence`` stated by ``passage`` (near-literally, numbers exactly)?"""
    terms = _terms(sentence)
    quantities = [q for q in parse_quantities(sentence) if not q.is_date]
    if not terms and not quantities:
        return False
    have = set(_terms(passage))
    if terms and sum(t in have for t in terms) / len(terms) < JUDGE_TERMS:
        return False
    found = [q for q in parse_quantities(passage) if not q.is_date]
    for q in quantities:
        if not any(q.is_percent == p.is_percent and numbers_match(abs(q.value), abs(p.value), rel_tol=0.005)
                   for p in found):
            return False
    dates = {int(q.value) for q in parse_quantities(sentence) if q.is_date}
    return all(str(y) in passage for y in dates)


def sources_of(answer: Answer) -> dict[int, dict[str, Any]]:
    """Context source number -> {path, page, text}, from the answer's context trace."""
    for stage in answer.trace.stages:
        if stage.name == "context":
            return {int(s["n"]): s for s in stage.data.get("sources", [])}
    return {}


def sentence_details(answer: Answer) -> dict[str, Any]:
    """Every draft sentence with both judgements and the verifier's view, plus the passages they point to."""
    src = sources_of(answer)
    verify = next((st.data for st in answer.trace.stages if st.name == "verify"), {})
    # extractive answers have no verify stage: each quote's best source is the one it cites
    best = verify.get("best_support") or [[s.citations[0] if s.citations else 0, s.support]
                                          for s in answer.sentences]
    rows, used = [], set()
    for s, (best_n, best_score) in zip(answer.sentences, best):
        rows.append({"text": s.text, "draft_citations": list(s.draft_citations), "citations": list(s.citations),
                     "supported": s.supported, "support": round(s.support, 4), "best_source": best_n,
                     "best_support": best_score,
                     "judge_before": any(judge(s.text, src[n]["text"]) for n in s.draft_citations if n in src),
                     "judge_after": s.supported and any(judge(s.text, src[n]["text"]) for n in s.citations if n in src),
                     "judge_anywhere": any(judge(s.text, v["text"]) for v in src.values())})
        used |= {*s.draft_citations, *s.citations, best_n}
    return {"sentences": rows, "passages": {str(n): src[n]["text"] for n in sorted(used) if n in src}}


@dataclass
class AnswerAudit:
    draft_sentences: int = 0
    draft_faithful: int = 0
    shipped_sentences: int = 0
    shipped_faithful: int = 0
    kept_faithful: int = 0  # faithful before verification and still shipped after
    draft_supported_anywhere: int = 0  # the judge finds some packed passage stating the sentence
    kept_supported_anywhere: int = 0  # ... and the verifier shipped it
    verifier_supported: int = 0
    draft_citations: int = 0
    draft_citations_on_gold: int = 0
    shipped_citations: int = 0
    shipped_citations_on_gold: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def audit_answer(answer: Answer, on_gold: Callable[[dict[str, Any]], bool],
                 details: dict[str, Any] | None = None) -> AnswerAudit:
    """Count the judgements of ``sentence_details`` (pass it in when already computed: judging is the costly part);
    ``on_gold(source)`` says whether a cited source holds the gold evidence."""
    a = AnswerAudit()
    if answer.abstained and not answer.sentences:
        return a
    rows = (details or sentence_details(answer))["sentences"]
    src = sources_of(answer)
    draft_cited: set[int] = set()
    shipped_cited: set[int] = set()
    for s, row in zip(answer.sentences, rows):
        a.draft_sentences += 1
        a.draft_faithful += row["judge_before"]
        a.draft_supported_anywhere += row["judge_anywhere"]
        a.verifier_supported += s.supported
        draft_cited |= {n for n in s.draft_citations if n in src}
        if s.supported and not answer.abstained:
            a.shipped_sentences += 1
            a.shipped_faithful += row["judge_after"]
            a.kept_faithful += row["judge_before"]
            a.kept_supported_anywhere += row["judge_anywhere"]
            shipped_cited |= {n for n in s.citations if n in src}
    a.draft_citations = len(draft_cited)
    a.draft_citations_on_gold = sum(on_gold(src[n]) for n in draft_cited)
    a.shipped_citations = len(shipped_cited)
    a.shipped_citations_on_gold = sum(on_gold(src[n]) for n in shipped_cited)
    return a


def summarize(audits: list[AnswerAudit]) -> dict[str, Any]:
    t = AnswerAudit()
    for a in audits:
        for k, v in a.__dict__.items():
            setattr(t, k, getattr(t, k) + v)

    def share(n: int, d: int) -> float | None:
        return round(n / d, 4) if d else None

    return {
        "faithfulness_before": share(t.draft_faithful, t.draft_sentences),
        "faithfulness_after": share(t.shipped_faithful, t.shipped_sentences),
        "kept_of_faithful": share(t.kept_faithful, t.draft_faithful),
        # models that cite nothing have no "faithful before"; this is the recall that still means something
        "kept_of_supported_anywhere": share(t.kept_supported_anywhere, t.draft_supported_anywhere),
        "verifier_supported_share": share(t.verifier_supported, t.draft_sentences),
        "citation_accuracy_before": share(t.draft_citations_on_gold, t.draft_citations),
        "citation_accuracy_after": share(t.shipped_citations_on_gold, t.shipped_citations),
        "counts": t.as_dict(),
    }
