from __future__ import annotations

from grail.ingest.chunking import ChunkingConfig, chunk_document
from grail.records import Block, Document, Page


def _doc(pages: list[Page], title: str = "Report") -> Document:
    return Document("d1", "/x/report.md", "abc", "markdown", title, tuple(pages))


def test_chunks_are_exact_page_spans_and_fit_the_window(embedder):
    text = " ".join(f"Sentence number {i} talks about revenue growth of {i}% in the quarter." for i in range(120))
    doc = _doc([Page(1, text), Page(2, "Short second page.")])
    chunks = chunk_document(doc, embedder)
    assert len(chunks) > 3
    for c in chunks:
        page = doc.pages[c.page - 1]
        assert page.text[c.char_start : c.char_end] == c.text
        assert c.n_tokens <= 256
        assert embedder.count_tokens(c.index_text) == c.n_tokens
    assert {c.page for c in chunks} == {1, 2}
    # every character of page 1's prose is covered by some chunk
    covered = set()
    for c in chunks:
        if c.page == 1:
            covered.update(range(c.char_start, c.char_end))
    assert all(i in covered or text[i].isspace() for i in range(len(text)))


def test_overlap_repeats_whole_sentences_between_prose_chunks(embedder):
    text = " ".join(f"Statement {i} concerns the pension plan liability." for i in range(80))
    chunks = chunk_document(_doc([Page(1, text)]), embedder, ChunkingConfig(target_tokens=60, overlap_tokens=20))
    assert len(chunks) >= 3
    for a, b in zip(chunks, chunks[1:]):
        assert b.char_start < a.char_end, "consecutive prose chunks should overlap"
        assert text[b.char_start : b.char_start + 9] == "Statement"  # starts on a sentence boundary


def test_table_rows_are_never_cut(embedder):
    rows = [f"Line item {i} | {i * 1000:,} | {i * 900:,} | {i * 800:,}" for i in range(60)]
    table = "\n".join(rows)
    page = Page(1, table, (Block("table", 0, len(table)),))
    chunks = chunk_document(_doc([page]), embedder, ChunkingConfig(target_tokens=80))
    assert len(chunks) > 1
    for c in chunks:
        for line in c.text.split("\n"):
            assert line in rows, f"cut row: {line!r}"


def test_heading_path_follows_structure_and_heading_stays_with_its_text(embedder):
    text = "Annual Report\n\nItem 7. MD&A\n\nRevenue rose because of pricing.\n\nLiquidity\n\nCash was ample."
    h1 = text.index("Item 7."), text.index("Item 7.") + len("Item 7. MD&A")
    p1 = text.index("Revenue"), text.index("pricing.") + len("pricing.")
    h2 = text.index("Liquidity"), text.index("Liquidity") + len("Liquidity")
    p2 = text.index("Cash"), len(text)
    blocks = (Block("heading", 0, 13, 1), Block("heading", *h1, 2), Block("paragraph", *p1),
              Block("heading", *h2, 3), Block("paragraph", *p2))
    chunks = chunk_document(_doc([Page(1, text, blocks)], title="ACME 10-K"), embedder)
    by_text = {c.text: c for c in chunks}
    revenue = next(c for c in chunks if "Revenue" in c.text)
    cash = next(c for c in chunks if "Cash was ample" in c.text)
    assert revenue.heading_path == ("Annual Report", "Item 7. MD&A")
    assert cash.heading_path == ("Annual Report", "Item 7. MD&A", "Liquidity")
    assert "Item 7. MD&A" in revenue.text  # heading kept with the text under it
    assert cash.index_text.startswith("ACME 10-K > Item 7. MD&A > Liquidity")  # title + the two nearest headings
    assert by_text


def test_a_run_on_line_longer_than_the_window_is_split_to_fit(embedder):
    text = " ".join(["supercalifragilistic"] * 600)  # one 'sentence' of ~3000 word pieces
    chunks = chunk_document(_doc([Page(1, text)]), embedder)
    assert len(chunks) > 5
    assert all(c.n_tokens <= 256 for c in chunks)
    assert all(text[c.char_start : c.char_end] == c.text for c in chunks)


def test_headings_repeated_on_most_pages_are_furniture_not_structure(embedder):
    pages = []
    for n in range(1, 9):
        text = f"Table of Contents\n\nSection {n}\n\nBody text of section {n} about inventories."
        blocks = (Block("heading", 0, 17, 3), Block("heading", 19, 19 + len(f"Section {n}"), 2),
                  Block("paragraph", text.index("Body"), len(text)))
        pages.append(Page(n, text, blocks))
    chunks = chunk_document(_doc(pages), embedder)
    assert all("Table of Contents" not in c.heading_path for c in chunks)
    body4 = next(c for c in chunks if "section 4 about" in c.text)
    assert body4.heading_path == ("Section 4",)
