"""Evaluation runners: index a benchmark with grail, query it, score it, return a report dict.

Each ``run_*`` is a plain function (no CLI, no printing) returning the keyword
arguments of ``report.write_report`` (``kind``, ``config``, ``dataset``,
``totals``, ``per_query``, ``timings``) plus ``index``, a summary of what was
indexed; ``save_report(result, path)`` writes it. Benchmarks, tests and the
``grail eval`` CLI all call these.

The one decision: retrieval is scored on **documents**, not chunks. A ranked
chunk list is mapped to its documents in order (a document's rank is the rank
of its best chunk; later chunks of a document are dropped), then the
trec_eval metrics in ``metrics.py`` apply unchanged. The index is a
dedicated, incremental collection per dataset (``.grail-eval/<name>``): a
rerun embeds nothing, documents no longer in the evaluated corpus are removed,
and a collection holding anything else is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from grail.eval.abstention import SETTINGS, abstention_rates, abstention_rows
from grail.eval.answers import judge_answer
from grail.eval.datasets import BeirData, dataset_fingerprint, load_beir, load_financebench
from grail.eval.faithfulness import AnswerAudit, audit_answer, sentence_details, summarize
from grail.eval.metrics import mrr_at_k, ndcg_at_k, recall_at_k, top_k_unique
from grail.eval.report import write_report
from grail.eval.squad import evaluate, exact_match_score, f1_score, load_squad, max_over_ground_truths
from grail.facade import Grail
from grail.records import Hit
from grail.retrieve.fusion import convex_combination
from grail.retrieve.search import Retriever
from grail.verify.evidence import question_focus

__all__ = [
    "DatasetError", "RETRIEVERS", "SWEEP_WEIGHTS", "run_beir", "run_financebench", "run_squad",
    "save_report", "score_squad_predictions", "sweep_convex",
]

RETRIEVERS = ("dense", "bm25", "hybrid-rrf", "hybrid-convex")
SWEEP_WEIGHTS = tuple(round(0.1 * i, 1) for i in range(1, 10))
BEIR_LAYOUT = "expected a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv)"
Progress = Callable[[str, int, int], None]  # (stage, done, total)
_MARKERS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


class DatasetError(ValueError):
    """A dataset folder that is missing or not laid out as the runner expects."""


def save_report(result: dict[str, Any], path: str | Path) -> None:
    """Write a runner's result as a JSON report (``report.write_report``)."""
    keys = ("kind", "config", "dataset", "totals", "per_query", "timings")
    config = dict(result["config"], index=result.get("index", {}))
    write_report(path, **{k: result[k] for k in keys if k != "config"}, config=config)


