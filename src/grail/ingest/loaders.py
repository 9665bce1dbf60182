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
import itertools
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grail.records import Block, Document, Page


class LoadError(Exception):
    """A file that cannot be loaded; str(err) is a specific reason a user can act on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot load {path}: {reason}")
        self.path = str(path)
        self.reason = reason


_DOC_TYPES = {
    ".pdf": "pdf", ".html": "html", ".htm": "html", ".xhtml": "html",
    ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text",
    ".docx": "docx",
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_DOC_TYPES)
ENCRYPTED_PDF = "encrypted PDF: needs a password (grail cannot read it; decrypt it first, e.g. qpdf --decrypt)"
_MB = 1024 * 1024


def doc_id_for(path: str | Path) -> str:
    """Stable id: first 16 hex digits of sha256 of the absolute resolved path."""
    resolved = str(Path(path).expanduser().resolve())
    return hashlib.sha256(resolved.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def sha256_file(path: str | Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


# ---------------------------------------------------------------- shared text helpers
_TRAILING_WS = re.compile(r"[ \t\f\v]+$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n(?:[ \t]*\n){2,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARAGRAPHS = re.compile(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*")  # runs of non-blank lines
_SPACES = re.compile(r"\s+")


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _paragraph_blocks(text: str, base: int = 0, kind: str = "paragraph") -> list[Block]:
    return [Block(kind, base + m.start(), base + m.end()) for m in _PARAGRAPHS.finditer(text)]


def _assemble(parts: list[tuple[str, str, int]]) -> tuple[str, tuple[Block, ...]]:
    """Join (kind, text, level) parts with blank lines; blocks point into the joined text."""
    pieces: list[str] = []
    blocks: list[Block] = []
    pos = 0
    for kind, text, level in parts:
        if not text.strip():
            continue
        if pieces:
            pieces.append("\n\n")
            pos += 2
        pieces.append(text)
        blocks.append(Block(kind, pos, pos + len(text), level))
        pos += len(text)
    return "".join(pieces), tuple(blocks)


def _decode(data: bytes, path: str, declared: str | None = None) -> str:
    """Bytes -> str: BOM, then a declared charset, then strict UTF-8, then a guess.

    charset-normalizer often ranks cp1250/cp1257 above cp1252 for short Western
    text (it turns "naïve" into "naďve"), so when cp1252 decodes and is about
    as plausible as the best guess, the Western code page wins.
    """
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
                     (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace")
    for enc in (declared, "utf-8"):
        if enc:
            try:
                return data.decode(enc)
            except (UnicodeDecodeError, LookupError):
                pass
    import charset_normalizer

    results = charset_normalizer.from_bytes(data[: 4 * _MB])
    best = results.best()
    if b"\x00" in data and (best is None or not best.encoding.startswith("utf_")):
        raise LoadError(path, "binary data, not text (the file contains NUL bytes); check the file type")
    for r in results:
        if ("cp1252" in r.could_be_from_charset and best is not None and r.chaos <= best.chaos + 0.15):
            try:
                return data.decode("cp1252")
            except UnicodeDecodeError:
                break
    if best is not None:
        return data.decode(best.encoding, errors="replace")
    return data.decode("cp1252", errors="replace") if b"\x81" not in data else data.decode("latin-1")


def _clean(text: str) -> str:
    """Newlines to \\n, control chars out, trailing spaces off, one blank line at most."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _BLANK_RUNS.sub("\n\n", _TRAILING_WS.sub("", text))


# ---------------------------------------------------------------- PDF
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
    if s == s.upper() and n_letters >= 4:
        return 2
    words = s.split()
    if len(words) > 10 or len(s) > 70 or s[-1] in ".!?" or not s[0].isupper():
        return 0
    long_words = [w for w in words if len(w) > 3]
    if long_words and sum(w[0].isupper() for w in long_words) >= 0.75 * len(long_words):
        return 3
    return 0


