"""PDF loading with pypdfium2: pages of text plus heading, paragraph and table blocks.

pypdfium2 reads the FinanceBench filings 18-30x faster than pypdf with the
same text quality (docs/loaders.md). It opens AES-encrypted PDFs with an
empty password; one that needs a real password, a corrupt file, a non-PDF
renamed .pdf and a scan with no text layer are each a specific LoadError.
The decision: blocks come from simple, general line heuristics (numeric
cells make a table row; short title-like lines make headings), never from
rules for one filer. PDFium is not thread-safe: load PDFs from one thread per
process.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from grail.ingest.pagetext import LoadError, _clean, _collapse
from grail.records import Block, Page

ENCRYPTED_PDF = "encrypted PDF: needs a password (grail cannot read it; decrypt it first, e.g. qpdf --decrypt)"

_PDF_MAGIC = {b"PK\x03\x04": "a ZIP archive (DOCX/XLSX?)", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
              b"GIF8": "a GIF image", b"\x7fELF": "an ELF executable", b"MZ": "a Windows executable",
              b"\xd0\xcf\x11\xe0": "a legacy Office (OLE) file", b"\x1f\x8b": "a gzip archive"}
_PDF_CHARS = (("\x02", "-"), ("\ufffe", "-"), ("\xa0", " "), ("\x0c", "\n"))  # PDFium soft hyphen, nbsp, form feed
_NUM_CELL = re.compile(r"[(\[]?[-+−]?[$€£¥]?\(?\d[\d,]*(?:\.\d+)?\)?%?[)\]]?\*?")
_FILLER_CELL = frozenset({"$", "%", "-", "—", "–", "$—", "$-", "n/a", "N/A", "nm", "NM", "*"})
_STRUCT_HEADING = re.compile(
    r"(part|item|section|article|chapter|note|schedule)\s+(\d+[A-Za-z]?|[IVXLC]+)\b(?=\s*$|\s*[.:\u2014\u2013-]|\s+[A-Z])", re.IGNORECASE)
_LETTERS = re.compile(r"[^\W\d_]")
_BULLET = re.compile(r"[•·▪◦‣●○■□➢►\-*–]\s")
# a numbered heading: "2. Acquisitions" (a note to the financial statements), "3.1 Installing the Unit"
_NUMBERED = re.compile(r"(\d{1,2})(?:\.|((?:\.\d{1,2})+)\.?)\s+(?=\S)")
_GENERIC_TITLES = frozenset({"table of contents", "contents", "index"})


def _is_table_row(line: str) -> bool:
    """Two numeric cells and ending in a number or filler ($, %, dash), or three numeric cells
    making up a quarter of the tokens (a header row like "(in millions) 2021 2020 Change")."""
    tokens = line.split()
    if len(tokens) < 2:
        return False
    numeric = sum(1 for t in tokens if _NUM_CELL.fullmatch(t))
    last = tokens[-1]
    ends_numeric = last in _FILLER_CELL or _NUM_CELL.fullmatch(last) is not None
    return numeric >= 2 and ends_numeric or numeric >= 3 and numeric >= 0.25 * len(tokens)


def _heading_level(line: str) -> int:
    """1-3 for a heading-like line, else 0. Documented heuristic, see docs/loaders.md."""
    s = line.strip()
    if not s or len(s) > 90:
        return 0
    m = _STRUCT_HEADING.match(s)
    if m:
        return 1 if m.group(1).lower() == "part" else 2
    n_letters = len(_LETTERS.findall(s))
    if n_letters < 3 or s[-1] in ",;:" or _NUM_CELL.fullmatch(s.split()[-1]):
        return 0
    numbered = _NUMBERED.match(s)
    if numbered:  # the number says heading only when the title after it reads as one
        title = s[numbered.end():]
        if _heading_level(title) == 0 or any(ch.isdigit() for ch in title):  # an exhibit index's "4.6 ... 2.500% Notes"
            return 0
        return 2 if numbered.group(2) is None else 3
    if s == s.upper() and n_letters >= 4:
        return 2
    words = s.split()
    if len(words) > 10 or len(s) > 70 or s[-1] in ".!?" or not s[0].isupper():
        return 0
    long_words = [w for w in words if len(w) > 3]
    if long_words and sum(w[0].isupper() for w in long_words) >= 0.75 * len(long_words):
        return 3
    return 0


def _stacked_cell(lines: list[str], i: int) -> bool:
    """A one- or two-word line between two short fragments is a cell of a column header whose
    words the PDF stacked one per line ("Net" / "Income" / "EPS"), not a heading."""
    if len(lines[i].split()) > 2 or i == 0 or i + 1 == len(lines):
        return False
    return all(0 < len(ln.split()) <= 2 and len(ln.strip()) <= 20 and _heading_level(ln) == 0
               for ln in (lines[i - 1], lines[i + 1]))


def _pdf_blocks(text: str) -> tuple[Block, ...]:
    """Lines -> heading / table / list / paragraph blocks (blank lines always split)."""
    lines = text.split("\n")
    kinds: list[str] = []
    levels: list[int] = []
    for i, ln in enumerate(lines):
        level = 0
        if not ln.strip():
            kind = "blank"
        elif _is_table_row(ln):
            kind = "table"
        elif (level := _heading_level(ln)) > 0 and not _stacked_cell(lines, i):
            kind = "heading"
        elif _BULLET.match(ln.lstrip()):
            kind = "list"
        else:
            kind = "text"
        kinds.append(kind)
        levels.append(level)
    # Up to two short label lines between table rows ("Current assets:") belong to the table.
    rows = [i for i, k in enumerate(kinds) if k == "table"]
    for a, b in itertools.pairwise(rows):
        if 1 < b - a <= 3 and all(kinds[j] in ("text", "heading") and len(lines[j]) <= 60
                                  and levels[j] != 1 for j in range(a + 1, b)):
            for j in range(a + 1, b):
                kinds[j] = "table"
    # A lone table-like line is just text.
    for i, k in enumerate(kinds):
        if k == "table" and (i == 0 or kinds[i - 1] != "table") and (i + 1 == len(kinds) or kinds[i + 1] != "table"):
            kinds[i] = "text"
    width = max((len(ln) for ln in lines), default=0)
    blocks: list[Block] = []
    cur: str | None = None
    start = last_end = cur_level = pos = 0
    prev_line = ""
    for ln, kind, level in zip(lines, kinds, levels):
        if kind == "blank":
            if cur is not None:
                blocks.append(Block(cur, start, last_end, cur_level))
            cur = None
        else:
            # A prose line that ends a sentence and is visibly short closes its paragraph.
            ended = prev_line.rstrip()[-1:] in ".!?:" and len(prev_line) < 0.75 * width
            if kind == "text":
                kind = "list" if cur == "list" and not ended else "paragraph"
            if cur is None or kind != cur or kind == "heading" or (kind == "paragraph" and ended):
                if cur is not None:
                    blocks.append(Block(cur, start, last_end, cur_level))
                cur, start, cur_level = kind, pos, level
            last_end = pos + len(ln)
        prev_line = ln
        pos += len(ln) + 1
    if cur is not None:
        blocks.append(Block(cur, start, last_end, cur_level))
    return tuple(blocks)


def _meaningful_title(title: str) -> bool:
    t = title.strip()
    letters = len(_LETTERS.findall(t))
    return (letters >= 3 and letters >= 0.3 * len(t.replace(" ", ""))
            and not re.search(r"\.(docx?|pdf|indd|qxd|rtf|xlsx?|html?)$|^(untitled|document)$|^microsoft word\b", t, re.IGNORECASE))


def _load_pdf(path: str, data: bytes) -> tuple[str, tuple[Page, ...], dict[str, Any]]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_raw

    if data.find(b"%PDF-", 0, 1024) < 0:
        looks = next((what for magic, what in _PDF_MAGIC.items() if data.startswith(magic)), None)
        if looks is None and re.match(rb"\s*<(!doctype|html)", data[:64], re.IGNORECASE):
            looks = "an HTML page"
        raise LoadError(path, f"not a PDF: {f'it is {looks}' if looks else 'no %PDF- header in the first 1 KB'}; "
                        "check the file or give it the right suffix")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        code = getattr(e, "err_code", None)
        if code == pdfium_raw.FPDF_ERR_PASSWORD:
            raise LoadError(path, ENCRYPTED_PDF) from None
        if code == pdfium_raw.FPDF_ERR_SECURITY:
            raise LoadError(path, "encrypted PDF: unsupported security handler; decrypt it first, e.g. qpdf --decrypt") from None
        raise LoadError(path, f"corrupt PDF: PDFium could not parse it ({e}); the file may be truncated "
                        "or damaged, re-download it or repair it with qpdf") from None
    try:
        meta_raw = {k: _collapse(v) for k, v in pdf.get_metadata_dict(skip_empty=True).items()}
        encrypted = pdfium_raw.FPDF_GetSecurityHandlerRevision(pdf.raw) != -1
        pages: list[Page] = []
        unreadable: list[int] = []
        for i in range(len(pdf)):
            try:
                page = pdf[i]
                textpage = page.get_textpage()
                raw_text = textpage.get_text_bounded()
                textpage.close()
                page.close()
            except pdfium.PdfiumError:
                unreadable.append(i + 1)
                raw_text = ""
            for char, replacement in _PDF_CHARS:  # str.replace is far faster than str.translate here
                raw_text = raw_text.replace(char, replacement)
            text = _clean(raw_text).strip()
            pages.append(Page(i + 1, text, _pdf_blocks(text)))
    finally:
        pdf.close()
    if not any(p.text for p in pages):
        raise LoadError(path, f"no text layer (scanned PDF?): none of its {len(pages)} pages has extractable "
                        "text; OCR it first (e.g. ocrmypdf) and index the result")
    metadata: dict[str, Any] = {"n_pages": len(pages), "encrypted": encrypted,
                                "pages_without_text": sum(1 for p in pages if not p.text)}
    if meta_raw.get("Title"):
        metadata["pdf_title"] = meta_raw["Title"]
    if meta_raw.get("Author"):
        metadata["author"] = meta_raw["Author"]
    if unreadable:
        metadata["unreadable_pages"] = unreadable
    title = metadata.get("pdf_title", "")
    if not _meaningful_title(title):
        first = pages[0]
        title = next((_collapse(first.text[b.start:b.end]) for b in first.blocks if b.kind == "heading"
                      and _collapse(first.text[b.start:b.end]).lower() not in _GENERIC_TITLES), "")
    return title, tuple(pages), metadata


# ---------------------------------------------------------------- HTML
