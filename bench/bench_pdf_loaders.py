"""Benchmark: PDF text extraction with pypdfium2 vs pypdf on the FinanceBench filings.

Extracts every page of every PDF with each library in one process, and reports
pages/s, total characters, and text quality: for each FinanceBench evidence
passage, the share of its tokens found on its evidence page (zero-based in the
data set). Also times grail's full loader (pypdfium2 + normalisation + blocks).

    PYTHONPATH=src .venv/bin/python bench/bench_pdf_loaders.py [--limit N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "financebench"
_TOKEN = re.compile(r"[a-z0-9]+")


def extract_pdfium(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_bounded())
            textpage.close()
            page.close()
        return pages
    finally:
        pdf.close()


def extract_pypdf(path: Path) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted:
        reader.decrypt("")
    return [page.extract_text() or "" for page in reader.pages]


def extract_grail(path: Path) -> list[str]:
    from grail.ingest.loaders import load_document

    return [p.text for p in load_document(path).pages]


EXTRACTORS: dict[str, Callable[[Path], list[str]]] = {
    "pypdfium2": extract_pdfium,
    "pypdf": extract_pypdf,
    "grail load_document": extract_grail,
}


def evidence_share(evidence_text: str, page_text: str) -> float:
    tokens = _TOKEN.findall(evidence_text.lower())
    if not tokens:
        return 1.0
    page_tokens = set(_TOKEN.findall(page_text.lower()))
    return sum(t in page_tokens for t in tokens) / len(tokens)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FinanceBench folder")
    parser.add_argument("--limit", type=int, default=0, help="only the first N PDFs (sorted by name)")
    parser.add_argument("--only", nargs="*", default=list(EXTRACTORS), choices=list(EXTRACTORS))
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    pdfs = sorted((args.data / "pdfs").glob("*.pdf"))
    if args.limit:
        pdfs = pdfs[: args.limit]
    if not pdfs:
        print(f"no PDFs under {args.data / 'pdfs'}", file=sys.stderr)
        return 2
    evidence: dict[str, list[tuple[int, str]]] = {}
    for line in (args.data / "questions.jsonl").read_text().splitlines():
        for ev in json.loads(line)["evidence"]:
            evidence.setdefault(ev["doc_name"], []).append((ev["evidence_page_num"], ev["evidence_text"]))
    for p in pdfs:  # warm the OS page cache so no extractor pays for the first disk read
        p.read_bytes()

    results = {}
    for name in args.only:
        extract = EXTRACTORS[name]
        seconds = cpu_seconds = 0.0
        n_pages = n_chars = 0
        shares: list[float] = []
        failures: list[str] = []
        for path in pdfs:
            start, cpu_start = time.perf_counter(), time.process_time()
            try:
                pages = extract(path)
            except Exception as e:  # noqa: BLE001 - report it, keep benchmarking the rest
                failures.append(f"{path.name}: {type(e).__name__}: {e}")
                continue
            seconds += time.perf_counter() - start
            cpu_seconds += time.process_time() - cpu_start
            n_pages += len(pages)
            n_chars += sum(len(t) for t in pages)
            for page_num, text in evidence.get(path.stem, []):
                shares.append(evidence_share(text, pages[page_num]) if page_num < len(pages) else 0.0)
        results[name] = {
            "pdfs": len(pdfs) - len(failures), "pages": n_pages, "seconds": round(seconds, 2),
            "pages_per_s": round(n_pages / seconds, 1) if seconds else 0.0, "cpu_seconds": round(cpu_seconds, 2),
            "pages_per_cpu_s": round(n_pages / cpu_seconds, 1) if cpu_seconds else 0.0, "chars": n_chars,
            "evidence_items": len(shares),
            "evidence_token_share": round(sum(shares) / len(shares), 4) if shares else None,
            "evidence_share_ge_0.9": sum(s >= 0.9 for s in shares), "failures": failures,
        }
        print(f"{name}: {results[name]}", file=sys.stderr, flush=True)

    print(f"\nPDF extraction, {len(pdfs)} FinanceBench PDFs, {date.today()}, {platform.machine()} "
          f"python {platform.python_version()}, load average at end {os.getloadavg()[0]:.1f}\n")
    print("| extractor | PDFs | pages | wall s | pages/s (wall) | CPU s | pages/CPU-s | chars "
          "| evidence token share | evidence ≥0.9 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        share = f"{r['evidence_token_share']:.3f}" if r["evidence_token_share"] is not None else "-"
        print(f"| {name} | {r['pdfs']} | {r['pages']} | {r['seconds']} | {r['pages_per_s']} | {r['cpu_seconds']} "
              f"| {r['pages_per_cpu_s']} | {r['chars']:,} "
              f"| {share} | {r['evidence_share_ge_0.9']}/{r['evidence_items']} |")
    if "pypdfium2" in results and "pypdf" in results and results["pypdf"]["pages_per_s"]:
        wall = results["pypdfium2"]["pages_per_s"] / results["pypdf"]["pages_per_s"]
        cpu = results["pypdfium2"]["pages_per_cpu_s"] / max(results["pypdf"]["pages_per_cpu_s"], 1e-9)
        print(f"\npypdfium2 / pypdf speed ratio: {wall:.1f}x (wall), {cpu:.1f}x (CPU time)")
    for name, r in results.items():
        for failure in r["failures"]:
            print(f"{name} failed on {failure}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"date": str(date.today()), "n_pdfs": len(pdfs), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
