"""Page text: the shared vocabulary of every loader.

``LoadError`` (a file that cannot be loaded, with a reason a user can act
on), text normalisation, byte decoding and the (kind, text, level) -> page
text + blocks assembly that the HTML, Markdown and DOCX loaders share.
The decision: one definition of "clean page text" for all formats, so
character offsets mean the same thing everywhere.
"""

from __future__ import annotations

import re

from grail.records import Block

_MB = 1024 * 1024


class LoadError(Exception):
    """A file that cannot be loaded; str(err) is a specific reason a user can act on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot load {path}: {reason}")
        self.path = str(path)
        self.reason = reason



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
    for charset in (declared, "utf-8"):
        if charset:
            try:
                return data.decode(charset)
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
