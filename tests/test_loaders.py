"""Tests for grail.ingest.loaders over real files built in tmp_path (and real filings when present)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from pypdf import PdfReader, PdfWriter

from conftest import make_pdf
from grail.ingest import loaders
from grail.ingest.loaders import (
    SUPPORTED_SUFFIXES,
    LoadError,
    doc_id_for,
    load_document,
    sha256_file,
)
from grail.records import Document

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FINANCEBENCH = DATA / "financebench"


REPORT_PAGES = [
    [
        "ITEM 7. MANAGEMENT'S DISCUSSION AND ANALYSIS",
        "Net sales grew in every segment during the year, driven by higher volumes and pricing across all regions.",
        "Management expects the trend to continue.",
        "",
        "Results of Operations",
        "2021 2022 2023",
        "Net sales $ 1,234 $ 2,345 $ 3,456",
        "Operating income 100 200 300",
        "Net income $ 50 $ (60) $ 70",
        "The table above shows results in millions of dollars.",
    ],
    ["Second page text about liquidity and capital resources.", "12"],
]


def check_blocks(doc: Document) -> None:
    """Blocks are ordered, inside the page text, non-overlapping and trimmed."""
    for page in doc.pages:
        prev_end = 0
        for block in page.blocks:
            assert prev_end <= block.start < block.end <= len(page.text), (page.number, block)
            span = page.text[block.start : block.end]
            assert span == span.strip(), (page.number, block, span)
            assert block.kind in {"heading", "paragraph", "table", "list"}
            assert (block.level > 0) == (block.kind == "heading")
            prev_end = block.end


def block_texts(doc: Document, kind: str, page: int = 1) -> list[str]:
    p = doc.pages[page - 1]
    return [p.text[b.start : b.end] for b in p.blocks if b.kind == kind]


# ---------------------------------------------------------------- ids and hashes
def test_doc_id_is_stable_and_path_based(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("same")
    b.write_text("same")
    monkeypatch.chdir(tmp_path)
    assert doc_id_for("a.txt") == doc_id_for(a) == hashlib.sha256(str(a.resolve()).encode()).hexdigest()[:16]
    assert doc_id_for(a) != doc_id_for(b)
    assert re.fullmatch(r"[0-9a-f]{16}", doc_id_for(a))
    assert sha256_file(a) == hashlib.sha256(b"same").hexdigest() == load_document(a).sha256
    assert load_document(a, sha256="given").sha256 == "given"


# ---------------------------------------------------------------- PDF
def test_pdf_pages_text_and_blocks(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(REPORT_PAGES, title="Annual Report 2023"))
    doc = load_document(path)
    assert doc.doc_type == "pdf" and doc.title == "Annual Report 2023"
    assert [p.number for p in doc.pages] == [1, 2]
    assert doc.metadata["n_pages"] == 2 and doc.metadata["encrypted"] is False
    assert doc.metadata["pdf_title"] == "Annual Report 2023"
    page = doc.pages[0]
    assert "Net sales $ 1,234 $ 2,345 $ 3,456\nOperating income 100 200 300" in page.text
    assert not re.search(r"[ \t]\n|\r|\n\n\n", page.text)
    check_blocks(doc)
    heads = [(page.text[b.start : b.end], b.level) for b in page.blocks if b.kind == "heading"]
    assert ("ITEM 7. MANAGEMENT'S DISCUSSION AND ANALYSIS", 2) in heads
    assert ("Results of Operations", 3) in heads
    tables = block_texts(doc, "table")
    assert tables == [
        "2021 2022 2023\nNet sales $ 1,234 $ 2,345 $ 3,456\nOperating income 100 200 300\nNet income $ 50 $ (60) $ 70"
    ]
    paragraphs = block_texts(doc, "paragraph")
    assert paragraphs[0].startswith("Net sales grew") and paragraphs[0].endswith("continue.")
    assert paragraphs[-1] == "The table above shows results in millions of dollars."
    assert doc.pages[1].text == "Second page text about liquidity and capital resources.\n12"


def test_pdf_numbered_note_titles_are_headings_and_stacked_header_words_are_not(tmp_path: Path) -> None:
    """A note to the financial statements titled "2. Acquisitions" is a heading (Best Buy's was read as
    text, so its page sat under the previous note); a column header whose words the PDF stacked one per
    line ("Net" / "Income" / "EPS") is not (Amcor's "Income" had replaced the reconciliation's title)."""
    path = tmp_path / "notes.pdf"
    path.write_bytes(make_pdf([[
        "Reconciliation of Non-GAAP Measures",
        "($ million) EBITDA EBIT", "Net", "Income", "EPS", "(Diluted",
        "Net income attributable to Amcor 805 805 805 52.9",
        "Tax expense 300 300 193 193",
        "2. Acquisitions",
        "In fiscal 2022, we acquired all of the outstanding shares of Current Health Ltd.",
        "3.1 Installing the Unit",
        "Place the unit on a flat surface.",
        "1. We sold the plant.",
        "4.6 Third Supplemental Indenture for 2.500% Notes",
        "12 Months Ended",
    ]]))
    page = load_document(path).pages[0]
    heads = [(page.text[b.start : b.end], b.level) for b in page.blocks if b.kind == "heading"]
    assert heads == [("Reconciliation of Non-GAAP Measures", 3), ("2. Acquisitions", 2), ("3.1 Installing the Unit", 3)]


def test_pdf_title_falls_back_to_first_heading_then_stem(tmp_path: Path) -> None:
    path = tmp_path / "untitled.pdf"
    path.write_bytes(make_pdf([["Table of Contents", "QUARTERLY EARNINGS RELEASE", "Revenue rose strongly."]],
                              title="0001018724-18-000005"))
    assert load_document(path).title == "QUARTERLY EARNINGS RELEASE"
    plain = tmp_path / "plain-name.pdf"
    plain.write_bytes(make_pdf([["only a lower case sentence that is not a heading."]]))
    assert load_document(plain).title == "plain-name"


@pytest.mark.parametrize("algorithm", ["AES-256", "AES-128"])
def test_pdf_encrypted_with_empty_password_loads(tmp_path: Path, algorithm: str) -> None:
    clear = tmp_path / "clear.pdf"
    clear.write_bytes(make_pdf(REPORT_PAGES))
    writer = PdfWriter(clone_from=PdfReader(clear))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm=algorithm)
    locked = tmp_path / "locked.pdf"
    writer.write(locked)
    assert PdfReader(locked).is_encrypted
    doc = load_document(locked)
    assert doc.metadata["encrypted"] is True
    assert [p.text for p in doc.pages] == [p.text for p in load_document(clear).pages]


# ---------------------------------------------------------------- HTML
HTML = """<!doctype html><html><head><title>Quarterly Update</title><style>p {color: red}</style>
<script>alert("run me")</script></head><body>
<header><a href="/">Home</a> <a href="/about">About us</a></header>
<nav><ul><li>Menu item one</li><li>Menu item two</li></ul></nav>
<main><h1>Results</h1><p>Revenue  grew <b>12%</b> in the
quarter.</p>
<h3>Details</h3>
<table><tr><th>Metric</th><th>2022</th><th>2023</th></tr><tr><td>Revenue</td><td>1,234</td><td>5,678</td></tr></table>
<ul><li>First point</li><li>Second point<ul><li>Nested point</li></ul></li></ul>
<div>Loose text in a div<br>second line</div>
<form><input value="search"> Search the site</form></main>
<aside>Related links sidebar</aside><footer>Copyright footer</footer></body></html>"""


def test_html_main_text_structure_and_boilerplate_dropped(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    doc = load_document(path)
    assert doc.doc_type == "html" and doc.title == "Quarterly Update" and len(doc.pages) == 1
    text = doc.pages[0].text
    for junk in ("alert", "color: red", "Menu item", "About us", "sidebar", "Copyright", "Search the site"):
        assert junk not in text
    check_blocks(doc)
    page = doc.pages[0]
    assert [(page.text[b.start : b.end], b.level) for b in page.blocks if b.kind == "heading"] == [
        ("Results", 1), ("Details", 3)]
    assert block_texts(doc, "table") == ["Metric | 2022 | 2023\nRevenue | 1,234 | 5,678"]
    assert block_texts(doc, "list") == ["- First point\n- Second point\n  - Nested point"]
    assert block_texts(doc, "paragraph") == ["Revenue grew 12% in the quarter.", "Loose text in a div\nsecond line"]


def test_html_without_main_uses_body_h1_title_and_declared_charset(tmp_path: Path) -> None:
    path = tmp_path / "old.htm"
    body = '<html><head><meta charset="iso-8859-1"></head><body><h1>Caf\xe9 menu</h1><p>Cr\xe8me br\xfbl\xe9e</p></body></html>'
    path.write_bytes(body.encode("latin-1"))
    doc = load_document(path)
    assert doc.title == "Café menu"
    assert doc.pages[0].text == "Café menu\n\nCrème brûlée"


# an SEC filing in inline XBRL: a hidden header of contexts, and the printed pages marked with CSS breaks
FILING_HTML = """<html><head><title>acme-20221231</title></head><body>
<div style="display:none"><ix:header><ix:resources>c-1 0000012345 2022-01-01 2022-12-31</ix:resources></ix:header></div>
<!-- Document created using Wdesk --><div><p style="font-weight:bold">FORM 10-K</p><p>ACME WIDGETS, INC.</p></div>
<hr style="page-break-after:always"/>
<div><p>ITEM 7. MANAGEMENT'S DISCUSSION AND ANALYSIS</p><p>Sales grew in 2022.</p></div>
<div style="page-break-before: always"></div>
<div style="break-before:page"><p>CONSOLIDATED BALANCE SHEETS</p>
<table><tr><td>Total current assets</td><td><ix:nonFraction name="us-gaap:AssetsCurrent">2,529</ix:nonFraction></td></tr></table>
<p>1</p></div>
<hr style="page-break-after: always"/>
</body></html>"""


def test_html_pages_follow_the_filing_s_page_breaks(tmp_path: Path) -> None:
    path = tmp_path / "acme-20221231.htm"
    path.write_text(FILING_HTML, encoding="utf-8")
    doc = load_document(path)
    # breaks in a row (an empty page-break div, then a "break before") and a trailing one open no empty page
    assert [p.number for p in doc.pages] == [1, 2, 3] and doc.metadata["n_pages"] == 3
    assert doc.pages[0].text == "FORM 10-K\n\nACME WIDGETS, INC."  # the hidden XBRL header is not text
    assert doc.pages[1].text.startswith("ITEM 7.") and "Sales grew" in doc.pages[1].text
    assert doc.pages[2].text.startswith("CONSOLIDATED BALANCE SHEETS")
    assert block_texts(doc, "table", page=3) == ["Total current assets | 2,529"]
    check_blocks(doc)


def test_a_form_feed_ends_a_text_page(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_text("Cover page\n\fSecond page text.\n\f\fThird page text.\n\f", encoding="utf-8")
    doc = load_document(path)
    assert [(p.number, p.text.strip()) for p in doc.pages] == [
        (1, "Cover page"), (2, "Second page text."), (3, "Third page text.")]
    check_blocks(doc)


# ---------------------------------------------------------------- Markdown
MARKDOWN = """# Guide