def _pdf_blocks(text: str) -> tuple[Block, ...]:
    """Lines -> heading / table / list / paragraph blocks (blank lines always split)."""
    lines = text.split("\n")
    kinds: list[str] = []
    levels: list[int] = []
    for ln in lines:
        level = 0
        if not ln.strip():
            kind = "blank"
        elif _is_table_row(ln):
            kind = "table"
        elif (level := _heading_level(ln)) > 0:
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
_HTML_DROP = "script, style, nav, header, footer, aside, form, noscript, template, svg, iframe, button, [hidden]"
_HTML_BLOCK = frozenset(["p", "div", "section", "article", "main", "body", "blockquote", "figure", "figcaption", "address", "details", "summary", "dl", "dt", "dd", "center", "hgroup", "fieldset", "li"])
_HTML_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def _html_list_lines(node: Any, depth: int, lines: list[str]) -> None:
    ordered = node.tag == "ol"
    n = 0
    for li in node.iter():
        if li.tag != "li":
            continue
        n += 1
        own = [c for c in li.iter(include_text=True) if c.tag not in ("ul", "ol", "-comment")]
        text = _collapse(" ".join((c.text_content or "") if c.is_text_node else c.text(separator=" ") for c in own))
        if text:
            lines.append("  " * depth + (f"{n}. " if ordered else "- ") + text)
        for sub in li.iter():
            if sub.tag in ("ul", "ol"):
                _html_list_lines(sub, depth + 1, lines)


def _html_parts(node: Any, parts: list[tuple[str, str, int]], buf: list[str]) -> None:
    def flush() -> None:
        text = "\n".join(_collapse(seg) for seg in "".join(buf).split("\x00") if seg.strip())  # \x00 = <br>
        buf.clear()
        if text:
            parts.append(("paragraph", text, 0))

    for child in node.iter(include_text=True):
        tag = child.tag
        if child.is_text_node:
            buf.append(child.text_content or "")
        elif tag == "br":
            buf.append("\x00")
        elif tag in _HTML_HEADINGS:
            flush()
            parts.append(("heading", _collapse(child.text(separator=" ")), _HTML_HEADINGS[tag]))
        elif tag == "table":
            flush()
            rows = []
            for tr in child.css("tr"):
                cells = [_collapse(c.text(separator=" ")) for c in tr.iter() if c.tag in ("td", "th")]
                if any(cells):
                    rows.append(" | ".join(cells))
            parts.append(("table", "\n".join(rows), 0))
        elif tag in ("ul", "ol"):
            flush()
            lines: list[str] = []
            _html_list_lines(child, 0, lines)
            parts.append(("list", "\n".join(lines), 0))
        elif tag == "pre":
            flush()
            parts.append(("paragraph", _clean(child.text()).strip("\n"), 0))
        elif tag in _HTML_BLOCK:
            flush()
            _html_parts(child, parts, buf)
            flush()
        elif tag not in ("-comment", "hr", "img"):
            _html_parts(child, parts, buf)  # inline element: its text joins the current paragraph
    if node.tag in _HTML_BLOCK:
        flush()


def _load_html(path: str, data: bytes) -> tuple[str, tuple[Page, ...], dict[str, Any]]:
    from selectolax.lexbor import LexborHTMLParser

    declared = _META_CHARSET.search(data[:4096])
    tree = LexborHTMLParser(_decode(data, path, declared.group(1).decode("ascii") if declared else None))
    title_node = tree.css_first("title")
    title = _collapse(title_node.text()) if title_node else ""
    if not title and (h1 := tree.css_first("h1")) is not None:
        title = _collapse(h1.text(separator=" "))
    for node in tree.css(_HTML_DROP):
        node.decompose()
    root = tree.css_first("main") or tree.css_first("article") or tree.body or tree.root
    parts: list[tuple[str, str, int]] = []
    buf: list[str] = []
    if root is not None:
        _html_parts(root, parts, buf)
        if buf:
            text = _collapse("".join(buf).replace("\x00", " "))
            if text:
                parts.append(("paragraph", text, 0))
    text, blocks = _assemble(parts)
    return title, (Page(1, text, blocks),), {"n_pages": 1}


# ---------------------------------------------------------------- Markdown and plain text
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+|$)")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_TABLE_DELIM = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_MD_LIST = re.compile(r" {0,3}([-*+]|\d{1,9}[.)])[ \t]+\S")
_FRONT_TITLE = re.compile(r"^title:[ \t]*[\"']?(.+?)[\"']?[ \t]*$", re.MULTILINE)


