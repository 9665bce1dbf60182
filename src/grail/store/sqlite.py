"""The embedded store: SQLite (WAL) is the source of truth.

Documents, page texts, chunks, their vectors (float32 blobs) and an FTS5
keyword index (porter stemmer, BM25 ranking) live in one ``index.db``. A
document is replaced in one transaction, so a crash leaves either the old or
the new version, never a mix. Triggers keep FTS5 and a change log in step with
the chunks table inside that same transaction; the HNSW graph
(``store/hnsw.py``) replays the change log to catch up, so it can never
disagree with SQLite for longer than one search.

The decision: searches run inside one read transaction (a WAL snapshot), so a
hybrid query sees one version of every file even while another process
re-indexes it.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from grail.records import Chunk, Document
from grail.store import DocumentInfo, Filters
from grail.store.hnsw import VectorIndex
from grail.text_units import STOPWORDS

SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
  doc_id TEXT PRIMARY KEY, path TEXT UNIQUE NOT NULL, sha256 TEXT NOT NULL, doc_type TEXT NOT NULL,
  title TEXT NOT NULL, n_pages INTEGER NOT NULL, size INTEGER NOT NULL, mtime REAL NOT NULL,
  indexed_at REAL NOT NULL, metadata TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pages(
  doc_id TEXT NOT NULL, number INTEGER NOT NULL, text TEXT NOT NULL,
  PRIMARY KEY(doc_id, number)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunks(
  id INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL,
  seq INTEGER NOT NULL, page INTEGER NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
  heading_path TEXT NOT NULL, n_tokens INTEGER NOT NULL, text TEXT NOT NULL, index_text TEXT NOT NULL,
  vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id, seq);
CREATE TABLE IF NOT EXISTS changes(seq INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL,
  chunk_rowid INTEGER NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
  index_text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, index_text) VALUES (new.id, new.index_text);
  INSERT INTO changes(op, chunk_rowid) VALUES ('add', new.id);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, index_text) VALUES ('delete', old.id, old.index_text);
  INSERT INTO changes(op, chunk_rowid) VALUES ('del', old.id);
END;
"""

_WORD = re.compile(r"\w+", re.UNICODE)

CHUNK_COLUMNS = "c.id, c.chunk_id, c.doc_id, c.seq, c.text, c.page, c.char_start, c.char_end, c.heading_path, c.n_tokens, c.index_text"


def fts_query(text: str) -> str:
    """An FTS5 OR-query of the distinct non-stopword terms, each quoted (no operators leak in)."""
    seen: list[str] = []
    for w in _WORD.findall(text.lower()):
        if w not in STOPWORDS and w not in seen:
            seen.append(w)
    return " OR ".join(f'"{w}"' for w in seen)


def _row_chunk(row: Sequence[Any]) -> Chunk:
    return Chunk(chunk_id=row[1], doc_id=row[2], seq=row[3], text=row[4], page=row[5],
                 char_start=row[6], char_end=row[7], heading_path=tuple(json.loads(row[8])),
                 n_tokens=row[9], index_text=row[10])


