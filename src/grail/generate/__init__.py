"""Generation: the LLM protocol and its backends.

An ``LLM`` turns chat messages into text, whole or streamed. Backends:
``local`` (the bundled SmolLM2-135M-Instruct GGUF), ``openai`` (any
OpenAI-compatible endpoint). The ``extractive`` answerer needs no LLM and
lives in ``generate/extractive.py``.
"""

from __future__ import annotations

from typing import Iterator, Protocol, runtime_checkable

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
