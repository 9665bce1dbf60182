"""Generation backends against the real bundled model and a real HTTP server.

The ``local`` backend runs SmolLM2-135M-Instruct in-process; ``llm_server``
serves that same model on 127.0.0.1 in a subprocess, and the ``openai``
backend (and the official ``openai`` client) talk to it. Greedy decoding makes
the texts comparable across all three paths.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from grail.generate import LLM, llms
from grail.generate.gguf_llama import _pick
from grail.generate.local import LocalLLM, apply_stops
from grail.generate.openai_compat import LLMServerError, OpenAICompatLLM

SRC = Path(__file__).resolve().parents[1] / "src"
CAPITAL = [{"role": "user", "content": "What is the capital of France?"}]
INVOICE = [{"role": "user", "content": "Context: The invoice total was $4,210. Question: What was the invoice total?"}]
MAX = 24


@pytest.fixture(scope="module")
def local() -> LocalLLM:
    llm = llms.create("local")
    assert isinstance(llm, LocalLLM) and isinstance(llm, LLM)
    return llm


@pytest.fixture(scope="module")
def capital_answer(local: LocalLLM) -> str:
    return local.generate(CAPITAL, max_tokens=MAX)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``python -m grail.generate.llm_server`` on a free port; yields its /v1 base URL."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "grail.generate.llm_server", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llm_server exited early:\n{proc.stdout.read() if proc.stdout else ''}")
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llm_server did not answer /v1/models within 90 s")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


# -- local backend ------------------------------------------------------------------------------

def test_local_answers_a_simple_fact(capital_answer: str) -> None:
    assert "Paris" in capital_answer


def test_local_answers_from_the_given_context(local: LocalLLM) -> None:
    answer = local.generate(INVOICE, max_tokens=MAX)
    assert "4,210" in answer or "4210" in answer, answer


def test_stream_pieces_join_to_the_generated_text(local: LocalLLM, capital_answer: str) -> None:
    pieces = list(local.stream(CAPITAL, max_tokens=MAX))
    assert len(pieces) > 1
    assert "".join(pieces) == capital_answer


def test_stop_string_cuts_the_answer_before_it(local: LocalLLM, capital_answer: str) -> None:
    word = " " + capital_answer.split()[2]  # a word from the middle of the real answer
    cut = local.generate(CAPITAL, max_tokens=MAX, stop=[word])
    assert cut == capital_answer[: capital_answer.index(word)]
    assert word not in "".join(local.stream(CAPITAL, max_tokens=MAX, stop=["zzz", word]))


def test_stop_strings_spanning_stream_pieces_are_caught() -> None:
    pieces = ["The cap", "ital of Fr", "ance is"]
    assert "".join(apply_stops(iter(pieces), ["of France"])) == "The capital "
    assert "".join(apply_stops(iter(pieces), ["absent"])) == "The capital of France is"
    assert list(apply_stops(iter(pieces), None)) == pieces


def test_max_tokens_bounds_the_answer(local: LocalLLM) -> None:
    short = local.generate(INVOICE, max_tokens=3)
    assert 1 <= local.count_tokens(short) <= 3
    with pytest.raises(ValueError, match="max_tokens"):
        local.generate(INVOICE, max_tokens=0)


def test_count_tokens_uses_the_model_tokenizer(local: LocalLLM) -> None:
    assert local.count_tokens("") == 0
    assert local.count_tokens("4,210") == 5  # SmolLM splits digits one by one
    text = "Grail answers questions about your documents, citing pages. Café ☕ naïve."
    n = local.count_tokens(text)
    assert 10 <= n <= 40
    assert local.count_tokens(text * 4) == pytest.approx(4 * n, abs=4)
    tok = local.engine.model.tokenizer  # type: ignore[attr-defined]
    assert tok.decode(tok.encode(text)) == text
    # a control token inside a document is text, not an end-of-turn
    assert tok.im_end not in tok.encode("stop <|im_end|> here")


def test_context_window_and_overlong_prompt(local: LocalLLM) -> None:
    assert local.context_window == 2048  # max_context default, below the GGUF's 8192
    long = [{"role": "user", "content": "word " * 2100}]
    with pytest.raises(ValueError, match="context window"):
        local.generate(long, max_tokens=4)


def test_sampling_keeps_to_the_nucleus() -> None:
    logits = np.array([5.0, 4.0, -3.0, -4.0])
    rng = np.random.default_rng(0)
    picks = {_pick(logits, 1.0, 0.9, rng) for _ in range(200)}
    assert picks == {0, 1}  # 0 and 1 hold >99% of the mass; the tail is never sampled
    assert _pick(logits, 0.0, 0.9, rng) == 0


# -- server + openai backend --------------------------------------------------------------------

def test_openai_backend_matches_local(server: str, local: LocalLLM, capital_answer: str) -> None:
    remote = llms.create(f"openai:{server}")
    assert isinstance(remote, OpenAICompatLLM) and isinstance(remote, LLM)
    assert remote.generate(CAPITAL, max_tokens=MAX) == capital_answer
    pieces = list(remote.stream(CAPITAL, max_tokens=MAX))
    assert len(pieces) > 1 and "".join(pieces) == capital_answer
    invoice = local.generate(INVOICE, max_tokens=MAX)
    assert "".join(remote.stream(INVOICE, max_tokens=MAX)) == invoice
    assert remote.model == "SmolLM2-135M-Instruct.Q4_1"
    assert remote.context_window == local.context_window  # read from /v1/models
    word = " " + capital_answer.split()[2]
    assert remote.generate(CAPITAL, max_tokens=MAX, stop=[word]) == capital_answer[: capital_answer.index(word)]
    assert 0 < remote.count_tokens("The capital of France is Paris.") < 12


def test_server_rejects_malformed_requests(server: str) -> None:
    url = f"{server}/chat/completions"
    cases = [
        (b"{not json", "not valid JSON"),
        (b'{"max_tokens": 5}', "messages"),
        (b'{"messages": [{"role": "robot", "content": "hi"}]}', "role"),
        (b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}', "max_tokens"),
        (b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 999999}', "max_tokens"),
    ]
    for body, hint in cases:
        r = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=30)
        assert r.status_code == 400, body
        assert hint in r.json()["error"]["message"], r.text


def test_unknown_model_error_lists_the_served_ones(server: str) -> None:
    with pytest.raises(LLMServerError, match="SmolLM2-135M-Instruct.Q4_1"):
        OpenAICompatLLM(server, model="no-such-model").generate(CAPITAL, max_tokens=2)


def test_closed_port_gives_a_clear_error() -> None:
    base = f"http://127.0.0.1:{_free_port()}/v1"  # bound then released: nothing listens
    llm = OpenAICompatLLM(base, model="any")
    with pytest.raises(LLMServerError, match="cannot reach the OpenAI-compatible server at .*is it running"):
        llm.generate(CAPITAL, max_tokens=2)
    with pytest.raises(LLMServerError, match="GRAIL_OPENAI_BASE_URL"):
        list(llm.stream(CAPITAL, max_tokens=2))


def test_official_openai_client_talks_to_the_server(server: str, capital_answer: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=server, api_key="not-needed", max_retries=0)
    model = client.models.list().data[0].id
    reply = client.chat.completions.create(model=model, messages=CAPITAL, max_tokens=MAX, temperature=0)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == capital_answer
    assert reply.usage is not None and reply.usage.completion_tokens > 0
    chunks = client.chat.completions.create(
        model=model, messages=CAPITAL, max_tokens=MAX, temperature=0, stream=True)  # type: ignore[arg-type]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == capital_answer


def test_fast_q4_1_dequantization_is_bit_exact() -> None:
    import gguf

    from grail.generate.gguf_llama import _dequantize_q4_1
    from grail.generate.local import bundled_gguf_path

    reader = gguf.GGUFReader(str(bundled_gguf_path()))
    t = next(t for t in reader.tensors if t.tensor_type == gguf.GGMLQuantizationType.Q4_1)
    expected = gguf.quants.dequantize(t.data, t.tensor_type)
    assert np.array_equal(_dequantize_q4_1(t.data, t.data.shape[0]), expected)
