"""Tests for the evaluation runners and the ``grail eval`` CLI, with the real
embedder and the real store on tiny datasets written here (plus small slices of
the shared evaluation data when it is present)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grail.cli import app
from grail.eval.report import read_report
from grail.eval.runners import (
    RETRIEVERS,
    DatasetError,
    run_beir,
    run_financebench,
    run_squad,
    save_report,
    sweep_convex,
)
from grail.facade import Grail

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")

DOCS = {
    "d0": ("Quokka", "The quokka is a small marsupial living on Rottnest Island near Perth."),
    "d1": ("Volcanoes", "Basaltic lava flows erupt from shield volcanoes such as Mauna Loa in Hawaii."),
    "d2": ("Sourdough", "Sourdough bread rises because wild yeast and lactobacilli ferment the dough."),
    "d3": ("Bread", "Commercial baker's yeast makes bread dough rise within an hour."),
    "d4": ("Tides", "Ocean tides are caused mainly by the gravitational pull of the Moon."),
    "d5": ("Moon", "The Moon orbits the Earth roughly every twenty-seven days."),
    "d6": ("Chess", "The Sicilian Defence is a popular chess opening answering 1.e4 with c5."),
    "d7": ("Photosynthesis", "Plants convert sunlight, water and carbon dioxide into glucose and oxygen."),
    "d8": ("Glaciers", "Glaciers carve U-shaped valleys as they slowly move downhill."),
    "d9": ("Bees", "Honey bees communicate the location of flowers with a waggle dance."),
}
QUERIES = {
    "q0": "quokka marsupial Rottnest Island",  # only relevant doc is an exact textual match
    "q1": "why does bread dough rise",
    "q2": "what causes ocean tides",
    "q3": "how do bees tell each other where flowers are",
}
QRELS = [("q0", "d0", 1), ("q1", "d2", 2), ("q1", "d3", 1), ("q2", "d4", 2), ("q2", "d5", 1), ("q3", "d9", 1)]


def _write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w") as f:
        for doc_id, (title, text) in DOCS.items():
            f.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w") as f:
        for qid, text in QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    rows = "".join(f"{q}\t{d}\t{s}\n" for q, d, s in QRELS)
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + rows)
    return folder


@pytest.fixture(scope="module")
def beir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """The tiny BEIR folder, its index folder, and the first run of every retriever."""
    root = tmp_path_factory.mktemp("beir")
    folder = _write_beir(root / "tiny")
    index = root / "index"
    return folder, index, run_beir(folder, "test", index, RETRIEVERS)


def _data(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"evaluation data not found at {path} (see shared/data/README.md)")
    return path


# ------------------------------------------------------------------------------- BEIR
def test_run_beir_scores_every_retriever_in_range(beir: tuple[Path, Path, dict]) -> None:
    _, _, result = beir
    assert result["totals"]["queries"] == 4
    assert [row["id"] for row in result["per_query"]] == list(QUERIES)
    for name in RETRIEVERS:
        totals = result["totals"][name]
        for m in METRICS:
            assert 0.0 <= totals[m] <= 1.0, (name, m)
            assert all(0.0 <= row[name][m] <= 1.0 for row in result["per_query"])
        assert 0 < totals["latency_p50_ms"] <= totals["latency_p95_ms"]
        assert 0 < totals["docs_per_query"] <= 10
    q0 = result["per_query"][0]
    assert q0["bm25"]["ndcg@10"] == 1.0 and q0["bm25"]["first_relevant_rank"] == 1
    assert result["dataset"]["subset"] is False and result["index"]["chunks_embedded"] >= 10


def test_second_run_embeds_nothing_and_scores_the_same(beir: tuple[Path, Path, dict]) -> None:
    folder, index, first = beir
    again = run_beir(folder, "test", index, ["bm25", "dense"])
    assert again["index"]["chunks_embedded"] == 0
    assert again["index"]["added"] == again["index"]["updated"] == again["index"]["removed"] == 0
    assert again["index"]["unchanged"] == len(DOCS)
    for a, b in zip(first["per_query"], again["per_query"], strict=True):
        assert a["bm25"] == b["bm25"] and a["dense"]["ndcg@10"] == pytest.approx(b["dense"]["ndcg@10"])


def test_sweep_fuses_exactly_like_the_retriever(beir: tuple[Path, Path, dict]) -> None:
    folder, index, _ = beir
    sweep = sweep_convex(folder, "test", index, weights=(0.2, 0.8))
    for w in (0.2, 0.8):
        direct = run_beir(folder, "test", index, ["hybrid-convex"], convex_weight=w)
        assert direct["config"]["convex_weight"] == w
        for row, ref in zip(sweep["per_query"], direct["per_query"], strict=True):
            assert row[f"w={w:g}"] == ref["hybrid-convex"]
    assert sweep["totals"]["best_weight"] in (0.2, 0.8)


def test_corpus_limit_marks_a_subset_and_prunes_the_index(tmp_path: Path) -> None:
    folder = _write_beir(tmp_path / "tiny")
    index = tmp_path / "index"
    run_beir(folder, "test", index, ["bm25"])
    sub = run_beir(folder, "test", index, ["bm25"], limit_queries=1, corpus_limit=2)
    # q0's relevant doc d0 plus the first two others (d1, d2)
    assert sub["dataset"]["subset"] is True and "SUBSET" in sub["dataset"]["subset_note"]
    assert sub["dataset"]["corpus_docs"] == 3 and sub["index"]["removed"] == len(DOCS) - 3
    g = Grail(index)
    assert sorted(d.doc_id for d in g.documents()) == ["d0", "d1", "d2"]
    g.close()
    assert sub["dataset"]["fingerprint"] != run_beir(folder, "test", index, ["bm25"])["dataset"]["fingerprint"]


def test_beir_errors_say_what_a_folder_needs(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no corpus.jsonl in .*expected a BEIR folder"):
        run_beir(tmp_path, "test", tmp_path / "index")
    folder = _write_beir(tmp_path / "tiny")
    with pytest.raises(DatasetError, match=r"no qrels/dev.tsv .*splits present: test"):
        run_beir(folder, "dev", tmp_path / "index")
    with pytest.raises(ValueError, match="unknown retriever"):
        run_beir(folder, "test", tmp_path / "index", ["splade"])
    assert not (tmp_path / "index").exists()  # refused before any indexing


def test_an_index_holding_other_documents_is_refused(tmp_path: Path) -> None:
    index = tmp_path / "mine"
    g = Grail(index)
    g.index_texts([("note", "Note", "My own note about quarterly budgets.")], source="notes")
    g.close()
    with pytest.raises(DatasetError, match="not from beir-tiny"):
        run_beir(_write_beir(tmp_path / "tiny"), "test", index, ["bm25"])


# -------------------------------------------------------------------------------- CLI
def test_cli_retrieval_json_report_and_diff(beir: tuple[Path, Path, dict], tmp_path: Path) -> None:
    folder, index, _ = beir
    runner = CliRunner()
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    res = runner.invoke(app, ["eval", "retrieval", "--beir", str(folder), "--index", str(index), "--json",
                              "--out", str(a)])
    assert res.exit_code == 0, res.output
    totals = json.loads(res.stdout)
    assert set(RETRIEVERS) <= set(totals) and totals["queries"] == 4
    report = read_report(a)
    assert report["kind"] == "beir" and [r["id"] for r in report["per_query"]] == list(QUERIES)
    assert report["dataset"]["fingerprint"].startswith("sha256:")

    res = runner.invoke(app, ["eval", "retrieval", "--beir", str(folder), "--index", str(index),
                              "--retrievers", "bm25,hybrid-convex", "--convex-weight", "0.9", "--out", str(b)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["eval", "diff", str(a), str(b), "--json"])
    assert res.exit_code == 0, res.output
    deltas = json.loads(res.stdout)
    assert deltas["bm25.ndcg@10"]["delta"] == 0.0
    assert deltas["dense.ndcg@10"]["b"] is None  # dense was not run in B
    res = runner.invoke(app, ["eval", "diff", str(a), str(b)])
    assert res.exit_code == 0 and "hybrid-convex.ndcg@10" in res.stdout

    res = runner.invoke(app, ["eval", "retrieval", "--beir", str(folder), "--index", str(index), "--sweep-convex",
                              "--json"])
    assert res.exit_code == 0, res.output
    sweep = json.loads(res.stdout)
    assert sweep["best_weight"] in [round(0.1 * i, 1) for i in range(1, 10)] and "w=0.5" in sweep
    assert "use --split train" in " ".join(res.stderr.split())  # sweeping on test is warned about


def test_cli_in_a_fresh_process_reuses_the_index(beir: tuple[Path, Path, dict]) -> None:
    # A new process on an already-built index opens the vector index before any embedding:
    # this once crashed (usearch imported before onnxruntime), which no in-process test can see.
    folder, index, first = beir
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "grail.cli", "eval", "retrieval", "--beir", str(folder),
                           "--index", str(index), "--retrievers", "dense", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["dense"]["ndcg@10"] == pytest.approx(first["totals"]["dense"]["ndcg@10"])


def test_cli_reports_a_bad_folder_with_exit_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["eval", "retrieval", "--beir", str(tmp_path), "--index", str(tmp_path / "i")])
    assert res.exit_code == 2
    assert "no corpus.jsonl" in " ".join(res.output.split())
    res = CliRunner().invoke(app, ["eval", "retrieval", "--beir", str(tmp_path), "--retrievers", "splade"])
    assert res.exit_code == 2 and "unknown retriever" in res.output
    res = CliRunner().invoke(app, ["eval", "financebench", str(tmp_path), "--index", str(tmp_path / "i")])
    assert res.exit_code == 2 and "expected a FinanceBench folder" in " ".join(res.output.split())


# ------------------------------------------------------------------------------ SQuAD
def test_run_squad_tiny_file(tmp_path: Path) -> None:
    def qa(qid: str, question: str, *answers: str) -> dict:
        return {"id": qid, "question": question, "answers": [{"text": a, "answer_start": 0} for a in answers]}

    data = {"version": "1.1", "data": [
        {"title": "Tides", "paragraphs": [
            {"context": "Tides are caused by the Moon's gravity. Spring tides occur at full and new moon.",
             "qas": [qa("t1", "What causes tides?", "the Moon's gravity", "Moon's gravity")]},
            {"context": "Neap tides happen when the Sun and Moon are at right angles.",
             "qas": [qa("t2", "When do neap tides happen?", "when the Sun and Moon are at right angles")]}]},
        {"title": "Bees", "paragraphs": [
            {"context": "Honey bees perform a waggle dance to show where flowers are.",
             "qas": [qa("b1", "What dance do honey bees perform?", "waggle dance"),
                     qa("b2", "What does the waggle dance show?", "where flowers are")]}]}]}
    file = tmp_path / "dev-v1.1.json"
    file.write_text(json.dumps(data))
    result = run_squad(tmp_path, tmp_path / "index", answers="extractive")
    assert result["dataset"]["paragraphs"] == 3 and result["totals"]["questions"] == 4
    ret = result["totals"]["retrieval"]
    assert 0.0 <= ret["recall@1"] <= ret["recall@5"] <= ret["recall@10"] == 1.0  # 3 chunks: all returned
    assert ret["gold_paragraph@10"] == 1.0
    ans = result["totals"]["answers"]
    assert 0.0 <= ans["exact_match"] <= ans["f1"] <= 100.0
    faith = result["totals"]["faithfulness"]  # extracts are quoted from their sources: the judge must agree
    assert faith["counts"]["shipped_sentences"] >= 1 and faith["faithfulness_after"] == 1.0
    assert 0.0 <= faith["citation_accuracy_after"] <= 1.0
    for row in result["per_query"]:
        assert all(str(n) in row["passages"] for s in row["sentences"] for n in s["citations"])
    first = run_squad(file, tmp_path / "index", limit_articles=1, questions=1)
    assert first["dataset"]["paragraphs"] == 2 and first["index"]["removed"] == 1
    assert first["per_query"][0]["id"] == "t1" and first["dataset"]["subset"] is True


def test_cli_squad_predictions_scores_the_published_bert_run(tmp_path: Path) -> None:
    folder = _data("squad-v1.1-dev")
    preds = folder / "model_predictions_v1.1" / "BERT (ensemble) (Google AI Language).json"
    out = tmp_path / "bert.json"
    res = CliRunner().invoke(app, ["eval", "squad-predictions", str(folder), str(preds), "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    totals = json.loads(res.stdout)
    assert round(totals["exact_match"], 1) == 86.2 and round(totals["f1"], 1) == 92.2  # the README's fixture
    assert len(read_report(out)["per_query"]) == totals["questions"] == 10570


# ----------------------------------------------------------------------- FinanceBench
def test_run_financebench_on_two_real_filings(tmp_path: Path) -> None:
    source = _data("financebench")
    names = {"FOOTLOCKER_2022_8K_dated-2022-05-20", "AMCOR_2022_8K_dated-2022-07-01"}
    (tmp_path / "fb" / "pdfs").mkdir(parents=True)
    for name in names:  # a two-filing slice in tmp: indexing all 38 PDFs takes far too long for a test
        shutil.copy(source / "pdfs" / f"{name}.pdf", tmp_path / "fb" / "pdfs")
    lines = [line for line in (source / "questions.jsonl").read_text().splitlines()
             if line.strip() and json.loads(line)["doc_name"] in names]
    (tmp_path / "fb" / "questions.jsonl").write_text("\n".join(lines) + "\n")

    result = run_financebench(tmp_path / "fb", tmp_path / "index", ks=(1, 5, 10), answers="extractive",
                              abstention=True)
    assert result["totals"]["questions"] == len(lines) >= 2
    assert result["index"]["failed"] == [] and result["totals"]["filings_missing"] == 0
    ret = result["totals"]["retrieval"]
    assert 0.0 <= ret["evidence_recall@1"] <= ret["evidence_recall@5"] <= ret["evidence_recall@10"] <= 1.0
    assert 0.0 <= ret["mrr@10"] <= ret["evidence_recall@10"]
    for k in (1, 5, 10):  # a page ranks no lower than its best chunk
        assert ret["evidence_recall@" + str(k)] <= ret["page_recall@" + str(k)]
    for row in result["per_query"]:
        assert row["evidence_rank"] is None or row["doc_rank"] <= row["evidence_rank"]
        assert row["evidence_rank"] is None or row["page_rank"] <= row["evidence_rank"]
        assert isinstance(row["correct"], bool) and row["judge"]
    ans = result["totals"]["answers"]
    assert 0.0 <= ans["correct_rate"] <= 1.0 and 0.0 <= ans["refusal_rate"] <= 1.0
    assert 0.0 <= ans["citation_accuracy"] <= 1.0
    faith = result["totals"]["faithfulness"]
    counts = faith["counts"]
    assert counts["shipped_faithful"] <= counts["shipped_sentences"] <= counts["draft_sentences"]
    assert counts["shipped_citations_on_gold"] <= counts["shipped_citations"]
    # abstention: each question again with its filing held out (here the other company's 8-K is all that is left)
    abst = result["totals"]["abstention"]
    rows = [r["abstention"] for r in result["per_query"]]
    t = abst["min_evidence"]
    assert abst["abstained_when_held_out"] == sum(r["held_out"]["strength"] < t for r in rows) / len(rows)
    assert sum(r["held_out"]["strength"] for r in rows) < sum(r["answerable"]["strength"] for r in rows)
    assert abst["abstained_when_held_out"] >= 0.5, rows
    save_report(result, tmp_path / "fb.json")
    assert read_report(tmp_path / "fb.json")["config"]["index"]["files"] == 2
    # as a user would type them: the sentence that asks, without FinanceBench-style instructions around it
    said = "Answer by relying on the details shown in the filing, as an analyst would."
    records = [json.loads(line) for line in lines]
    for r in records:
        r["question"] = f"{r['question']} {said}"
    (tmp_path / "fb" / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    short = run_financebench(tmp_path / "fb", tmp_path / "index", ks=(1, 5, 10), asking_sentence=True)
    assert short["config"]["asking_sentence"] is True
    assert {r["id"]: r["question"] for r in short["per_query"]} == {r["financebench_id"]: r["question"][: -len(said) - 1]
                                                                     for r in records}


def test_abstention_rates_count_the_issue_s_way() -> None:
    from grail.eval.abstention import abstention_rates

    def row(answerable: float, held_out: float, in_top10: bool) -> dict:
        return {"evidence_in_top10": in_top10, "answerable": {"strength": answerable},
                "held_out": {"strength": held_out}, "company_held_out": {"strength": held_out / 2}}

    rows = [row(0.5, 0.1, True), row(0.2, 0.4, True), row(0.1, 0.05, False), row(0.6, 0.3, False)]
    r = abstention_rates(rows, 0.35)
    assert r["answered_when_evidence_in_top10"] == 0.5  # of the two with evidence in the top 10, one answered
    assert r["abstained_when_held_out"] == r["abstention_recall"] == 0.75
    assert r["abstention_precision"] == 3 / 5  # 3 held-out abstentions, 2 on answerable asks
    assert r["answered_all_answerable"] == 0.5 and r["abstained_when_company_held_out"] == 1.0


# ---------------------------------------------------------------------------- SciFact
def test_scifact_slice_smoke(tmp_path: Path) -> None:
    folder = _data("scifact")
    result = run_beir(folder, "test", tmp_path / "index", RETRIEVERS, limit_queries=20, corpus_limit=5)
    assert result["dataset"]["subset"] is True and result["totals"]["queries"] == 20
    assert result["dataset"]["corpus_docs"] < 60
    for name in RETRIEVERS:
        assert all(0.0 <= result["totals"][name][m] <= 1.0 for m in METRICS)
    # every relevant abstract is in this small corpus: a working doc-id mapping ranks them high
    assert result["totals"]["hybrid-rrf"]["ndcg@10"] > 0.5
