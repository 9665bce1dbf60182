"""Extractive answering: no language model, just the best supporting sentences.

Every sentence (or table row) of the packed sources is a candidate, scored
by how much of the question it covers (IDF-weighted over the candidates) and
by its embedding similarity to the question; the question is read as the
evidence gate reads it, its sentence that asks (instructions around it are
not what the answer must say). When the question names a financial statement
and statement routing put that statement's pages among the sources, only its
rows are candidates; likewise the passages of a filing section routing put
first (what the company does, its legal proceedings); a page that reports only
a quarter is no candidate for a question about a year. The best one, plus a
close runner-up from the same passage, are returned verbatim with their [n] citations, so every word of the
answer is quoted from a document. The decision: it never paraphrases, so it
cannot hallucinate; below ``min_score`` it abstains.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from grail.embed import Embedder
from grail.records import Context
from grail.retrieve.query import asked_years
from grail.retrieve.statements import measure_rows
from grail.text_units import content_terms
from grail.verify.evidence import question_focus
from grail.verify.support import quotable_sentences


@dataclass(frozen=True)
class Extract:
    source: int  # 1-based source number
    text: str
    score: float


_IDENT = re.compile(r"(?<![\w.])\d+(?:[-./:]\d+)*(?![\w])")


def _terms(text: str) -> set[str]:
    """Content words plus identifiers made of digits ("1-2", "2018", "7.5"): a question's "site 1-2"
    must prefer the sentence about site 1-2."""
    return set(content_terms(text)) | set(_IDENT.findall(text))


def _candidates(context: Context, only: set[int] | None = None) -> list[tuple[int, str, set[str]]]:
    """(source number, sentence, its terms) for every quotable sentence of the sources (or of ``only``).
    A sentence's terms include those of the heading it sits under: "In fiscal 2022, we acquired all of the
    outstanding shares of Current Health" under "2. Acquisitions" is about acquisitions, as much as a
    sentence whose heading line the PDF ran into it ("Investing Activities The decrease in cash ...")."""
    out = []
    for n, hit in enumerate(context.sources, start=1):
        if only and n not in only:
            continue
        text = hit.chunk.text
        under = _terms(hit.chunk.heading_path[-1]) if hit.chunk.heading_path else set()
        for s, e in quotable_sentences(text):  # a heading, a title line or a lead-in does not answer
            out.append((n, text[s:e], _terms(text[s:e]) | under))
    return out


def rank_sentences(question: str, context: Context, embedder: Embedder, *, max_candidates: int = 40,
                   naming: str = "", quarter_docs: frozenset[str] = frozenset()) -> list[Extract]:
    """Every quotable sentence of the sources, best first. ``naming``: the question's words that name the
    company it is about ("Ulta Beauty", "JnJ"); its sources were narrowed to that company's filings, so
    those words are not what an answer must cover (a press release's headline names the company too).
    ``quarter_docs``: the quarterly reports of the quarter the question asks about
    (``EntityVocabulary.quarter_reports``); when a source is from one, only those sources are candidates:
    "between Q2 of FY2024 and FY2023" is answered by the Q2 10-Q, not by the annual report's outlook."""
    # the sentence that asks, not the instructions around it ("... by relying on the details shown
    # in the cash flow statement") whose words every row of that statement shares
    rows = measure_rows(question)
    question = question_focus(question)
    # a question that names a financial statement is answered from it: when statement routing put
    # that statement's pages among the sources, only their rows are candidates (if any can answer)
    statement = {n for n, hit in enumerate(context.sources, start=1) if "statement" in hit.ranks}
    # so is a question about a filing's section (what the company does, its lawsuits: ``retrieve/sections.py``)
    section = {n for n, hit in enumerate(context.sources, start=1) if "section" in hit.ranks}
    cands = (_candidates(context, statement or section) if statement or section else []) or _candidates(context)
    if quarter_docs:
        cands = [c for c in cands if context.sources[c[0] - 1].chunk.doc_id in quarter_docs] or cands
    # a fiscal year asked: a page whose columns report only a quarter does not answer it (retrieval put it
    # behind the rest, ``Retriever._interim_later``), however many of the question's words its title shares
    interim = {n for n, hit in enumerate(context.sources, start=1) if "interim" in hit.ranks}
    cands = [c for c in cands if c[0] not in interim] or cands
    if statement and rows:
        # no row says "quick ratio": the rows the measure is made of are what to quote
        question = f"{question} {rows}"
    # "FY2022" asks for 2022: a sentence "In fiscal 2022, we acquired ..." says it
    # "the Company" is how a filing names its filer: with the sources narrowed to one company's filings, a
    # question's "company" tells none of their sentences apart ("a high growth company" met "The Company
    # remains committed to ... high quality")
    q_terms = (_terms(question) | {str(y) for y in asked_years(question)}) - set(content_terms(naming))
    if naming:
        q_terms -= set(content_terms("company companies"))
    if not cands:
        return []
    df: dict[str, int] = {}
    for _, _, terms in cands:
        for t in terms & q_terms:
            df[t] = df.get(t, 0) + 1
    idf = {t: math.log(1 + len(cands) / (1 + df.get(t, 0))) for t in q_terms}
    total = sum(idf.values()) or 1.0
    lexical = [sum(idf[t] for t in terms & q_terms) / total for _, _, terms in cands]
    # retrieval's own confidence is a prior: a sentence from the best-ranked passage gets +0.1
    by_score = sorted(range(len(context.sources)), key=lambda j: -context.sources[j].score)
    prior = {j + 1: 0.1 * (1 - r / max(len(by_score), 1)) for r, j in enumerate(by_score)}
    order = sorted(range(len(cands)), key=lambda i: -lexical[i])[:max_candidates]
    vecs = embedder.embed([question] + [cands[i][1] for i in order])
    sims = vecs[1:] @ vecs[0]
    out = [Extract(cands[i][0], cands[i][1],
                   0.45 * lexical[i] + 0.45 * float(max(sims[j], 0.0)) + prior[cands[i][0]])
           for j, i in enumerate(order)]
    return sorted(out, key=lambda x: -x.score)


# what drove a change, as analysts ask it; not every "why" (SQuAD's "why" questions are answered as often
# without a causal phrase: restricting them to causal sentences lost two of three citations)
_WHY = re.compile(r"(?i)\bwhat\s+(?:drove|drives|caused|explains?|led\s+to)\b|\bdrivers?\s+(?:of|behind)\b"
                  r"|\breasons?\s+(?:for|behind)\b")
_CAUSE = re.compile(r"(?i)\b(?:due\s+to|driven\s+by|because|as\s+a\s+result\s+of|attributable\s+to|reflect(?:s|ed|ing)?"
                    r"|primarily\s+(?:by|from|as)|offset\s+by|led\s+by|result(?:ed|ing)\s+from|owing\s+to|caused\s+by)\b")


def extractive_answer(question: str, context: Context, embedder: Embedder, *, max_sentences: int = 2,
                      keep_ratio: float = 0.9, naming: str = "",
                      quarter_docs: frozenset[str] = frozenset()) -> tuple[list[Extract], list[Extract]]:
    """(picked, ranked): the best sentence plus close runners-up, and every scored candidate.

    Runners-up come from the best sentence's own source only: on 300 SQuAD dev
    questions a second quoted passage held the answer 7 times in 28, even when
    it had to cover a question term the first did not, while the first cited
    passage held it 258 times in 280.
    """
    ranked = rank_sentences(question, context, embedder, naming=naming, quarter_docs=quarter_docs)
    if _WHY.search(question_focus(question)):
        # "what drove ...?" is answered by a sentence that gives a cause, not by the row it explains (quote
        # decoding reads ``rank_sentences`` for the passage to quote from, where the model picks the sentences)
        ranked = [x for x in ranked if _CAUSE.search(x.text)] or ranked
    if not ranked:
        return [], []
    best = ranked[0].score
    picked = [ranked[0]]
    for x in ranked[1:]:
        if len(picked) >= max_sentences or x.score < keep_ratio * best:
            break
        if any(x.text == p.text for p in picked):
            continue
        if x.source == picked[0].source:
            picked.append(x)
    return picked, ranked


def render_extracts(picked: list[Extract]) -> str:
    return " ".join(f"{p.text.rstrip()} [{p.source}]" for p in picked)


__all__ = ["extractive_answer", "rank_sentences", "render_extracts", "Extract"]
