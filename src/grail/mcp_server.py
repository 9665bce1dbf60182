"""grail as a Model Context Protocol server (the official ``mcp`` SDK).

Tools: ``search_documents``, ``ask``, ``get_passage``, ``list_documents``;
every indexed document is also a resource ``grail://documents/{doc_id}``
(its pages' text, each page headed ``--- page N ---``). Transports: stdio
(what Claude Desktop launches) and streamable HTTP on loopback. The decision:
the resource list is read from the index on every ``resources/list``, so
documents indexed while the server runs appear without a restart; tools
return plain JSON-ready dicts so clients get structured content too.

Run: ``python -m grail.mcp_server --index DIR`` (stdio) or ``--http --port N``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import Resource as MCPResource

from grail.config import load_settings
from grail.facade import Grail
from grail.records import to_dict

URI_PREFIX = "grail://documents/"
MAX_K = 50


class GrailMCP(MCPServer):
    """An MCPServer whose resource list is the index's documents, read live."""

    def __init__(self, grail: Grail) -> None:
        super().__init__("grail", instructions="Search and ask the user's indexed documents. Answers cite "
                         "[n] passages; use get_passage to read a cited passage on its page.", log_level="WARNING")
        self.grail = grail

    async def list_resources(self) -> list[MCPResource]:
        listed = await super().list_resources()
        for d in self.grail.documents():
            listed.append(MCPResource(uri=URI_PREFIX + d.doc_id, name=Path(d.path).name, title=d.title or None,
                                      description=f"{d.doc_type}, {d.n_pages} page(s), indexed from {d.path}",
                                      mime_type="text/plain"))
        return listed


def _hit(n: int, h: Any) -> dict[str, Any]:
    c = h.chunk
    return {"n": n, "doc_id": c.doc_id, "path": h.path, "title": h.title, "page": c.page,
            "char_start": c.char_start, "char_end": c.char_end, "score": round(h.score, 6), "text": c.text}


def build_server(grail: Grail) -> GrailMCP:
    """The MCP server over one index."""
    server = GrailMCP(grail)

    @server.tool()
    def search_documents(query: str, k: int = 5, per_page: bool = False) -> dict[str, Any]:
        """Find the passages of the indexed documents that best match a query (hybrid dense + keyword search).

        Returns up to k passages, best first, each with doc_id, path, page, character span and text.
        With per_page true, the k results are k distinct pages, each shown by its best passage.
        """
        if not 1 <= k <= MAX_K:
            raise ToolError(f"k must be from 1 to {MAX_K}, got {k}")
        try:
            hits = grail.search(query, k, per_page=per_page)
        except ValueError as exc:
            raise ToolError(str(exc)) from exc
        return {"query": query, "results": [_hit(i, h) for i, h in enumerate(hits, 1)]}

    @server.tool()
    def ask(question: str, k: int | None = None) -> dict[str, Any]:
        """Answer a question from the indexed documents, with [n] citations to page and passage.

        When the documents do not support an answer, 'abstained' is true and the citations are the
        closest passages found, not evidence for an answer.
        """
        if k is not None and not 1 <= k <= MAX_K:
            raise ToolError(f"k must be from 1 to {MAX_K}, got {k}")
        try:
            ans = grail.ask(question, k=k)
        except ValueError as exc:
            raise ToolError(str(exc)) from exc
        return {"answer": ans.text, "abstained": ans.abstained, "abstain_reason": ans.abstain_reason,
                "faithfulness": ans.faithfulness, "citations": to_dict(list(ans.citations))}

    @server.tool()
    def get_passage(doc_id: str, page: int, char_start: int | None = None, char_end: int | None = None,
                    context_chars: int = 300) -> dict[str, Any]:
        """The text of a page of a document, or of a span on it (e.g. a citation) with some context around it.

        char_start/char_end are offsets into the page text, as returned by search_documents and ask.
        """
        info = grail.store.document(doc_id)
        if info is None:
            raise ToolError(f"no document {doc_id!r}; call list_documents for the ids")
        text = grail.page(doc_id, page)
        if text is None:
            raise ToolError(f"document {doc_id!r} has pages 1 to {info.n_pages}, not {page}")
        out: dict[str, Any] = {"doc_id": doc_id, "path": info.path, "title": info.title, "page": page,
                               "n_pages": info.n_pages}
        if char_start is None and char_end is None:
            out["text"] = text
            return out
        start, end = char_start or 0, len(text) if char_end is None else char_end
        if not 0 <= start <= end <= len(text):
            raise ToolError(f"span {start}-{end} is outside the page (0-{len(text)})")
        pad = max(0, min(context_chars, 5000))
        out.update(char_start=start, char_end=end, passage=text[start:end],
                   before=text[max(0, start - pad):start], after=text[end:end + pad])
        return out

    @server.tool()
    def list_documents() -> dict[str, Any]:
        """The documents in the index: doc_id, path, title, type, pages and chunks."""
        return {"documents": [{"doc_id": d.doc_id, "path": d.path, "title": d.title, "doc_type": d.doc_type,
                               "n_pages": d.n_pages, "n_chunks": d.n_chunks} for d in grail.documents()]}

    @server.resource(URI_PREFIX + "{doc_id}", name="document", mime_type="text/plain",
                     description="The full text of an indexed document, page by page.")
    def document(doc_id: str) -> str:
        info = grail.store.document(doc_id)
        if info is None:
            raise ResourceError(f"no document {doc_id!r}; list resources for the ids")
        pages = [f"--- page {n} ---\n{grail.page(doc_id, n) or ''}" for n in range(1, info.n_pages + 1)]
        return f"{info.title}\n{info.path}\n\n" + "\n\n".join(pages)

    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grail.mcp_server", description=__doc__.split("\n")[0])
    parser.add_argument("--index", default=None, help="collection folder (default ./.grail or GRAIL_INDEX)")
    parser.add_argument("--config", default=None, help="settings file (default ./grail.toml)")
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP at /mcp instead of stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    if args.http and args.host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the MCP HTTP transport has no authentication: bind loopback, not {args.host}")
    grail = Grail(args.index, settings=load_settings(args.config))
    if not (grail.settings.index and Path(grail.settings.index, "index.db").exists()):
        raise ValueError(f"no index at {grail.settings.index}; build one with `grail index FILES --index DIR`")
    grail.embedder.embed(["warm up"])  # load the model before the client's first call
    logging.getLogger("mcp").setLevel(logging.WARNING)
    server = build_server(grail)
    if args.http:
        server.run("streamable-http", host=args.host, port=args.port)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
