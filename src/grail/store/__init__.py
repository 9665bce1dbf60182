"""The Store: one collection of documents, chunks, vectors and a keyword index.

``Store`` is the protocol every engine keeps (the shared suite in
``tests/test_store.py`` runs against each); ``sqlite`` is the embedded default.
Search results come back as ``(Chunk, score)`` pairs in rank order; metadata
``Filters`` apply to dense and keyword search alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from grail.records import Chunk, Document


@dataclass(frozen=True, kw_only=True)
class Filters:
    """Metadata filters. All given conditions must hold."""

    path_glob: str | None = None  # fnmatch-style glob over the absolute path, e.g. "*/10k/*.pdf"
    doc_types: tuple[str, ...] = ()  # "pdf", "html", "markdown", "text", "docx"
    doc_ids: tuple[str, ...] = ()
    exclude_doc_ids: tuple[str, ...] = ()
    modified_after: float | None = None  # file mtime, unix seconds
    modified_before: float | None = None

    def is_empty(self) -> bool:
        return not (self.path_glob or self.doc_types or self.doc_ids or self.exclude_doc_ids
                    or self.modified_after is not None or self.modified_before is not None)


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    path: str
    sha256: str
    doc_type: str
    title: str
    n_pages: int
    n_chunks: int
    size: int
    mtime: float
    indexed_at: float
    metadata: dict[str, Any]


class Store(Protocol):
    def document_state(self, path: str) -> tuple[str, str] | None:
        """(doc_id, sha256) of the document indexed from ``path``, if any."""

    def parser_version(self, doc_id: str) -> int:
        """The parser version the document was indexed with (1 when none was recorded)."""

    def vectors_by_text(self, doc_id: str) -> dict[str, np.ndarray]:
        """indexed text -> vector of the document's stored chunks."""

    def replace_document(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray,
                         *, size: int, mtime: float) -> None:
        """Atomically replace everything stored for ``doc.doc_id`` with this version."""

    def delete_document(self, doc_id: str) -> bool: ...

    def documents(self) -> list[DocumentInfo]: ...

    def page_text(self, doc_id: str, page: int) -> str | None: ...

    def page_heads(self, doc_ids: Sequence[str], chars: int = 800) -> list[tuple[str, int, str]]:
        """(doc_id, page, first ``chars`` characters of the page) for every page of these documents."""

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]: ...

    def neighbours(self, chunk: Chunk, before: int = 1, after: int = 1) -> list[Chunk]: ...

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]: ...

    def keyword_search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]: ...

    def stats(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


def open_store(spec: str, *, embedder_name: str, dim: int) -> Store:
    """``sqlite:PATH`` (default) opens the embedded store in folder PATH."""
    name, _, arg = spec.partition(":")
    if name == "sqlite":
        from grail.store.sqlite import SQLiteStore

        return SQLiteStore(arg or ".grail", embedder_name=embedder_name, dim=dim)
    raise ValueError(f"unknown store {name!r}; available: sqlite:PATH")
