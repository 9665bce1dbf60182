"""Tests for the evaluation measuring stick: ranking metrics, SQuAD EM/F1, answer
correctness, dataset loaders and run reports."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from rich.console import Console

from grail.eval.answers import (
    answer_correct,
    judge_answer,
    numbers_match,
    parse_numbers,
    parse_quantities,
    principal_number,
    scaled_answer_text,
    token_f1,
)
from grail.eval.datasets import dataset_fingerprint, load_beir, load_financebench
from grail.eval.metrics import (
    dcg_at_k,
    hit_at_k,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)
from grail.eval.report import diff_reports, read_report, render_diff, write_report
from grail.eval.squad import (
    exact_match_score,
    f1_score,
    normalize_answer,
    score_predictions,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _data(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"evaluation data not found at {path} (see shared/data/README.md)")
    return path


# --------------------------------------------------------------------------- metrics

# One query, graded qrels: a=2, b=1, c=1 relevant; z=0 is judged but NOT relevant.
# Ranking: x a z b y (x, y unjudged).
#   DCG@5  = 2/log2(3) + 1/log2(5)          = 1.26186 + 0.43068 = 1.69254
#   IDCG@5 = 2/log2(2) + 1/log2(3) + 1/log2(4) = 2 + 0.63093 + 0.5 = 3.13093
#   nDCG@5 = 1.69254 / 3.13093 = 0.54059
#   nDCG@3 = (2/log2(3)) / 3.13093 = 1.26186 / 3.13093 = 0.40303
#   Recall@5 = |{a, b}| / |{a, b, c}| = 2/3;  Recall@3 = 1/3
#   MRR@5 = 1/2 (a at rank 2);  MRR@1 = 0;  P@5 = 2/5;  Hit@1 = 0, Hit@2 = 1
QRELS = {"a": 2, "b": 1, "c": 1, "z": 0}
RANKING = ["x", "a", "z", "b", "y"]
RELEVANT = {"a", "b", "c"}


def test_hand_computed_example() -> None:
    assert dcg_at_k([0, 2, 0, 1, 0], 5) == pytest.approx(
        2 / math.log2(3) + 1 / math.log2(5)
    )
    assert ndcg_at_k(RANKING, QRELS, 5) == pytest.approx(0.54059, abs=1e-5)
    assert ndcg_at_k(RANKING, QRELS, 3) == pytest.approx(0.40303, abs=1e-5)
    assert recall_at_k(RANKING, RELEVANT, 5) == pytest.approx(2 / 3)
    assert recall_at_k(RANKING, RELEVANT, 3) == pytest.approx(1 / 3)
    assert mrr_at_k(RANKING, RELEVANT, 5) == pytest.approx(0.5)
    assert mrr_at_k(RANKING, RELEVANT, 1) == 0.0
    assert precision_at_k(RANKING, RELEVANT, 5) == pytest.approx(0.4)
    assert hit_at_k(RANKING, RELEVANT, 1) == 0.0
    assert hit_at_k(RANKING, RELEVANT, 2) == 1.0
    # A qrels mapping as `relevant` counts only grades > 0 (z is not relevant).
    assert recall_at_k(RANKING, QRELS, 5) == pytest.approx(2 / 3)
    assert precision_at_k(["z"], QRELS, 1) == 0.0


def test_linear_gain_not_exponential() -> None:
    # Grade 3 at rank 1, nothing else: linear gain gives DCG 3, exponential would give 7.
    assert dcg_at_k([3], 10) == pytest.approx(3.0)
    # Swapping grades 2 and 1: linear-gain nDCG = (1 + 2/log2 3) / (2 + 1/log2 3).
    assert ndcg_at_k(["b", "a"], {"a": 2, "b": 1}, 2) == pytest.approx(
        (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    )


def test_no_relevant_documents() -> None:
    for qrels in ({}, {"z": 0}):
        assert ndcg_at_k(["z", "a"], qrels, 10) == 0.0
        assert recall_at_k(["z", "a"], qrels, 10) == 0.0
        assert mrr_at_k(["z", "a"], qrels, 10) == 0.0
        assert hit_at_k(["z", "a"], qrels, 10) == 0.0
    assert ndcg_at_k([], QRELS, 10) == 0.0


def test_fewer_results_than_k() -> None:
    # Only "a" returned with k=10: DCG = 2; IDCG@10 = 3.13093 (all three relevant fit).
    assert ndcg_at_k(["a"], QRELS, 10) == pytest.approx(
        2 / (2 + 1 / math.log2(3) + 0.5)
    )
    assert recall_at_k(["a"], RELEVANT, 10) == pytest.approx(1 / 3)
    assert precision_at_k(["a"], RELEVANT, 10) == pytest.approx(
        0.1
    )  # divides by k, as trec_eval P_10
    assert mrr_at_k(["a"], RELEVANT, 10) == 1.0


def test_duplicate_ids_count_once() -> None:
    # "a" repeated: counted once at rank 1; the copy does not take a slot, so "b" is rank 2.
    ranked = ["a", "a", "a", "b"]
    assert ndcg_at_k(ranked, QRELS, 2) == pytest.approx(ndcg_at_k(["a", "b"], QRELS, 2))
    assert ndcg_at_k(ranked, QRELS, 2) <= 1.0
    assert recall_at_k(ranked, RELEVANT, 2) == pytest.approx(2 / 3)
    assert precision_at_k(["a", "a"], RELEVANT, 2) == pytest.approx(0.5)
    assert ndcg_at_k(["a", "b", "c"], QRELS, 3) == pytest.approx(1.0)


def test_bad_k_is_rejected() -> None:
    with pytest.raises(ValueError, match="positive integer"):
        ndcg_at_k(RANKING, QRELS, 0)


# --------------------------------------------------------------------------- SQuAD


def test_squad_normalisation_matches_official_rules() -> None:
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("an apple, a day") == "apple day"
    assert normalize_answer("Theory") == "theory"  # articles only as whole words
    assert exact_match_score("the Broncos.", "Broncos")
    # F1: pred {denver, broncos, team} vs gold {denver, broncos}: P=2/3, R=1 -> 0.8
    assert f1_score("Denver Broncos team", "the Denver Broncos") == pytest.approx(0.8)
    assert f1_score("Panthers", "Broncos") == 0.0


def test_squad_published_predictions() -> None:
    squad = _data("squad-v1.1-dev")
    dev = squad / "dev-v1.1.json"
    scores = {}
    for path in sorted((squad / "model_predictions_v1.1").glob("*.json")):
        predictions = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(predictions, dict) and all(
            isinstance(v, str) for v in predictions.values()
        )
        scores[path.stem] = score_predictions(dev, predictions)
        s = scores[path.stem]
        print(
            f"{path.stem}: EM {s['exact_match']:.2f} F1 {s['f1']:.2f} (n={s['n']}, unanswered={s['unanswered']})"
        )
    assert len(scores) == 5
    bert = scores["BERT (ensemble) (Google AI Language)"]
    assert (round(bert["exact_match"], 1), round(bert["f1"], 1)) == (86.2, 92.2)
    lr = scores["Logistic Regression Baseline (Stanford University)"]
    assert (round(lr["exact_match"], 1), round(lr["f1"], 1)) == (40.1, 51.0)
    assert all(s["n"] == 10570 for s in scores.values())


# --------------------------------------------------------------------------- answers


def test_parse_numbers_formats() -> None:
    assert parse_numbers("$1,577.00") == [1577.0]
    assert parse_numbers("Company pension contributions (370) (967)") == [
        -370.0,
        -967.0,
    ]
    assert parse_numbers("-3.5%") == [-3.5]
    assert parse_numbers("Changes:\n- 5 new stores\n- -3 closures") == [
        5.0,
        -3.0,
    ]  # bullets
    assert parse_numbers("1.2 billion and 3,100 million") == [1.2e9, 3.1e9]
    assert parse_numbers("$3.1B, 45 thousand, $2,018mn, $1.8 bn") == [
        3.1e9,
        45e3,
        2.018e9,
        1.8e9,
    ]
    assert parse_numbers("negative working capital of -$1561M") == [-1.561e9]
    assert (
        parse_numbers("3M in FY2022 had 10K filings; COVID-19; Q2") == []
    )  # labels, not quantities
    (pct,) = parse_quantities("grew 3.5%")
    assert pct.is_percent and pct.value == 3.5 and pct.fraction == pytest.approx(0.035)
    assert [
        q.is_date for q in parse_quantities("on January 28, 2023 it was 28 stores")
    ] == [True, True, False]
    assert parse_numbers("($1.8 bn)") == [
        1.8e9
    ]  # a parenthetical, not an accounting negative


def test_numbers_match_scale_rule() -> None:
    assert numbers_match(1577, 1.577e9)  # millions vs dollars: a power of 1000
    assert numbers_match(8.70, 8.738e9)  # within 1% after scaling
    assert not numbers_match(1577, 1.6e9)  # 1.5% off
    assert not numbers_match(1577, 15.77e9)  # a factor of 10 is not a unit change
    assert not numbers_match(-3.7, 3.7)  # sign-aware
    assert numbers_match(0.0, 0.0) and not numbers_match(0.0, 0.001)


def _financebench_answers() -> dict[str, str]:
    path = _data("financebench", "questions.jsonl")
    rows = [
        json.loads(line)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return {row["financebench_id"]: row["answer"] for row in rows}


def test_financebench_answers() -> None:
    gold = _financebench_answers()
    capex = gold["financebench_id_03029"]  # "$1577.00" (USD millions)
    assert capex == "$1577.00"
    assert answer_correct("3M's FY2018 capital expenditure was $1,577 million.", capex)
    assert answer_correct("About $1.58 billion", capex)
    assert not answer_correct("$1,373 million", capex)
    assert not answer_correct("-$1,577 million", capex)
    # Listing many numbers only scores on the first sentence's first three.
    listing = "Figures: $1,828M, $1,410M, $2,497M and $846M. Also $1,577M, $1,373M."
    assert not answer_correct(listing, capex)

    ppne = gold["financebench_id_04672"]  # "$8.70" (USD billions)
    assert answer_correct("Net PP&E was $8,738 million at year end FY2018.", ppne)

    wc = next(a for a in gold.values() if a.startswith("No, American Water Works"))
    assert principal_number(wc).value == pytest.approx(-1.561e9)
    assert answer_correct(
        "No. Working capital was negative $1,561 million in FY2022.", wc
    )
    assert not answer_correct("Yes. Working capital was negative $1,561 million.", wc)
    assert not answer_correct(
        "No, working capital was $1,561 million.", wc
    )  # sign lost

    ebitda = next(a for a in gold.values() if a.startswith("AMCOR's Adj. EBITDA"))
    assert answer_correct("Adjusted EBITDA was $2.02 billion in FY2023.", ebitda)

    pct = next(
        a for a in gold.values() if a.startswith("The consumer segment shrunk by 0.9%")
    )
    assert answer_correct("It shrank 0.9% organically.", pct)
    assert not answer_correct(
        "It shrank 0.009 organically.", pct
    )  # percentages compare as percentages

    name = next(a for a in gold.values() if a == "Yes, his name is Richard A. Johnson")
    assert judge_answer("Yes, Richard A. Johnson.", name).method == "polarity"
    assert not answer_correct("No.", name)

    # Every gold is correct against itself, whichever rule decides.
    assert all(answer_correct(a, a) for a in gold.values())


def test_tatqa_answers_with_scale() -> None:
    path = _data("tatqa", "tatqa_dataset_dev.json")
    contexts = json.loads(path.read_text(encoding="utf-8"))
    questions = [q for ctx in contexts for q in ctx["questions"]]
    by_kind = {}
    for q in questions:
        by_kind.setdefault((q["answer_type"], q["scale"]), q)
    million = by_kind[("arithmetic", "million")]
    gold = scaled_answer_text(million["answer"], "million")
    value = float(million["answer"])
    assert answer_correct(f"{value} million", gold)
    assert answer_correct(f"${value * 1e6:,.0f}", gold)
    assert not answer_correct(f"{value * 1.05} million", gold)

    percent = by_kind[("arithmetic", "percent")]
    gold = scaled_answer_text(percent["answer"], "percent")
    assert gold.endswith("%")
    value = float(percent["answer"])
    assert answer_correct(f"The change is {value:.1f}%.", gold)
    assert not answer_correct(f"The change is {value / 100:.4f}.", gold)

    span = next(
        q
        for q in questions
        if q["answer_type"] == "span" and not q["scale"] and len(q["answer"][0]) > 40
    )
    gold = scaled_answer_text(span["answer"], "")
    assert answer_correct(span["answer"][0], gold)
    assert not answer_correct("The table does not say.", gold)
    assert token_f1(span["answer"][0], gold) == 1.0

    # All 1,668 dev golds are judged correct against themselves.
    assert all(
        answer_correct(g, g)
        for g in (scaled_answer_text(q["answer"], q["scale"]) for q in questions)
    )


# --------------------------------------------------------------------------- datasets


def test_load_beir_scifact() -> None:
    data = load_beir(_data("scifact"), "test")
    assert len(data.corpus) == 5183
    assert len(data.queries) == 300
    assert sum(len(docs) for docs in data.qrels.values()) == 339
    assert set(data.queries) == set(data.qrels)
    assert all(doc_id in data.corpus for docs in data.qrels.values() for doc_id in docs)
    title, text = data.corpus["4983"]
    assert title.startswith("Microstructural development") and text
    with pytest.raises(FileNotFoundError, match="split 'dev'"):
        load_beir(_data("scifact"), "dev")


def test_load_financebench_pages_are_one_based() -> None:
    folder = _data("financebench")
    questions = load_financebench(folder)
    assert len(questions) == 63
    first = next(q for q in questions if q.id == "financebench_id_03029")
    raw = json.loads(
        (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()[0]
    )
    assert first.evidence_pages == (raw["evidence"][0]["evidence_page_num"] + 1,)
    assert (
        len(first.evidence_pages)
        == len(first.evidence_texts)
        == len(first.evidence_doc_names)
    )
    # The evidence text is on that 1-based page of the PDF and not on its neighbours.
    pdfium = pytest.importorskip("pypdfium2")
    pdf = pdfium.PdfDocument(
        str(folder / "pdfs" / f"{first.doc_name}.pdf"), password=""
    )

    def overlap(page_number: int) -> float:
        words = set(pdf[page_number - 1].get_textpage().get_text_range().split())
        evidence = set(first.evidence_texts[0].split())
        return len(words & evidence) / len(evidence)

    page = first.evidence_pages[0]
    assert overlap(page) > 0.8
    assert overlap(page) > overlap(page - 1) and overlap(page) > overlap(page + 1)


def test_dataset_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("one")
    (tmp_path / "d" / "b.txt").write_text("two")
    first = dataset_fingerprint(tmp_path / "d")
    assert first.startswith("sha256:") and first == dataset_fingerprint(tmp_path / "d")
    (tmp_path / "d" / "b.txt").write_text("two!")
    assert dataset_fingerprint(tmp_path / "d") != first
    assert dataset_fingerprint(tmp_path / "d" / "a.txt") != dataset_fingerprint(
        tmp_path / "d" / "b.txt"
    )


# --------------------------------------------------------------------------- reports


def _write(
    path: Path,
    data_dir: Path,
    ndcg: float,
    latency: float,
    q2_ndcg: float,
    q3_correct: bool,
) -> None:
    write_report(
        path,
        kind="retrieval",
        config={"retriever": "hybrid", "k": 10},
        dataset={"name": "toy", "split": "test", "path": str(data_dir)},
        totals={
            "ndcg@10": ndcg,
            "recall@100": 0.9,
            "latency": {"p50_ms": latency, "p95_ms": 40.0},
        },
        per_query=[
            {"id": "q1", "ndcg@10": 1.0, "ranked": ["d1", "d2"], "note": "same"},
            {
                "id": "q2",
                "ndcg@10": q2_ndcg,
                "recall@100": 1.0,
                "note": f"text {q2_ndcg}",
            },
            {"id": "q3", "correct": q3_correct, "f1": 0.5},
        ],
        timings={"total_s": 1.5},
    )


def test_report_write_and_diff(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    _write(a, data_dir, ndcg=0.70, latency=12.0, q2_ndcg=0.5, q3_correct=True)
    _write(b, data_dir, ndcg=0.72, latency=15.0, q2_ndcg=0.25, q3_correct=False)

    report = read_report(a)
    assert set(report["versions"]) == {"python", "grail", "numpy", "platform"}
    assert report["created_utc"].endswith("Z")
    assert report["dataset"]["fingerprint"] == dataset_fingerprint(data_dir)
    assert report["kind"] == "retrieval" and report["per_query"][0]["ranked"] == [
        "d1",
        "d2",
    ]

    diff = diff_reports(a, b)
    assert {m.name for m in diff.metrics} == {
        "ndcg@10",
        "recall@100",
        "latency.p50_ms",
        "latency.p95_ms",
    }
    changed = {m.name: m for m in diff.changed_metrics}
    assert set(changed) == {"ndcg@10", "latency.p50_ms"}
    assert changed["ndcg@10"].delta == pytest.approx(0.02)
    assert changed["latency.p50_ms"].delta == pytest.approx(3.0)
    assert {c.id for c in diff.changed_queries} == {"q2", "q3"}
    q2 = next(c for c in diff.changed_queries if c.id == "q2")
    assert [(f.name, f.old, f.new) for f in q2.fields] == [
        ("ndcg@10", 0.5, 0.25)
    ]  # text "note" ignored
    q3 = next(c for c in diff.changed_queries if c.id == "q3")
    assert [(f.name, f.old, f.new) for f in q3.fields] == [("correct", True, False)]
    assert diff.same_dataset and diff.only_in_a == () and diff.only_in_b == ()

    console = Console(width=120, record=True)
    console.print(render_diff(diff))
    out = console.export_text()
    assert (
        "ndcg@10" in out
        and "+0.0200" in out
        and "q2 · ndcg@10" in out
        and "2 queries changed" in out
    )

    # Identical runs: nothing changed.
    assert (
        diff_reports(a, a).changed_metrics == ()
        and diff_reports(a, a).changed_queries == ()
    )


def test_report_requires_query_ids(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no 'id'"):
        write_report(
            tmp_path / "r.json",
            kind="qa",
            config={},
            dataset={},
            totals={},
            per_query=[{"f1": 1.0}],
            timings={},
        )
    assert not (tmp_path / "r.json").exists()