class SQLiteStore:
    def __init__(self, folder: str | Path, *, embedder_name: str, dim: int) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.db_path = self.folder / "index.db"
        self.hnsw_path = self.folder / "vectors.usearch"
        self.embedder_name = embedder_name
        self.dim = dim
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._vi_lock = threading.Lock()
        self._vi: VectorIndex | None = None
        conn = self._conn()
        with conn:
            conn.executescript(SCHEMA)
        self._check_meta(conn)

    # -- connections -----------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.db_path, timeout=60, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def _check_meta(self, conn: sqlite3.Connection) -> None:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        want = {"schema_version": SCHEMA_VERSION, "embedder": self.embedder_name, "dim": str(self.dim)}
        if not meta:
            with conn:
                conn.executemany("INSERT INTO meta VALUES (?, ?)", list(want.items()))
            return
        if meta.get("embedder") != self.embedder_name or meta.get("dim") != str(self.dim):
            raise ValueError(
                f"index at {self.folder} was built with embedder {meta.get('embedder')!r} "
                f"(dim {meta.get('dim')}), not {self.embedder_name!r}: vectors of different models "
                "cannot be mixed. Use that embedder, or index into a new folder (--index PATH)."
            )

    @property
    def fingerprint(self) -> str:
        return f"{self.embedder_name}:{self.dim}:{self.db_path.stat().st_ino}"

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """One consistent read view for everything done inside the block."""
        conn = self._conn()
        if conn.in_transaction:  # nested: already inside a snapshot
            yield conn
            return
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT 1 FROM meta LIMIT 1").fetchall()  # start the read snapshot now
            yield conn
        finally:
            conn.execute("COMMIT")

    # -- writes ----------------------------------------------------------
    def document_state(self, path: str) -> tuple[str, str] | None:
        row = self._conn().execute("SELECT doc_id, sha256 FROM documents WHERE path = ?", (path,)).fetchone()
        return (row[0], row[1]) if row else None

    def parser_version(self, doc_id: str) -> int:
        """The parser version a document was indexed with (``ingest.pipeline.PARSER_VERSION``; 1 when none
        was recorded: indexed before versions were)."""
        row = self._conn().execute("SELECT metadata FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        try:
            return int(json.loads(row[0]).get("parser", 1)) if row else 1
        except (ValueError, TypeError, AttributeError):
            return 1

    def vectors_by_text(self, doc_id: str) -> dict[str, np.ndarray]:
        """indexed text -> vector of a document's stored chunks: re-indexing keeps the vector of a chunk
        whose text did not change instead of embedding it again."""
        rows = self._conn().execute("SELECT index_text, vector FROM chunks WHERE doc_id = ?", (doc_id,)).fetchall()
        return {t: np.frombuffer(v, dtype=np.float32) for t, v in rows}

    def replace_document(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray,
                         *, size: int, mtime: float) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(chunks) and vecs.shape[1] != self.dim:
            raise ValueError(f"vectors have dim {vecs.shape[1]}, the index holds dim {self.dim}")
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._delete(conn, doc.doc_id)
                conn.execute("DELETE FROM documents WHERE path = ?", (doc.path,))
                conn.execute(
                    "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (doc.doc_id, doc.path, doc.sha256, doc.doc_type, doc.title, len(doc.pages), size,
                     mtime, time.time(), json.dumps(doc.metadata, default=str)),
                )
                conn.executemany("INSERT INTO pages VALUES (?,?,?)",
                                 [(doc.doc_id, p.number, p.text) for p in doc.pages])
                conn.executemany(
                    "INSERT INTO chunks(chunk_id, doc_id, seq, page, char_start, char_end, heading_path,"
                    " n_tokens, text, index_text, vector) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [(c.chunk_id, c.doc_id, c.seq, c.page, c.char_start, c.char_end,
                      json.dumps(list(c.heading_path)), c.n_tokens, c.text, c.index_text,
                      vecs[i].tobytes()) for i, c in enumerate(chunks)],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _delete(self, conn: sqlite3.Connection, doc_id: str) -> None:
        conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM pages WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))

    def delete_document(self, doc_id: str) -> bool:
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                exists = conn.execute("SELECT 1 FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
                self._delete(conn, doc_id)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return exists is not None

    def update_metadata(self, doc_id: str, metadata: dict[str, Any]) -> None:
        """Replace a document's metadata (no re-embedding: vectors and chunks are untouched)."""
        conn = self._conn()
        with self._write_lock:
            conn.execute("UPDATE documents SET metadata = ? WHERE doc_id = ?", (json.dumps(metadata, default=str), doc_id))

    # -- reads -----------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        rows = self._conn().execute(
            "SELECT d.doc_id, d.path, d.sha256, d.doc_type, d.title, d.n_pages,"
            " (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.doc_id), d.size, d.mtime, d.indexed_at,"
            " d.metadata FROM documents d ORDER BY d.path").fetchall()
        return [DocumentInfo(doc_id=r[0], path=r[1], sha256=r[2], doc_type=r[3], title=r[4], n_pages=r[5],
                             n_chunks=r[6], size=r[7], mtime=r[8], indexed_at=r[9], metadata=json.loads(r[10]))
                for r in rows]

    def document(self, doc_id: str) -> DocumentInfo | None:
        return next((d for d in self.documents() if d.doc_id == doc_id), None)

    def page_text(self, doc_id: str, page: int) -> str | None:
        row = self._conn().execute("SELECT text FROM pages WHERE doc_id = ? AND number = ?",
                                   (doc_id, page)).fetchone()
        return row[0] if row else None

    def page_heads(self, doc_ids: Sequence[str], chars: int = 800) -> list[tuple[str, int, str]]:
        """(doc_id, page number, the page's first ``chars`` characters) of every page of these documents."""
        out: list[tuple[str, int, str]] = []
        for i in range(0, len(doc_ids), 900):
            part = list(doc_ids[i : i + 900])
            out += [(r[0], int(r[1]), r[2]) for r in self._conn().execute(
                f"SELECT doc_id, number, substr(text, 1, ?) FROM pages WHERE doc_id IN ({','.join('?' * len(part))})"
                " ORDER BY doc_id, number", [chars, *part])]
        return out

    def page_headings(self, doc_ids: Sequence[str]) -> list[tuple[str, int, tuple[str, ...]]]:
        """(doc_id, page number, a heading path) for each distinct heading path of a chunk on each page."""
        out: list[tuple[str, int, tuple[str, ...]]] = []
        for i in range(0, len(doc_ids), 900):
            part = list(doc_ids[i : i + 900])
            out += [(r[0], int(r[1]), tuple(json.loads(r[2]))) for r in self._conn().execute(
                f"SELECT DISTINCT doc_id, page, heading_path FROM chunks WHERE doc_id IN ({','.join('?' * len(part))})"
                " ORDER BY doc_id, page", part)]
        return out

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        if not chunk_ids:
            return []
        conn = self._conn()
        marks = ",".join("?" * len(chunk_ids))
        rows = conn.execute(f"SELECT {CHUNK_COLUMNS} FROM chunks c WHERE c.chunk_id IN ({marks})",
                            list(chunk_ids)).fetchall()
        by_id = {r[1]: _row_chunk(r) for r in rows}
        return [by_id[c] for c in chunk_ids if c in by_id]

    def page_chunks(self, doc_id: str, page: int) -> list[Chunk]:
        """The chunks of one page, in document order."""
        rows = self._conn().execute(f"SELECT {CHUNK_COLUMNS} FROM chunks c WHERE c.doc_id = ? AND c.page = ?"
                                    " ORDER BY c.seq", (doc_id, page)).fetchall()
        return [_row_chunk(r) for r in rows]

    def chunk_keys(self, min_tokens: int = 0) -> list[tuple[str, str]]:
        """(chunk_id, doc_id) of every chunk with at least ``min_tokens`` word pieces."""
        return [(r[0], r[1]) for r in self._conn().execute(
            "SELECT chunk_id, doc_id FROM chunks WHERE n_tokens >= ? ORDER BY id", (min_tokens,))]

    def neighbours(self, chunk: Chunk, before: int = 1, after: int = 1) -> list[Chunk]:
        rows = self._conn().execute(
            f"SELECT {CHUNK_COLUMNS} FROM chunks c WHERE c.doc_id = ? AND c.seq BETWEEN ? AND ?"
            " ORDER BY c.seq", (chunk.doc_id, chunk.seq - before, chunk.seq + after)).fetchall()
        return [_row_chunk(r) for r in rows]

    def version(self) -> tuple[int, float]:
        """Changes whenever a document is added, replaced or removed."""
        n, last = self._conn().execute("SELECT COUNT(*), COALESCE(MAX(indexed_at), 0) FROM documents").fetchone()
        return int(n), float(last)

    def doc_labels(self, doc_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """doc_id -> (path, title) for the given documents."""
        ids = list(doc_ids)
        out: dict[str, tuple[str, str]] = {}
        for i in range(0, len(ids), 900):
            part = ids[i : i + 900]
            rows = self._conn().execute(f"SELECT doc_id, path, title FROM documents WHERE doc_id IN "
                                        f"({','.join('?' * len(part))})", part).fetchall()
            out.update({r[0]: (r[1], r[2]) for r in rows})
        return out

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """Stored vectors of these chunks (rows in no particular order)."""
        if not chunk_ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows = self._conn().execute(f"SELECT vector FROM chunks WHERE chunk_id IN ({','.join('?' * len(chunk_ids))})",
                                    list(chunk_ids)).fetchall()
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.frombuffer(b"".join(r[0] for r in rows), dtype=np.float32).reshape(-1, self.dim)

    def count_chunks(self, doc_ids: Sequence[str]) -> int:
        total = 0
        for i in range(0, len(doc_ids), 900):
            part = list(doc_ids[i : i + 900])
            total += self._conn().execute(f"SELECT COUNT(*) FROM chunks WHERE doc_id IN ({','.join('?' * len(part))})",
                                          part).fetchone()[0]
        return total

    def titles(self) -> dict[str, str]:
        return dict(self._conn().execute("SELECT doc_id, title FROM documents").fetchall())

    def _filter_sql(self, filters: Filters | None) -> tuple[str, list[Any]]:
        if filters is None or filters.is_empty():
            return "", []
        clauses: list[str] = []
        params: list[Any] = []
        if filters.path_glob:
            clauses.append("d.path GLOB ?")
            params.append(filters.path_glob)
        if filters.doc_types:
            clauses.append(f"d.doc_type IN ({','.join('?' * len(filters.doc_types))})")
            params.extend(filters.doc_types)
        if filters.doc_ids:
            clauses.append(f"d.doc_id IN ({','.join('?' * len(filters.doc_ids))})")
            params.extend(filters.doc_ids)
        if filters.exclude_doc_ids:
            clauses.append(f"d.doc_id NOT IN ({','.join('?' * len(filters.exclude_doc_ids))})")
            params.extend(filters.exclude_doc_ids)
        if filters.modified_after is not None:
            clauses.append("d.mtime >= ?")
            params.append(filters.modified_after)
        if filters.modified_before is not None:
            clauses.append("d.mtime < ?")
            params.append(filters.modified_before)
        return " AND " + " AND ".join(clauses), params

    def keyword_search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]:
        match = fts_query(query)
        if not match or k <= 0:
            return []
        where, params = self._filter_sql(filters)
        join = " JOIN documents d ON d.doc_id = c.doc_id" if where else ""
        rows = self._conn().execute(
            f"SELECT {CHUNK_COLUMNS}, bm25(chunks_fts) AS s FROM chunks_fts"
            f" JOIN chunks c ON c.id = chunks_fts.rowid{join}"
            f" WHERE chunks_fts MATCH ?{where} ORDER BY s LIMIT ?",
            [match, *params, k]).fetchall()
        return [(_row_chunk(r), -float(r[-1])) for r in rows]

    def mentions(self, phrases: Sequence[str], filters: Filters | None = None) -> bool:
        """Whether any chunk the filters allow contains one of ``phrases`` (each a sequence of words, in order)."""
        words = [" ".join(_WORD.findall(p.lower())) for p in phrases]
        match = " OR ".join(f'"{w}"' for w in dict.fromkeys(words) if w)
        if not match:
            return False
        where, params = self._filter_sql(filters)
        join = " JOIN documents d ON d.doc_id = c.doc_id" if where else ""
        row = self._conn().execute(
            f"SELECT 1 FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid{join}"
            f" WHERE chunks_fts MATCH ?{where} LIMIT 1", [match, *params]).fetchone()
        return row is not None

    # -- dense -----------------------------------------------------------
    def _vector_index(self, conn: sqlite3.Connection) -> VectorIndex:
        """The HNSW graph, caught up with every change this snapshot can see."""
        with self._vi_lock:
            if self._vi is None:
                self._vi = VectorIndex.load(self.hnsw_path, self.dim, self.fingerprint)
            pruned = int(dict(conn.execute("SELECT key, value FROM meta").fetchall()).get("pruned_through", 0))
            # the log may be empty right after pruning: the head is then the pruned point
            head = max(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0], pruned)
            vi = self._vi
            if vi is None or vi.last_seq < pruned or vi.last_seq > head:
                vi = self._rebuild(conn, head)
            elif vi.last_seq < head:
                self._replay(conn, vi, head)
            self._vi = vi
            return vi

    def _rebuild(self, conn: sqlite3.Connection, head: int) -> VectorIndex:
        vi = VectorIndex(self.dim)
        cur = conn.execute("SELECT id, vector FROM chunks")
        while batch := cur.fetchmany(8192):
            keys = np.array([r[0] for r in batch], dtype=np.uint64)
            vecs = np.frombuffer(b"".join(r[1] for r in batch), dtype=np.float32).reshape(-1, self.dim)
            vi.add(keys, vecs)
        vi.last_seq = head
        return vi

    def _replay(self, conn: sqlite3.Connection, vi: VectorIndex, head: int) -> None:
        rows = conn.execute("SELECT op, chunk_rowid FROM changes WHERE seq > ? AND seq <= ? ORDER BY seq",
                            (vi.last_seq, head)).fetchall()
        final: dict[int, str] = {}
        for op, rowid in rows:
            final[rowid] = op
        vi.remove([r for r, op in final.items() if op == "del"])
        adds = [r for r, op in final.items() if op == "add"]
        for i in range(0, len(adds), 900):
            part = adds[i : i + 900]
            got = conn.execute(f"SELECT id, vector FROM chunks WHERE id IN ({','.join('?' * len(part))})",
                               part).fetchall()
            if got:
                keys = np.array([r[0] for r in got], dtype=np.uint64)
                vecs = np.frombuffer(b"".join(r[1] for r in got), dtype=np.float32).reshape(-1, self.dim)
                vi.add(keys, vecs)
        vi.last_seq = head

    def save_vector_index(self) -> None:
        """Persist the HNSW cache and prune the change log it no longer needs."""
        conn = self._conn()
        with self.snapshot():
            vi = self._vector_index(conn)
        vi.save(self.hnsw_path, self.fingerprint)
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM changes WHERE seq <= ?", (vi.last_seq,))
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('pruned_through', ?)", (str(vi.last_seq),))
            conn.execute("COMMIT")

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]:
        if k <= 0:
            return []
        with self.snapshot() as conn:
            where, params = self._filter_sql(filters)
            if where:
                return self._exact_filtered(conn, vector, k, where, params)
            vi = self._vector_index(conn)
            pairs = vi.search(vector, k)
            if not pairs:
                return []
            ids = [p[0] for p in pairs]
            rows = conn.execute(f"SELECT {CHUNK_COLUMNS} FROM chunks c WHERE c.id IN ({','.join('?' * len(ids))})",
                                ids).fetchall()
            by_id = {r[0]: _row_chunk(r) for r in rows}
            return [(by_id[i], s) for i, s in pairs if i in by_id]

    def _exact_filtered(self, conn: sqlite3.Connection, vector: np.ndarray, k: int, where: str,
                        params: list[Any]) -> list[tuple[Chunk, float]]:
        """Exact search over the chunks that pass the filter (filters never lose recall)."""
        rows = conn.execute(f"SELECT c.id, c.vector FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
                            f" WHERE 1=1{where}", params).fetchall()
        if not rows:
            return []
        mat = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(-1, self.dim)
        sims = mat @ np.asarray(vector, dtype=np.float32)
        top = np.argsort(-sims)[:k]
        ids = [rows[i][0] for i in top]
        got = {r[0]: _row_chunk(r) for r in conn.execute(
            f"SELECT {CHUNK_COLUMNS} FROM chunks c WHERE c.id IN ({','.join('?' * len(ids))})", ids)}
        return [(got[rows[i][0]], float(sims[i])) for i in top if rows[i][0] in got]

    def stats(self) -> dict[str, Any]:
        conn = self._conn()
        n_docs, n_pages, last = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(n_pages), 0), MAX(indexed_at) FROM documents").fetchone()
        n_chunks, n_tokens = conn.execute("SELECT COUNT(*), COALESCE(SUM(n_tokens), 0) FROM chunks").fetchone()
        size = sum(f.stat().st_size for f in self.folder.glob("*") if f.is_file())
        by_type = dict(conn.execute("SELECT doc_type, COUNT(*) FROM documents GROUP BY doc_type").fetchall())
        return {"folder": str(self.folder.resolve()), "documents": n_docs, "pages": n_pages,
                "chunks": n_chunks, "tokens": n_tokens, "by_type": by_type, "bytes_on_disk": size,
                "last_indexed_at": last, "embedder": self.embedder_name, "dim": self.dim}

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
