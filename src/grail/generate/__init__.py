"""Generation: the LLM protocol and its backends.

An ``LLM`` turns chat messages into text, whole or streamed. Backends:
``local`` (the bundled SmolLM2-135M-Instruct GGUF), ``openai`` (any
OpenAI-compatible endpoint). The ``extractive`` answerer needs no LLM and
lives in ``generate/extractive.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from grail.registry import Registry

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}


@runtime_checkable
class LLM(Protocol):
    name: str
    context_window: int  # tokens the model can attend to (prompt + answer)

    def generate(
        self, messages: list[Message], *, max_tokens: int = 256, temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> str: ...

    def stream(
        self, messages: list[Message], *, max_tokens: int = 256, temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...


llms: Registry[LLM] = Registry("llm")


def get_llm(spec: str, **options: object) -> LLM:
    """An LLM backend by spec (``local``, ``openai:http://127.0.0.1:8080/v1``)."""
    from grail.generate import local, openai_compat  # noqa: F401  (registers the backends)

    return llms.create(spec, **options)
