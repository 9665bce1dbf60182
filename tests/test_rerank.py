"""The trained reranker: mining from a real index, the NumPy runtime equal to the trained torch model, retrieval."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from grail import Grail
from grail.rerank import Reranker, available

torch = pytest.importorskip("torch", reason="training the reranker needs the torch extra")


@pytest.fixture(scope="module")
def docs_index(tmp_path_factory, embedder):
    """grail's own documentation, indexed for real."""
    g = Grail(tmp_path_factory.mktemp("rr") / "idx", embedder=embedder)
    assert g.index(REPO / "docs", REPO / "README.md").ok
    return g


@pytest.fixture(scope="module")
def groups(docs_index):
    from grail.rerank.train import mine_groups

    return mine_groups(docs_index.store, 48, negatives=3, seed=5)


@pytest.fixture(scope="module")
def trained(groups, tmp_path_factory):
    from grail.rerank.train import TrainConfig, export, fit

    cfg = TrainConfig(layers=2, max_len=64, negatives=3, max_steps=6, holdout=8, batch_groups=4, minutes=2)
    model, head, meta = fit(groups, cfg)
    out = tmp_path_factory.mktemp("rr") / "reranker"
    export(model, head, cfg, out, meta)
    return model, head, cfg, out, meta


def test_mined_groups_are_well_formed(groups, docs_index):
    assert len(groups) == 48
    assert {g.kind for g in groups} <= {"cloze", "heading"} and any(g.kind == "cloze" for g in groups)
    for g in groups:
        assert len(g.negatives) == 3 and g.query.strip()
        assert g.positive not in g.negatives
        if g.kind == "cloze":  # the question sentence never sits in a negative passage
            assert all(g.query[:60] not in n for n in g.negatives)


def test_numpy_runtime_matches_the_trained_torch_model(trained, groups):
    from grail.rerank import PairEncoder
    from grail.rerank.train import torch_logits

    model, head, cfg, out, meta = trained
    assert available(out) and meta["steps"] == 6
    assert meta["loss_first50"] is not None and np.isfinite(meta["loss_first50"])
    rr = Reranker(out)
    enc = PairEncoder(cfg.max_len, cfg.max_query)
    model.eval()
    for g in groups[:4]:
        with torch.inference_mode():
            want = torch_logits(model, head, enc, [g], cfg.negatives).numpy().reshape(-1)
        got = rr.score(g.query, [g.positive, *g.negatives])
        # word embeddings are stored as float16; everything else is float32
        np.testing.assert_allclose(got, want, atol=2e-3 * max(1.0, float(np.abs(want).max())))
        assert np.argsort(got).tolist() == np.argsort(want).tolist() or np.ptp(want) < 1e-2


def test_retrieval_reorders_the_top_hits_with_the_reranker(docs_index, trained):
    *_, out, _ = trained
    q = "Why is the default answer backend extractive?"
    plain, _ = docs_index.search_traced(q, 5)
    g = Grail(docs_index.settings.index, embedder=docs_index.embedder, rerank=True, reranker=str(out),
              rerank_depth=10, rerank_weight=1.0)
    hits, trace = g.search_traced(q, 5)
    assert len(hits) == 5 and trace["rerank_s"] > 0
    ce = [h.scores["rerank"] for h in hits]
    assert ce == sorted(ce, reverse=True)  # weight 1.0: the reranker alone orders the top
    assert [h.ranks["rerank"] for h in hits] == [1, 2, 3, 4, 5]
    assert {h.chunk.chunk_id for h in hits} <= {e["chunk_id"] for e in trace["rerank"]}
    assert plain[0].chunk.chunk_id in {e["chunk_id"] for e in trace["rerank"]}  # it reads the fused top


def test_rerank_without_a_trained_model_says_what_to_run(docs_index, tmp_path):
    g = Grail(docs_index.settings.index, embedder=docs_index.embedder, rerank=True, reranker=str(tmp_path))
    with pytest.raises(ValueError, match="grail rerank train"):
        g.search("anything at all", 3)


def test_train_command_writes_a_usable_reranker(docs_index, tmp_path):
    out = tmp_path / "rr"
    r = subprocess.run([sys.executable, "-m", "grail.cli", "rerank", "train", "--index", docs_index.settings.index,
                        "--groups", "24", "--negatives", "3", "--max-steps", "2", "--max-len", "64", "--out", str(out),
                        "--quiet"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    meta = json.loads((out / "reranker.json").read_text())
    assert meta["steps"] == 2 and meta["layers"] == 2 and sum(meta["groups"].values()) == 24
    scores = Reranker(out).score("what does grail index", ["grail indexes PDF and HTML files.", "unrelated text"])
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_train_command_on_a_too_small_index_says_why(tmp_path, embedder):
    g = Grail(tmp_path / "tiny", embedder=embedder)
    (tmp_path / "one.md").write_text("# One\n\nA single short note about pumps and valves in the plant room.\n")
    assert g.index(tmp_path / "one.md").ok
    r = subprocess.run([sys.executable, "-m", "grail.cli", "rerank", "train", "--index", str(tmp_path / "tiny"),
                        "--quiet"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "too few to mine" in " ".join(r.stderr.split())
