"""Document loaders: one file in, one :class:`grail.records.Document` out.

A loader turns the bytes of a PDF, HTML, Markdown, plain-text or DOCX file
into pages of plain text plus structural blocks (heading, paragraph, table,
list) given as char offsets into each page's text, so a chunker can respect
structure and a citation can be highlighted on its page. Every failure is a
:class:`LoadError` whose reason says what is wrong and what to do next.

The one decision: **the file is read once into memory and each format goes
through one fast, maintained, compiled parser** (pypdfium2 for PDF, selectolax
/lexbor for HTML, python-docx for DOCX); Markdown and text are kept verbatim
and only *annotated* with line-level regexes, so citations show the source.
Document text is data: nothing in it is executed or interpreted.
PDFium is not thread-safe: load PDFs from one thread per process.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grail.ingest.markup import _load_html, _load_markdown
from grail.ingest.pagetext import _MB, LoadError, _assemble, _clean, _collapse, _decode, _paragraph_blocks
from grail.ingest.pdf import ENCRYPTED_PDF, _load_pdf
from grail.records import Document, Page

__all__ = ["LoadError", "SUPPORTED_SUFFIXES", "ENCRYPTED_PDF", "doc_id_for", "sha256_file", "load_document"]

_DOC_TYPES = {
    ".pdf": "pdf", ".html": "html", ".htm": "html", ".xhtml": "html",
    ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text",
    ".docx": "docx",
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_DOC_TYPES)


def doc_id_for(path: str | Path) -> str:
    """Stable id: first 16 hex digits of sha256 of the absolute resolved path."""
    resolved = str(Path(path).expanduser().resolve())
    return hashlib.sha256(resolved.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def sha256_file(path: str | Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _load_text(path: str, data: bytes) -> tuple[str, tuple[Page, ...], dict[str, Any]]:
    """Plain text; a form feed ends a page (pdftotext output, printed reports), as a page break does in HTML."""
    text = _decode(data, path).replace("\r\n", "\n").replace("\r", "\n")
    chunks = [t for t in text.split("\f") if t.strip()] or [text.replace("\f", "")]
    pages = tuple(Page(i, t, tuple(_paragraph_blocks(t))) for i, t in enumerate(chunks, start=1))
    return "", pages, {"n_pages": len(pages)}


# ---------------------------------------------------------------- DOCX
_DOCX_HEADING = re.compile(r"heading (\d)$", re.IGNORECASE)


def _load_docx(path: str, data: bytes, max_bytes: int) -> tuple[str, tuple[Page, ...], dict[str, Any]]:
    import docx
    from docx.table import Table

    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise LoadError(path, "corrupt DOCX: this is a legacy Word .doc (OLE) file; save it as .docx and retry")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            unpacked = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile:
        raise LoadError(path, "corrupt DOCX: not a ZIP package (damaged, or not really a .docx); "
                        "re-save it from Word/LibreOffice") from None
    if "word/document.xml" not in names:
        raise LoadError(path, "corrupt DOCX: the ZIP has no word/document.xml; re-save it from Word/LibreOffice")
    if unpacked > 10 * max_bytes:  # a zip bomb or absurdly large document
        raise LoadError(path, f"DOCX unpacks to {unpacked / _MB:.0f} MB, over 10x max_bytes; raise max_bytes to index it")
    document = docx.Document(io.BytesIO(data))
    body = document.element.body
    # Word records where each page ended when it last laid the document out (w:lastRenderedPageBreak);
    # a document no word processor paginated (generated) has only its author's hard breaks
    rendered = bool(body.xpath(".//w:lastRenderedPageBreak"))
    breaks = ".//w:lastRenderedPageBreak" if rendered else './/w:br[@w:type="page"]'
    pages: list[list[tuple[str, str, int]]] = [[]]
    parts = pages[0]
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells, seen = [], set()
                for cell in row.cells:
                    if id(cell._tc) not in seen:  # merged cells repeat the same element
                        seen.add(id(cell._tc))
                        cells.append(_collapse(cell.text))
                if any(cells):
                    rows.append(" | ".join(cells))
            parts.append(("table", "\n".join(rows), 0))
            # a table is kept whole on the page it starts on; it spans at most a page per row
            for _ in range(min(len(item._tbl.xpath(breaks)), len(item.rows))):
                pages.append(parts := [])
            continue
        style = item.style.name if item.style is not None else ""
        ppr = item._p.pPr
        if (m := _DOCX_HEADING.match(style)) or style == "Title":
            kind, level = "heading", int(m.group(1)) if m else 1
        elif style.startswith("List") or (ppr is not None and ppr.numPr is not None):
            kind, level = "list", 0
        else:
            kind, level = "paragraph", 0
        fragments = _docx_fragments(item._p, rendered) if item._p.xpath(breaks) else [item.text]
        for n, fragment in enumerate(fragments):
            if n:
                pages.append(parts := [])
            text = _clean(fragment).strip()
            if kind == "heading":
                parts.append(("heading", _collapse(text), level))
            elif kind == "list" and parts and parts[-1][0] == "list":  # consecutive list paragraphs: one list
                parts[-1] = ("list", "\n".join(t for t in (parts[-1][1], text) if t), 0)
            else:
                parts.append((kind, text, 0))
    props = document.core_properties
    title = _collapse(props.title or "")
    if not title:
        title = next((t for page in pages for kind, t, _ in page if kind == "heading" and t), "")
    metadata: dict[str, Any] = {"n_pages": len(pages)}
    if props.author:
        metadata["author"] = props.author
    return title, tuple(Page(i, *_assemble(page)) for i, page in enumerate(pages, start=1)), metadata


def _docx_fragments(p: Any, rendered: bool) -> list[str]:
    """A paragraph's text cut at its page breaks (Word's rendered ones, or else hard ones): one fragment
    per page it lies on, its runs read as python-docx reads them (tabs, line breaks, no-break hyphens);
    python-docx's own run text cannot say where in a run a hard page break falls."""
    from docx.oxml.ns import qn

    page_break = qn("w:lastRenderedPageBreak") if rendered else None
    fragments = [""]
    for r in p.xpath("./w:r | ./w:hyperlink/w:r | ./w:ins/w:r | ./w:smartTag/w:r"):
        for child in r:
            tag, kind = child.tag, child.get(qn("w:type"))
            if tag == page_break or (not rendered and tag == qn("w:br") and kind == "page"):
                if len(fragments) == 1 or fragments[-1].strip():  # a paragraph leaves no page empty
                    fragments.append("")
            elif tag == qn("w:t"):
                fragments[-1] += child.text or ""
            elif tag in (qn("w:tab"), qn("w:ptab")):
                fragments[-1] += "\t"
            elif tag == qn("w:noBreakHyphen"):
                fragments[-1] += "-"
            elif tag == qn("w:cr") or (tag == qn("w:br") and kind not in ("page", "column")):
                fragments[-1] += "\n"
    return fragments


