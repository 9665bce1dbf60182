"""Loaders for the evaluation sets: BEIR retrieval folders and FinanceBench questions.

A loader turns a dataset's files into plain typed values and nothing more;
scoring lives in ``metrics``/``answers``. The one decision: datasets convert
to grail's conventions **here, at their edge**: FinanceBench's zero-based
evidence page numbers become 1-based (the page a person sees in a PDF viewer,
as in ``grail.records``), and a BEIR split keeps only the queries that have
qrels in it, exactly as BEIR's ``GenericDataLoader`` does.
``dataset_fingerprint`` gives reports a content hash of what was evaluated.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "BeirData",
    "BeirDocument",
    "FinanceBenchQuestion",
    "dataset_fingerprint",
    "load_beir",
    "load_financebench",
]


class BeirDocument(NamedTuple):
    title: str
    text: str


@dataclass(frozen=True)
class BeirData:
    corpus: dict[str, BeirDocument]  # doc id -> (title, text)
    queries: dict[str, str]  # query id -> text; only queries with qrels in the split
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: grade}


@dataclass(frozen=True)
class FinanceBenchQuestion:
    id: str  # financebench_id
    question: str
    answer: str
    doc_name: str  # e.g. "3M_2018_10K"; the PDF is pdfs/<doc_name>.pdf
    company: str
    evidence_pages: tuple[
        int, ...
    ]  # 1-based, one per evidence record (aligned with evidence_texts)
    evidence_texts: tuple[str, ...]
    question_type: str  # "metrics-generated" | "domain-relevant" | "novel-generated"
    evidence_doc_names: tuple[str, ...] = ()  # the filing each evidence record is from


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(
            f"{what} not found: {path}. Check the dataset folder (see shared/data/README.md)."
        )
    return path


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"{path}:{line_no} is not valid JSON ({exc.msg})."
                ) from exc
    return rows


def load_beir(folder: str | Path, split: str = "test") -> BeirData:
    """A BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) for one split."""
    folder = Path(folder)
    qrels_path = _require(
        folder / "qrels" / f"{split}.tsv", f"BEIR qrels for split {split!r}"
    )
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:3]] != [
            "query-id",
            "corpus-id",
            "score",
        ]:
            raise ValueError(
                f"{qrels_path} must start with the header 'query-id\\tcorpus-id\\tscore'."
            )
        for row in reader:
            if not row:
                continue
            query_id, doc_id, score = row[0], row[1], int(row[2])
            qrels.setdefault(query_id, {})[doc_id] = score

    corpus: dict[str, BeirDocument] = {}
    for record in _read_jsonl(_require(folder / "corpus.jsonl", "BEIR corpus")):
        corpus[str(record["_id"])] = BeirDocument(
            record.get("title") or "", record.get("text") or ""
        )
    all_queries = {
        str(row["_id"]): row["text"]
        for row in _read_jsonl(_require(folder / "queries.jsonl", "BEIR queries"))
    }
    missing = [qid for qid in qrels if qid not in all_queries]
    if missing:
        raise ValueError(
            f"{len(missing)} query ids in {qrels_path} are not in queries.jsonl (e.g. {missing[0]!r})."
        )
    queries = {qid: all_queries[qid] for qid in qrels}
    return BeirData(corpus=corpus, queries=queries, qrels=qrels)


def load_financebench(folder: str | Path) -> list[FinanceBenchQuestion]:
    """FinanceBench questions from ``<folder>/questions.jsonl``, evidence pages made 1-based."""
    folder = Path(folder)
    rows = _read_jsonl(
        _require(folder / "questions.jsonl", "FinanceBench questions.jsonl")
    )
    questions = []
    for row in rows:
        evidence = row.get("evidence") or []
        questions.append(
            FinanceBenchQuestion(
                id=row["financebench_id"],
                question=row["question"],
                answer=row["answer"],
                doc_name=row["doc_name"],
                company=row["company"],
                # The dataset's evidence_page_num is zero-based; grail pages are 1-based.
                evidence_pages=tuple(int(e["evidence_page_num"]) + 1 for e in evidence),
                evidence_texts=tuple(e.get("evidence_text", "") for e in evidence),
                question_type=row.get("question_type", ""),
                evidence_doc_names=tuple(
                    e.get("doc_name", row["doc_name"]) for e in evidence
                ),
            )
        )
    return questions


def dataset_fingerprint(path: str | Path) -> str:
    """``sha256:<hex>`` over a file's bytes, or over a folder's files (sorted relative paths + contents).

    Hidden files and folders (names starting with ".") are skipped. Any change
    to a file's name or bytes changes the fingerprint.
    """
    path = Path(path)
    _require(path, "Dataset path")
    if path.is_file():
        return "sha256:" + _file_sha256(path)
    digest = hashlib.sha256()
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode("utf-8") + b"\0")
        digest.update(_file_sha256(file).encode("ascii") + b"\n")
    return "sha256:" + digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
