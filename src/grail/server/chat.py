"""grail as an OpenAI "model": ``POST /v1/chat/completions`` and ``GET /v1/models``.

Model ``grail`` answers from the ``default`` collection, ``grail-<name>``
from collection ``<name>``. The last user message is the question; the reply
is grail's cited answer with ``[n]`` markers and a "Sources:" list, and the
same citations come back structured in ``message.citations`` and a top-level
``citations`` field (extra fields OpenAI clients keep). The decision: a
streamed reply streams the *verified* answer, after verification, so the text
a client assembles from the chunks is exactly the non-streamed text.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from grail.facade import Grail
from grail.records import Answer
from grail.server.app import MAX_QUESTION_CHARS, ApiError, answer_dict, text_pieces
from grail.server.collections import DEFAULT, Collections

ROLES = ("system", "developer", "user", "assistant", "tool")


def model_names(collections: Collections) -> list[str]:
    return ["grail"] + [f"grail-{n}" for n in collections.names()]


def _text(raw: Any, i: int) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list):
        parts = [p.get("text") for p in raw if isinstance(p, dict) and p.get("type") == "text"]
        if parts and all(isinstance(p, str) for p in parts):
            return "\n".join(parts)  # type: ignore[arg-type]
    raise ApiError(400, f"messages[{i}].content must be a string or a list of text parts", param="messages")


def parse_chat(body: Any, collections: Collections) -> tuple[str, str, str, bool, bool]:
    """(model, collection, question, stream, include_usage) from a chat body, or ApiError."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object with 'model' and 'messages'")
    model = body.get("model") or "grail"
    names = model_names(collections)
    if not isinstance(model, str) or model not in names:
        raise ApiError(404, f"model {model!r} does not exist; available models: {', '.join(names)}", param="model")
    name = DEFAULT if model == "grail" else model.removeprefix("grail-")
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "'messages' is required: a non-empty list of {role, content}", param="messages")
    question = None
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise ApiError(400, f"messages[{i}] must be an object with a role ({', '.join(ROLES)}) and content",
                           param="messages")
        if m["role"] == "user":
            question = _text(m.get("content"), i)
    if question is None or not question.strip():
        raise ApiError(400, "no question: the last user message is empty or missing", param="messages")
    if len(question) > MAX_QUESTION_CHARS:
        raise ApiError(400, f"the question is {len(question)} characters; the limit is {MAX_QUESTION_CHARS}",
                       param="messages")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, "stream must be true or false", param="stream")
    if body.get("n", 1) not in (1, None):
        raise ApiError(400, "only n=1 is supported", param="n")
    options = body.get("stream_options") or {}
    return model, name, question, stream, bool(isinstance(options, dict) and options.get("include_usage"))


def render_reply(ans: Answer, citations: list[dict[str, Any]]) -> str:
    """The answer text, then the sources its [n] markers point to."""
    if ans.abstained:
        head = f"{ans.text} ({ans.abstain_reason})" if ans.abstain_reason else ans.text
        label = "Closest passages (not an answer):"
    else:
        head, label = ans.text, "Sources:"
    if not citations:
        return head
    lines = [f"[{c['n']}] {c['name']}, page {c['page']}" for c in citations]
    return head + "\n\n" + label + "\n" + "\n".join(lines)


def _usage(g: Grail, question: str, reply: str) -> dict[str, int]:
    p, c = g.embedder.count_tokens(question), g.embedder.count_tokens(reply)  # MiniLM word pieces
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def add_chat_routes(router: APIRouter, collections: Collections) -> None:
    created = int(time.time())

    @router.get("/models", summary="The models this server offers: grail and grail-<collection>")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": m, "object": "model", "created": created, "owned_by": "grail"}
                                           for m in model_names(collections)]}

    @router.post("/chat/completions", response_model=None,
                 summary="OpenAI-compatible chat: the last user message is answered from the documents")
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError as exc:
            raise ApiError(400, f"the request body is not valid JSON: {exc}") from exc
        model, name, question, stream, include_usage = parse_chat(body, collections)
        g = collections.get(name)
        cid, now = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        try:
            ans = await run_in_threadpool(g.ask, question)
        except ValueError as exc:
            raise ApiError(400, str(exc), param="messages") from exc
        d = await run_in_threadpool(answer_dict, ans, g)
        citations = d["citations"]
        reply = render_reply(ans, citations)
        extra = {"citations": citations, "grail": {"collection": name, "abstained": ans.abstained,
                                                   "abstain_reason": ans.abstain_reason,
                                                   "faithfulness": ans.faithfulness}}
        usage = _usage(g, question, reply)
        if not stream:
            return JSONResponse({
                "id": cid, "object": "chat.completion", "created": now, "model": model,
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                             "message": {"role": "assistant", "content": reply, "citations": citations}}],
                "usage": usage, **extra})

        def chunk(delta: dict[str, Any], finish: str | None, **more: Any) -> str:
            payload = {"id": cid, "object": "chat.completion.chunk", "created": now, "model": model,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **more}
            return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

        def events() -> Iterator[str]:
            yield chunk({"role": "assistant", "content": ""}, None)
            for piece in text_pieces(reply):
                yield chunk({"content": piece}, None)
            yield chunk({}, "stop", **extra)
            if include_usage:
                payload = {"id": cid, "object": "chat.completion.chunk", "created": now, "model": model,
                           "choices": [], "usage": usage}
                yield f"data: {json.dumps(payload)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


__all__ = ["add_chat_routes", "parse_chat", "render_reply", "model_names"]
