"""grail serve: the HTTP API and the OpenAI-compatible endpoint, against a real server on 127.0.0.1.

Real uvicorn in a thread, real uploads, real indexing, the default extractive
backend, httpx and the official ``openai`` client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import REPO, write_corpus
from grail.config import Settings
from grail.server.app import create_app
from grail.server.auth import KeyCheck, hash_key, load_key_hashes
from grail.server.cli import serve_in_thread
from grail.server.collections import Collections

QUESTION = "How many units of sediment did the glaciers survey measure at site 1-2?"


def raw_upload(client: httpx.Client, filename: bytes, body: bytes = b"# evil\n\nevil text\n") -> httpx.Response:
    """A multipart upload with the file name bytes exactly as given (httpx would percent-encode some)."""
    boundary = b"grailtestboundary"
    payload = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="files"; filename="' + filename
               + b'"\r\nContent-Type: text/plain\r\n\r\n' + body + b"\r\n--" + boundary + b"--\r\n")
    return client.post("/v1/documents", content=payload,
                       headers={"content-type": "multipart/form-data; boundary=" + boundary.decode()})


def wait_job(client: httpx.Client, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout}s")


def upload(client: httpx.Client, paths: list[Path], collection: str = "default") -> dict:
    files = [("files", (p.name, p.read_bytes(), "text/markdown")) for p in paths]
    r = client.post("/v1/documents", params={"collection": collection}, files=files)
    assert r.status_code == 202, r.text
    return wait_job(client, r.json()["job"]["id"])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    return write_corpus(tmp_path_factory.mktemp("corpus"), n=3)


@pytest.fixture(scope="module")
def served(tmp_path_factory, corpus):
    root = tmp_path_factory.mktemp("server-root")
    cols = Collections(root, Settings())
    app = create_app(cols, max_upload_mb=1)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        job = upload(client, corpus[:2])
        assert job["status"] == "done" and job["progress"] == 1.0 and len(job["added"]) == 2, job
        yield url, client, root
    cols.close()


def test_health_openapi_and_page(served):
    url, client, _ = served
    assert client.get("/healthz").json()["status"] == "ok"
    schema = client.get("/openapi.json").json()
    for path in ("/v1/ask", "/v1/search", "/v1/documents", "/v1/documents/{doc_id}/pages/{n}", "/v1/jobs/{job_id}",
                 "/v1/collections", "/v1/chat/completions", "/healthz"):
        assert path in schema["paths"], path
    page = client.get("/")
    assert page.status_code == 200 and "<form id=\"ask-form\"" in page.text
    assert client.get("/static/app.js").status_code == 200


def test_documents_listed_with_status_and_job_progress(served, corpus):
    _, client, root = served
    docs = client.get("/v1/documents").json()
    assert sorted(d["name"] for d in docs["documents"]) == sorted(p.name for p in corpus[:2])
    assert all(d["status"] == "indexed" and d["n_chunks"] > 0 for d in docs["documents"])
    # uploads live in the collection's files folder, nowhere else
    assert sorted(p.name for p in (root / "default" / "files").iterdir()) == sorted(p.name for p in corpus[:2])


def test_search_returns_ranked_hits(served):
    _, client, _ = served
    r = client.post("/v1/search", json={"query": "glaciers survey sediment", "k": 3})
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert len(hits) == 3 and "glaciers" in hits[0]["chunk"]["text"]
    assert hits[0]["score"] >= hits[-1]["score"]


def test_search_per_page_returns_distinct_pages(served):
    _, client, _ = served
    r = client.post("/v1/search", json={"query": "glaciers survey sediment", "k": 3, "per_page": True})
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    pages = {(h["chunk"]["doc_id"], h["chunk"]["page"]) for h in hits}
    n_pages = sum(d["n_pages"] for d in client.get("/v1/documents").json()["documents"])
    assert len(hits) == len(pages) == min(3, n_pages) >= 2
    assert [h["ranks"]["chunk"] for h in hits] == sorted(h["ranks"]["chunk"] for h in hits)


def test_search_filters_reach_the_store_by_name(served):
    _, client, _ = served
    q = {"query": "glaciers survey sediment", "k": 3}
    future = client.post("/v1/search", json={**q, "filters": {"modified_after": 4_000_000_000}}).json()["hits"]
    past = client.post("/v1/search", json={**q, "filters": {"modified_after": 0}}).json()["hits"]
    assert future == [] and len(past) == 3
    glob = client.post("/v1/search", json={**q, "filters": {"path_glob": "*notes_01.md"}}).json()["hits"]
    assert glob and all(h["path"].endswith("notes_01.md") for h in glob)


def test_ask_json_citations_point_into_page_text(served):
    _, client, _ = served
    r = client.post("/v1/ask", json={"question": QUESTION})
    assert r.status_code == 200, r.text
    ans = r.json()
    assert not ans["abstained"] and "120 units" in ans["text"]
    assert ans["citations"] and all(s["support"] > 0 for s in ans["sentences"])
    for c in ans["citations"]:
        page = client.get(f"/v1/documents/{c['doc_id']}/pages/{c['page']}").json()
        assert page["text"][c["char_start"]:c["char_end"]] == c["quote"]
        assert page["name"] == c["name"] == "notes_01.md"


def test_ask_stream_sends_tokens_then_answer_then_done(served):
    _, client, _ = served
    events = []
    with client.stream("POST", "/v1/ask", json={"question": QUESTION, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
    kinds = [k for k, _ in events]
    assert kinds[-2:] == ["answer", "done"] and set(kinds[:-2]) == {"token"} and len(kinds) > 3
    answer = events[-2][1]
    assert "".join(d["text"] for k, d in events if k == "token") == answer["text"]
    assert answer["citations"] and [s["name"] for s in answer["trace"]["stages"]][:3] == ["retrieve", "evidence", "context"]


def test_collections_are_separate_and_unknown_is_404(served, corpus):
    _, client, _ = served
    r = client.post("/v1/collections", json={"name": "reefs"})
    assert r.status_code == 201 and r.json()["created"] is True
    upload(client, [corpus[2]], collection="reefs")
    hits = client.post("/v1/search", params={"collection": "reefs"}, json={"query": "glaciers", "k": 5}).json()["hits"]
    assert {Path(h["path"]).name for h in hits} == {"notes_02.md"}
    names = [c["name"] for c in client.get("/v1/collections").json()["collections"]]
    assert names == ["default", "reefs"]
    r = client.post("/v1/search", params={"collection": "nope"}, json={"query": "x"})
    assert r.status_code == 404 and "default, reefs" in r.json()["error"]["message"]
    r = client.post("/v1/collections", json={"name": "Bad/Name"})
    assert r.status_code == 400 and "a-z" in r.json()["error"]["message"]


def test_bad_requests_get_4xx_and_change_nothing(served):
    _, client, root = served
    before_docs = client.get("/v1/documents").json()
    before_files = sorted(str(p.relative_to(root.parent)) for p in root.parent.rglob("*") if p.is_file()
                          and "-wal" not in p.name and "-shm" not in p.name)
    cases = [
        (client.post("/v1/ask", content=b'{"question": ', headers={"content-type": "application/json"}), 400, "not valid JSON"),
        (client.post("/v1/ask", json={"question": "   "}), 422, "empty"),
        (client.post("/v1/ask", json={"question": "x" * 10_000_000}), 413, "limit"),
        (client.post("/v1/ask", json={"question": "x" * 4001}), 422, "4000"),
        (client.post("/v1/ask", params={"collection": "missing"}, json={"question": "hi"}), 404, "existing collections"),
        (client.post("/v1/ask", params={"collection": "../etc"}, json={"question": "hi"}), 400, "invalid collection"),
        (client.post("/v1/ask", json={"question": "hi", "stream": "yes please"}), 422, "stream"),
        (client.get("/v1/documents/nope/pages/1"), 404, "no document"),
        (client.delete("/v1/documents/nope"), 404, "no document"),
        (client.get("/v1/jobs/nope"), 404, "no job"),
    ]
    for bad in (b"../evil.md", b"../../evil.md", b"/tmp/evil.md", b"a/b.md", b"..\\evil.md", b"evil\x00.md",
                b".hidden.md", b"..", b"C:evil.md", b"notes.exe", b""):
        cases.append((raw_upload(client, bad), 400, ""))
    cases.append((client.post("/v1/documents", files=[("files", ("big.md", b"x" * (3 << 20), "text/plain"))]), 413,
                  "limit"))
    for r, status, words in cases:
        assert r.status_code == status, (r.request.url, r.text[:300])
        message = r.json()["error"]["message"]
        assert words in message, message
    assert client.get("/v1/documents").json() == before_docs
    after_files = sorted(str(p.relative_to(root.parent)) for p in root.parent.rglob("*") if p.is_file()
                         and "-wal" not in p.name and "-shm" not in p.name)
    assert after_files == before_files
    assert not list(root.parent.rglob("evil*")) and not list(root.parent.rglob(".hidden*"))


def test_page_and_delete(served, corpus, tmp_path):
    _, client, root = served
    extra = tmp_path / "deltas.md"
    extra.write_text("# Deltas\n\nThe river delta survey counted 4242 herons on the mudflats.\n", encoding="utf-8")
    upload(client, [extra])
    doc = next(d for d in client.get("/v1/documents").json()["documents"] if d["name"] == "deltas.md")
    assert client.get(f"/v1/documents/{doc['doc_id']}/pages/2").status_code == 404
    assert "4242 herons" in client.get(f"/v1/documents/{doc['doc_id']}/pages/1").json()["text"]
    r = client.delete(f"/v1/documents/{doc['doc_id']}")
    assert r.status_code == 200
    assert not (root / "default" / "files" / "deltas.md").exists()
    assert "deltas.md" not in [d["name"] for d in client.get("/v1/documents").json()["documents"]]
    hits = client.post("/v1/search", json={"query": "herons mudflats", "k": 10}).json()["hits"]
    assert all("herons" not in h["chunk"]["text"] for h in hits)


def test_api_keys_are_enforced(tmp_path, monkeypatch):
    key = "s3cret-key"
    key_file = tmp_path / "keys.txt"
    key_file.write_text(f"# grail keys\nsha256:{hash_key(key)}\n", encoding="utf-8")
    monkeypatch.delenv("GRAIL_API_KEYS", raising=False)
    hashes = load_key_hashes(key_file)
    assert hashes == [hash_key(key)] and key not in key_file.read_text()
    cols = Collections(tmp_path / "root", Settings())
    with serve_in_thread(create_app(cols, keys=KeyCheck(hashes))) as url:
        assert httpx.get(url + "/healthz").status_code == 200
        r = httpx.post(url + "/v1/search", json={"query": "x"})
        assert r.status_code == 401 and "missing API key" in r.json()["error"]["message"]
        r = httpx.post(url + "/v1/search", json={"query": "x"}, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and "wrong API key" in r.json()["error"]["message"]
        r = httpx.post(url + "/v1/collections", json={"name": "sneaky"}, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and not (tmp_path / "root" / "sneaky").exists()
        r = httpx.post(url + "/v1/search", json={"query": "x"}, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200, r.text
    cols.close()


def test_public_bind_without_keys_is_refused(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "GRAIL_API_KEYS": ""}
    p = subprocess.run([sys.executable, "-m", "grail.cli", "serve", "--host", "0.0.0.0", "--root", str(tmp_path / "r")],
                       capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 2 and "without API keys" in p.stderr
    assert not (tmp_path / "r").exists()


# -- the OpenAI-compatible endpoint, with the official client ----------------------
def test_openai_client_chat_completion(served):
    openai = pytest.importorskip("openai")
    url, _, _ = served
    client = openai.OpenAI(base_url=url + "/v1", api_key="not-needed-on-loopback")
    assert {"grail", "grail-default"} <= {m.id for m in client.models.list()}
    resp = client.chat.completions.create(model="grail", messages=[
        {"role": "system", "content": "be brief"}, {"role": "user", "content": QUESTION}])
    text = resp.choices[0].message.content
    assert "120 units" in text and "\n\nSources:\n" in text
    cites = resp.model_extra["citations"]
    assert cites and all(f"[{c['n']}]" in text and f"[{c['n']}] {c['name']}, page {c['page']}" in text for c in cites)
    assert resp.choices[0].message.model_extra["citations"] == cites

    stream = client.chat.completions.create(model="grail-default", stream=True,
                                            messages=[{"role": "user", "content": QUESTION}])
    chunks = list(stream)
    assert len(chunks) > 3 and chunks[-1].choices[0].finish_reason == "stop"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == text
    assert chunks[-1].model_extra["citations"] == cites

    with pytest.raises(openai.NotFoundError, match="grail-default"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="no question"):
        client.chat.completions.create(model="grail", messages=[{"role": "user", "content": "  "}])
