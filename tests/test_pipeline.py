"""Indexing end to end: incremental, crash-safe, and bad input never stops the batch."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, write_corpus
from grail import Grail


def _pdf_bytes(text: str, password: str | None = None) -> bytes:
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    w = PdfWriter()
    page = w.add_blank_page(612, 792)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 72 700 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = w._add_object(stream)
    if password is not None:
        w.encrypt(user_password=password, owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def _chunk_ids(index: Path) -> list[str]:
    con = sqlite3.connect(f"file:{index / 'index.db'}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("SELECT chunk_id FROM chunks")]
    finally:
        con.close()


def test_incremental_reindex_embeds_only_what_changed(tmp_path):
    files = write_corpus(tmp_path / "docs", n=3, paragraphs=2)
    g = Grail(tmp_path / "idx")
    first = g.index(tmp_path / "docs")
    assert len(first.added) == 3 and first.chunks_embedded > 0 and first.ok
    again = g.index(tmp_path / "docs")
    assert again.chunks_embedded == 0 and len(again.unchanged) == 3
    os.utime(files[0], None)  # touched, same bytes: still nothing to embed
    assert g.index(tmp_path / "docs").chunks_embedded == 0
    files[1].write_text(files[1].read_text() + "\n\nA new paragraph about lava tubes.\n")
    changed = g.index(tmp_path / "docs")
    assert changed.updated == [str(files[1].resolve())] and 0 < changed.chunks_embedded
    assert g.search("lava tubes", 1, mode="bm25")[0].path == str(files[1].resolve())
    files[2].unlink()
    gone = g.index(tmp_path / "docs")
    assert gone.removed == [str(files[2].resolve())]
    assert all(h.path != str(files[2].resolve()) for h in g.search("survey", 50, mode="bm25"))
    ids = _chunk_ids(tmp_path / "idx")
    assert len(ids) == len(set(ids))


def test_a_newer_parser_reads_files_again_and_embeds_only_new_text(tmp_path):
    """An index built by an older grail is read again on the next ``grail index`` (so a loader fix reaches
    it), and a chunk whose text did not change keeps its vector instead of being embedded again."""
    from grail.ingest.pipeline import PARSER_VERSION

    files = write_corpus(tmp_path / "docs", n=2, paragraphs=4)
    g = Grail(tmp_path / "idx")
    assert g.index(tmp_path / "docs").ok
    old = next(d for d in g.documents() if d.path == str(files[0].resolve()))
    assert old.metadata["parser"] == PARSER_VERSION
    meta = {k: v for k, v in old.metadata.items() if k != "parser"}  # as an older grail recorded it
    g.store.update_metadata(old.doc_id, meta)
    vectors = g.store.vectors_by_text(old.doc_id)
    again = g.index(tmp_path / "docs")
    assert again.reread == [old.path] and again.unchanged == [str(files[1].resolve())]
    assert again.chunks_embedded == 0 and again.chunks_reused == old.n_chunks
    new = next(d for d in g.documents() if d.doc_id == old.doc_id)
    assert new.metadata["parser"] == PARSER_VERSION and new.n_chunks == old.n_chunks
    after = g.store.vectors_by_text(old.doc_id)
    assert after.keys() == vectors.keys() and all((after[t] == v).all() for t, v in vectors.items())
    assert g.index(tmp_path / "docs").unchanged == [old.path, str(files[1].resolve())]
    # an edit embeds the paragraphs it changed, not the whole file
    text = files[0].read_text()
    files[0].write_text(text.replace("Site 0-3 sentence 0", "Site 0-3 sentence zero"))
    edited = g.index(tmp_path / "docs")
    assert edited.updated == [old.path] and 0 < edited.chunks_embedded < old.n_chunks
    assert edited.chunks_embedded + edited.chunks_reused == old.n_chunks
    assert g.search("sentence zero", 1, mode="bm25")[0].path == old.path


def _bad_inputs(tmp: Path) -> dict[str, tuple[str, bytes | str, str]]:
    """name -> (file name, content, expected reason fragment)."""
    return {
        "corrupt-pdf": ("corrupt.pdf", _pdf_bytes("hello")[:300], "PDF"),
        "binary-renamed-pdf": ("binary.pdf", bytes(range(256)) * 20, "not a PDF"),
        "empty-file": ("empty.txt", b"", "empty"),
        "zero-byte-markdown": ("empty.md", b"", "empty"),
        "password-pdf": ("locked.pdf", _pdf_bytes("secret text", password="hunter2"), "password"),
    }


BAD = ["corrupt-pdf", "binary-renamed-pdf", "empty-file", "zero-byte-markdown", "password-pdf", "vanished"]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_reported_by_name_and_the_rest_completes(tmp_path, case):
    docs = tmp_path / "docs"
    write_corpus(docs, n=2, paragraphs=1)
    (docs / "latin1.txt").write_bytes("Le café était très naïve, à Noël.\n".encode("latin-1"))
    g = Grail(tmp_path / "idx")
    before = g.index(docs)
    assert before.ok
    n_before = g.status()["chunks"]
    if case == "vanished":
        victim = docs / "zz_vanishes.md"
        victim.write_text("# Temporary\n\nThis file disappears before it is read.\n")

        def vanish(path: str, done: int, total: int) -> None:
            if victim.exists() and done == total - 1:
                victim.unlink()  # really removed between discovery and reading

        report = g.index(docs, on_progress=vanish)
        bad_path, reason_part = str(victim.resolve()), "vanish"
    else:
        name, content, reason_part = _bad_inputs(tmp_path)[case]
        bad = docs / name
        bad.write_bytes(content if isinstance(content, bytes) else content.encode())
        report = g.index(docs)
        bad_path = str(bad.resolve())
    assert [p for p, _ in report.failed] == [bad_path]
    assert reason_part.lower() in report.failed[0][1].lower(), report.failed[0][1]
    assert g.status()["chunks"] == n_before, "nothing already indexed may be lost"
    assert g.search("café naïve", 1, mode="bm25")[0].path.endswith("latin1.txt")  # Latin-1 decoded right


def test_cli_exit_status_is_nonzero_when_a_file_is_skipped(tmp_path):
    docs = tmp_path / "docs"
    write_corpus(docs, n=1, paragraphs=1)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7 this is not really a pdf")
    proc = subprocess.run([sys.executable, "-m", "grail.cli", "index", str(docs), "--index", str(tmp_path / "idx")],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert proc.returncode == 1
    assert "broken.pdf" in proc.stderr and "skipped" in proc.stderr
    assert "1 new" in proc.stdout


def _index_cmd(docs: Path, index: Path) -> list[str]:
    return [sys.executable, "-m", "grail.cli", "index", str(docs), "--index", str(index), "--quiet"]


def _committed_docs(index: Path) -> int:
    db = index / "index.db"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_sigkill_at_several_points_then_rerun_equals_a_clean_run(tmp_path):
    docs = tmp_path / "docs"
    write_corpus(docs, n=8, paragraphs=3)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    clean = tmp_path / "clean"
    subprocess.run(_index_cmd(docs, clean), check=True, env=env, capture_output=True)
    want = sorted(_chunk_ids(clean))
    assert len(want) > 16

    crashed = tmp_path / "crashed"
    kills = 0
    for target in (0, 1, 3, 6):  # kill before any commit, then after 1, 3 and 6 documents
        proc = subprocess.Popen(_index_cmd(docs, crashed), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while _committed_docs(crashed) < target and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 3, "the indexer finished before it could be killed: make the corpus bigger"
    subprocess.run(_index_cmd(docs, crashed), check=True, env=env, capture_output=True)
    got = _chunk_ids(crashed)
    assert len(got) == len(set(got)), "duplicate chunk ids after crash recovery"
    assert sorted(got) == want
    # and the recovered index answers like the clean one
    g = Grail(crashed)
    assert g.search("coral reefs survey", 3, mode="dense")[0].path.endswith(".md")
