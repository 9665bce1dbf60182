"""Load test: N concurrent clients asking ``POST /v1/search`` of a real ``grail serve`` for T seconds.

The server runs as a subprocess on 127.0.0.1 (nothing else is reachable);
clients are httpx async clients cycling through a fixed query list. Prints
requests, errors, p50/p99 latency and requests per second.

``--reindex`` also re-uploads a versioned text file through the API for the
whole run (every paragraph says "edition EDITIONONE" or "edition EDITIONTWO",
alternating per upload) and checks that no single search response mixes
chunks of two versions of that file.

Examples::

    python bench/load_search.py                          # small synthetic corpus
    python bench/load_search.py --index /tmp/fb4         # an existing index as collection "default"
    python bench/load_search.py --index /tmp/fb4 --reindex
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
VERSIONS = ("EDITIONONE", "EDITIONTWO")
QUERIES = [
    "total revenue for the quarter", "net income and earnings per share", "cash flow from operations",
    "capital expenditures", "gross margin percentage", "operating income compared to last year",
    "dividends paid to shareholders", "inventory at the end of the period", "guidance for the fiscal year",
    "long-term debt and interest", "share repurchase program", "comparable sales growth",
    "ledger entry for the edition", "glaciers survey sediment", "volcanoes weather water level",
]


def synthetic_corpus(folder: Path, n: int = 12) -> list[Path]:
    topics = ["volcanoes", "glaciers", "coral reefs", "deserts", "rainforests", "tundra"]
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        topic = topics[i % len(topics)]
        paras = [f"# Field notes on {topic} number {i}"]
        for p in range(8):
            paras.append(" ".join(f"Site {i}-{p} sentence {s}: the {topic} survey measured {i * 100 + p * 10 + s} units "
                                  "of sediment, and the team recorded the weather and the water level." for s in range(5)))
        f = folder / f"notes_{i:02d}.md"
        f.write_text("\n\n".join(paras) + "\n", encoding="utf-8")
        files.append(f)
    return files


def versioned_text(version: str) -> str:
    paras = [f"# Ledger, edition {version}"]
    for i in range(12):
        paras.append(f"Ledger entry {i} of edition {version}: the ledger for the edition records {i * 7} crates "
                     f"of sediment samples, checked twice for edition {version}.")
    return "\n\n".join(paras) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root: Path, index: Path | None, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "grail.cli", "serve", "--root", str(root), "--host", "127.0.0.1",
           "--port", str(port)]
    if index is not None:
        cmd += ["--collection", f"default={index}"]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "GRAIL_API_KEYS": ""}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + (proc.stderr.read().decode() if proc.stderr else ""))
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not answer /healthz within 120 s")


async def wait_job(client: httpx.AsyncClient, job_id: str) -> dict:
    while True:
        job = (await client.get(f"/v1/jobs/{job_id}")).json()
        if job["status"] in ("done", "failed"):
            return job
        await asyncio.sleep(0.05)


async def upload_text(client: httpx.AsyncClient, name: str, text: str) -> dict:
    r = await client.post("/v1/documents", files=[("files", (name, text.encode(), "text/markdown"))])
    r.raise_for_status()
    return await wait_job(client, r.json()["job"]["id"])


async def run(base: str, clients: int, seconds: float, k: int, reindex: bool) -> dict:
    stats = {"latencies": [], "errors": 0, "error_samples": [], "mixed": 0, "versioned_responses": 0,
             "reindexes": 0, "versions_seen": set()}
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        if reindex:
            job = await upload_text(http, "ledger.md", versioned_text(VERSIONS[0]))
            assert job["status"] == "done", job
        stop = time.monotonic() + seconds

        async def client_loop(i: int) -> None:
            n = i
            while time.monotonic() < stop:
                q = QUERIES[n % len(QUERIES)]
                n += 1
                t = time.perf_counter()
                try:
                    r = await http.post("/v1/search", json={"query": q, "k": k})
                    dt = time.perf_counter() - t
                    if r.status_code != 200:
                        raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
                    hits = r.json()["hits"]
                except Exception as exc:  # noqa: BLE001  (every failure is counted, not raised)
                    stats["errors"] += 1
                    if len(stats["error_samples"]) < 5:
                        stats["error_samples"].append(f"{type(exc).__name__}: {exc}")
                    continue
                stats["latencies"].append(dt)
                seen = {v for h in hits if h["path"].endswith("/ledger.md") for v in VERSIONS if v in h["chunk"]["text"]}
                if seen:
                    stats["versioned_responses"] += 1
                    stats["versions_seen"] |= seen
                if len(seen) > 1:
                    stats["mixed"] += 1

        async def reindexer() -> None:
            v = 1
            while time.monotonic() < stop - 1:
                job = await upload_text(http, "ledger.md", versioned_text(VERSIONS[v % 2]))
                if job["status"] != "done" or not job["updated"]:
                    stats["errors"] += 1
                    stats["error_samples"].append(f"re-index job: {job}")
                stats["reindexes"] += 1
                v += 1

        tasks = [client_loop(i) for i in range(clients)] + ([reindexer()] if reindex else [])
        t0 = time.perf_counter()
        await asyncio.gather(*tasks)
        stats["wall_s"] = time.perf_counter() - t0
        if reindex:  # leave a reused index as it was
            for d in (await http.get("/v1/documents")).json()["documents"]:
                if d["name"] == "ledger.md":
                    await http.delete(f"/v1/documents/{d['doc_id']}")
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, help="existing index folder to serve as collection 'default'")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--reindex", action="store_true", help="re-upload a versioned file during the load")
    args = ap.parse_args(argv)
    if not 1 <= args.clients <= 500 or not 1 <= args.seconds <= 900:
        ap.error("--clients must be 1-500 and --seconds 1-900")
    with tempfile.TemporaryDirectory(prefix="grail-load-") as tmp:
        root = Path(tmp) / "root"
        index = args.index.resolve() if args.index else None
        if index is not None and not (index / "index.db").exists():
            ap.error(f"no index at {index}")
        port = free_port()
        proc = start_server(root, index, port)
        try:
            base = f"http://127.0.0.1:{port}"
            if index is None:
                files = synthetic_corpus(Path(tmp) / "corpus")
                with httpx.Client(base_url=base, timeout=300) as c:
                    r = c.post("/v1/documents", files=[("files", (f.name, f.read_bytes(), "text/markdown")) for f in files])
                    r.raise_for_status()
                    while c.get(f"/v1/jobs/{r.json()['job']['id']}").json()["status"] not in ("done", "failed"):
                        time.sleep(0.2)
            with httpx.Client(base_url=base) as c:
                docs = c.get("/v1/documents").json()["documents"]
            print(f"serving {len(docs)} documents, {sum(d['n_chunks'] for d in docs)} chunks"
                  f"{' from ' + str(index) if index else ' (synthetic corpus)'}; {args.clients} clients for "
                  f"{args.seconds:.0f} s{' with re-indexing' if args.reindex else ''}", flush=True)
            st = asyncio.run(run(base, args.clients, args.seconds, args.k, args.reindex))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    lat = sorted(st["latencies"])
    n = len(lat)
    p50 = statistics.median(lat) * 1000 if lat else float("nan")
    p99 = lat[min(n - 1, int(0.99 * n))] * 1000 if lat else float("nan")
    print(f"requests {n + st['errors']}  errors {st['errors']}  p50 {p50:.0f} ms  p99 {p99:.0f} ms  "
          f"{n / st['wall_s']:.1f} req/s")
    if args.reindex:
        print(f"re-indexes {st['reindexes']}  responses with the versioned file {st['versioned_responses']}  "
              f"versions seen {sorted(st['versions_seen'])}  responses mixing versions {st['mixed']}")
    for s in st["error_samples"]:
        print("  error:", s)
    bad = st["errors"] or st["mixed"] or (args.reindex and (st["reindexes"] < 2 or len(st["versions_seen"]) < 2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