# -- shared pieces -----------------------------------------------------------------
def _tick(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


def _open(index_dir: str | Path, overrides: dict[str, Any] | None) -> Grail:
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    g = Grail(index_dir, **(overrides or {}))
    # Load the embedding model before the store opens its vector index: query latencies then
    # exclude model loading, and onnxruntime is imported before usearch (the reverse import
    # order segfaults with usearch 2.26 / onnxruntime 1.32 on a reused index).
    g.embedder.embed(["warm-up"])
    return g


def _refuse_foreign(g: Grail, belongs: Callable[[str], bool], what: str) -> None:
    foreign = [d.path for d in g.documents() if not belongs(d.path)]
    if foreign:
        raise DatasetError(f"index {g.settings.index} holds {len(foreign)} document(s) that are not {what} "
                           f"(e.g. {foreign[0]}); evaluate into a dedicated folder with --index")


def _sync_texts(g: Grail, items: list[tuple[str, str, str]], source: str, progress: Progress | None) -> dict[str, Any]:
    """Make the collection hold exactly ``items`` (incremental: unchanged texts are not re-embedded)."""
    prefix = f"{source}://"
    _refuse_foreign(g, lambda p: p.startswith(prefix), f"from {source}")
    wanted = {f"{prefix}{doc_id}" for doc_id, _, _ in items}
    stale = [d for d in g.documents() if d.path not in wanted]
    for d in stale:
        g.store.delete_document(d.doc_id)
    rep = g.index_texts(items, source=source, on_progress=lambda _p, d, t: _tick(progress, "indexing", d, t))
    return {"folder": str(g.settings.index), "documents": len(items), "added": len(rep.added),
            "updated": len(rep.updated), "unchanged": len(rep.unchanged), "removed": len(stale),
            "failed": [list(f) for f in rep.failed], "chunks_embedded": rep.chunks_embedded,
            "seconds": round(rep.seconds, 3)}


def _latency(seconds: Sequence[float]) -> dict[str, float]:
    if not seconds:
        return {"latency_p50_ms": 0.0, "latency_p95_ms": 0.0}
    ms = np.asarray(seconds) * 1000.0
    return {"latency_p50_ms": round(float(np.percentile(ms, 50)), 3),
            "latency_p95_ms": round(float(np.percentile(ms, 95)), 3)}


def _mean(rows: Iterable[dict[str, Any]], key: str) -> float:
    """Mean of ``row[key]`` over the rows that have it (booleans count as 0/1); 0.0 if none do."""
    values = [float(r[key]) for r in rows if r.get(key) is not None]
    return statistics.fmean(values) if values else 0.0


def _settings(g: Grail) -> dict[str, Any]:
    return dataclasses.asdict(g.settings)


def _answer_text(text: str) -> str:
    """An answer without its [n] citation markers (they would read as numbers to the judge)."""
    return _MARKERS.sub("", text).strip()


def _fingerprint(*parts: Any) -> str:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
    return "sha256:" + digest.hexdigest()


# -- BEIR ------------------------------------------------------------------------------
def _load_beir_folder(folder: Path, split: str) -> BeirData:
    if not folder.is_dir():
        raise DatasetError(f"no such folder: {folder}: {BEIR_LAYOUT}")
    if not (folder / "corpus.jsonl").is_file():
        raise DatasetError(f"no corpus.jsonl in {folder}: {BEIR_LAYOUT}")
    if not (folder / "qrels" / f"{split}.tsv").is_file():
        splits = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
        raise DatasetError(f"no qrels/{split}.tsv in {folder}: {BEIR_LAYOUT}; splits present: "
                           f"{', '.join(splits) or 'none'}")
    try:
        return load_beir(folder, split)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise DatasetError(f"{folder} is not a usable BEIR folder: {exc}") from exc


def _prepare_beir(folder: str | Path, split: str, index_dir: str | Path | None, limit_queries: int | None,
                  corpus_limit: int | None, overrides: dict[str, Any] | None,
                  progress: Progress | None) -> tuple[Grail, BeirData, list[str], dict[str, Any], dict[str, Any]]:
    folder = Path(folder)
    data = _load_beir_folder(folder, split)
    qids = list(data.queries)[:limit_queries] if limit_queries else list(data.queries)
    corpus_ids = list(data.corpus)
    if corpus_limit is not None:  # tests only: relevant docs of the chosen queries + the first N others
        relevant = {d for q in qids for d in data.qrels[q] if d in data.corpus}
        others = [d for d in corpus_ids if d not in relevant][:corpus_limit]
        keep = relevant | set(others)
        corpus_ids = [d for d in corpus_ids if d in keep]
    subset = corpus_limit is not None or len(qids) < len(data.queries)
    folder_fp = dataset_fingerprint(folder)
    dataset = {"name": folder.name, "split": split, "path": str(folder), "folder_fingerprint": folder_fp,
               "fingerprint": _fingerprint(folder_fp, split, qids, corpus_ids if corpus_limit is not None else None),
               "queries": len(qids), "queries_in_split": len(data.queries), "corpus_docs": len(corpus_ids),
               "corpus_docs_in_folder": len(data.corpus), "subset": subset}
    if subset:
        dataset["subset_note"] = (f"SUBSET: {len(qids)} of {len(data.queries)} queries, {len(corpus_ids)} of "
                                  f"{len(data.corpus)} documents; not comparable with full-split numbers")
    g = _open(index_dir or Path(".grail-eval") / folder.name, overrides)
    items = [(d, data.corpus[d].title, data.corpus[d].text) for d in corpus_ids]
    try:
        index = _sync_texts(g, items, f"beir-{folder.name}", progress)
    except BaseException:
        g.close()
        raise
    return g, data, qids, dataset, index


def _doc_scores(ranked_docs: list[str], qrels: dict[str, int]) -> dict[str, Any]:
    first = next((r for r, d in enumerate(ranked_docs, 1) if qrels.get(d, 0) > 0), None)
    return {"ndcg@10": ndcg_at_k(ranked_docs, qrels, 10), "recall@10": recall_at_k(ranked_docs, qrels, 10),
            "recall@100": recall_at_k(ranked_docs, qrels, 100), "mrr@10": mrr_at_k(ranked_docs, qrels, 10),
            "first_relevant_rank": first}


def _docs(hits: Sequence[Hit], depth: int) -> list[str]:
    return top_k_unique((h.chunk.doc_id for h in hits), depth)


def _retriever(g: Grail, name: str, convex_weight: float) -> tuple[Retriever, str, str | None]:
    settings = g.settings.replace(convex_dense_weight=convex_weight)
    mode, _, fusion = name.partition("-")
    return Retriever(g.store, g.embedder, settings), mode, fusion or None


def run_beir(folder: str | Path, split: str = "test", index_dir: str | Path | None = None,
             retrievers: Sequence[str] = RETRIEVERS, *, limit_queries: int | None = None,
             settings_overrides: dict[str, Any] | None = None, convex_weight: float | None = None,
             corpus_limit: int | None = None, depth: int = 100, progress: Progress | None = None) -> dict[str, Any]:
    """nDCG@10, Recall@10/100, MRR@10 and p50/p95 latency per retriever on one BEIR split.

    Each retriever returns its top ``depth`` chunks, mapped to documents.
    ``corpus_limit`` (tests only) indexes the relevant documents of the
    evaluated queries plus the first N others; the report marks it a subset.
    """
    t0 = time.perf_counter()
    unknown = [r for r in retrievers if r not in RETRIEVERS]
    if unknown or not retrievers:
        raise ValueError(f"unknown retriever(s) {unknown}; choose from {', '.join(RETRIEVERS)}")
    g, data, qids, dataset, index = _prepare_beir(folder, split, index_dir, limit_queries, corpus_limit,
                                                  settings_overrides, progress)
    try:
        weight = g.settings.convex_dense_weight if convex_weight is None else convex_weight
        rows: dict[str, dict[str, Any]] = {q: {"id": q, "n_relevant": sum(v > 0 for v in data.qrels[q].values())}
                                           for q in qids}
        totals: dict[str, Any] = {"queries": len(qids)}
        query_s: dict[str, float] = {}
        for name in retrievers:
            retriever, mode, fusion = _retriever(g, name, weight)
            seconds, n_docs = [], []
            for i, q in enumerate(qids):
                t = time.perf_counter()
                hits, _ = retriever.search(data.queries[q], depth, mode=mode, fusion=fusion)
                seconds.append(time.perf_counter() - t)
                docs = _docs(hits, depth)
                n_docs.append(len(docs))
                rows[q][name] = _doc_scores(docs, data.qrels[q])
                _tick(progress, f"querying {name}", i + 1, len(qids))
            per = [rows[q][name] for q in qids]
            totals[name] = {m: round(_mean(per, m), 6) for m in ("ndcg@10", "recall@10", "recall@100", "mrr@10")}
            totals[name].update(_latency(seconds))
            totals[name]["docs_per_query"] = round(statistics.fmean(n_docs), 2) if n_docs else 0.0
            query_s[name] = round(sum(seconds), 3)
        config = {"retrievers": list(retrievers), "depth_chunks": depth, "convex_weight": weight,
                  "limit_queries": limit_queries, "corpus_limit": corpus_limit, "settings": _settings(g)}
        return {"kind": "beir", "config": config, "dataset": dataset, "totals": totals,
                "per_query": [rows[q] for q in qids], "index": index,
                "timings": {"index_s": index["seconds"], "query_s": query_s,
                            "total_s": round(time.perf_counter() - t0, 3)}}
    finally:
        g.close()


def sweep_convex(folder: str | Path, split: str = "train", index_dir: str | Path | None = None,
                 weights: Sequence[float] = SWEEP_WEIGHTS, *, limit_queries: int | None = None,
                 settings_overrides: dict[str, Any] | None = None, corpus_limit: int | None = None,
                 depth: int = 100, progress: Progress | None = None) -> dict[str, Any]:
    """hybrid-convex metrics for each dense weight in ``weights``: run it on the TRAIN split.

    Dense and BM25 lists are retrieved once per query and fused per weight exactly
    as ``Retriever`` does (same list depth, same ``convex_combination``), so a
    weight chosen here reproduces under ``run_beir(..., convex_weight=w)``.
    Choosing the weight on the test split would overfit the number you report.
    """
    t0 = time.perf_counter()
    g, data, qids, dataset, index = _prepare_beir(folder, split, index_dir, limit_queries, corpus_limit,
                                                  settings_overrides, progress)
    try:
        retriever = Retriever(g.store, g.embedder, g.settings)
        n = max(depth, g.settings.candidates)  # the depth Retriever gives each list before fusing
        labels = {w: f"w={w:g}" for w in weights}
        rows: dict[str, dict[str, Any]] = {}
        for i, q in enumerate(qids):
            lists: dict[str, list[tuple[str, float]]] = {}
            doc_of: dict[str, str] = {}
            for mode in ("dense", "bm25"):
                hits, _ = retriever.search(data.queries[q], n, mode=mode)
                lists[mode] = [(h.chunk.chunk_id, h.score) for h in hits]
                doc_of.update((h.chunk.chunk_id, h.chunk.doc_id) for h in hits)
            rows[q] = {"id": q}
            for w in weights:
                fused = convex_combination(lists, {"dense": w, "bm25": 1.0 - w})[:depth]
                docs = top_k_unique((doc_of[str(cid)] for cid, _ in fused), depth)
                rows[q][labels[w]] = _doc_scores(docs, data.qrels[q])
            _tick(progress, "sweeping convex weights", i + 1, len(qids))
        totals: dict[str, Any] = {"queries": len(qids)}
        for w in weights:
            per = [rows[q][labels[w]] for q in qids]
            totals[labels[w]] = {m: round(_mean(per, m), 6) for m in ("ndcg@10", "recall@10", "recall@100", "mrr@10")}
        best = max(weights, key=lambda w: totals[labels[w]]["ndcg@10"]) if weights else None
        totals["best_weight"] = best
        config = {"weights": list(weights), "depth_chunks": depth, "limit_queries": limit_queries,
                  "corpus_limit": corpus_limit, "settings": _settings(g)}
        return {"kind": "beir-convex-sweep", "config": config, "dataset": dataset, "totals": totals,
                "per_query": [rows[q] for q in qids], "index": index,
                "timings": {"index_s": index["seconds"], "total_s": round(time.perf_counter() - t0, 3)}}
    finally:
        g.close()


# -- FinanceBench ---------------------------------------------------------------------
def run_financebench(folder: str | Path, index_dir: str | Path | None = None, ks: Sequence[int] = (1, 5, 10, 20),
                     answers: str = "none", *, limit: int | None = None, mode: str | None = None,
                     abstention: bool = False, asking_sentence: bool = False,
                     settings_overrides: dict[str, Any] | None = None,
                     progress: Progress | None = None) -> dict[str, Any]:
    """Evidence-page Recall@k and MRR over one shared index of every PDF; optionally answer quality,
    and with ``abstention`` the evidence gate's rates with each question's filing held out
    (``grail.eval.abstention``) at the configured ``min_evidence``. ``asking_sentence``: each question
    is asked as its sentence that asks alone, without FinanceBench's instructions around it ("... by
    relying on the details shown in the cash flow statement"), as a user would type it.

    A hit is on the evidence when its file stem is the evidence record's
    ``doc_name`` and its 1-based page is that record's page. ``page_recall@k``
    ranks distinct pages (``search(per_page=True)``: each page by its best chunk,
    as BEIR ranks documents); ``evidence_recall@k`` ranks raw chunks. ``answers`` is an
    LLM spec for ``Grail.ask`` ("extractive", "local", "openai:URL") or "none".
    """
    t0 = time.perf_counter()
    folder = Path(folder)
    pdfs = folder / "pdfs"
    if not (folder / "questions.jsonl").is_file() or not pdfs.is_dir():
        raise DatasetError(f"no questions.jsonl or pdfs/ in {folder}: expected a FinanceBench folder "
                           "(questions.jsonl, pdfs/<doc_name>.pdf)")
    try:
        questions = load_financebench(folder)
    except (KeyError, ValueError) as exc:
        raise DatasetError(f"{folder / 'questions.jsonl'} is not FinanceBench questions: {exc}") from exc
    questions = questions[:limit] if limit else questions
    if asking_sentence:
        questions = [dataclasses.replace(q, question=question_focus(q.question).strip()) for q in questions]
    ks = sorted(set(ks))
    depth = max(ks + [10])
    g = _open(index_dir or Path(".grail-eval") / "financebench", settings_overrides)
    try:
        root = str(pdfs.resolve())
        _refuse_foreign(g, lambda p: p.startswith(root), f"PDFs of {pdfs}")
        rep = g.index(pdfs, on_progress=lambda _p, d, t: _tick(progress, "indexing", d, t))
        index = {"folder": str(g.settings.index),
                 "files": len(rep.added) + len(rep.updated) + len(rep.reread) + len(rep.unchanged),
                 "added": len(rep.added), "updated": len(rep.updated), "reread": len(rep.reread),
                 "unchanged": len(rep.unchanged), "chunks_reused": rep.chunks_reused,
                 "removed": len(rep.removed), "failed": [list(f) for f in rep.failed],
                 "pages": rep.pages, "chunks_embedded": rep.chunks_embedded, "seconds": round(rep.seconds, 3)}
        indexed = {Path(d.path).stem for d in g.documents()}
        rows, search_s, page_search_s, answer_s = [], [], [], []
        for i, q in enumerate(questions):
            gold = set(zip(q.evidence_doc_names or (q.doc_name,) * len(q.evidence_pages), q.evidence_pages, strict=True))
            t = time.perf_counter()
            hits = g.search(q.question, depth, mode=mode)
            search_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            pages = g.search(q.question, depth, mode=mode, per_page=True)
            page_search_s.append(time.perf_counter() - t)
            spots = [(Path(h.path).stem, h.chunk.page) for h in hits]
            rank = next((r for r, s in enumerate(spots, 1) if s in gold), None)
            page_spots = [(Path(h.path).stem, h.chunk.page) for h in pages]
            page_rank = next((r for r, s in enumerate(page_spots, 1) if s in gold), None)
            doc_rank = next((r for r, (stem, _) in enumerate(spots, 1) if stem == q.doc_name), None)
            row: dict[str, Any] = {"id": q.id, "question": q.question, "doc_name": q.doc_name,
                                   "question_type": q.question_type,
                                   "gold_pages": sorted(p for _, p in gold), "filing_indexed": q.doc_name in indexed,
                                   "page_rank": page_rank, "evidence_rank": rank, "doc_rank": doc_rank,
                                   "top_pages": [f"{stem} p.{page}" for stem, page in page_spots[:5]],
                                   "top_hits": [f"{stem} p.{page}" for stem, page in spots[:5]]}
            for k in ks:
                row[f"page_recall@{k}"] = 1.0 if page_rank is not None and page_rank <= k else 0.0
                row[f"evidence_recall@{k}"] = 1.0 if rank is not None and rank <= k else 0.0
            row[f"page_mrr@{depth}"] = 1.0 / page_rank if page_rank else 0.0
            row[f"mrr@{depth}"] = 1.0 / rank if rank else 0.0
            row["doc_recall@10"] = 1.0 if doc_rank is not None and doc_rank <= 10 else 0.0
            if answers != "none":
                t = time.perf_counter()
                ans = g.ask(q.question, llm=answers)
                answer_s.append(time.perf_counter() - t)
                details = sentence_details(ans)
                text = _answer_text(ans.text)
                judged = judge_answer(text, q.answer) if not ans.abstained else None
                cited = {(Path(c.path).stem, c.page) for c in ans.citations}
                row.update({"answer": text, "gold_answer": q.answer, "abstained": ans.abstained,
                            "correct": bool(judged and judged.correct),
                            "judge": f"{judged.method}: {judged.detail}" if judged else "abstained",
                            "cites_evidence_page": None if ans.abstained else bool(cited & gold),
                            "draft_sentences": len(ans.sentences),
                            "supported_sentences": sum(s.supported for s in ans.sentences),
                            "audit": audit_answer(ans, _on_pages(gold), details).as_dict(), **details})
            rows.append(row)
            _tick(progress, "answering" if answers != "none" else "querying", i + 1, len(questions))
        # pages: the ranked list of distinct pages (each by its best chunk), the unit of the
        # issue's page-level baseline; evidence_*: the raw chunk ranking (a top-k chunk lies on it)
        retrieval = {f"page_recall@{k}": round(_mean(rows, f"page_recall@{k}"), 6) for k in ks}
        retrieval[f"page_mrr@{depth}"] = round(_mean(rows, f"page_mrr@{depth}"), 6)
        retrieval.update({f"evidence_recall@{k}": round(_mean(rows, f"evidence_recall@{k}"), 6) for k in ks})
        retrieval[f"mrr@{depth}"] = round(_mean(rows, f"mrr@{depth}"), 6)
        retrieval["doc_recall@10"] = round(_mean(rows, "doc_recall@10"), 6)
        retrieval.update(_latency(search_s))
        retrieval.update({f"pages_{key}": v for key, v in _latency(page_search_s).items()})
        totals: dict[str, Any] = {"questions": len(rows), "retrieval": retrieval,
                                  "filings_missing": sum(not r["filing_indexed"] for r in rows)}
        if answers != "none":
            answered = [r for r in rows if not r["abstained"]]
            totals["answers"] = {
                "correct_rate": round(_mean(rows, "correct"), 6), "refusal_rate": round(_mean(rows, "abstained"), 6),
                "answered": len(answered), "citation_accuracy": round(_mean(answered, "cites_evidence_page"), 6),
                # the verifier's own view: share of draft sentences it found supported (all shipped ones are)
                "draft_supported_share": round(sum(r["supported_sentences"] for r in rows)
                                               / max(sum(r["draft_sentences"] for r in rows), 1), 6),
                **_latency(answer_s)}
            totals["faithfulness"] = summarize([AnswerAudit(**r["audit"]) for r in rows])
        if abstention:
            arows = abstention_rows(g, folder, questions, lambda d, t: _tick(progress, "holding filings out", d, t))
            totals["abstention"] = {"min_evidence": g.settings.min_evidence,
                                    "evidence_in_top10": sum(r["evidence_in_top10"] for r in arows),
                                    **{k: round(v, 6) for k, v in abstention_rates(arows, g.settings.min_evidence).items()}}
            for row, arow in zip(rows, arows, strict=True):
                row["abstention"] = {label: arow[label] for label in SETTINGS}
        config = {"ks": ks, "depth": depth, "answers": answers, "mode": mode or g.settings.retrieval,
                  "limit": limit, "abstention": abstention, "asking_sentence": asking_sentence,
                  "settings": _settings(g)}
        dataset = {"name": "financebench", "path": str(folder), "questions": len(rows), "subset": bool(limit)}
        return {"kind": "financebench", "config": config, "dataset": dataset, "totals": totals, "per_query": rows,
                "index": index, "timings": {"index_s": index["seconds"], "search_s": round(sum(search_s), 3),
                                            "answer_s": round(sum(answer_s), 3),
                                            "total_s": round(time.perf_counter() - t0, 3)}}
    finally:
        g.close()


# -- SQuAD -------------------------------------------------------------------------------
def _holds_any(golds: list[str]) -> Callable[[dict[str, Any]], bool]:
    """A cited source is on the gold evidence when its text holds a gold answer (SQuAD)."""
    return lambda src: any(a in str(src["text"]).lower() for a in golds)


def _on_pages(gold: set[tuple[str, int]]) -> Callable[[dict[str, Any]], bool]:
    """A cited source is on the gold evidence when it lies on a gold (file stem, page) (FinanceBench)."""
    return lambda src: (Path(str(src["path"])).stem, int(src["page"])) in gold


def _squad_file(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*-v1.1.json")) or sorted(path.glob("*.json"))
        if not files:
            raise DatasetError(f"no SQuAD JSON in {path}: expected dev-v1.1.json (or point at the file itself)")
        return files[0]
    if not path.is_file():
        raise DatasetError(f"no such SQuAD file or folder: {path}")
    return path


def _evenly(items: list[Any], n: int | None) -> list[Any]:
    if not n or n >= len(items):
        return items
    return [items[(i * len(items)) // n] for i in range(n)]


def run_squad(path: str | Path, index_dir: str | Path | None = None, *, limit_articles: int | None = None,
              questions: int | None = None, answers: str = "none", ks: Sequence[int] = (1, 5, 10),
              settings_overrides: dict[str, Any] | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Paragraph retrieval Recall@k (a top-k chunk contains a gold answer) and, with answers, EM/F1.

    Paragraphs are indexed as texts (doc id = ``paragraph_id``); ``questions``
    picks that many questions evenly spread over the (limited) articles.
    """
    t0 = time.perf_counter()
    file = _squad_file(path)
    try:
        all_qs = load_squad(file)
    except (KeyError, ValueError, FileNotFoundError) as exc:
        raise DatasetError(str(exc)) from exc
    titles = list(dict.fromkeys(q.title for q in all_qs))[:limit_articles] if limit_articles else None
    pool = [q for q in all_qs if titles is None or q.title in titles]
    paragraphs = {q.paragraph_id: (q.paragraph_id, q.title, q.context) for q in pool}
    chosen = _evenly(pool, questions)
    ks = sorted(set(ks))
    g = _open(index_dir or Path(".grail-eval") / f"squad-{file.stem}", settings_overrides)
    try:
        index = _sync_texts(g, list(paragraphs.values()), f"squad-{file.stem}", progress)
        rows, predictions = [], {}
        for i, q in enumerate(chosen):
            hits = g.search(q.question, max(ks))
            golds = [a.lower() for a in q.answers]
            answer_rank = next((r for r, h in enumerate(hits, 1) if any(a in h.chunk.text.lower() for a in golds)),
                               None)
            para_rank = next((r for r, h in enumerate(hits, 1) if h.chunk.doc_id == q.paragraph_id), None)
            row: dict[str, Any] = {"id": q.qid, "answer_rank": answer_rank, "paragraph_rank": para_rank}
            for k in ks:
                row[f"recall@{k}"] = 1.0 if answer_rank is not None and answer_rank <= k else 0.0
                row[f"gold_paragraph@{k}"] = 1.0 if para_rank is not None and para_rank <= k else 0.0
            if answers != "none":
                ans = g.ask(q.question, llm=answers)
                details = sentence_details(ans)
                text = "" if ans.abstained else _answer_text(ans.text)
                predictions[q.qid] = text
                row.update({"answer": text, "abstained": ans.abstained,
                            "em": max_over_ground_truths(exact_match_score, text, q.answers),
                            "f1": max_over_ground_truths(f1_score, text, q.answers),
                            "audit": audit_answer(ans, _holds_any(golds), details).as_dict(), **details})
            rows.append(row)
            _tick(progress, "answering" if answers != "none" else "querying", i + 1, len(chosen))
        names = [f"recall@{k}" for k in ks] + [f"gold_paragraph@{k}" for k in ks]
        totals: dict[str, Any] = {"questions": len(rows), "retrieval": {m: round(_mean(rows, m), 6) for m in names}}
        if answers != "none" and chosen:
            scored = evaluate(chosen, predictions)
            totals["answers"] = {"exact_match": round(scored["exact_match"], 4), "f1": round(scored["f1"], 4),
                                 "abstention_rate": round(_mean(rows, "abstained"), 6)}
            totals["faithfulness"] = summarize([AnswerAudit(**r["audit"]) for r in rows])
        dataset = {"name": f"squad-{file.stem}", "path": str(file), "articles": len({q.title for q in pool}),
                   "paragraphs": len(paragraphs), "questions": len(chosen),
                   "subset": bool(limit_articles or (questions and questions < len(pool)))}
        config = {"ks": ks, "answers": answers, "limit_articles": limit_articles, "questions": questions,
                  "settings": _settings(g)}
        return {"kind": "squad", "config": config, "dataset": dataset, "totals": totals, "per_query": rows,
                "index": index, "timings": {"index_s": index["seconds"], "total_s": round(time.perf_counter() - t0, 3)}}
    finally:
        g.close()


def score_squad_predictions(dataset: str | Path, predictions: str | Path) -> dict[str, Any]:
    """Official SQuAD v1.1 EM / F1 of a ``{question id: answer}`` JSON file (like ``evaluate-v1.1.py``)."""
    file = _squad_file(dataset)
    pred_path = Path(predictions)
    if not pred_path.is_file():
        raise DatasetError(f"no predictions file at {pred_path}: expected JSON {{question id: answer text}}")
    try:
        preds = json.loads(pred_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{pred_path} is not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(preds, dict) or not all(isinstance(v, str) for v in preds.values()):
        raise DatasetError(f"{pred_path} must be a JSON object mapping question id to answer text")
    qs = load_squad(file)
    scored = evaluate(qs, preds)
    rows = [{"id": q.qid, "em": max_over_ground_truths(exact_match_score, preds[q.qid], q.answers),
             "f1": max_over_ground_truths(f1_score, preds[q.qid], q.answers)} if q.qid in preds
            else {"id": q.qid, "em": 0.0, "f1": 0.0, "missing": True} for q in qs]
    return {"kind": "squad-predictions", "config": {"predictions": str(pred_path)},
            "dataset": {"name": f"squad-{file.stem}", "path": str(file), "questions": len(qs)},
            "totals": {"exact_match": round(scored["exact_match"], 4), "f1": round(scored["f1"], 4),
                       "questions": scored["n"], "unanswered": scored["unanswered"]},
            "per_query": rows, "index": {}, "timings": {}}
