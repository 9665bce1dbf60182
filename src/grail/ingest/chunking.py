"""Chunking: cut a Document into passages that the embedder reads whole.

Token-aware: every chunk's ``index_text`` (context line + text) fits the
embedder's window, counted with the embedder's own word-piece tokenizer, so
nothing is silently truncated. Structure-aware: chunks never straddle a page
(citations stay exact), never cut a table row or a sentence unless a single
one is longer than the window, and a heading travels with the text under it.

The decision: chunks are *contiguous spans of the page text*
(``text == page.text[char_start:char_end]``), built by packing atoms
(sentences of prose, rows of tables) up to the budget, with a small overlap of
whole sentences between consecutive prose chunks. Section context (title and
heading path) is prepended to ``index_text`` only, never to ``text``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from grail.records import Block, Chunk, Document, Page
from grail.text_units import split_sentences

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


class TokenCounter(Protocol):
    max_tokens: int

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]: ...


@dataclass(frozen=True)
class ChunkingConfig:
    max_tokens: int = 256  # hard cap for index_text, special tokens included
    target_tokens: int = 200  # pack prose up to this, leaving room for context
    overlap_tokens: int = 32  # whole sentences repeated at the start of the next prose chunk
    context_max_tokens: int = 40  # title + heading path budget


@dataclass(frozen=True)
class _Atom:
    start: int
    end: int
    kind: str  # "prose" | "row"
    block: int  # index of the block it came from
    tokens: int = 0


def blocks_for(page: Page) -> tuple[Block, ...]:
    """The page's blocks, or paragraphs split on blank lines when the loader gave none."""
    if page.blocks:
        return page.blocks
    blocks: list[Block] = []
    pos = 0
    for m in _PARAGRAPH_BREAK.finditer(page.text):
        if page.text[pos : m.start()].strip():
            blocks.append(Block("paragraph", pos, m.start()))
        pos = m.end()
    if page.text[pos:].strip():
        blocks.append(Block("paragraph", pos, len(page.text)))
    return tuple(blocks)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _atoms(text: str, block: Block, index: int) -> list[_Atom]:
    out: list[_Atom] = []
    if block.kind == "table":
        pos = block.start
        for line in text[block.start : block.end].split("\n"):
            s, e = _trim(text, pos, pos + len(line))
            if e > s:
                out.append(_Atom(s, e, "row", index))
            pos += len(line) + 1
        return out
    for s, e in split_sentences(text[block.start : block.end]):
        out.append(_Atom(block.start + s, block.start + e, "prose", index))
    return out


