"""An OpenAI-compatible HTTP server in front of any grail LLM backend.

The concept: expose ``GET /v1/models`` and ``POST /v1/chat/completions``
(plain JSON or server-sent-event chunks) so other tools — and grail's own
``openai`` backend — can use the bundled model without llama.cpp. The one
decision: requests are validated by hand and rejected with HTTP 400 in OpenAI's
error shape (``{"error": {"message", "type", "param"}}``) rather than FastAPI's
422, so OpenAI clients show the message; a streamed request generates its
first piece *before* answering 200, so a prompt that does not fit is a 400 too.

Run: ``python -m grail.generate.llm_server --port 8081 [--llm local]``.
Binds 127.0.0.1 unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

import grail.generate.local  # registers "local"
import grail.generate.openai_compat  # noqa: F401  (registers "openai")
from grail.generate import LLM, Message, llms

ROLES = ("system", "user", "assistant")


class BadRequest(ValueError):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def _error(status: int, message: str, kind: str, param: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": None}},
                        status_code=status)


def _content(raw: Any, i: int) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list):  # [{"type": "text", "text": ...}, ...]
        parts = [p.get("text") for p in raw if isinstance(p, dict) and p.get("type") == "text"]
        if len(parts) == len(raw) and all(isinstance(p, str) for p in parts):
            return "".join(parts)  # type: ignore[arg-type]
    raise BadRequest(f"messages[{i}].content must be a string or a list of text parts", "messages")


def parse_request(body: Any, context_window: int) -> dict[str, Any]:
    """Check a chat-completions body; return the generation arguments or raise BadRequest."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise BadRequest("'messages' is required: a non-empty list of {role, content}", "messages")
    messages: list[Message] = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict):
            raise BadRequest(f"messages[{i}] must be an object with role and content", "messages")
        role = m.get("role")
        if role == "developer":
            role = "system"
        if role not in ROLES:
            raise BadRequest(f"messages[{i}].role is {role!r}; use one of {', '.join(ROLES)}", "messages")
        messages.append({"role": role, "content": _content(m.get("content"), i)})
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens", 256))
    if max_tokens is None:
        max_tokens = 256
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 1 <= max_tokens <= context_window:
        raise BadRequest(f"max_tokens must be an integer from 1 to {context_window}, got {max_tokens!r}",
                         "max_tokens")
    temperature = body.get("temperature", 1.0)
    if temperature is None:
        temperature = 1.0
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
        raise BadRequest(f"temperature must be a number from 0 to 2, got {temperature!r}", "temperature")
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and (not isinstance(stop, list) or len(stop) > 4
                             or not all(isinstance(s, str) and s for s in stop)):
        raise BadRequest("stop must be a string or a list of up to 4 non-empty strings", "stop")
    if body.get("n", 1) not in (1, None):
        raise BadRequest("only n=1 is supported", "n")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise BadRequest("stream must be true or false", "stream")
    options = body.get("stream_options") or {}
    return {"messages": messages, "max_tokens": max_tokens, "temperature": float(temperature),
            "stop": stop or None, "stream": stream,
            "include_usage": bool(isinstance(options, dict) and options.get("include_usage"))}


def _usage(llm: LLM, messages: list[Message], text: str) -> dict[str, int]:
    # Per-message content tokens plus ~4 template tokens each: an estimate, since
    # the LLM protocol counts text, not rendered chat prompts.
    prompt = sum(llm.count_tokens(m["content"]) + 4 for m in messages) + 2
    completion = llm.count_tokens(text) if text else 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def create_app(llm: LLM, model_name: str) -> FastAPI:
    """An app serving ``llm`` under the model id ``model_name``."""
    app = FastAPI(title="grail LLM server", description="OpenAI-compatible chat completions")
    created = int(time.time())

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{
            "id": model_name, "object": "model", "created": created, "owned_by": "grail",
            "context_window": llm.context_window}]}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError as exc:  # any content type is accepted if the bytes are JSON
            return _error(400, f"the request body is not valid JSON: {exc}", "invalid_request_error")
        try:
            req = parse_request(body, llm.context_window)
        except BadRequest as exc:
            return _error(400, str(exc), "invalid_request_error", exc.param)
        if body.get("model") not in (None, "", model_name):
            return _error(404, f"model {body['model']!r} does not exist; this server has: {model_name}",
                          "invalid_request_error", "model")
        args = {k: req[k] for k in ("max_tokens", "temperature", "stop")}
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        now = int(time.time())
        pieces = llm.stream(req["messages"], **args)
        try:  # generation blocks: run it off the event loop
            first = await run_in_threadpool(next, pieces, None)
        except ValueError as exc:  # e.g. the prompt does not fit the context window
            return _error(400, str(exc), "invalid_request_error", "messages")
        if not req["stream"]:
            text = (first or "") + await run_in_threadpool("".join, pieces)
            usage = _usage(llm, req["messages"], text)
            finish = "length" if usage["completion_tokens"] >= req["max_tokens"] else "stop"
            return JSONResponse({
                "id": cid, "object": "chat.completion", "created": now, "model": model_name,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": finish, "logprobs": None}],
                "usage": usage})

        def chunk(delta: dict[str, str], finish: str | None, **extra: Any) -> str:
            payload = {"id": cid, "object": "chat.completion.chunk", "created": now, "model": model_name,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                       **extra}
            return f"data: {json.dumps(payload)}\n\n"

        def events() -> Iterator[str]:
            text = ""
            yield chunk({"role": "assistant", "content": ""}, None)
            try:
                for piece in itertools.chain([first] if first else [], pieces):
                    text += piece
                    yield chunk({"content": piece}, None)
            except Exception as exc:  # noqa: BLE001  (the 200 is already sent: report in-band)
                yield f"data: {json.dumps({'error': {'message': str(exc), 'type': 'server_error'}})}\n\n"
                return
            usage = _usage(llm, req["messages"], text)
            finish = "length" if usage["completion_tokens"] >= req["max_tokens"] else "stop"
            yield chunk({}, finish)
            if req["include_usage"]:
                payload = {"id": cid, "object": "chat.completion.chunk", "created": now,
                           "model": model_name, "choices": [], "usage": usage}
                yield f"data: {json.dumps(payload)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    return app


def serve(llm_spec: str = "local", host: str = "127.0.0.1", port: int = 8081,
          model_name: str | None = None) -> None:
    """Load ``llm_spec`` (before accepting requests) and serve it until interrupted."""
    import uvicorn

    llm = llms.create(llm_spec)
    llm.count_tokens("warm up")  # load the model now, not on the first request
    name = model_name or llm.name.split(":", 1)[-1]
    uvicorn.run(create_app(llm, name), host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grail.generate.llm_server", description=__doc__.split("\n")[0])
    parser.add_argument("--llm", default="local", help="grail llm spec to serve (default: local)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--model-name", default=None, help="model id to report (default: the backend's)")
    args = parser.parse_args(argv)
    serve(args.llm, args.host, args.port, args.model_name)


if __name__ == "__main__":
    main()
