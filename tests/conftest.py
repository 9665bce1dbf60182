"""Shared fixtures: the real bundled embedder (loaded once) and data locations."""

from __future__ import annotations

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
