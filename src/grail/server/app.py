"""The HTTP API of ``grail serve``: ask, search, documents, jobs, collections.

Routes take ``?collection=NAME`` (default ``default``); the web page is at
``/`` and the OpenAPI schema at ``/openapi.json`` (browsable at ``/docs``).
The decision: every error, whatever raised it, leaves as one JSON shape —
OpenAI's ``{"error": {"message", "type", "param", "code"}}`` — with a 4xx
status and a message that says what to do, so people, the web page and OpenAI
clients all read errors the same way. Request bodies are size-checked before
they are parsed.
"""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grail.facade import Grail
from grail.records import Answer, to_dict
from grail.server.auth import KeyCheck
from grail.server.collections import DEFAULT, BadUpload, Collections, TooLarge, UnknownCollection, check_name
from grail.store import Filters

STATIC = Path(__file__).parent / "static"
MAX_QUESTION_CHARS = 4000


class ApiError(HTTPException):
    """An HTTPException (so FastAPI passes it through body parsing) in the OpenAI error shape."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", param: str | None = None):
        super().__init__(status, message)
        self.status, self.message, self.kind, self.param = status, message, kind, param


def error_response(status: int, message: str, kind: str = "invalid_request_error",
                   param: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": status}},
                        status_code=status)


class BodyLimit:
    """ASGI middleware: 413 for bodies over the limit, by Content-Length or by counting."""

    def __init__(self, app: ASGIApp, json_limit: int, upload_limit: int) -> None:
        self.app, self.json_limit, self.upload_limit = app, json_limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload = scope["path"] == "/v1/documents" and scope["method"] == "POST"
        limit = self.upload_limit + (1 << 20) if upload else self.json_limit  # + room for multipart framing
        what = "upload" if upload else "request body"
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = error_response(413, f"{what} is {int(declared) / 1e6:.1f} MB; the limit is "
                                      f"{limit / 1e6:.1f} MB" + (" (see --max-upload-mb)" if upload else ""))
            return await response(scope, receive, send)
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise ApiError(413, f"{what} is larger than the limit of {limit / 1e6:.1f} MB")
            return message

        await self.app(scope, counted, send)


# -- request bodies ------------------------------------------------------------
class FiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path_glob: str | None = Field(None, max_length=1000, description="glob over the document path, e.g. '*/10k/*.pdf'")
    doc_types: list[str] = Field(default_factory=list, max_length=10)
    doc_ids: list[str] = Field(default_factory=list, max_length=1000)
    exclude_doc_ids: list[str] = Field(default_factory=list, max_length=1000)
    modified_after: float | None = None
    modified_before: float | None = None

    def to_filters(self) -> Filters:
        return Filters(path_glob=self.path_glob, doc_types=tuple(self.doc_types), doc_ids=tuple(self.doc_ids),
                       exclude_doc_ids=tuple(self.exclude_doc_ids), modified_after=self.modified_after,
                       modified_before=self.modified_before)


def _not_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("is empty: ask something")
    return v


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int = Field(10, ge=1, le=100)
    mode: str | None = Field(None, pattern="^(hybrid|dense|bm25)$")
    filters: FiltersIn | None = None
    per_page: bool = Field(False, description="Rank pages: k distinct pages, each by its best passage.")
    _blank = field_validator("query")(_not_blank)


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int | None = Field(None, ge=1, le=50)
    stream: bool = False
    allow_weak: bool = False
    filters: FiltersIn | None = None
    _blank = field_validator("question")(_not_blank)


class CollectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., description="1-64 characters from a-z, 0-9, '_' and '-'")


# -- helpers ----------------------------------------------------------------------
def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def text_pieces(text: str, words: int = 4) -> list[str]:
    """The answer text in small pieces, for backends that produce it all at once."""
    tokens = re.findall(r"\S+\s*", text)
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)] or [text]


def stream_answer(g: Grail, question: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
    """("token", str)... then ("answer", Answer) or ("error", str), from a worker thread."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue()

    def work() -> None:
        try:
            q.put(("answer", g.ask(question, on_token=lambda t: q.put(("token", t)), **kwargs)))
        except Exception as exc:  # noqa: BLE001  (the 200 is already sent: the error goes in-band)
            q.put(("error", str(exc)))

    threading.Thread(target=work, daemon=True, name="grail-ask").start()
    streamed = False
    while True:
        kind, value = q.get()
        if kind == "token":
            streamed = True
            yield kind, value
            continue
        if kind == "answer" and not streamed:
            for piece in text_pieces(value.text):
                yield "token", piece
        yield kind, value
        return