def _markdown_blocks(text: str) -> tuple[tuple[Block, ...], str]:
    """Annotate Markdown lines with blocks; returns (blocks, front-matter title)."""
    lines = text.split("\n")
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln) + 1)
    blocks: list[Block] = []
    front_title = ""
    i, n = 0, len(lines)
    if lines and lines[0].strip() == "---":  # YAML front matter is kept as a paragraph
        close = next((j for j in range(1, n) if lines[j].strip() in ("---", "...")), None)
        if close is not None:
            m = _FRONT_TITLE.search("\n".join(lines[1:close]))
            front_title = m.group(1) if m else ""
            blocks.append(Block("paragraph", 0, offsets[close] + len(lines[close])))
            i = close + 1
    cur: str | None = None
    cur_start = 0
    cur_end = 0
    fence: str | None = None

    def close_block() -> None:
        nonlocal cur
        if cur is not None:
            blocks.append(Block(cur, cur_start, cur_end))
        cur = None

    def extend(kind: str, idx: int) -> None:
        nonlocal cur, cur_start, cur_end
        if cur != kind:
            close_block()
            cur, cur_start = kind, offsets[idx]
        cur_end = offsets[idx] + len(lines[idx])

    while i < n:
        ln = lines[i]
        if fence is not None:  # inside a fenced code block: nothing is structure
            extend("paragraph", i)
            if ln.strip().startswith(fence) and set(ln.strip()) == {fence[0]}:
                fence = None
        elif m := _FENCE.match(ln):
            fence = m.group(1)
            extend("paragraph", i)
        elif not ln.strip():
            close_block()
        elif m := _ATX.match(ln):
            close_block()
            blocks.append(Block("heading", offsets[i], offsets[i] + len(ln), len(m.group(1))))
        elif cur == "paragraph" and (m := _SETEXT.match(ln)) and (m.group(1)[0] == "=" or len(m.group(1)) >= 2):
            blocks.append(Block("heading", cur_start, offsets[i] + len(ln), 1 if m.group(1)[0] == "=" else 2))
            cur = None
        elif "|" in ln and i + 1 < n and "|" in lines[i + 1] and _TABLE_DELIM.match(lines[i + 1]):
            close_block()
            extend("table", i)
            extend("table", i + 1)
            i += 1
            while i + 1 < n and "|" in lines[i + 1] and lines[i + 1].strip():
                i += 1
                extend("table", i)
            close_block()
        elif _MD_LIST.match(ln) or (cur == "list" and ln[:1] in " \t"):
            extend("list", i)
        else:
            extend("paragraph" if cur != "list" else "list", i)
        i += 1
    close_block()
    return tuple(blocks), front_title


def _load_markdown(path: str, data: bytes) -> tuple[str, tuple[Page, ...], dict[str, Any]]:
    text = _decode(data, path).replace("\r\n", "\n").replace("\r", "\n")
    blocks, front_title = _markdown_blocks(text)
    headings = [b for b in blocks if b.kind == "heading"]
    title = front_title
    if not title and headings:
        top = min(headings, key=lambda b: (b.level, b.start))
        title = _collapse(_SETEXT.sub("", text[top.start:top.end]).lstrip("# ").rstrip("# "))
    return title, (Page(1, text, blocks),), {"n_pages": 1}


def _load_text(path: str, data: bytes) -> tuple[str, tuple[Page, ...], dict[str, Any]]:
    text = _decode(data, path).replace("\r\n", "\n").replace("\r", "\n")
    return "", (Page(1, text, tuple(_paragraph_blocks(text))),), {"n_pages": 1}


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
    parts: list[tuple[str, str, int]] = []
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
            continue
        text = _clean(item.text).strip()
        style = item.style.name if item.style is not None else ""
        ppr = item._p.pPr
        if (m := _DOCX_HEADING.match(style)) or style == "Title":
            parts.append(("heading", _collapse(text), int(m.group(1)) if m else 1))
        elif style.startswith("List") or (ppr is not None and ppr.numPr is not None):
            if parts and parts[-1][0] == "list":  # consecutive list paragraphs form one list block
                parts[-1] = ("list", "\n".join(t for t in (parts[-1][1], text) if t), 0)
            else:
                parts.append(("list", text, 0))
        else:
            parts.append(("paragraph", text, 0))
    text, blocks = _assemble(parts)
    props = document.core_properties
    title = _collapse(props.title or "")
    if not title:
        title = next((t for kind, t, _ in parts if kind == "heading" and t), "")
    metadata: dict[str, Any] = {"n_pages": 1}
    if props.author:
        metadata["author"] = props.author
    return title, (Page(1, text, blocks),), metadata


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
