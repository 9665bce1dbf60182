"""Quote-constrained decoding: the local model may only copy whole sentences of its sources.

The concept: a small model left free recombines a passage's words into
sentences the passage does not say (measured: about half of what the 135M
model ships after verification is false, docs/benchmarks.md), and no
word-counting check can see it. Constrained decoding removes the failure
instead of detecting it: at every step the model chooses among the tokens that
continue some sentence of the packed sources, so each sentence it writes is a
verbatim copy, and grail appends the citation of the source it was copied from.
The model still decides *which* sentences answer the question and when to stop;
it cannot write anything else. The decision: whole sentences only (a fragment
can drop the word that made it true), at most ``max_sentences``, and headings,
title lines and lead-ins (``quotable``) are never candidates.

``QuoteConstraint`` is a prefix trie over the sources' sentences, tokenised by
the model's own tokenizer. ``allowed(generated)`` returns the token ids that
may come next; ``GGUFLlama.generate_ids(constrain=...)`` masks everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from grail.records import Context
from grail.verify.support import quotable_sentences


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    source: int = 0  # 1-based source whose sentence ends here (0: none)
    shortest: int = 0  # tokens from here to the nearest sentence end

    def settle(self) -> int:
        """Fill ``shortest`` below and at this node (iteratively: sentences can be long)."""
        order: list[_Node] = []
        stack = [self]
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(node.children.values())
        for node in reversed(order):
            below = [1 + c.shortest for c in node.children.values()]
            node.shortest = 0 if node.source else min(below, default=1 << 30)
        return self.shortest


def candidate_sentences(context: Context, only: Collection[int] = ()) -> list[tuple[int, str]]:
    """(source number, sentence) for every sentence a quote may copy, first occurrence only;
    ``only``: of these source numbers alone."""
    seen: set[str] = set()
    out: list[tuple[int, str]] = []
    for n, hit in enumerate(context.sources, start=1):
        if only and n not in only:
            continue
        text = hit.chunk.text
        for s, e in quotable_sentences(text):
            sent = " ".join(text[s:e].split())
            if sent in seen:
                continue
            seen.add(sent)
            out.append((n, sent))
    return out


class QuoteConstraint:
    """Which tokens may come next so that the answer is whole source sentences, each followed by " [n]"."""

    def __init__(self, sentences: Sequence[tuple[int, str]], encode: Callable[[str], list[int]],
                 end_token: int, *, max_sentences: int = 2, max_tokens: int | None = None) -> None:
        """``max_tokens``: the whole answer's budget; a quote starts only if it can finish within it."""
        self.encode = encode
        self.end = end_token
        self.max_sentences = max_sentences
        self.budget = max_tokens
        self.root = _Node()
        for n, sent in sentences:
            ids = encode(sent)
            if not ids:
                continue
            node = self.root
            for t in ids:
                node = node.children.setdefault(t, _Node())
            node.source = node.source or n
        self.root.settle()
        self._citations: dict[int, list[int]] = {}
        self._citation_len = len(self._citation(99))  # room for " [n]\n" with any two-digit source number
        self.quotes: list[int] = []  # source of each finished quote
        self._node: _Node | None = None  # inside a quote: where in the trie
        self._forced: list[int] = []  # citation tokens still to emit
        self._seen = 0
        self._path: list[tuple[_Node, int]] = []  # (node, token taken) from the root to the current node

    @property
    def empty(self) -> bool:
        return not self.root.children

    def _citation(self, n: int) -> list[int]:
        """The tokens of " [n]" plus a line break: the first closes the quote, the rest are forced."""
        if n not in self._citations:
            self._citations[n] = self.encode(f" [{n}]\n")
        return self._citations[n]

    def _step(self, tok: int) -> None:
        if self._forced:
            self._forced.pop(0)
            return
        if self._node is None:  # a quote starts
            self._path = [(self.root, tok)]
            self._node = self.root.children[tok]
            return
        n = self._node.source
        if n and tok == self._citation(n)[0]:  # the quote closes at a sentence end
            self.quotes.append(n)
            self._forget()
            self._node = None
            self._forced = self._citation(n)[1:]
        else:
            self._path.append((self._node, tok))
            self._node = self._node.children[tok]

    def _forget(self) -> None:
        """A sentence is quoted once: drop it from the trie (and every node only it used)."""
        assert self._node is not None
        self._node.source = 0
        node = self._node
        for parent, tok in reversed(self._path):
            if node.children or node.source:
                break
            del parent.children[tok]
            node = parent
        self.root.settle()  # the nearest sentence end may have been the one just quoted

    def _fits(self, child: _Node, used: int) -> bool:
        """Whether taking ``child`` still leaves room to end a sentence and write its citation."""
        if self.budget is None:
            return True
        return used + 1 + child.shortest + self._citation_len <= self.budget

    def allowed(self, generated: Sequence[int]) -> list[int]:
        for tok in generated[self._seen:]:
            self._step(tok)
        self._seen = len(generated)
        used = len(generated)
        if self._forced:
            return [self._forced[0]]
        if self._node is None:
            if len(self.quotes) >= self.max_sentences:
                return [self.end]
            starts = [t for t, c in self.root.children.items() if self._fits(c, used)]
            return starts + [self.end] if self.quotes else (starts or [self.end])
        options = [t for t, c in self._node.children.items() if self._fits(c, used)]
        if self._node.source:
            options.append(self._citation(self._node.source)[0])
        return options or [self.end]  # unreachable while `shortest` is right; never a dead end


__all__ = ["QuoteConstraint", "candidate_sentences"]