def answer_dict(ans: Answer, g: Grail) -> dict[str, Any]:
    d = to_dict(ans)
    titles = g.store.titles()
    for c in d["citations"]:
        c["name"] = Path(c["path"]).name
        c["title"] = titles.get(c["doc_id"], "")
    return d


def create_app(collections: Collections, *, keys: KeyCheck | None = None, max_upload_mb: int = 50,
               max_body_kb: int = 1024) -> FastAPI:
    """The FastAPI app over ``collections``; ``keys`` (if any) guard every ``/v1`` route."""
    keys = keys or KeyCheck([])
    app = FastAPI(title="grail", version="1", description=__doc__.split("\n")[0]
                  + "\n\nEvery `/v1` route takes `?collection=NAME` (default `default`). "
                  "Errors are `{\"error\": {\"message\": ...}}` with a 4xx status.")
    app.state.collections = collections
    upload_limit = max_upload_mb * (1 << 20)
    app.add_middleware(BodyLimit, json_limit=max_body_kb * 1024, upload_limit=upload_limit)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.kind, exc.param)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "the request body is not valid JSON: " + "; ".join(
                str(e.get("ctx", {}).get("error", e.get("msg"))) for e in errors))
        parts = []
        for e in errors:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path"))
            msg = str(e.get("msg", "invalid"))
            if e.get("type") == "string_too_long" and loc in ("question", "query"):
                msg = f"is too long; the limit is {MAX_QUESTION_CHARS} characters"
            parts.append(f"{loc or 'body'}: {msg.removeprefix('Value error, ')}")
        return error_response(422, "; ".join(parts), param=str(errors[0].get("loc", ["?"])[-1]) if errors else None)

    def require_key(request: Request) -> None:
        problem = keys.problem(request.headers.get("authorization"))
        if problem:
            raise ApiError(401, problem, "authentication_error")

    def collection(collection: str = Query(DEFAULT, description="collection name")) -> tuple[str, Grail]:
        try:
            return collection, collections.get(collection)
        except UnknownCollection as exc:
            raise ApiError(404, str(exc), param="collection") from exc
        except ValueError as exc:
            raise ApiError(400, str(exc), param="collection") from exc

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])

    @v1.post("/search", summary="Ranked passages for a query")
    def search(body: SearchIn, col: tuple[str, Grail] = Depends(collection)) -> dict[str, Any]:
        name, g = col
        try:
            hits = g.search(body.query, body.k, mode=body.mode,
                            filters=body.filters.to_filters() if body.filters else None, per_page=body.per_page)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from exc
        return {"collection": name, "query": body.query, "hits": to_dict(hits)}

    @v1.post("/ask", summary="An answer with citations; `stream: true` sends server-sent events",
             response_model=None)
    def ask(body: AskIn, col: tuple[str, Grail] = Depends(collection)) -> Any:
        name, g = col
        kwargs: dict[str, Any] = {"k": body.k, "allow_weak": body.allow_weak,
                  "filters": body.filters.to_filters() if body.filters else None}
        if not body.stream:
            try:
                return answer_dict(g.ask(body.question, **kwargs), g)
            except ValueError as exc:
                raise ApiError(422, str(exc)) from exc

        def events() -> Iterator[str]:
            for kind, value in stream_answer(g, body.question, **kwargs):
                if kind == "token":
                    yield sse("token", {"text": value})
                elif kind == "answer":
                    yield sse("answer", answer_dict(value, g))
                    yield sse("done", {})
                else:
                    yield sse("error", {"message": value})

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @v1.get("/documents", summary="What is indexed (and what is waiting to be)")
    def documents(col: tuple[str, Grail] = Depends(collection)) -> dict[str, Any]:
        name, g = col
        docs = []
        for d in g.documents():
            item = to_dict(d)
            item.update(name=Path(d.path).name, status="indexed")
            docs.append(item)
        return {"collection": name, "documents": docs, "pending": collections.pending_files(name)}

    @v1.post("/documents", status_code=202, summary="Upload files; they are indexed in the background")
    async def upload(files: list[UploadFile] = File(..., description="one or more files"),
                     col: tuple[str, Grail] = Depends(collection)) -> dict[str, Any]:
        name, _ = col
        try:
            paths = await run_in_threadpool(collections.store_uploads, name,
                                            [(f.filename or "", f.file) for f in files], upload_limit)
        except BadUpload as exc:
            raise ApiError(400, str(exc), param="files") from exc
        except TooLarge as exc:
            raise ApiError(413, str(exc), param="files") from exc
        job = collections.submit(name, paths)
        return {"job": job.to_dict(), "job_url": f"/v1/jobs/{job.id}"}

    @v1.delete("/documents/{doc_id}", summary="Remove a document (and its uploaded file)")
    def delete(doc_id: str, col: tuple[str, Grail] = Depends(collection)) -> dict[str, Any]:
        name, g = col
        info = g.store.document(doc_id)
        if info is None:
            raise ApiError(404, f"no document {doc_id!r} in collection {name!r}; GET /v1/documents lists them")
        g.store.delete_document(doc_id)
        g.store.save_vector_index()
        stored = Path(info.path)
        if stored.parent == collections.files_dir(name).resolve():
            stored.unlink(missing_ok=True)
        return {"deleted": doc_id, "path": info.path, "collection": name}

    @v1.get("/documents/{doc_id}/pages/{n}", summary="The text of one page (citation offsets index into it)")
    def page(doc_id: str, n: int, col: tuple[str, Grail] = Depends(collection)) -> dict[str, Any]:
        name, g = col
        info = g.store.document(doc_id)
        if info is None:
            raise ApiError(404, f"no document {doc_id!r} in collection {name!r}; GET /v1/documents lists them")
        text = g.page(doc_id, n)
        if text is None:
            raise ApiError(404, f"document {doc_id!r} has pages 1 to {info.n_pages}, not {n}")
        return {"doc_id": doc_id, "page": n, "n_pages": info.n_pages, "path": info.path,
                "name": Path(info.path).name, "title": info.title, "text": text}

    @v1.get("/jobs/{job_id}", summary="Status and progress of an indexing job")
    def job(job_id: str) -> dict[str, Any]:
        j = collections.job(job_id)
        if j is None:
            raise ApiError(404, f"no job {job_id!r}; jobs are kept in memory until the server restarts")
        return j.to_dict()

    @v1.get("/jobs", summary="Recent indexing jobs")
    def jobs(col: tuple[str, Grail] = Depends(collection)) -> dict[str, Any]:
        return {"jobs": [j.to_dict() for j in collections.jobs(col[0])]}

    @v1.get("/collections", summary="Collections and their sizes")
    def list_collections() -> dict[str, Any]:
        out = []
        for n in collections.names():
            st = collections.get(n).store.stats()
            out.append({"name": n, "documents": st["documents"], "chunks": st["chunks"], "pages": st["pages"]})
        return {"collections": out}

    @v1.post("/collections", status_code=201, summary="Create a collection")
    def create_collection(body: CollectionIn) -> dict[str, Any]:
        try:
            check_name(body.name)
        except ValueError as exc:
            raise ApiError(400, str(exc), param="name") from exc
        _, created = collections.create(body.name)
        return {"name": body.name, "created": created}

    from grail.server.chat import add_chat_routes

    add_chat_routes(v1, collections)
    app.include_router(v1)

    @app.get("/healthz", summary="Liveness: 200 when the server answers")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "collections": collections.names(), "auth": keys.enabled}

    @app.get("/", include_in_schema=False)
    def index_page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
