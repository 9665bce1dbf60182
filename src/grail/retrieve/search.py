"""Retrieval: dense (HNSW over MiniLM vectors), keyword (FTS5 BM25) and hybrid.

Hybrid runs both retrievers inside one store snapshot and fuses them
(``retrieve/fusion.py``). The method and its parameters come from settings;
the default was chosen by measurement on SciFact test (docs/benchmarks.md).
Every call returns the hits plus a trace of what each retriever found.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from grail.config import Settings
from grail.embed import Embedder
from grail.records import Chunk, Hit
from grail.rerank import Reranker, available, load_reranker, reranker_dir
from grail.retrieve.fusion import convex_combination, reciprocal_rank_fusion
from grail.retrieve.query import ANNUAL_FORMS, EntityVocabulary, asks_annual, in_filings_words, interim_only
from grail.retrieve.sections import BY_NAME, SECTIONS, asked_sections, heading_sections, item_lines
from grail.retrieve.statements import HEAD_CHARS, asked_statements, named_statements, page_statements
from grail.store import Filters
from grail.store.sqlite import SQLiteStore
from grail.text_units import STOPWORDS

MODES = ("hybrid", "dense", "bm25")
PAGE_CHARS = 1_000_000
_TERM = re.compile(r"[a-z][a-z\-]{2,}")


def expansion_terms(query: str, feedback: list[str], pool: list[str], n: int) -> list[str]:
    """RM3-style expansion: words frequent in the feedback passages, rare across the candidate pool."""
    if not feedback or n <= 0:
        return []
    asked = set(_TERM.findall(query.lower()))
    tf: Counter[str] = Counter()
    for text in feedback:
        tf.update(w for w in _TERM.findall(text.lower()) if w not in STOPWORDS and w not in asked)
    df: Counter[str] = Counter()
    for text in pool:
        df.update(set(_TERM.findall(text.lower())))
    score = {w: c * math.log(1 + len(pool) / (1 + df[w])) for w, c in tf.items() if c >= 2}
    return [w for w, _ in sorted(score.items(), key=lambda kv: -kv[1])[:n]]


def best_per_page(hits: list[Hit]) -> list[Hit]:
    """One hit per (document, page), the page's best chunk, in the order of the chunk ranking.

    Each kept hit records ``ranks["chunk"]`` (its rank among chunks) and
    ``ranks["page_chunks"]`` (how many chunks of its page were in the ranking).
    """
    first: dict[tuple[str, int], int] = {}
    count: Counter[tuple[str, int]] = Counter()
    for i, h in enumerate(hits):
        key = (h.chunk.doc_id, h.chunk.page)
        count[key] += 1
        first.setdefault(key, i)
    return [dataclasses.replace(hits[i], ranks={**hits[i].ranks, "chunk": i + 1, "page_chunks": count[key]})
            for key, i in first.items()]


class Retriever:
    def __init__(self, store: SQLiteStore, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._vocab: EntityVocabulary | None = None
        self._vocab_key: tuple[Any, ...] | None = None
        # kind -> (index version, doc_id -> page -> what was read there): statements titled, sections
        self._facts: dict[str, tuple[tuple[int, float] | None, dict[str, dict[int, Any]]]] = {}
        self._annual: tuple[tuple[int, float], frozenset[str]] | None = None  # (index version, annual reports)
        self._last_vector: tuple[str, Any] | None = None  # (query, its embedding): asked twice, embedded once
        self._last_unrouted: tuple[tuple[Any, ...], list[Hit]] | None = None  # the order before routing

    def query_vector(self, query: str) -> Any:
        """The query's embedding; the last one is kept, since the evidence gate searches the same question
        again without statement routing."""
        last = self._last_vector
        if last is not None and last[0] == query:
            return last[1]
        vec = self.embedder.embed([query])[0]
        self._last_vector = (query, vec)
        return vec

    def _page_facts(self, kind: str, doc_ids: tuple[str, ...],
                    read: Callable[[list[str]], dict[str, dict[int, Any]]]) -> dict[tuple[str, int], Any]:
        """(doc_id, page) -> what ``read`` finds on that page of these documents; cached per document and
        index version (``kind`` names the cache), so only documents not seen since the last change are read."""
        version = self.store.version()
        key, cache = self._facts.get(kind, (None, {}))
        if key != version:
            cache = {}
        if missing := [d for d in doc_ids if d not in cache]:
            cache = {**cache, **read(missing)}  # a new dict: a concurrent reader keeps a consistent one
        self._facts[kind] = (version, cache)
        return {(d, p): facts for d in doc_ids for p, facts in cache[d].items()}

    def statement_pages(self, doc_ids: tuple[str, ...]) -> dict[tuple[str, int], set[str]]:
        """(doc_id, page) -> the financial statements titled on that page, for these documents (cached)."""
        def read(missing: list[str]) -> dict[str, dict[int, Any]]:
            found: dict[str, dict[int, Any]] = {d: {} for d in missing}
            for doc_id, page, head in self.store.page_heads(missing, HEAD_CHARS):
                if kinds := page_statements(head):
                    found[doc_id][page] = kinds
            return found

        return self._page_facts("statements", doc_ids, read)

    def section_pages(self, doc_ids: tuple[str, ...]) -> dict[tuple[str, int], dict[str, bool]]:
        """(doc_id, page) -> {section (``retrieve/sections.py``): whether the whole page is in it} for the
        pages a chunk of which is under that section's heading (only those chunks are in it), or that an item
        heading opens ("Item 5.02. Departure of ...": all of the page is) (cached)."""
        def read(missing: list[str]) -> dict[str, dict[int, Any]]:
            found: dict[str, dict[int, Any]] = {d: {} for d in missing}
            names = [sec.name for sec in SECTIONS]
            for doc_id, page, path in self.store.page_headings(missing):
                for name in heading_sections(path, names):
                    found[doc_id].setdefault(page, {}).setdefault(name, False)
            for doc_id, page, head in self.store.page_heads(missing, HEAD_CHARS):
                for line in item_lines(head):  # an item heading too long to be taken as one
                    for name in heading_sections(("", line), names):
                        found[doc_id].setdefault(page, {})[name] = True
            return found

        return self._page_facts("sections", doc_ids, read)

    def interim_pages(self, doc_ids: tuple[str, ...]) -> set[tuple[str, int]]:
        """(doc_id, page) of the pages of these documents whose columns report only a quarter or other
        interim period (``query.interim_only``) (cached)."""
        def read(missing: list[str]) -> dict[str, dict[int, Any]]:
            found: dict[str, dict[int, Any]] = {d: {} for d in missing}
            for doc_id, page, text in self.store.page_heads(missing, PAGE_CHARS):  # all of it: a year's
                if interim_only(text):  # columns may follow the quarter's on the page (Ulta's exhibits 1 and 2)
                    found[doc_id][page] = True
            return found

        return set(self._page_facts("interim", doc_ids, read))

    def _interim_later(self, hits: list[Hit], doc_ids: tuple[str, ...], trace: dict[str, Any]) -> list[Hit]:
        """For a question that asks a fiscal year's figures (``query.asks_annual``), the hits on pages that
        report only a quarter or other interim period go behind the rest, in their order, re-scored just
        below the last of the rest: "Adjusted EBITDA for FY 2023" is on a release's twelve-month
        reconciliation, not on the three-month one before it that shares every word."""
        interim = self.interim_pages(doc_ids)
        later = [h for h in hits if (h.chunk.doc_id, h.chunk.page) in interim]
        if not later or len(later) == len(hits):
            return hits
        rest = [h for h in hits if (h.chunk.doc_id, h.chunk.page) not in interim]
        floor = min(h.score for h in rest)
        trace["interim_later"] = [{"path": h.path, "page": h.chunk.page} for h in later[:10]]
        return rest + [dataclasses.replace(h, score=floor - (i + 1) * 1e-6, ranks={**h.ranks, "interim": i + 1})
                       for i, h in enumerate(later)]

    def annual_reports(self) -> frozenset[str]:
        """doc_ids of the annual reports (10-K, 20-F, 40-F) in the index (cached per index version)."""
        version = self.store.version()
        if self._annual is None or self._annual[0] != version:
            self._annual = (version, frozenset(d.doc_id for d in self.store.documents()
                                               if d.metadata.get("form_type") in ANNUAL_FORMS))
        return self._annual[1]

    def vocabulary(self, filters: Filters | None = None) -> EntityVocabulary:
        """The entity vocabulary of the documents the filters allow, rebuilt when documents change."""
        key = (self.store.version(), filters.exclude_doc_ids if filters else ())
        if self._vocab is None or key != self._vocab_key:
            excluded = set(key[1])
            docs = [d for d in self.store.documents() if d.doc_id not in excluded]
            self._vocab, self._vocab_key = EntityVocabulary(docs), key
        return self._vocab

    def search(self, query: str, k: int = 10, *, mode: str | None = None, filters: Filters | None = None,
               fusion: str | None = None, understand: bool | None = None,
               per_page: bool = False, route: bool | None = None) -> tuple[list[Hit], dict[str, Any]]:
        """Hits for ``query``; without explicit filters, recognised entities narrow the search first.

        ``per_page``: rank pages instead of chunks - each page is represented by its best
        chunk (max-pooling, as documents are for BEIR), so the k hits are k distinct pages.
        ``route``: statement routing (``_route_statements``); default: the ``statement_routing`` setting.
        """
        route = self.settings.statement_routing if route is None else route
        mode = mode or self.settings.retrieval
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        if not query.strip():
            raise ValueError("empty query: ask something")
        vec = None
        t = time.perf_counter()
        # "excluding M&A" is what filings call "organic": both retrievers read the filings' word instead
        searched = in_filings_words(query)
        if mode in ("hybrid", "dense"):
            vec = self.query_vector(searched)
        embed_s = time.perf_counter() - t
        understand = self.settings.understand_query if understand is None else understand
        if understand:
            u = self.vocabulary(filters).understand(query)
            for label, doc_ids in u.widenings:
                # recognised documents, within whatever the caller's filters allow
                allowed = tuple(sorted(set(doc_ids) & set(filters.doc_ids))) if filters and filters.doc_ids else doc_ids
                if not allowed:
                    continue
                narrowed = dataclasses.replace(filters or Filters(), doc_ids=allowed)
                hits, trace = self._search(query, vec, k, mode, narrowed, fusion, per_page, route, searched)
                available = self.store.count_chunks(allowed)
                if per_page:  # k pages can only be filled from as many pages as the documents have
                    wanted = set(allowed)
                    pages = sum(d.n_pages for d in self.vocabulary(filters).docs if d.doc_id in wanted)
                    available = min(available, pages)
                if hits and len(hits) >= min(k, 3, available):
                    trace["understanding"] = {**u.as_trace(), "applied": label}
                    trace["embed_s"] = embed_s
                    return hits, trace
            hits, trace = self._search(query, vec, k, mode, filters, fusion, per_page, route, searched)
            trace["understanding"] = {**u.as_trace(), "applied": None}
        else:
            hits, trace = self._search(query, vec, k, mode, filters, fusion, per_page, route, searched)
        trace["embed_s"] = embed_s
        return hits, trace

    def _fuse(self, lists: dict[str, list[tuple[Chunk, float]]], mode: str,
              fusion: str | None) -> list[tuple[Any, float]]:
        if mode != "hybrid":
            return [(c.chunk_id, s) for c, s in lists[mode]]
        fusion = fusion or self.settings.fusion
        id_lists = {name: [(c.chunk_id, s) for c, s in ranked] for name, ranked in lists.items()}
        if fusion == "convex":
            w = self.settings.convex_dense_weight
            return convex_combination(id_lists, {"dense": w, "bm25": 1.0 - w})
        if fusion == "rrf":
            return reciprocal_rank_fusion(id_lists, k=self.settings.rrf_k)
        raise ValueError(f"unknown fusion {fusion!r}; choose rrf or convex")

    def reranker(self) -> Reranker:
        folder = self.settings.reranker or reranker_dir(self.settings.index)
        if not available(folder):
            raise ValueError(f"rerank is on but there is no trained reranker in {folder}: run "
                             f"`grail rerank train --index {self.settings.index}` (or set rerank = false)")
        return load_reranker(folder)

    def _rerank(self, query: str, hits: list[Hit], trace: dict[str, Any]) -> list[Hit]:
        """Reorder the top ``rerank_depth`` hits by w * reranker + (1 - w) * fused score, both min-max scaled."""
        head, tail = hits[: self.settings.rerank_depth], hits[self.settings.rerank_depth :]
        if len(head) < 2:
            return hits
        t = time.perf_counter()
        ce = self.reranker().score(query, [h.chunk.index_text for h in head])
        trace["rerank_s"] = time.perf_counter() - t

        def scaled(xs: Any) -> Any:
            xs = np.asarray(xs, dtype=np.float64)
            span = xs.max() - xs.min()
            return (xs - xs.min()) / span if span > 0 else np.zeros_like(xs)

        w = self.settings.rerank_weight
        final = w * scaled(ce) + (1 - w) * scaled([h.score for h in head])
        order = sorted(range(len(head)), key=lambda i: -final[i])
        out = []
        for r, i in enumerate(order, start=1):
            h = head[i]
            out.append(dataclasses.replace(h, score=float(final[i]), scores={**h.scores, "rerank": float(ce[i])},
                                           ranks={**h.ranks, "rerank": r}))
        trace["rerank"] = [{"rank": r, "chunk_id": h.chunk.chunk_id, "page": h.chunk.page,
                            "score": round(h.scores["rerank"], 4), "path": h.path} for r, h in enumerate(out, 1)]
        return out + tail

    def _route_statements(self, hits: list[Hit], statements: tuple[str, ...], doc_ids: tuple[str, ...],
                          trace: dict[str, Any], per_kind: int = 2, by_measure: tuple[str, ...] = (),
                          annual_first: bool = False) -> list[Hit]:
        """The pages titled with a statement the question names (or asks a measure of) first
        (``retrieve/statements.py``); ``by_measure``: those of ``statements`` only a measure asked for.

        Per statement, the ``per_kind`` titled pages that retrieval ranks highest among the
        allowed documents move to the front with every chunk of theirs (the statement is one
        table: its rows are read together), each page's found chunks in retrieval order, then the
        rest in page order; pages go first-of-each-statement before any second, and by the rank
        of their best chunk within that. Everything else keeps its order. A statement of which
        retrieval found fewer than ``per_kind`` titled pages is completed from the titled pages
        it did not find (a question's words may match none of the rows: "Has Amcor's quick ratio
        improved?" and the balance sheet), whole, after the found ones: annual reports first
        when ``annual_first``, then documents in the order retrieval ranked them, then by page.
        Moved hits are re-scored just above the former best, so scores still fall with rank;
        ``ranks["retrieved"]`` keeps each hit's place before routing (none for an added one) and
        ``ranks["statement"]`` its place among the moved.

        ``annual_first`` (a fiscal year asked, nothing quarterly): an annual report's statement
        pages are taken and placed before those of a 10-Q or an earnings release of that year.
        The 10-K is the filing of record for a year's figures; a 10-Q's balance sheet is of a
        quarter's end, and a release's tables are unaudited (Amcor's FY2023 balance sheet, not
        the one of December 31, 2022 in its Q2 10-Q).
        """
        titled = self.statement_pages(doc_ids)
        if not titled:
            trace["statements"] = {"asked": list(statements), "by_measure": list(by_measure), "pages": []}
            return hits
        hits = [dataclasses.replace(h, ranks={**h.ranks, "retrieved": i}) for i, h in enumerate(hits, start=1)]
        annual = self.annual_reports() if annual_first else frozenset()
        # page -> (its place among its statement's pages, not an annual report's, rank)
        order: dict[tuple[str, int], tuple[int, bool, int]] = {}
        taken = Counter[str]()
        for i in sorted(range(len(hits)), key=lambda i: (hits[i].chunk.doc_id not in annual, i)):
            h = hits[i]
            key = (h.chunk.doc_id, h.chunk.page)
            kinds = [s for s in statements if s in titled.get(key, ()) and taken[s] < per_kind]
            if key in order or not kinds:
                continue
            order[key] = (min(taken[s] for s in kinds), h.chunk.doc_id not in annual, i)
            taken.update(kinds)
        found = set(order)
        if any(taken[s] < per_kind for s in statements):
            self._take_unfound_pages(hits, titled, statements, annual, order, taken, per_kind)
        pages = sorted(order, key=order.__getitem__)
        out, paths = self._pages_first(hits, pages, "statement", whole=set(pages))
        trace["statements"] = {"asked": list(statements), "by_measure": list(by_measure), "pages": [
            {"path": paths[key], "page": key[1], "statements": sorted(set(statements) & titled[key]),
             "retrieved": key in found} for key in pages]}
        return out

    def _pages_first(self, hits: list[Hit], pages: list[tuple[str, int]], rank: str, whole: set[tuple[str, int]],
                     moves: Callable[[Hit], bool] | None = None) -> tuple[list[Hit], dict[tuple[str, int], str]]:
        """``hits`` with the chunks of ``pages`` first, in that page order: a page in ``whole`` as one block
        (its found chunks in retrieval order, then the rest of it in page order: a statement is one table),
        the found chunks of any other page interleaved first-of-each-page (a page of legal matters holds a
        case per passage: the best of each chosen page are read before the rest of the first); re-scored
        just above the former best so scores still fall with rank, ``ranks[rank]`` their place among the
        moved; and each page's path. ``moves``: which found chunks of a page not in ``whole`` move (all)."""
        hits = hits + self._rest_of_pages(hits, whole)
        where = {key: n for n, key in enumerate(pages)}
        nth: dict[int, int] = {}  # a hit's place among the moved hits of its page
        seen = Counter[tuple[str, int]]()
        for i, h in enumerate(hits):
            if (key := (h.chunk.doc_id, h.chunk.page)) in where and (key in whole or moves is None or moves(h)):
                nth[i] = seen[key] if key not in whole else 0
                seen[key] += 1
        # a whole page is one block; the found passages of other pages go first-of-each-page first
        picked = sorted(nth, key=lambda i: (nth[i], where[(hits[i].chunk.doc_id, hits[i].chunk.page)], i))
        top = max((h.score for h in hits), default=0.0)
        moved = [dataclasses.replace(hits[i], score=top + (len(picked) - r) * 1e-6,
                                     ranks={**hits[i].ranks, rank: r + 1})
                 for r, i in enumerate(picked)]
        chosen = set(picked)
        return moved + [h for i, h in enumerate(hits) if i not in chosen], {
            (h.chunk.doc_id, h.chunk.page): h.path for h in moved}

    def _route_sections(self, hits: list[Hit], sections: tuple[str, ...], doc_ids: tuple[str, ...],
                        trace: dict[str, Any], per_section: int = 2) -> list[Hit]:
        """The pages under the heading of a filing section the question asks about first
        (``retrieve/sections.py``): for an overview section (Item 1, what the company does), the
        section's first page in each of the ``per_section`` annual reports retrieval ranks highest
        (found or not: an overview rarely shares the question's words); for any other, the
        ``per_section`` pages under its heading that retrieval ranks highest (found ones only).
        The chosen pages' found chunks under the section move to the front (a page may end one section
        and begin the next; an item heading atop a page puts all of it in the item), and the whole of an
        overview page (prose pages of legal matters hold a case each: the ones the question's words reached
        are the ones to read, not a page of others crowding out the next page); ``ranks["retrieved"]``
        keeps each hit's place before routing, ``ranks["section"]`` its place among the moved."""
        under = self.section_pages(doc_ids)
        hits = [dataclasses.replace(h, ranks={**h.ranks, "retrieved": i}) for i, h in enumerate(hits, start=1)]
        first_seen: dict[str, int] = {}
        for i, h in enumerate(hits):
            first_seen.setdefault(h.chunk.doc_id, i)
        found = {(h.chunk.doc_id, h.chunk.page) for h in hits}
        annual = self.annual_reports()

        def moves(h: Hit) -> bool:
            names = under.get((h.chunk.doc_id, h.chunk.page), {})
            return any(names.get(n) for n in sections) or bool(heading_sections(h.chunk.heading_path, sections))

        pages: list[tuple[str, int]] = []
        whole: set[tuple[str, int]] = set()
        for name in sections:
            keys = [key for key, names in under.items() if name in names]
            if BY_NAME[name].overview_first:
                first_page: dict[str, int] = {}
                for d, p in sorted(k for k in keys if k[0] in annual):
                    first_page.setdefault(d, p)
                ranked = sorted(first_page.items(), key=lambda kv: first_seen.get(kv[0], len(hits)))
                whole.update(ranked[:per_section])
            else:
                place: dict[tuple[str, int], int] = {}  # where retrieval ranked a page's best passage in the section
                for i, h in enumerate(hits):
                    if name in under.get((h.chunk.doc_id, h.chunk.page), {}) and moves(h):
                        place.setdefault((h.chunk.doc_id, h.chunk.page), i)
                ranked = sorted((k for k in keys if k in place), key=place.__getitem__)
            pages += [k for k in ranked if k not in pages][:per_section]
        if not pages:
            trace["sections"] = {"asked": list(sections), "pages": []}
            return hits
        out, paths = self._pages_first(hits, pages, "section", whole=whole & set(pages), moves=moves)
        trace["sections"] = {"asked": list(sections), "pages": [
            {"path": paths[key], "page": key[1], "sections": sorted(set(sections) & set(under[key])),
             "retrieved": key in found} for key in pages]}
        return out

    def _rest_of_pages(self, hits: list[Hit], pages: set[tuple[str, int]]) -> list[Hit]:
        """Hits (score 0, no retriever's rank) for the chunks of these pages that ``hits`` lacks: a statement
        is one table, and the row asked for ("Purchases of property, plant and equipment") may be in a chunk
        no word of the question reached, or the whole page may be (a page routing added)."""
        have = {h.chunk.chunk_id for h in hits}
        chunks = [c for key in sorted(pages) for c in self.store.page_chunks(*key) if c.chunk_id not in have]
        labels = self.store.doc_labels({c.doc_id for c in chunks})
        return [Hit(chunk=c, score=0.0, path=labels.get(c.doc_id, ("", ""))[0], title=labels.get(c.doc_id, ("", ""))[1])
                for c in chunks]

    @staticmethod
    def _take_unfound_pages(hits: list[Hit], titled: dict[tuple[str, int], set[str]], statements: tuple[str, ...],
                            annual: frozenset[str], order: dict[tuple[str, int], tuple[int, bool, int]],
                            taken: Counter[str], per_kind: int) -> None:
        """Add to ``order`` (after every found page) the titled statement pages retrieval did not find, as
        many as the statements still short of ``per_kind`` pages need: annual reports first when asked,
        then documents in the order retrieval ranked them, then by page."""
        first_seen: dict[str, int] = {}
        for i, h in enumerate(hits):
            first_seen.setdefault(h.chunk.doc_id, i)
        unfound = sorted((key for key, kinds in titled.items() if key not in order and kinds & set(statements)),
                         key=lambda key: (key[0] not in annual, first_seen.get(key[0], len(hits)), key[1]))
        for n, key in enumerate(unfound):
            kinds = [s for s in statements if s in titled[key] and taken[s] < per_kind]
            if not kinds:
                continue
            order[key] = (min(taken[s] for s in kinds), key[0] not in annual, len(hits) + n)
            taken.update(kinds)
            if all(taken[s] >= per_kind for s in statements):
                break

    def _rocchio(self, vec: Any, chunk_ids: list[str]) -> Any:
        """Pseudo-relevance feedback in vector space: move the query toward its best passages."""
        fb = self.store.vectors(chunk_ids)
        if len(fb) == 0:
            return vec
        moved = vec + self.settings.prf_beta * fb.mean(axis=0)
        return moved / max(float(np.linalg.norm(moved)), 1e-12)

    def _search(self, query: str, vec: Any, k: int, mode: str, filters: Filters | None,
                fusion: str | None, per_page: bool = False, route: bool = False,
                searched: str = "") -> tuple[list[Hit], dict[str, Any]]:
        """``searched``: the text the retrievers read, when not ``query`` as asked (``query.in_filings_words``)."""
        fusion = fusion or self.settings.fusion
        # the evidence gate asks for the order statement routing started from: the routed search kept it
        key = (query, mode, fusion, per_page, filters)
        last = self._last_unrouted
        if (not route and last is not None and last[0][:-1] == key and len(last[1]) >= k
                and last[0][-1] == self.store.version()):  # the index is read for its version only on a match
            return last[1][:k], {"mode": mode, "unrouted_from": "the routed search of the same question"}
        n = max(k, self.settings.candidates)
        statements = asked_statements(query) if route and filters and filters.doc_ids else ()
        # a statement asked for is routed first; a section only when no statement is
        sections = asked_sections(query) if route and filters and filters.doc_ids and not statements else ()
        # a single retriever returns k, unless pages are wanted (several chunks may share a page)
        # or statement or section pages may move up from further down
        # a fiscal year asked: pages that report only a quarter go behind the rest
        annual = bool(route and filters and filters.doc_ids and asks_annual(query))
        depth_each = n if mode == "hybrid" or per_page or statements or sections or annual else k
        trace: dict[str, Any] = {"mode": mode}
        if searched and searched != query:
            trace["searched_as"] = searched
        lists: dict[str, list[tuple[Chunk, float]]] = {}
        with self.store.snapshot():
            if mode in ("hybrid", "dense"):
                t = time.perf_counter()
                lists["dense"] = self.store.dense_search(vec, depth_each, filters)
                trace["dense_s"] = time.perf_counter() - t
            if mode in ("hybrid", "bm25"):
                t = time.perf_counter()
                lists["bm25"] = self.store.keyword_search(searched or query, depth_each, filters)
                trace["bm25_s"] = time.perf_counter() - t
            if self.settings.prf in ("dense", "both") and "dense" in lists:
                t = time.perf_counter()
                first = self._fuse(lists, mode, fusion)[: self.settings.prf_docs]
                lists["dense"] = self.store.dense_search(self._rocchio(vec, [str(c) for c, _ in first]),
                                                         depth_each, filters)
                trace["prf_dense_s"] = time.perf_counter() - t
            if self.settings.prf in ("bm25", "both") and "bm25" in lists:
                t = time.perf_counter()
                first_ids = {str(c) for c, _ in self._fuse(lists, mode, fusion)[: self.settings.prf_docs]}
                pool = {c.chunk_id: c for ranked in lists.values() for c, _ in ranked}
                terms = expansion_terms(query, [pool[i].index_text for i in first_ids if i in pool],
                                        [c.index_text for c in pool.values()], self.settings.prf_terms)
                if terms:
                    lists["bm25"] = self.store.keyword_search(query + " " + " ".join(terms),
                                                              depth_each, filters)
                trace["prf_terms"] = terms
                trace["prf_bm25_s"] = time.perf_counter() - t
            labels = self.store.doc_labels({c.doc_id for ranked in lists.values() for c, _ in ranked})
        paths = {d: p for d, (p, _) in labels.items()}
        titles = {d: t for d, (_, t) in labels.items()}

        by_id: dict[str, Chunk] = {}
        scores: dict[str, dict[str, float]] = {}
        ranks: dict[str, dict[str, int]] = {}
        for name, ranked in lists.items():
            for r, (chunk, s) in enumerate(ranked, start=1):
                by_id[chunk.chunk_id] = chunk
                scores.setdefault(chunk.chunk_id, {})[name] = s
                ranks.setdefault(chunk.chunk_id, {})[name] = r
            trace[name] = [{"rank": r, "chunk_id": c.chunk_id, "page": c.page, "score": round(s, 4),
                            "path": paths.get(c.doc_id, "")} for r, (c, s) in enumerate(ranked[:k], 1)]

        fused = self._fuse(lists, mode, fusion)
        if mode == "hybrid":
            trace["fusion"] = fusion or self.settings.fusion

        hits: list[Hit] = []
        depth = max(k, self.settings.rerank_depth) if self.settings.rerank else k
        if per_page or statements or sections or annual:
            depth = len(fused)  # collapsing to pages, or routing, reads the whole fused list
        for r, (cid, s) in enumerate(fused[:depth], start=1):
            chunk = by_id[str(cid)]
            sc = dict(scores[str(cid)])
            rk = dict(ranks[str(cid)])
            if mode == "hybrid":
                sc["fused"] = s
                rk["fused"] = r
            hits.append(Hit(chunk=chunk, score=s, scores=sc, ranks=rk, path=paths.get(chunk.doc_id, ""),
                            title=titles.get(chunk.doc_id, "")))
        if mode == "hybrid":
            trace["fused"] = [{"rank": h.ranks["fused"], "chunk_id": h.chunk.chunk_id, "page": h.chunk.page,
                               "score": round(h.score, 4), "path": h.path} for h in hits[:k]]
        if self.settings.rerank:
            hits = self._rerank(query, hits, trace)
        if (statements or sections or annual) and filters:
            self._last_unrouted = ((*key, self.store.version()), hits)
        if annual and filters:
            hits = self._interim_later(hits, filters.doc_ids, trace)
        if statements and filters:
            by_measure = tuple(kind for kind in statements if kind not in named_statements(query))
            hits = self._route_statements(hits, statements, filters.doc_ids, trace, by_measure=by_measure,
                                          annual_first=asks_annual(query))
        elif sections and filters:
            hits = self._route_sections(hits, sections, filters.doc_ids, trace)
        if per_page:
            hits = best_per_page(hits)
            trace["per_page"] = [{"rank": r, "chunk_id": h.chunk.chunk_id, "page": h.chunk.page,
                                  "chunk_rank": h.ranks["chunk"], "page_chunks": h.ranks["page_chunks"],
                                  "path": h.path} for r, h in enumerate(hits[:k], 1)]
        return hits[:k], trace
