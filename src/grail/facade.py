"""The Grail facade: the one object the CLI, HTTP server, MCP server and tests drive.

``Grail(index).index(paths)``, ``.search(q)``, ``.ask(q)``, ``.status()``.
It wires the pipeline from settings: loaders -> chunking -> embedder ->
store -> retriever -> context -> generator -> verifier, recording a Trace of
every stage. The decision: heavy parts (models, HNSW graph) load lazily on
first use and once; constructing a Grail is cheap.
"""

from __future__ import annotations

import calendar
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from grail.config import Settings, load_settings
from grail.context import cut_mid_thought, expand_with_next, load_template, pack_context
from grail.embed import Embedder, get_embedder
from grail.generate import LLM, get_llm
from grail.generate.extractive import extractive_answer, rank_sentences, render_extracts
from grail.generate.local import LocalLLM
from grail.generate.quotes import QuoteConstraint, candidate_sentences
from grail.ingest.chunking import ChunkingConfig
from grail.ingest.pipeline import IndexReport, index_paths, index_texts
from grail.records import Answer, AnswerSentence, Citation, Context, Hit, StageTrace, Trace
from grail.retrieve.query import date_phrases, question_dates, without_days
from grail.retrieve.search import Retriever
from grail.retrieve.statements import asked_statements
from grail.store import DocumentInfo, Filters
from grail.store.sqlite import SQLiteStore
from grail.verify.evidence import Evidence, evidence_strength
from grail.verify.support import quotable_sentences, render, support_score, verify_draft

UNKNOWN = "The documents do not say."
QUOTE_SENTENCES = 2  # as many as the extractive backend quotes


def closest_passages(hits: list[Hit], n: int = 3) -> list[Hit]:
    """What an abstention shows: the best ``n`` passages that say something, not a bare heading or a
    column label ("Reported ∆%") that happened to rank high; the best ``n`` when none does."""
    return [h for h in hits if quotable_sentences(h.chunk.text)][:n] or hits[:n]


