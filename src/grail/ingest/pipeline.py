"""Indexing: files -> Documents -> Chunks -> vectors -> the store, incrementally.

A file is identified by its absolute path and the sha256 of its bytes: an
unchanged file costs one hash and no embedding; a changed file's chunks are
replaced in one transaction, and a chunk whose indexed text is unchanged keeps
its vector (same text, same model: same vector), so only new text is embedded.
A file indexed by an older parser (``PARSER_VERSION``, recorded in each
document's metadata as ``parser``) is read again the same way, so a loader or
chunker improvement reaches an existing index on the next ``grail index``. A
file that disappeared from an indexed folder is removed. Each document commits on its own, so a crash (even SIGKILL)
loses at most the file in flight, and the next run resumes without
duplicates. The decision: bad files never stop the batch; each is reported
by path with its reason and the run's exit status says something failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from grail.embed import Embedder
from grail.ingest.chunking import ChunkingConfig, chunk_document
from grail.ingest.loaders import SUPPORTED_SUFFIXES, LoadError, doc_id_for, load_document, sha256_file
from grail.ingest.metadata import enrich, read_sidecar
from grail.store.sqlite import SQLiteStore

# What a file becomes (pages, blocks, chunks) changes with the loaders and the chunker: bump this when their
# output does, and the next ``grail index`` reads every file indexed before again (embedding only new text).
# 1: before versions were recorded. 2: numbered note titles ("2. Acquisitions") are PDF headings, a column
# header's stacked words ("Net" / "Income") are not.
PARSER_VERSION = 2


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    chunks_embedded: int = 0
    chunks_reused: int = 0  # chunks whose indexed text was stored already: their vectors were kept
    reread: list[str] = field(default_factory=list)  # unchanged files read again by a newer parser
    pages: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


def discover(paths: Iterable[str | Path], skip: Path | None = None) -> tuple[list[Path], list[tuple[str, str]], list[Path]]:
    """Files to index, problems with the given paths, and the folders walked."""
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    folders: list[Path] = []
    skip_abs = skip.resolve() if skip else None
    for raw in paths:
        p = Path(raw).expanduser()
        if not p.exists():
            problems.append((str(p), "no such file or folder"))
            continue
        p = p.resolve()
        if p.is_dir():
            folders.append(p)
            for root, dirs, names in os.walk(p):
                root_p = Path(root)
                dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                                 and (skip_abs is None or (root_p / d).resolve() != skip_abs))
                for name in sorted(names):
                    f = root_p / name
                    if not name.startswith(".") and f.suffix.lower() in SUPPORTED_SUFFIXES:
                        files.append(f)
        else:
            files.append(p)  # given explicitly: an unsupported type is reported by the loader
    seen: set[Path] = set()
    unique = [f for f in files if not (f in seen or seen.add(f))]  # type: ignore[func-returns-value]
    return unique, problems, folders


def index_paths(paths: Iterable[str | Path], store: SQLiteStore, embedder: Embedder, *,
                chunking: ChunkingConfig | None = None, max_file_mb: int = 200,
                on_progress: Callable[[str, int, int], None] | None = None) -> IndexReport:
    """Index files and folders; ``on_progress(path, done, total)`` after each file."""
    t0 = time.perf_counter()
    report = IndexReport()
    files, problems, folders = discover(paths, skip=store.folder)
    report.failed.extend(problems)
    for i, f in enumerate(files):
        path = str(f)
        try:
            _index_one(f, store, embedder, chunking, max_file_mb, report)
        except LoadError as exc:
            report.failed.append((path, exc.reason))
        except FileNotFoundError:
            report.failed.append((path, "file vanished before it could be read"))
        except OSError as exc:  # unreadable between discovery and reading
            report.failed.append((path, f"cannot read file: {exc.strerror or exc}"))
        if on_progress:
            on_progress(path, i + 1, len(files))
    # files that were indexed from a walked folder and are gone now
    wanted = {str(f) for f in files}
    for info in store.documents():
        in_folder = any(info.path.startswith(str(d) + os.sep) for d in folders)
        if in_folder and info.path not in wanted and not Path(info.path).exists():
            store.delete_document(info.doc_id)
            report.removed.append(info.path)
    store.save_vector_index()
    report.seconds = time.perf_counter() - t0
    return report


def _index_one(f: Path, store: SQLiteStore, embedder: Embedder, chunking: ChunkingConfig | None,
               max_file_mb: int, report: IndexReport) -> None:
    path = str(f)
    stat = f.stat()
    digest = sha256_file(f)
    try:
        overrides = read_sidecar(f)
    except ValueError as exc:
        raise LoadError(path, str(exc)) from exc
    if overrides:  # editing the sidecar re-indexes the file
        digest = hashlib.sha256((digest + json.dumps(overrides, sort_keys=True)).encode()).hexdigest()
    state = store.document_state(path)
    stale = state is not None and state[1] == digest and store.parser_version(state[0]) < PARSER_VERSION
    if state is not None and state[1] == digest and not stale:
        report.unchanged.append(path)
        return
    doc = enrich(load_document(f, max_bytes=max_file_mb * 1024 * 1024, sha256=digest), overrides)
    doc = replace(doc, metadata={**doc.metadata, "parser": PARSER_VERSION})
    chunks = chunk_document(doc, embedder, chunking)
    if not chunks:
        raise LoadError(path, "no indexable text after chunking")
    known = store.vectors_by_text(state[0]) if state is not None else {}
    new_texts = list(dict.fromkeys(c.index_text for c in chunks if c.index_text not in known))
    if new_texts:
        known = {**known, **dict(zip(new_texts, embedder.embed(new_texts)))}
    vectors = np.stack([np.asarray(known[c.index_text], dtype=np.float32) for c in chunks])
    store.replace_document(doc, chunks, vectors, size=stat.st_size, mtime=stat.st_mtime)
    fresh = set(new_texts)
    report.chunks_embedded += len(new_texts)
    report.chunks_reused += sum(1 for c in chunks if c.index_text not in fresh)
    report.pages += len(doc.pages)
    (report.reread if stale else report.updated if state is not None else report.added).append(path)


def index_texts(items: Iterable[tuple[str, str, str]], store: SQLiteStore, embedder: Embedder, *,
                source: str = "texts", chunking: ChunkingConfig | None = None, batch_docs: int = 64,
                on_progress: Callable[[str, int, int], None] | None = None) -> IndexReport:
    """Index in-memory texts ``(doc_id, title, text)`` (benchmark corpora, API uploads).

    Each becomes a one-page "text" Document at the pseudo-path ``{source}://{doc_id}``;
    identical text is a no-op, changed text replaces the old chunks, exactly as for files.
    Documents are embedded in batches of ``batch_docs`` so short texts share model calls.
    """
    from grail.records import Document, Page

    t0 = time.perf_counter()
    report = IndexReport()
    items = list(items)
    pending: list[tuple[Document, list]] = []

    def flush() -> None:
        texts = [c.index_text for _, chunks in pending for c in chunks]
        vectors = embedder.embed(texts)
        pos = 0
        for doc, chunks in pending:
            store.replace_document(doc, chunks, vectors[pos : pos + len(chunks)], size=len(doc.pages[0].text),
                                   mtime=time.time())
            pos += len(chunks)
            report.chunks_embedded += len(chunks)
            report.pages += 1
        pending.clear()

    for i, (doc_id, title, text) in enumerate(items):
        path = f"{source}://{doc_id}"
        digest = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()
        state = store.document_state(path)
        if state is not None and state[1] == digest:
            report.unchanged.append(path)
        elif not text.strip():
            report.failed.append((path, "no text"))
        else:
            doc = Document(doc_id=doc_id, path=path, sha256=digest, doc_type="text", title=title,
                           pages=(Page(1, text),), metadata={"source": source})
            pending.append((doc, chunk_document(doc, embedder, chunking)))
            (report.updated if state is not None else report.added).append(path)
            if len(pending) >= batch_docs:
                flush()
        if on_progress:
            on_progress(path, i + 1, len(items))
    if pending:
        flush()
    store.save_vector_index()
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["IndexReport", "PARSER_VERSION", "index_paths", "index_texts", "discover", "doc_id_for"]
