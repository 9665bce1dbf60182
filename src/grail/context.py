"""Context engineering: pack retrieved passages into the generator's window.

Counted with the generator's own tokenizer, within a budget that leaves room
for the answer. Near-duplicate passages are dropped; the strongest passages
go to the start and the end of the list (models read the middle least
closely); sources are numbered [1..n] in the order shown, and that numbering
is what citations resolve against. A passage that stops mid-sentence is
extended with the rest of its page's next chunk. The decision: whole passages
only, never a passage cut to fit: a truncated table row is worse than a
missing one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path

from grail.records import Chunk, Context, Hit

TokenCount = Callable[[str], int]


def default_template() -> str:
    return resources.files("grail.generate").joinpath("prompts/answer.txt").read_text(encoding="utf-8")


def default_system() -> str:
    return resources.files("grail.generate").joinpath("prompts/system.txt").read_text(encoding="utf-8").strip()


def load_template(path: str | None) -> str:
    if not path:
        return default_template()
    text = Path(path).read_text(encoding="utf-8")
    if "{sources}" not in text or "{question}" not in text:
        raise ValueError(f"prompt template {path} must contain {{sources}} and {{question}}")
    return text


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return {tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def near_duplicate(a: str, b: str, threshold: float = 0.8) -> bool:
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return False
    return len(sa & sb) / min(len(sa), len(sb)) >= threshold


def edges_first(items: Sequence[Hit]) -> list[Hit]:
    """Ranks 1,3,5,... at the start and 2,4,6,... reversed at the end."""
    return list(items[0::2]) + list(items[1::2])[::-1]


def format_source(n: int, hit: Hit) -> str:
    where = Path(hit.path).name if hit.path else hit.chunk.doc_id
    section = " > ".join(hit.chunk.heading_path[-2:])
    head = f"[{n}] {where}, page {hit.chunk.page}" + (f" ({section})" if section else "")
    return f"{head}\n<<<\n{hit.chunk.text}\n>>>"


def cut_mid_thought(text: str) -> bool:
    """A passage that stops inside a sentence (not after . ! ? : and not on a table row's number)."""
    tail = text.rstrip()
    return bool(tail) and tail[-1] not in ".!?:;\"')]%" and not tail[-1].isdigit()


def expand_with_next(hit: Hit, next_chunk: Chunk | None, page_text: str | None) -> Hit:
    """The hit extended to the end of the following chunk on the same page (an exact page span still)."""
    c = hit.chunk
    if next_chunk is None or page_text is None or next_chunk.page != c.page or next_chunk.char_end <= c.char_end:
        return hit
    text = page_text[c.char_start : next_chunk.char_end]
    grown = replace(c, text=text, char_end=next_chunk.char_end,
                    index_text=c.index_text + page_text[c.char_end : next_chunk.char_end])
    return replace(hit, chunk=grown)


def pack_context(question: str, hits: Sequence[Hit], *, count_tokens: TokenCount, budget: int,
                 template: str | None = None, system: str | None = None) -> Context:
    template = template or default_template()
    system = system if system is not None else default_system()
    fixed = count_tokens(system) + count_tokens(template.format(sources="", question=question))
    kept: list[Hit] = []
    dropped: list[str] = []
    used = fixed
    for hit in hits:
        twin = next((i for i, k in enumerate(kept) if near_duplicate(hit.chunk.text, k.chunk.text)), None)
        if twin is not None:
            # a passage extended with the next chunk can hold a kept one whole: keep the longer in its place
            old = kept[twin]
            grown = count_tokens(format_source(twin + 1, hit)) - count_tokens(format_source(twin + 1, old))
            if len(hit.chunk.text) > len(old.chunk.text) and used + grown <= budget:
                kept[twin] = hit
                used += grown
                dropped.append(old.chunk.chunk_id)
            else:
                dropped.append(hit.chunk.chunk_id)
            continue
        cost = count_tokens(format_source(len(kept) + 1, hit)) + 2
        if used + cost > budget:
            dropped.append(hit.chunk.chunk_id)
            continue
        kept.append(hit)
        used += cost
    ordered = edges_first(kept)
    sources = "\n\n".join(format_source(i + 1, h) for i, h in enumerate(ordered))
    prompt = template.format(sources=sources, question=question)
    return Context(question=question, sources=tuple(ordered), system=system, prompt=prompt,
                   n_tokens=count_tokens(system) + count_tokens(prompt), budget=budget,
                   dropped=tuple(dropped))