Intro paragraph
continues here.

Setext Title
------------

```python
# not a heading, just a comment
x = 1
```

| Name | Value |
|------|------:|
| a    | 1     |
| b    | 2     |

- item one
- item two

### Deep heading ###
Last words.
"""


def test_markdown_headings_code_tables_lists(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_bytes(MARKDOWN.replace("\n", "\r\n").encode())
    doc = load_document(path)
    assert doc.doc_type == "markdown" and doc.title == "Guide"
    page = doc.pages[0]
    assert page.text == MARKDOWN  # verbatim apart from newline normalisation
    check_blocks(doc)
    assert [(page.text[b.start : b.end], b.level) for b in page.blocks if b.kind == "heading"] == [
        ("# Guide", 1), ("Setext Title\n------------", 2), ("### Deep heading ###", 3)]
    assert block_texts(doc, "table") == ["| Name | Value |\n|------|------:|\n| a    | 1     |\n| b    | 2     |"]
    assert block_texts(doc, "list") == ["- item one\n- item two"]
    paragraphs = block_texts(doc, "paragraph")
    assert "Intro paragraph\ncontinues here." in paragraphs
    assert any(p.startswith("```python\n# not a heading") and p.endswith("```") for p in paragraphs)


def test_markdown_front_matter_title(tmp_path: Path) -> None:
    path = tmp_path / "post.markdown"
    path.write_text('---\ntitle: "Front Title"\ntags: [a]\n---\n\n# Body heading\n\ntext\n')
    doc = load_document(path)
    assert doc.title == "Front Title"
    assert block_texts(doc, "heading") == ["# Body heading"]


# ---------------------------------------------------------------- plain text
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\ufeffnaïve café\n\nsecond".encode(), "naïve café\n\nsecond"),
        ("naïve café\r\n\r\nsecond".encode("utf-16"), "naïve café\n\nsecond"),
        ("“Smart quotes” – €5 café\n\nsecond".encode("cp1252"), "“Smart quotes” – €5 café\n\nsecond"),
    ],
    ids=["utf8-bom", "utf16-bom", "cp1252"],
)
def test_text_encodings_and_paragraphs(tmp_path: Path, raw: bytes, expected: str) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(raw)
    doc = load_document(path)
    assert doc.doc_type == "text" and doc.title == "note"
    assert doc.pages[0].text == expected
    assert block_texts(doc, "paragraph") == expected.split("\n\n")


# ---------------------------------------------------------------- DOCX
def _docx_pages(document, path: Path) -> list[tuple[int, str]]:
    """Save a python-docx document, load it as grail does, and give its (page number, text) pairs."""
    document.save(path)
    doc = load_document(path)
    check_blocks(doc)
    assert doc.metadata["n_pages"] == len(doc.pages)
    return [(p.number, p.text) for p in doc.pages]


def test_docx_pages_follow_the_author_s_page_breaks(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Installation", level=1)
    document.add_paragraph("Unpack the unit.")
    document.add_page_break()
    document.add_heading("Maintenance", level=1)
    run = document.add_paragraph("Clean the filter monthly.").add_run()
    run.add_break(WD_BREAK.PAGE)
    run.add_text("Replace it yearly.")
    assert _docx_pages(document, tmp_path / "manual.docx") == [
        (1, "Installation\n\nUnpack the unit."), (2, "Maintenance\n\nClean the filter monthly."),
        (3, "Replace it yearly.")]


def test_docx_pages_are_where_word_last_laid_them_out(tmp_path: Path) -> None:
    def rendered_break(run) -> None:  # what Word writes where a page ended when it last paginated
        run._r.append(OxmlElement("w:lastRenderedPageBreak"))

    document = docx.Document()
    document.add_paragraph("Page one text.")
    document.add_page_break()  # Word also records the page the hard break starts: the rendered break wins
    para = document.add_paragraph()
    rendered_break(para.add_run())
    para.add_run("Page two begins a sentence that")
    rendered_break(para.add_run())
    para.add_run(" ends on page three.")
    table = document.add_table(rows=2, cols=1)
    table.cell(0, 0).text = "Row on page three"
    table.cell(1, 0).text = "Row on page four"
    rendered_break(table.cell(1, 0).paragraphs[0].runs[0])
    document.add_paragraph("After the table.")
    assert _docx_pages(document, tmp_path / "laid-out.docx") == [
        (1, "Page one text."), (2, "Page two begins a sentence that"),
        (3, "ends on page three.\n\nRow on page three\nRow on page four"),  # a table stays whole
        (4, "After the table.")]


def test_docx_page_breaks_cannot_inflate_the_page_count(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=1)
    table.cell(0, 0).text = "a"
    run = table.cell(1, 0).paragraphs[0].add_run("b")
    para_run = document.add_paragraph().add_run("c")
    for _ in range(5000):  # a 60 kB hostile file: 10,000 "pages" Word never laid out
        run._r.append(OxmlElement("w:lastRenderedPageBreak"))
        para_run._r.append(OxmlElement("w:lastRenderedPageBreak"))
    # a table spans at most a page per row; a paragraph leaves no page empty
    assert [text for _, text in _docx_pages(document, tmp_path / "hostile.docx")] == ["a\nb", "", "c", ""]


def test_docx_body_order_headings_tables_lists(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.author = "Ada"
    document.add_paragraph("Board Report", style="Title")
    document.add_heading("Overview", level=1)
    document.add_paragraph("The year went well.")
    table = document.add_table(rows=2, cols=3)
    for r, row in enumerate([["Metric", "2022", "2023"], ["Revenue", "1,234", "5,678"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_heading("Outlook", level=2)
    document.add_paragraph("Grow margins", style="List Bullet")
    document.add_paragraph("Hire engineers", style="List Bullet")
    document.add_paragraph("Closing remarks.")
    path = tmp_path / "report.docx"
    document.save(path)
    doc = load_document(path)
    assert doc.doc_type == "docx" and doc.title == "Board Report" and doc.metadata["author"] == "Ada"
    page = doc.pages[0]
    check_blocks(doc)
    assert [(b.kind, page.text[b.start : b.end], b.level) for b in page.blocks] == [
        ("heading", "Board Report", 1),
        ("heading", "Overview", 1),
        ("paragraph", "The year went well.", 0),
        ("table", "Metric | 2022 | 2023\nRevenue | 1,234 | 5,678", 0),
        ("heading", "Outlook", 2),
        ("list", "Grow margins\nHire engineers", 0),
        ("paragraph", "Closing remarks.", 0),
    ]


# ---------------------------------------------------------------- bad input
def _password_pdf(path: Path) -> None:
    path.write_bytes(make_pdf(REPORT_PAGES))
    writer = PdfWriter(clone_from=PdfReader(path))
    writer.encrypt(user_password="letmein", owner_password="owner", algorithm="AES-256")
    writer.write(path)


def _zip_without_document(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "not a word document")


BAD_INPUTS = {
    "corrupt-pdf": ("x.pdf", lambda p: p.write_bytes(make_pdf(REPORT_PAGES)[:300]), "corrupt PDF:"),
    "binary-renamed-pdf": ("x.pdf", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8),
                           "not a PDF: it is a PNG image"),
    "empty-pdf": ("x.pdf", lambda p: p.write_bytes(b""), "empty file"),
    "empty-md": ("x.md", lambda p: p.write_bytes(b""), "empty file"),
    "whitespace-txt": ("x.txt", lambda p: p.write_text("  \n\t\n  "), "no text"),
    "latin1-txt": ("x.txt", lambda p: p.write_bytes("Un café naïve à Zürich.\n".encode("latin-1")), None),
    "password-pdf": ("x.pdf", _password_pdf, loaders.ENCRYPTED_PDF),
    "scanned-pdf": ("x.pdf", lambda p: p.write_bytes(make_pdf([[], []])), "no text layer (scanned PDF?)"),
    "unsupported-suffix": ("x.xyz", lambda p: p.write_text("hello"), "unsupported file type '.xyz'; supported: .docx"),
    "vanished": ("x.txt", lambda p: None, "file vanished before it could be read"),
    "over-size": ("x.txt", lambda p: p.write_bytes(b"a" * (3 * 1024 * 1024)),
                  "file is 3.0 MB, over the limit of 1.0 MB; raise max_bytes/ingest.max_file_mb to index it"),
    "corrupt-docx": ("x.docx", lambda p: p.write_bytes(b"this is not a zip file at all"), "corrupt DOCX: not a ZIP"),
    "legacy-doc-as-docx": ("x.docx", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
                           "legacy Word .doc"),
    "zip-without-word-xml": ("x.docx", lambda p: _zip_without_document(p), "no word/document.xml"),
    "binary-txt": ("x.txt", lambda p: p.write_bytes(bytes(range(256)) * 4), "binary data, not text"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_names_the_reason(tmp_path: Path, case: str) -> None:
    name, build, reason = BAD_INPUTS[case]
    path = tmp_path / name
    build(path)
    if reason is None:  # must load, and decode correctly
        text = load_document(path).pages[0].text
        assert text == "Un café naïve à Zürich.\n"
        return
    with pytest.raises(LoadError) as info:
        load_document(path, max_bytes=1024 * 1024)
    assert reason in info.value.reason
    assert info.value.path == str(path.resolve()) and reason in str(info.value)


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("classified")
    if os.geteuid() == 0:
        # root ignores file modes, so the fault cannot be caused for real here: inject it.
        def deny(self: Path) -> bytes:
            raise PermissionError(13, "Permission denied", str(self))

        monkeypatch.setattr(Path, "read_bytes", deny)
    else:
        path.chmod(0)
    with pytest.raises(LoadError, match="permission denied"):
        load_document(path)


def test_unexpected_library_error_is_wrapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A parser crash on hostile input cannot be produced on demand: inject one.
    def crash(path: str, data: bytes) -> None:
        raise ValueError("parser exploded")

    monkeypatch.setattr(loaders, "_load_text", crash)
    path = tmp_path / "x.txt"
    path.write_text("hello")
    with pytest.raises(LoadError, match="ValueError: parser exploded"):
        load_document(path)


def test_supported_suffixes_cover_the_formats() -> None:
    assert {".pdf", ".html", ".htm", ".md", ".markdown", ".txt", ".text", ".docx"} <= SUPPORTED_SUFFIXES


# ---------------------------------------------------------------- real filings
def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]{4,}", text.lower())


def _pick(manifest: list[dict[str, str]], encrypted: str) -> dict[str, str]:
    rows = [r for r in manifest if r["encrypted_empty_password"] == encrypted and int(r["n_questions"]) > 0]
    return min(rows, key=lambda r: int(r["pages"]))  # the shortest keeps the test fast


@pytest.mark.parametrize("encrypted", ["no", "yes"])
def test_financebench_filing_pages_and_evidence(encrypted: str) -> None:
    if not FINANCEBENCH.exists():
        pytest.skip(f"FinanceBench data not found at {FINANCEBENCH}; real-filing test skipped")
    with open(FINANCEBENCH / "pdf_manifest.tsv", newline="") as f:
        manifest = list(csv.DictReader(f, delimiter="\t"))
    row = _pick(manifest, encrypted)
    doc = load_document(FINANCEBENCH / "pdfs" / f"{row['doc_name']}.pdf")
    assert len(doc.pages) == int(row["pages"]) == doc.metadata["n_pages"]
    assert doc.metadata["encrypted"] is (encrypted == "yes")
    check_blocks(doc)
    evidence = [e for line in (FINANCEBENCH / "questions.jsonl").read_text().splitlines()
                for e in json.loads(line)["evidence"] if e["doc_name"] == row["doc_name"]]
    assert evidence
    for ev in evidence:
        page = doc.pages[ev["evidence_page_num"]]  # zero-based in the data set, so index == number - 1
        assert page.number == ev["evidence_page_num"] + 1
        page_words = " ".join(_words(page.text))
        words = _words(ev["evidence_text"])
        phrase = " ".join(words[:6])  # the evidence's opening phrase, as a run of words
        assert phrase in page_words, (row["doc_name"], page.number, phrase)
        found = sum(w in set(page_words.split()) for w in words) / len(words)
        assert found >= 0.9, (row["doc_name"], page.number, found)