def _split_long(text: str, atom: _Atom, counter: TokenCounter, budget: int) -> list[_Atom]:
    """Cut an atom longer than the budget at word boundaries (rare: a run-on line)."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[atom.start : atom.end])]
    counts = counter.count_tokens_batch([text[atom.start + s : atom.start + e] for s, e in words])
    pieces: list[_Atom] = []
    cur_start, used, prev_end = 0, 0, 0
    for (s, e), n in zip(words, counts):
        n = max(n - 2, 1)
        if used and used + n > budget:
            pieces.append(_Atom(atom.start + cur_start, atom.start + prev_end, atom.kind, atom.block, used))
            cur_start, used = s, 0
        used += n
        prev_end = e
    if used:
        pieces.append(_Atom(atom.start + cur_start, atom.start + prev_end, atom.kind, atom.block, used))
    return pieces


_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_UNITS = re.compile(r"(?i)\b(?:in\s+)?(?:millions|thousands|billions)\b|\(\s*(?:\$|usd|eur)?\s*(?:in\s+)?(?:millions|thousands|billions)")


def table_header_lines(text: str) -> list[tuple[int, str]]:
    """(offset, line) of lines that look like column headers: two or more years, or a unit note."""
    out: list[tuple[int, str]] = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if 0 < len(stripped) <= 120 and (len(_YEAR.findall(stripped)) >= 2 or _UNITS.search(stripped)):
            out.append((pos, stripped))
        pos += len(line) + 1
    return out


def _norm(heading: str) -> str:
    return " ".join(heading.lower().split())


def page_furniture(doc: Document, share: float = 0.3) -> frozenset[str]:
    """Headings that repeat on many pages ("Table of Contents", running titles): not structure."""
    if len(doc.pages) < 5:
        return frozenset()
    counts: dict[str, int] = {}
    for page in doc.pages:
        seen = {_norm(page.text[b.start : b.end]) for b in page.blocks if b.kind == "heading"}
        for h in seen:
            counts[h] = counts.get(h, 0) + 1
    return frozenset(h for h, n in counts.items() if n >= max(3, share * len(doc.pages)))


def chunk_id_for(doc_sha256: str, doc_id: str, seq: int) -> str:
    return hashlib.sha256(f"{doc_id}:{doc_sha256}:{seq}".encode()).hexdigest()[:24]


def context_line(title: str, heading_path: Sequence[str]) -> str:
    parts = [p for p in (title, *heading_path) if p]
    # drop a heading that merely repeats the title
    dedup = [p for i, p in enumerate(parts) if i == 0 or p.strip().lower() != parts[i - 1].strip().lower()]
    return " > ".join(dedup)


def chunk_document(doc: Document, counter: TokenCounter, config: ChunkingConfig | None = None) -> list[Chunk]:
    cfg = config or ChunkingConfig()
    max_tokens = min(cfg.max_tokens, counter.max_tokens)
    chunks: list[Chunk] = []
    heading_stack: list[tuple[int, str]] = []  # (level, heading text)
    furniture = page_furniture(doc)

    for page in doc.pages:
        text = page.text
        blocks = tuple(b if b.kind != "heading" or _norm(text[b.start:b.end]) not in furniture
                       else Block("paragraph", b.start, b.end) for b in blocks_for(page))
        # Walk blocks, updating the heading path; group content atoms by the path they sit under.
        groups: list[tuple[tuple[str, ...], list[_Atom]]] = []
        pending_heading: list[_Atom] = []
        for bi, block in enumerate(blocks):
            if block.kind == "heading":
                htext = " ".join(text[block.start : block.end].split())
                level = block.level or 1
                while heading_stack and heading_stack[-1][0] >= level:
                    heading_stack.pop()
                heading_stack.append((level, htext[:200]))
                s, e = _trim(text, block.start, block.end)
                if e > s:
                    pending_heading.append(_Atom(s, e, "prose", bi))
                continue
            atoms = _atoms(text, block, bi)
            if not atoms:
                continue
            path = tuple(h for _, h in heading_stack)
            # a heading is kept with the content that follows it
            atoms = pending_heading + atoms
            pending_heading = []
            if groups and groups[-1][0] == path:
                groups[-1][1].extend(atoms)
            else:
                groups.append((path, atoms))
        if pending_heading:  # headings at the bottom of a page still are text of that page
            groups.append((tuple(h for _, h in heading_stack), pending_heading))

        if not groups:
            continue
        headers = table_header_lines(text)
        all_atoms = [a for _, atoms in groups for a in atoms]
        counts = counter.count_tokens_batch([text[a.start : a.end] for a in all_atoms])
        k = 0
        for path, atoms in groups:
            ctx = context_line(doc.title, path[-2:])
            ctx_tokens = min(counter.count_tokens_batch([ctx])[0] - 2, cfg.context_max_tokens) if ctx else 0
            if ctx_tokens >= cfg.context_max_tokens:
                ctx = ctx[-200:]
            budget = max(16, min(cfg.target_tokens, max_tokens - 2 - ctx_tokens - 4 - (24 if headers else 0)))
            sized: list[_Atom] = []
            for a in atoms:
                n = max(counts[k] - 2, 1)
                k += 1
                a = _Atom(a.start, a.end, a.kind, a.block, n)
                sized.extend(_split_long(text, a, counter, budget) if n > budget else [a])
            for span_atoms in _pack(sized, budget, cfg.overlap_tokens):
                start, end = span_atoms[0].start, span_atoms[-1].end
                body = text[start:end]
                chunk_ctx = ctx
                if headers and any(a.kind == "row" for a in span_atoms):
                    # table rows carry their column headers (years, units) even when cut from them
                    above = [h for pos, h in headers if pos < start]
                    if above and above[-1] not in body:
                        chunk_ctx = f"{ctx}\n{above[-1]}" if ctx else above[-1]
                chunks.append(
                    Chunk(
                        chunk_id=chunk_id_for(doc.sha256, doc.doc_id, len(chunks)),
                        doc_id=doc.doc_id,
                        seq=len(chunks),
                        text=body,
                        page=page.number,
                        char_start=start,
                        char_end=end,
                        heading_path=path,
                        index_text=f"{chunk_ctx}\n{body}" if chunk_ctx else body,
                    )
                )
    return _fit(chunks, counter, max_tokens)


def _pack(atoms: list[_Atom], budget: int, overlap: int) -> list[list[_Atom]]:
    out: list[list[_Atom]] = []
    cur: list[_Atom] = []
    used = 0
    for a in atoms:
        if cur and used + a.tokens > budget:
            out.append(cur)
            carry: list[_Atom] = []
            # overlap: repeat trailing whole sentences of prose (never table rows) within one block
            if overlap and cur[-1].kind == "prose" and a.kind == "prose" and cur[-1].block == a.block:
                t = 0
                for prev in reversed(cur[1:]):
                    if t + prev.tokens > overlap:
                        break
                    carry.insert(0, prev)
                    t += prev.tokens
            cur = carry
            used = sum(c.tokens for c in carry)
        cur.append(a)
        used += a.tokens
    if cur:
        out.append(cur)
    return out


def _fit(chunks: list[Chunk], counter: TokenCounter, max_tokens: int) -> list[Chunk]:
    """Exact token counts; the rare chunk that still overflows loses trailing context words."""
    if not chunks:
        return chunks
    counts = counter.count_tokens_batch([c.index_text for c in chunks])
    fitted: list[Chunk] = []
    for c, n in zip(chunks, counts):
        if n > max_tokens:
            # drop the context line first, then tighten the span (never exceed the window)
            index_text = c.text
            n = counter.count_tokens_batch([index_text])[0]
            end = c.char_end
            body = c.text
            while n > max_tokens and len(body) > 1:
                body = body[: int(len(body) * max_tokens / n * 0.95)].rstrip()
                n = counter.count_tokens_batch([body])[0]
            end = c.char_start + len(body)
            c = Chunk(c.chunk_id, c.doc_id, c.seq, body, c.page, c.char_start, end, c.heading_path, n, body)
        else:
            c = Chunk(c.chunk_id, c.doc_id, c.seq, c.text, c.page, c.char_start, c.char_end,
                      c.heading_path, n, c.index_text)
        fitted.append(c)
    return fitted