# ---------------------------------------------------------------- entry point
def _read(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise LoadError(str(path), "is a directory, not a file")
        if size == 0:
            raise LoadError(str(path), "empty file (0 bytes)")
        if size > max_bytes:
            raise LoadError(str(path), f"file is {size / _MB:.1f} MB, over the limit of {max_bytes / _MB:.1f} MB; "
                            "raise max_bytes/ingest.max_file_mb to index it")
        return path.read_bytes()
    except FileNotFoundError:
        raise LoadError(str(path), "file vanished before it could be read (no such file)") from None
    except PermissionError:
        raise LoadError(str(path), "permission denied: grail may not read this file (check its permissions)") from None


def load_document(path: str | Path, *, max_bytes: int = 200 * 1024 * 1024, sha256: str | None = None) -> Document:
    """Load one file into a Document, or raise LoadError with an actionable reason."""
    p = Path(path).expanduser().resolve()
    where = str(p)
    suffix = p.suffix.lower()
    doc_type = _DOC_TYPES.get(suffix)
    if doc_type is None:
        shown = f"'{suffix}'" if suffix else "'' (no suffix)"
        raise LoadError(where, f"unsupported file type {shown}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    try:
        data = _read(p, max_bytes)
        loaders: dict[str, Callable[[str, bytes], tuple[str, tuple[Page, ...], dict[str, Any]]]] = {
            "pdf": _load_pdf, "html": _load_html, "markdown": _load_markdown, "text": _load_text,
            "docx": lambda w, d: _load_docx(w, d, max_bytes)}
        title, pages, metadata = loaders[doc_type](where, data)
        if not any(page.text.strip() for page in pages):
            raise LoadError(where, "no text: the file holds only whitespace or markup, nothing to index")
        digest = sha256 or hashlib.sha256(data).hexdigest()
    except LoadError:
        raise
    except MemoryError:
        raise LoadError(where, "out of memory while loading; lower max_bytes or free memory") from None
    except Exception as e:  # a library failure on hostile/odd input must not escape as a raw exception
        raise LoadError(where, f"{type(e).__name__}: {e}") from e
    return Document(doc_id=doc_id_for(p), path=where, sha256=digest, doc_type=doc_type,
                    title=title.strip() or p.stem, pages=pages, metadata=metadata)
