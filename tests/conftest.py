"""Shared fixtures: the real bundled embedder (loaded once) and data locations."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def need_data(*parts: str) -> Path:
    p = DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"evaluation data not found at {p} (../shared/data is absent in this checkout)")
    return p


@pytest.fixture(scope="session")
def embedder():
    from grail.embed import get_embedder

    return get_embedder("minilm")


def write_corpus(folder: Path, n: int = 6, paragraphs: int = 6) -> list[Path]:
    """Markdown files with distinct, searchable content (each several chunks long)."""
    topics = ["volcanoes", "glaciers", "coral reefs", "deserts", "rainforests", "tundra", "estuaries",
              "savannas", "mangroves", "wetlands", "canyons", "atolls", "fjords", "steppes", "deltas"]
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        topic = topics[i % len(topics)]
        body = [f"# Field notes on {topic} number {i}", ""]
        for p in range(paragraphs):
            body.append(f"## Observation {p}")
            body.append(" ".join(
                f"Site {i}-{p} sentence {s}: the {topic} survey measured {i * 100 + p * 10 + s} units of "
                f"sediment, and the team recorded the weather, the water level and the species seen." for s in range(6)))
            body.append("")
        f = folder / f"notes_{i:02d}.md"
        f.write_text("\n".join(body), encoding="utf-8")
        files.append(f)
    return files


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A minimal, valid PDF written by hand: one Helvetica text line per string."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}

    def obj(num: int, body: bytes) -> None:
        offsets[num] = out.tell()
        out.write(f"{num} 0 obj\n".encode() + body + b"\nendobj\n")

    kids = [4 + 2 * i for i in range(len(pages))]
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode())
    obj(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for page_obj, lines in zip(kids, pages, strict=True):
        ops = ["BT", "/F1 10 Tf", "14 TL", "50 740 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        stream = "\n".join([*ops, "ET"]).encode("cp1252")
        obj(page_obj, f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {page_obj + 1} 0 R >>".encode())
        obj(page_obj + 1, f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    size = 4 + 2 * len(pages)
    info = ""
    if title is not None:
        obj(size, f"<< /Title ({title}) >>".encode())
        info = f" /Info {size} 0 R"
        size += 1
    xref = out.tell()
    out.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
    for num in range(1, size):
        out.write(f"{offsets[num]:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {size} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()