class Grail:
    def __init__(self, index: str | Path | None = None, *, settings: Settings | None = None,
                 embedder: Embedder | None = None, **overrides: Any) -> None:
        """``embedder`` shares an already loaded model between several collections."""
        s = settings or load_settings()
        if index is not None:
            overrides["index"] = str(index)
        self.settings = s.replace(**overrides)
        self._embedder: Embedder | None = embedder
        self._store: SQLiteStore | None = None
        self._llms: dict[str, LLM] = {}
        self._retriever: Retriever | None = None
        self._lock = threading.RLock()

    # -- lazily built parts ------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = get_embedder(self.settings.embedder)
            return self._embedder

    @property
    def store(self) -> SQLiteStore:
        with self._lock:
            if self._store is None:
                e = self.embedder
                self._store = SQLiteStore(self.settings.index, embedder_name=_space(e.name), dim=e.dim)
            return self._store

    def llm(self, spec: str | None = None) -> LLM:
        spec = spec or self.settings.llm
        with self._lock:
            if spec not in self._llms:
                opts: dict[str, Any] = {}
                if spec.startswith("openai") and self.settings.openai_model:
                    opts["model"] = self.settings.openai_model
                self._llms[spec] = get_llm(spec, **opts)
            return self._llms[spec]

    # -- indexing ------------------------------------------------------------
    def index(self, *paths: str | Path, on_progress: Callable[[str, int, int], None] | None = None) -> IndexReport:
        cfg = ChunkingConfig(target_tokens=self.settings.chunk_tokens, overlap_tokens=self.settings.chunk_overlap)
        return index_paths(paths, self.store, self.embedder, chunking=cfg, max_file_mb=self.settings.max_file_mb,
                           on_progress=on_progress)

    def index_texts(self, items: Iterable[tuple[str, str, str]], *, source: str = "texts",
                    on_progress: Callable[[str, int, int], None] | None = None) -> IndexReport:
        """Index in-memory ``(doc_id, title, text)`` items; see ``ingest.pipeline.index_texts``."""
        cfg = ChunkingConfig(target_tokens=self.settings.chunk_tokens, overlap_tokens=self.settings.chunk_overlap)
        return index_texts(items, self.store, self.embedder, source=source, chunking=cfg, on_progress=on_progress)

    def refresh_metadata(self) -> int:
        """Re-read issuer/form/period metadata from the stored page texts (no re-embedding).

        Lets improvements to metadata extraction reach an existing index cheaply;
        a sidecar ``<file>.meta.json`` still wins. Returns the documents changed.
        """
        from dataclasses import replace

        from grail.ingest.metadata import enrich, read_sidecar
        from grail.records import Document, Page

        changed = 0
        for info in self.store.documents():
            pages = tuple(Page(n, self.store.page_text(info.doc_id, n) or "") for n in range(1, min(info.n_pages, 3) + 1))
            doc = Document(info.doc_id, info.path, info.sha256, info.doc_type, info.title, pages, dict(info.metadata))
            try:
                overrides = read_sidecar(info.path) if Path(info.path).exists() else {}
            except ValueError:
                overrides = {}
            meta = replace(enrich(doc, overrides)).metadata
            if meta != info.metadata:
                self.store.update_metadata(info.doc_id, meta)
                changed += 1
        return changed

    def delete(self, doc_id_or_path: str) -> bool:
        target = doc_id_or_path
        for d in self.store.documents():
            if d.path == str(Path(doc_id_or_path).expanduser().resolve()) or d.path == doc_id_or_path:
                target = d.doc_id
        return self.store.delete_document(target)

    def documents(self) -> list[DocumentInfo]:
        return self.store.documents()

    def page(self, doc_id: str, number: int) -> str | None:
        return self.store.page_text(doc_id, number)

    def status(self) -> dict[str, Any]:
        st = self.store.stats()
        st["settings"] = {"embedder": self.settings.embedder, "llm": self.settings.llm,
                          "retrieval": self.settings.retrieval, "fusion": self.settings.fusion}
        return st

    # -- retrieval -------------------------------------------------------------
    @property
    def retriever(self) -> Retriever:
        with self._lock:
            if self._retriever is None:
                self._retriever = Retriever(self.store, self.embedder, self.settings)
            return self._retriever

    def search(self, query: str, k: int = 10, *, mode: str | None = None, filters: Filters | None = None,
               understand: bool | None = None, per_page: bool = False) -> list[Hit]:
        """The k best passages; with ``per_page``, the k best pages (each shown by its best passage)."""
        hits, _ = self.retriever.search(query, k, mode=mode, filters=filters, understand=understand,
                                        per_page=per_page)
        return hits

    def search_traced(self, query: str, k: int = 10, *, mode: str | None = None, filters: Filters | None = None,
                      understand: bool | None = None, per_page: bool = False) -> tuple[list[Hit], dict[str, Any]]:
        return self.retriever.search(query, k, mode=mode, filters=filters, understand=understand, per_page=per_page)

    # -- answering -------------------------------------------------------------
    def evidence(self, question: str, hits: list[Hit], filters: Filters | None = None) -> Evidence:
        """How well ``hits`` can answer ``question`` (``verify/evidence.py``): the number ``ask``
        compares with ``min_evidence``, with what the index's metadata says about the company
        and periods asked (under ``filters``, as if only those documents were indexed)."""
        vocab = self.retriever.vocabulary(filters)
        asked = set(asked_statements(question))  # named, or made of the measure or line it asks for
        routed = [h for h in hits if "statement" in h.ranks]  # moved up by statement routing
        statement = ""
        if routed and (years := vocab.understand(question).years):
            # statement pages routed from filings of the year asked, which hold every statement the question
            # needs (named, or defining the measure it asks for): "inventory turnover" needs a balance sheet
            # too, which an earnings release may not have (held by the filings, whether or not all made the top k)
            of_year = [h for h in routed if vocab.fiscal_years.get(h.chunk.doc_id) == max(years)]
            titled = self.retriever.statement_pages(tuple(sorted({h.chunk.doc_id for h in of_year})))
            found = set().union(*titled.values()) if titled else set()
            if of_year and asked <= found:
                statement = ", ".join(dict.fromkeys(f"{Path(h.path).name} p.{h.chunk.page}" for h in of_year))
        if routed or any("section" in h.ranks for h in hits):
            # coverage reads retrieval's own top passages, the order min_evidence was calibrated on:
            # routing put a statement's pages (a table of numbers, few of the question's words) or a section's first;
            # the routed search kept that order, so this searches nothing again
            hits, _ = self.retriever.search(question, max(len(hits), 5), filters=filters, route=False)
        # a day a filing of the company names (a note due then, a separation planned for it) is reported,
        # and so is its year; any other day after every filing of the company came out is not
        named: list[date] = []
        if (days := question_dates(question)) and (companies := vocab.companies_in(question)):
            company_docs = Filters(doc_ids=tuple(sorted(set().union(*(vocab.company_docs[c] for c in companies)))))
            named = [d for d in days if self.store.mentions(date_phrases(d), company_docs)]
        # an annual report holds two year-ends of balance sheets, not three
        periods = vocab.uncovered_periods(without_days(question, named), "balance_sheet" in asked) + tuple(
            f"{calendar.month_name[d.month]} {d.day}, {d.year}" for d in vocab.uncovered_dates(question) if d not in named)
        # a question that names no company, over the filings of several: whose figures it asks for, nothing says
        ambiguous = len(vocab.company_docs) > 1 and not vocab.companies_in(question)
        return evidence_strength(question, hits, self.store, filters, known=lambda n: bool(vocab.companies_in(n)),
                                 uncovered_periods=periods,
                                 named_in_doc=vocab.named_in_doc(question), statement=statement,
                                 company_of=vocab.company_of if ambiguous else None)

    def ask(self, question: str, *, llm: str | None = None, k: int | None = None, filters: Filters | None = None,
            allow_weak: bool = False, on_token: Callable[[str], None] | None = None,
            decoding: str | None = None) -> Answer:
        """``decoding``: "quotes" (the local model copies whole source sentences), "free", or "auto"
        (quotes for the local model, free for a server); default: settings."""
        question = question.strip()
        if not question:
            raise ValueError("empty question: ask something")
        decoding = decoding or self.settings.decoding
        if decoding not in ("auto", "free", "quotes"):
            raise ValueError(f"decoding must be 'auto', 'free' or 'quotes', not {decoding!r}")
        spec = llm or self.settings.llm
        stages: list[StageTrace] = []
        t = time.perf_counter()
        hits, rtrace = self.search_traced(question, k or self.settings.top_k, filters=filters)
        stages.append(StageTrace("retrieve", time.perf_counter() - t, rtrace))

        t = time.perf_counter()
        ev = self.evidence(question, hits, filters)
        stages.append(StageTrace("evidence", time.perf_counter() - t, {
            "strength": round(ev.strength, 4), "coverage": round(ev.coverage, 4), "min_evidence": self.settings.min_evidence,
            "years_missing": list(ev.years_missing), "names_missing": list(ev.names_missing),
            "periods_missing": list(ev.periods_missing), "statement": ev.statement,
            "companies_apart": list(ev.companies_apart)}))
        if ev.strength < self.settings.min_evidence and not allow_weak:
            why = f"evidence strength {ev.strength:.2f} is below min_evidence {self.settings.min_evidence}"
            if ev.names_missing:
                why += f"; the documents never mention {', '.join(ev.names_missing)}"
            if ev.years_missing:
                why += f"; the best passages do not mention {', '.join(map(str, ev.years_missing))}"
            if ev.periods_missing:
                why += (f"; no indexed document of the company asked about reports "
                        f"{', '.join(ev.periods_missing)}")
            if ev.companies_apart:
                why += (f"; the question names no company, and the passages that match it are from the filings of "
                        f"{', '.join(ev.companies_apart)}: say which company it is about")
            return self._abstain(question, spec, hits, why, stages)

        t = time.perf_counter()
        model = None if spec == "extractive" else self.llm(spec)
        if decoding == "auto":
            decoding = "quotes" if isinstance(model, LocalLLM) else "free"
        if decoding == "quotes" and not isinstance(model, LocalLLM):
            raise ValueError('decoding = "quotes" needs the local model (--llm local): it masks the '
                             "model's own next-token scores, which extractive answers and remote servers do not have")
        count = model.count_tokens if model else self.embedder.count_tokens
        budget = self.settings.context_tokens
        if model is not None:
            budget = min(budget, model.context_window - self.settings.answer_tokens)
        hits = [self._complete(h) for h in hits]
        context = pack_context(question, hits, count_tokens=count, budget=budget,
                               template=load_template(self.settings.prompt_template) if self.settings.prompt_template else None)
        stages.append(StageTrace("context", time.perf_counter() - t, {
            "n_tokens": context.n_tokens, "budget": context.budget, "sources": [
                {"n": i + 1, "chunk_id": h.chunk.chunk_id, "page": h.chunk.page, "path": h.path, "text": h.chunk.text}
                for i, h in enumerate(context.sources)], "dropped": list(context.dropped),
            "system": context.system, "prompt": context.prompt}))

        if not context.sources:
            return self._abstain(question, spec, hits, "no passage in the index matches the question", stages)

        t = time.perf_counter()
        if model is None:
            picked, ranked = extractive_answer(question, context, self.embedder, **self._ranking(question, filters))
            best = ranked[0].score if ranked else 0.0
            gen_data: dict[str, Any] = {"backend": "extractive", "raw_output": render_extracts(picked),
                                        "best_score": round(best, 4)}
            stages.append(StageTrace("generate", time.perf_counter() - t, gen_data))
            if not picked:
                return self._abstain(question, spec, hits, "no sentence of the sources relates to the question", stages)
            sentences = tuple(AnswerSentence(x.text, (x.source,),
                                              support_score(x.text, context.sources[x.source - 1].chunk.index_text), True,
                                              (x.source,))
                              for x in picked)
            said_unknown, repaired = False, 0
        else:
            messages = [{"role": "system", "content": context.system}, {"role": "user", "content": context.prompt}]
            extra: dict[str, Any] = {}
            quoting: list[int] = []  # the sources quotes may come from ([] = all)
            if isinstance(model, LocalLLM) and decoding == "quotes":
                quotes, quoting = self._quote_constraint(model, context, question, filters)
                if quotes.empty:
                    return self._abstain(question, spec, hits, "no sentence of the sources can be quoted", stages)
                extra["constrain"] = quotes.allowed
            if on_token is not None:
                pieces = []
                for piece in model.stream(messages, max_tokens=self.settings.answer_tokens, **extra):
                    pieces.append(piece)
                    on_token(piece)
                draft = "".join(pieces)
            else:
                draft = model.generate(messages, max_tokens=self.settings.answer_tokens, **extra)
            stages.append(StageTrace("generate", time.perf_counter() - t, {
                "backend": spec, "decoding": decoding, "quote_sources": quoting, "raw_output": draft}))
            t = time.perf_counter()
            v = verify_draft(draft, context, threshold=self.settings.support_threshold)
            sentences, said_unknown, repaired = v.sentences, v.said_unknown, v.repaired
            stages.append(StageTrace("verify", time.perf_counter() - t, {
                "sentences": len(sentences), "supported": sum(s.supported for s in sentences),
                "repaired_citations": repaired, "said_unknown": said_unknown,
                "best_support": [list(b) for b in v.best]}))

        shipped = [s for s in sentences if s.supported]
        if not shipped and not allow_weak:
            why = "the model said the documents do not answer" if said_unknown else "no sentence of the draft is supported by the sources"
            return self._abstain(question, spec, hits, why, stages, sentences=sentences)
        if allow_weak and not shipped:
            shipped = list(sentences)
        text = render([AnswerSentence(s.text, s.citations, s.support, True) for s in shipped])
        cited = sorted({n for s in shipped for n in s.citations})
        citations = tuple(_citation(n, context) for n in cited)
        faith = len([s for s in sentences if s.supported]) / len(sentences) if sentences else 0.0
        return Answer(question=question, text=text, sentences=tuple(sentences), citations=citations,
                      abstained=False, faithfulness=faith, backend=spec, trace=Trace(tuple(stages)))

    def _quote_constraint(self, model: LocalLLM, context: Context, question: str,
                          filters: Filters | None) -> tuple[QuoteConstraint, list[int]]:
        """``decoding = "quotes"``: the model may only copy whole sentences of the packed sources
        (with ``quote_sources`` = N, of the N sources that hold the sentence ranker's best sentences)."""
        trusted: list[int] = []
        if self.settings.quote_sources > 0:
            for x in rank_sentences(question, context, self.embedder, **self._ranking(question, filters)):
                if x.source not in trusted:
                    trusted.append(x.source)
                if len(trusted) == self.settings.quote_sources:
                    break
        return QuoteConstraint(candidate_sentences(context, trusted), model.tokenize, model.end_token,
                               max_sentences=QUOTE_SENTENCES, max_tokens=self.settings.answer_tokens), trusted

    def _ranking(self, question: str, filters: Filters | None) -> dict[str, Any]:
        """What the sentence ranker reads of the question through the index's metadata: the words that name a
        company ("Ulta Beauty", "JnJ"), and the quarterly reports of a quarter it asks about."""
        vocab = self.retriever.vocabulary(filters)
        return {"naming": " ".join(words for _, words in vocab.company_mentions(question)),
                "quarter_docs": vocab.quarter_reports(question)}

    def _complete(self, hit: Hit) -> Hit:
        """A hit cut mid-sentence, extended with the next chunk of its page."""
        if not cut_mid_thought(hit.chunk.text):
            return hit
        nxt = [c for c in self.store.neighbours(hit.chunk, 0, 1) if c.seq == hit.chunk.seq + 1]
        page = self.store.page_text(hit.chunk.doc_id, hit.chunk.page) if nxt else None
        return expand_with_next(hit, nxt[0] if nxt else None, page)

    def _abstain(self, question: str, spec: str, hits: list[Hit], why: str, stages: list[StageTrace],
                 sentences: tuple[AnswerSentence, ...] = ()) -> Answer:
        closest = tuple(Citation(i + 1, h.chunk.chunk_id, h.chunk.doc_id, h.path, h.chunk.page, h.chunk.char_start,
                                 h.chunk.char_end, h.chunk.text) for i, h in enumerate(closest_passages(hits)))
        return Answer(question=question, text=UNKNOWN, sentences=sentences, citations=closest, abstained=True,
                      abstain_reason=why, faithfulness=1.0, backend=spec, trace=Trace(tuple(stages)))

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def _space(name: str) -> str:
    """The vector space an embedder writes: both MiniLM runtimes produce the same space."""
    return "all-MiniLM-L6-v2" if name.startswith("minilm") else name


def _citation(n: int, context: Context) -> Citation:
    h = context.sources[n - 1]
    c = h.chunk
    return Citation(n, c.chunk_id, c.doc_id, h.path, c.page, c.char_start, c.char_end, c.text)
