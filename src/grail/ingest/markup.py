"""HTML and Markdown loading: main text with headings, lists and tables as blocks.

HTML goes through selectolax (lexbor): script, style, navigation, headers,
footers, asides and forms are dropped and <main>/<article> is preferred, so
menus do not become passages. Markdown is kept verbatim and annotated line
by line (ATX and setext headings, fenced code, pipe tables), so a citation
shows the source text.
"""

from __future__ import annotations

import re
from typing import Any

from grail.ingest.pagetext import _assemble, _clean, _collapse, _decode
from grail.records import Block, Page

_HTML_DROP = "script, style, nav, header, footer, aside, form, noscript, template, svg, iframe, button, [hidden]"
_HTML_BLOCK = frozenset(["p", "div", "section", "article", "main", "body", "blockquote", "figure", "figcaption", "address", "details", "summary", "dl", "dt", "dd", "center", "hgroup", "fieldset", "li"])
_HTML_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
# a printed page's end: SEC filings in HTML mark the pages of the original document with CSS breaks
# (<hr style="page-break-after:always">, <div style="page-break-before: always">; CSS 3 "break-before: page")
_BREAK_BEFORE = re.compile(r"(?i)(?:page-)?break-before\s*:\s*(?:always|page)")
_BREAK_AFTER = re.compile(r"(?i)(?:page-)?break-after\s*:\s*(?:always|page)")
_INVISIBLE = re.compile(r"(?i)display\s*:\s*none")  # an inline XBRL header: contexts and units, not text
_PAGE_BREAK = "pagebreak"


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
            continue
        style = child.attributes.get("style") or ""
        if style and _INVISIBLE.search(style):
            continue
        if style and _BREAK_BEFORE.search(style):
            flush()
            parts.append((_PAGE_BREAK, "", 0))
        if tag in ("-comment", "hr", "img"):
            pass
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
        else:
            _html_parts(child, parts, buf)  # inline element: its text joins the current paragraph
        if style and _BREAK_AFTER.search(style):
            flush()
            parts.append((_PAGE_BREAK, "", 0))
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
    pages = _html_pages(parts)
    return title, pages, {"n_pages": len(pages)}


def _html_pages(parts: list[tuple[str, str, int]]) -> tuple[Page, ...]:
    """The parts split at page breaks, one Page per printed page of the original (a filing's page 52 is
    the 52nd); a break with nothing before it (the first page's own "break before") opens no page, and
    breaks in a row leave no empty pages. A document without breaks is one page."""
    groups: list[list[tuple[str, str, int]]] = [[]]
    for part in parts:
        if part[0] == _PAGE_BREAK:
            if any(text.strip() for _, text, _ in groups[-1]):
                groups.append([])
        else:
            groups[-1].append(part)
    pages: list[Page] = []
    for group in groups:
        text, blocks = _assemble(group)
        if text.strip() or not pages:
            pages.append(Page(len(pages) + 1, text, blocks))
    return tuple(pages)


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


