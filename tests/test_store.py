"""The Store protocol's shared suite: every engine must pass it (today: sqlite)."""

from __future__ import annotations

import numpy as np
import pytest

from grail.records import Chunk, Document, Page
from grail.store import Filters, open_store
from grail.store.hnsw import VectorIndex

DIM = 8


def _doc(i: int, text: str, doc_type: str = "text", path: str | None = None) -> Document:
    return Document(f"doc{i}", path or f"/data/{doc_type}/file{i}.txt", f"sha{i}-{len(text)}", doc_type, f"Doc {i}",
                    (Page(1, text),))


def _chunks(doc: Document, words: list[str]) -> list[Chunk]:
    return [Chunk(f"{doc.doc_id}-{doc.sha256}-{j}", doc.doc_id, j, w, 1, 0, len(w), (), 3, w) for j, w in enumerate(words)]


def _vec(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture(params=["sqlite"])
def store(request, tmp_path):
    s = open_store(f"{request.param}:{tmp_path / 'idx'}", embedder_name="test", dim=DIM)
    yield s
    s.close()


def _put(store, i, words, doc_type="text", path=None, seeds=None):
    doc = _doc(i, " ".join(words), doc_type, path)
    chunks = _chunks(doc, words)
    vecs = np.stack([_vec(s) for s in (seeds or range(i * 100, i * 100 + len(words)))])
    store.replace_document(doc, chunks, vecs, size=10, mtime=1000.0 + i)
    return doc, chunks, vecs


def test_keyword_and_dense_search_find_the_right_chunk(store):
    _put(store, 1, ["the quarterly revenue grew", "pension liabilities fell"])
    _, chunks2, vecs2 = _put(store, 2, ["goodwill impairment charge", "capital expenditure rose"])
    kw = store.keyword_search("capital expenditures", 3)
    assert kw[0][0].text == "capital expenditure rose"  # porter stemming: expenditures -> expenditur
    dense = store.dense_search(vecs2[0], 2)
    assert dense[0][0].chunk_id == chunks2[0].chunk_id
    assert dense[0][1] == pytest.approx(1.0, abs=1e-5)


def test_replace_removes_old_chunks_everywhere(store):
    _, old, old_vecs = _put(store, 1, ["alpha bravo", "charlie delta"])
    doc = _doc(1, "echo foxtrot")
    doc = Document(doc.doc_id, doc.path, "newsha", doc.doc_type, doc.title, doc.pages)
    new = _chunks(doc, ["echo foxtrot"])
    store.replace_document(doc, new, np.stack([_vec(999)]), size=5, mtime=2.0)
    assert store.keyword_search("alpha", 5) == []
    assert all(c.chunk_id != old[0].chunk_id for c, _ in store.dense_search(old_vecs[0], 5))
    assert store.stats()["chunks"] == 1
    assert store.document_state(doc.path) == ("doc1", "newsha")


def test_delete_document(store):
    _put(store, 1, ["alpha bravo"])
    _, _, v2 = _put(store, 2, ["charlie delta"])
    assert store.delete_document("doc1") is True
    assert store.delete_document("doc1") is False
    assert store.keyword_search("alpha", 5) == []
    assert [c.doc_id for c, _ in store.dense_search(v2[0], 5)] == ["doc2"]


def test_page_heads_are_the_start_of_each_page_of_the_asked_documents(store):
    doc = Document("doc7", "/data/r.pdf", "sha7", "pdf", "R", (Page(1, "COVER\nAcme"), Page(2, "BALANCE SHEETS\n" + "x" * 50)))
    store.replace_document(doc, _chunks(doc, ["cover acme"]), np.stack([_vec(7)]), size=1, mtime=1.0)
    _put(store, 8, ["other words"])
    assert store.page_heads(["doc7"], 20) == [("doc7", 1, "COVER\nAcme"), ("doc7", 2, "BALANCE SHEETS\nxxxxx")]
    assert store.page_heads([], 20) == []


def test_filters_apply_to_dense_and_keyword_alike(store):
    _put(store, 1, ["net income rose"], doc_type="pdf", path="/filings/10k/acme.pdf", seeds=[1])
    _put(store, 2, ["net income fell"], doc_type="html", path="/news/acme.html", seeds=[2])
    f = Filters(path_glob="/filings/*")
    assert [c.doc_id for c, _ in store.keyword_search("net income", 5, f)] == ["doc1"]
    assert [c.doc_id for c, _ in store.dense_search(_vec(2), 5, f)] == ["doc1"]
    assert [c.doc_id for c, _ in store.dense_search(_vec(1), 5, Filters(doc_types=("html",)))] == ["doc2"]
    assert [c.doc_id for c, _ in store.keyword_search("income", 5, Filters(modified_after=1001.5))] == ["doc2"]


def test_hnsw_cache_is_derived_and_rebuilt_when_lost_or_stale(tmp_path):
    folder = tmp_path / "idx"
    s = open_store(f"sqlite:{folder}", embedder_name="test", dim=DIM)
    _put(s, 1, ["one", "two", "three"])
    s.save_vector_index()
    s.close()
    # another writer changes the db after the cache was saved: the cache must catch up
    s2 = open_store(f"sqlite:{folder}", embedder_name="test", dim=DIM)
    _, _, v2 = _put(s2, 2, ["four"])
    s2.delete_document("doc1")
    s2.close()
    s3 = open_store(f"sqlite:{folder}", embedder_name="test", dim=DIM)
    assert [c.doc_id for c, _ in s3.dense_search(v2[0], 10)] == ["doc2"]
    s3.close()
    # a corrupt cache file is rebuilt, never trusted
    (folder / "vectors.usearch").write_bytes(b"garbage")
    s4 = open_store(f"sqlite:{folder}", embedder_name="test", dim=DIM)
    assert [c.doc_id for c, _ in s4.dense_search(v2[0], 10)] == ["doc2"]


def test_embedder_mismatch_is_refused(tmp_path):
    open_store(f"sqlite:{tmp_path}", embedder_name="a", dim=DIM).close()
    with pytest.raises(ValueError, match="cannot be mixed"):
        open_store(f"sqlite:{tmp_path}", embedder_name="b", dim=DIM)


def test_keyword_query_syntax_is_data_not_operators(store):
    _put(store, 1, ['he said "NEAR" AND OR NOT * ( ) - : ^'])
    for q in ['"unbalanced', "AND OR NOT", "col:value", "a*", "^", "NEAR(x y)", ")("]:
        store.keyword_search(q, 5)  # must not raise an FTS5 syntax error


def test_vector_index_library_coexists_with_the_embedding_runtime():
    """usearch 2.26 crashed the process when onnxruntime was imported after it; pinned below 2.26."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import usearch.index, onnxruntime; print('ok')"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-500:]


def test_two_processes_saving_one_vector_index_do_not_collide(tmp_path):
    """``grail serve`` and ``grail ask`` on one index each rebuild and save the graph; a shared temporary
    file name let one process rename the other's away ("No such file or directory: vectors.tmp")."""
    import subprocess
    import sys

    script = (
        "import sys, numpy as np\n"
        "from pathlib import Path\n"
        "from grail.store.hnsw import VectorIndex\n"
        "vi = VectorIndex(8)\n"
        "rng = np.random.default_rng(int(sys.argv[2]))\n"
        "v = rng.standard_normal((2000, 8)).astype(np.float32)\n"
        "vi.add(np.arange(2000, dtype=np.uint64), v / np.linalg.norm(v, axis=1, keepdims=True))\n"
        "for _ in range(40):\n"
        "    vi.save(Path(sys.argv[1]), 'fp')\n"
    )
    target = tmp_path / "vectors.usearch"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(target), str(i)], stderr=subprocess.PIPE, text=True)
             for i in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert VectorIndex.load(target, 8, "fp") is not None
    assert sorted(f.name for f in tmp_path.iterdir()) == ["vectors.json", "vectors.usearch"]  # no temporary left
