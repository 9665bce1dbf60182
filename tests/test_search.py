"""Page ranking: ``search(per_page=True)`` returns k distinct pages, each by its best chunk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_corpus
from grail import Grail
from grail.retrieve.search import best_per_page


@pytest.fixture(scope="module")
def notes(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("pages")
    files = write_corpus(root / "docs", n=6, paragraphs=6)  # 6 one-page notes, several chunks each
    Path(str(files[1]) + ".meta.json").write_text(json.dumps({"company": "Glacier Survey Partners"}))
    g = Grail(root / "index", embedder=embedder)
    g.index(root / "docs")
    yield g
    g.close()


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_pages_are_distinct_and_follow_the_chunk_ranking(notes, mode):
    query = "glaciers survey sediment weather"
    chunks = notes.search(query, 200, mode=mode)
    pages = notes.search(query, 4, mode=mode, per_page=True)
    assert len(chunks[:4]) == 4 and len({(h.chunk.doc_id, h.chunk.page) for h in chunks[:4]}) < 4, \
        "the corpus should put several chunks of one page in the top 4, or this test proves nothing"
    assert len(pages) == 4 and len({(h.chunk.doc_id, h.chunk.page) for h in pages}) == 4
    # each page is shown by its best chunk, pages ordered by that chunk's rank among all chunks
    ranks = [h.ranks["chunk"] for h in pages]
    assert ranks == sorted(ranks) and ranks[0] == 1
    for h in pages:
        assert chunks[h.ranks["chunk"] - 1].chunk.chunk_id == h.chunk.chunk_id
        same_page = [c for c in chunks if (c.chunk.doc_id, c.chunk.page) == (h.chunk.doc_id, h.chunk.page)]
        assert h.ranks["page_chunks"] == len(same_page) >= 1


def test_best_per_page_keeps_first_occurrence(notes):
    hits = notes.search("coral reefs survey", 30, mode="bm25")
    collapsed = best_per_page(hits)
    keys = [(h.chunk.doc_id, h.chunk.page) for h in hits]
    assert [(h.chunk.doc_id, h.chunk.page) for h in collapsed] == list(dict.fromkeys(keys))
    assert sum(h.ranks["page_chunks"] for h in collapsed) == len(hits)


def test_trace_explains_the_page_ranking(notes):
    _, trace = notes.search_traced("deserts survey", 3, per_page=True)
    assert [row["rank"] for row in trace["per_page"]] == [1, 2, 3]
    assert all(row["page_chunks"] >= 1 and row["chunk_rank"] >= 1 for row in trace["per_page"])


def test_page_search_stays_within_a_recognised_one_page_document(notes):
    # the named company's only document is one page of several chunks: one page is all there is,
    # which must not send the search out to every other document
    hits, trace = notes.search_traced("What did Glacier Survey Partners measure?", 5, per_page=True)
    assert trace["understanding"]["applied"] == "Glacier Survey Partners"
    assert len(hits) == 1 and hits[0].path.endswith("notes_01.md") and hits[0].ranks["page_chunks"] >= 3
