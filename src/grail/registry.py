"""Backends are chosen by name from config, like ``llm`` plugins.

One registry per concept (embedder, llm, ...). A spec string is
``name`` or ``name:argument`` (``openai:http://127.0.0.1:8080/v1``); the
factory receives the argument (or ``""``) plus keyword options. Constructors
must be cheap: heavy state loads lazily on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class UnknownBackend(ValueError):
    pass


class Registry(Generic[T]):
    def __init__(self, concept: str) -> None:
        self.concept = concept
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def deco(factory: Callable[..., Any]) -> Callable[..., Any]:
            self._factories[name] = factory
            return factory

        return deco

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, spec: str, **options: Any) -> T:
        name, _, arg = spec.partition(":")
        if name not in self._factories:
            raise UnknownBackend(
                f"unknown {self.concept} {name!r}; choose one of: {', '.join(self.names())}"
            )
        return self._factories[name](arg, **options)
