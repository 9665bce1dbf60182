"""The typed records that flow one way through grail.

Document -> Chunk -> Hit -> Context -> Answer, with a Trace alongside. Every
record is a small frozen dataclass; stages take records and return records.
The one decision: page numbers are **1-based** everywhere (what a person sees
in a PDF viewer); datasets with zero-based pages convert at their edge.
Character spans are offsets into the *page text* (``Page.text``), so a
citation can be highlighted on its page exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Block:
    """A structural unit of a page: a heading, paragraph, table row group or list."""

    kind: str  # "heading" | "paragraph" | "table" | "list"
    start: int  # char offset into Page.text
    end: int
    level: int = 0  # heading level (1 = top); 0 for non-headings


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    text: str
    blocks: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Document:
    doc_id: str  # stable id derived from the absolute path
    path: str  # absolute path as indexed
    sha256: str  # content hash of the file bytes
    doc_type: str  # "pdf" | "html" | "markdown" | "text" | "docx"
    title: str
    pages: tuple[Page, ...]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    seq: int  # position of the chunk within its document
    text: str  # the exact source text: Page.text[char_start:char_end]
    page: int  # 1-based page the chunk lies on (chunks never straddle pages)
    char_start: int
    char_end: int
    heading_path: tuple[str, ...] = ()
    n_tokens: int = 0  # embedder word pieces of ``index_text`` incl. special tokens
    index_text: str = ""  # what is embedded and keyword-indexed (context + text)


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # the score that ranked this hit in its list
    scores: dict[str, float] = field(default_factory=dict)  # per retriever: dense, bm25, fused
    ranks: dict[str, int] = field(default_factory=dict)  # 1-based rank per retriever
    path: str = ""  # source path of the chunk's document
    title: str = ""


@dataclass(frozen=True)
class Context:
    """What the generator reads: numbered sources packed to a token budget."""

    question: str
    sources: tuple[Hit, ...]  # sources[i] is cited as [i + 1]
    system: str
    prompt: str  # the user message: instructions, numbered sources, question
    n_tokens: int  # of system + prompt, by the generator's tokenizer
    budget: int  # tokens allowed for system + prompt
    dropped: tuple[str, ...] = ()  # chunk ids left out (duplicates or over budget)


@dataclass(frozen=True)
class Citation:
    n: int  # the [n] marker number
    chunk_id: str
    doc_id: str
    path: str
    page: int
    char_start: int
    char_end: int
    quote: str


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...] = ()  # [n] markers this sentence cites
    support: float = 0.0  # best support score found for the sentence
    supported: bool = True
    draft_citations: tuple[int, ...] = ()  # the markers as the model wrote them, before citation repair


@dataclass(frozen=True)
class StageTrace:
    name: str
    seconds: float
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Trace:
    stages: tuple[StageTrace, ...] = ()

    def total_seconds(self) -> float:
        return sum(s.seconds for s in self.stages)

    def stage(self, name: str) -> StageTrace | None:
        return next((s for s in self.stages if s.name == name), None)


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    sentences: tuple[AnswerSentence, ...] = ()
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    abstain_reason: str = ""
    faithfulness: float = 1.0  # share of shipped sentences that are supported
    backend: str = ""
    trace: Trace = field(default_factory=Trace)


def to_dict(record: Any) -> Any:
    """A JSON-ready view of any record (tuples become lists)."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: to_dict(getattr(record, f.name)) for f in dataclasses.fields(record)}
    if isinstance(record, (list, tuple)):
        return [to_dict(x) for x in record]
    if isinstance(record, dict):
        return {str(k): to_dict(v) for k, v in record.items()}
    return record
