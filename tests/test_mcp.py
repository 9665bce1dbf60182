"""grail mcp: the MCP server driven by the official SDK's own client, over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import pytest

from conftest import REPO, write_corpus
from grail.facade import Grail

mcp = pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters  # noqa: E402

QUESTION = "How many units of sediment did the glaciers survey measure at site 1-2?"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mcp-index")
    files = write_corpus(tmp_path_factory.mktemp("mcp-corpus"), n=3)
    g = Grail(folder)
    report = g.index(*files)
    assert report.ok and len(report.added) == 3
    g.close()
    return folder


async def exercise(client: Client, index_dir) -> None:
    tools = {t.name for t in (await client.list_tools()).tools}
    assert tools == {"search_documents", "ask", "get_passage", "list_documents"}

    listed = (await client.call_tool("list_documents", {})).structured_content["documents"]
    assert sorted(d["path"].rsplit("/", 1)[-1] for d in listed) == ["notes_00.md", "notes_01.md", "notes_02.md"]

    found = await client.call_tool("search_documents", {"query": "glaciers sediment site 1-2", "k": 3})
    assert not found.is_error
    results = found.structured_content["results"]
    assert len(results) == 3 and results[0]["path"].endswith("notes_01.md")
    paged = (await client.call_tool("search_documents", {"query": "glaciers sediment", "k": 3, "per_page": True}))
    assert len({(r["path"], r["page"]) for r in paged.structured_content["results"]}) == 3

    answered = (await client.call_tool("ask", {"question": QUESTION})).structured_content
    assert not answered["abstained"] and "120 units" in answered["answer"] and answered["citations"]

    c = answered["citations"][0]
    passage = (await client.call_tool("get_passage", {"doc_id": c["doc_id"], "page": c["page"],
                                                      "char_start": c["char_start"], "char_end": c["char_end"]}))
    assert passage.structured_content["passage"] == c["quote"]
    whole = (await client.call_tool("get_passage", {"doc_id": c["doc_id"], "page": 1})).structured_content
    assert c["quote"] in whole["text"]

    bad = await client.call_tool("get_passage", {"doc_id": "no-such-doc", "page": 1})
    assert bad.is_error and "list_documents" in bad.content[0].text
    bad = await client.call_tool("search_documents", {"query": "x", "k": 0})
    assert bad.is_error and "k must be" in bad.content[0].text

    resources = (await client.list_resources()).resources
    by_name = {r.name: str(r.uri) for r in resources}
    assert set(by_name) == {"notes_00.md", "notes_01.md", "notes_02.md"}
    read = await client.read_resource(by_name["notes_01.md"])
    text = read.contents[0].text
    assert "--- page 1 ---" in text and "Site 1-2 sentence 0" in text


def test_mcp_over_stdio(index_dir):
    params = StdioServerParameters(command=sys.executable, args=["-m", "grail.mcp_server", "--index", str(index_dir)],
                                   env=ENV)

    async def run() -> None:
        async with Client(params) as client:
            await exercise(client, index_dir)

    asyncio.run(asyncio.wait_for(run(), timeout=90))


def test_mcp_over_streamable_http(index_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "grail.cli", "mcp", "--http", "--port", str(port),
                             "--index", str(index_dir)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "MCP HTTP server did not start"
                time.sleep(0.2)

        async def run() -> None:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                await exercise(client, index_dir)

        asyncio.run(asyncio.wait_for(run(), timeout=90))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_mcp_refuses_missing_index(tmp_path):
    p = subprocess.run([sys.executable, "-m", "grail.cli", "mcp", "--index", str(tmp_path / "none")],
                       capture_output=True, text=True, timeout=60, env=ENV)
    assert p.returncode == 2 and "no index" in p.stderr
