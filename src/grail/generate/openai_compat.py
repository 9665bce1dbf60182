"""The ``openai`` LLM backend: any server that speaks OpenAI's chat-completions API.

The concept: Ollama, vLLM, llama.cpp's server, grail's own ``llm_server`` and
OpenAI itself all accept ``POST {base}/chat/completions``; one small client
covers them all. The one decision: talk HTTP with ``httpx`` directly (no
``openai`` SDK dependency), parsing the server-sent-events stream ourselves,
so every failure can be turned into an error that says what to do next.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from typing import Any

import httpx

from grail.generate import Message, llms

DEFAULT_CONTEXT_WINDOW = 8192  # when neither the option nor the server says


class LLMServerError(RuntimeError):
    """The OpenAI-compatible server could not be reached or refused the request."""


def _env(*names: str) -> str:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return ""


class OpenAICompatLLM:
    """Client for an OpenAI-compatible endpoint.

    Base URL: the spec argument, else ``GRAIL_OPENAI_BASE_URL`` / ``OPENAI_BASE_URL``.
    Model: option ``model``, else ``GRAIL_OPENAI_MODEL``, else the first model the
    server lists. Key: option ``api_key``, else ``GRAIL_OPENAI_API_KEY`` /
    ``OPENAI_API_KEY`` (may be empty for local servers).

    ``count_tokens`` is an **approximation**: OpenAI's o200k_base BPE (option
    ``encoding``, e.g. ``cl100k_base``), not the served model's own tokenizer,
    which the API does not expose.
    """

    def __init__(
        self, base_url: str = "", *, model: str | None = None, api_key: str | None = None,
        timeout: float = 120.0, connect_timeout: float = 5.0, context_window: int | None = None,
        encoding: str = "o200k_base",
    ) -> None:
        base = base_url or _env("GRAIL_OPENAI_BASE_URL", "OPENAI_BASE_URL")
        if not base:
            raise ValueError(
                "no OpenAI-compatible server given: use llm 'openai:http://HOST:PORT/v1' "
                "or set GRAIL_OPENAI_BASE_URL")
        self.base_url = base.rstrip("/")
        self._model = model or _env("GRAIL_OPENAI_MODEL") or None
        self.api_key = api_key if api_key is not None else _env("GRAIL_OPENAI_API_KEY", "OPENAI_API_KEY")
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._context_window = context_window
        self.encoding_name = encoding
        self._encoding: Any = None
        self._listed: list[dict[str, Any]] | None = None
        self.name = f"openai:{self._model or self.base_url}"

    # -- HTTP -------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _unreachable(self, exc: Exception) -> LLMServerError:
        if isinstance(exc, httpx.TimeoutException):
            return LLMServerError(
                f"the OpenAI-compatible server at {self.base_url} did not answer in time ({exc!r}): "
                "is it overloaded? raise the `timeout` option")
        return LLMServerError(
            f"cannot reach the OpenAI-compatible server at {self.base_url}: is it running? "
            "(set GRAIL_OPENAI_BASE_URL)")

    def _raise_for(self, response: httpx.Response, model: str | None = None) -> None:
        if response.status_code < 400:
            return
        try:
            detail = response.json().get("error", {})
            message = detail.get("message", "") if isinstance(detail, dict) else str(detail)
        except (ValueError, AttributeError):
            message = response.text[:300]
        where = f"{self.base_url} (HTTP {response.status_code})"
        if response.status_code in (401, 403):
            raise LLMServerError(
                f"the server at {where} rejected the API key: set GRAIL_OPENAI_API_KEY "
                f"(or OPENAI_API_KEY) to a valid key. Server said: {message}")
        if response.status_code == 404 and model is not None:
            try:
                names = [m["id"] for m in self.list_models()]
            except LLMServerError:
                names = []
            if names and model not in names:
                raise LLMServerError(
                    f"model {model!r} is not served at {self.base_url}; it has: {', '.join(names)}. "
                    "Set the `model` option or GRAIL_OPENAI_MODEL")
            if not names:
                raise LLMServerError(
                    f"{where}: {message or 'not found'}; does the base URL need a /v1 suffix?")
        raise LLMServerError(f"the server at {where} refused the request: {message}")

    def list_models(self) -> list[dict[str, Any]]:
        """The server's ``GET /models`` entries (cached after the first call)."""
        if self._listed is None:
            try:
                r = httpx.get(f"{self.base_url}/models", headers=self._headers(), timeout=self.timeout)
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from exc
            self._raise_for(r)
            try:
                self._listed = list(r.json()["data"])
            except (ValueError, KeyError, TypeError) as exc:
                raise LLMServerError(
                    f"{self.base_url}/models did not return an OpenAI model list: is this an "
                    "OpenAI-compatible base URL (usually ending in /v1)?") from exc
        return self._listed

    @property
    def model(self) -> str:
        if self._model is None:
            models = self.list_models()
            if not models:
                raise LLMServerError(f"the server at {self.base_url} lists no models: load one first")
            self._model = str(models[0]["id"])
            self.name = f"openai:{self._model}"
        return self._model

    @property
    def context_window(self) -> int:
        """The ``context_window`` option, else what ``/models`` reports, else 8192."""
        if self._context_window is None:
            self._context_window = DEFAULT_CONTEXT_WINDOW
            model = self.model
            for entry in self.list_models():
                if entry.get("id") == model:
                    for key in ("context_window", "max_model_len", "context_length"):
                        if isinstance(entry.get(key), int):
                            self._context_window = int(entry[key])
                            break
        return self._context_window

    def _body(self, messages: list[Message], max_tokens: int, temperature: float,
              stop: list[str] | None, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": max_tokens,
                                "temperature": temperature, "stream": stream}
        if stop:
            body["stop"] = stop
        return body

    # -- LLM protocol -----------------------------------------------------------------------
    def generate(
        self, messages: list[Message], *, max_tokens: int = 256, temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> str:
        body = self._body(messages, max_tokens, temperature, stop, stream=False)
        try:
            r = httpx.post(f"{self.base_url}/chat/completions", json=body, headers=self._headers(),
                           timeout=self.timeout)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        self._raise_for(r, model=body["model"])
        try:
            return str(r.json()["choices"][0]["message"].get("content") or "")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMServerError(f"unexpected chat completion from {self.base_url}: {r.text[:300]}") from exc

    def stream(
        self, messages: list[Message], *, max_tokens: int = 256, temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        body = self._body(messages, max_tokens, temperature, stop, stream=True)
        try:
            with httpx.stream("POST", f"{self.base_url}/chat/completions", json=body,
                              headers=self._headers(), timeout=self.timeout) as r:
                if r.status_code >= 400:
                    r.read()
                    self._raise_for(r, model=body["model"])
                for line in r.iter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, ": keep-alive" comments, event: lines
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    chunk = json.loads(data)
                    if "error" in chunk:
                        raise LLMServerError(f"the server at {self.base_url} failed mid-stream: {chunk['error']}")
                    for choice in chunk.get("choices") or []:
                        piece = (choice.get("delta") or {}).get("content")
                        if piece:
                            yield piece
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc

    def count_tokens(self, text: str) -> int:
        if self._encoding is None:
            with warnings.catch_warnings():  # bpe_openai uses a deprecated importlib.resources call
                warnings.simplefilter("ignore", DeprecationWarning)
                import bpe_openai

                self._encoding = bpe_openai.get_encoding(self.encoding_name)
        return len(self._encoding.encode(text, disallowed_special=()))


@llms.register("openai")
def _openai(arg: str, **options: Any) -> OpenAICompatLLM:
    """``openai:http://127.0.0.1:8080/v1`` (or ``openai`` with GRAIL_OPENAI_BASE_URL set)."""
    return OpenAICompatLLM(arg, **options)
