"""``grail eval``: run a benchmark (BEIR, FinanceBench, SQuAD) or diff two reports.

A thin typer skin over ``grail.eval.runners``: parse options, show progress
bars and a rich table, write the JSON report. The decision: ``--json`` prints
only the totals as JSON on stdout (tables and progress go to stderr), so a
script can pipe it; dataset problems exit with status 2 and say what a folder
should hold.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from grail.eval import runners
from grail.eval.report import diff_reports, render_diff

eval_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="Measure grail on public benchmarks; compare two runs.")
console = Console()
err = Console(stderr=True)

IndexOpt = typer.Option(None, "--index", "-i", help="Collection folder for this dataset (default .grail-eval/<name>).")
OutOpt = typer.Option(None, "--out", "-o", help="Write the JSON report here.")
JsonOpt = typer.Option(False, "--json", help="Print the totals as JSON on stdout.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bars.")


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn()]
    hidden = quiet or (not err.is_terminal and os.environ.get("GRAIL_PROGRESS") != "1")
    with Progress(*columns, console=err, disable=hidden) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"{what} must be comma-separated integers, e.g. 1,5,10") from None
    if not values or min(values) < 1:
        raise typer.BadParameter(f"{what} must be positive integers, e.g. 1,5,10")
    return values


def _run(fn: Callable[..., dict[str, Any]], quiet: bool, **kwargs: Any) -> dict[str, Any]:
    with _progress(quiet) as progress:
        try:
            return fn(progress=progress, **kwargs)
        except (runners.DatasetError, FileNotFoundError) as exc:
            err.print(f"[red]dataset error:[/red] {escape(str(exc))}")
            raise typer.Exit(2) from None
        except (ValueError, RuntimeError, ConnectionError) as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(2) from None


def _finish(result: dict[str, Any], table: RenderableType, out: str | None, as_json: bool) -> None:
    if out:
        runners.save_report(result, out)
    if as_json:
        err.print(table)
        print(json.dumps(result["totals"], indent=2, ensure_ascii=False))
    else:
        console.print(table)
    note = result.get("dataset", {}).get("subset_note")
    if note:
        err.print(f"[yellow]{escape(note)}[/yellow]")
    if out:
        err.print(f"report written to {escape(out)}")
    failed = result.get("index", {}).get("failed") or []
    for path, reason in failed:
        err.print(f"[yellow]not indexed[/yellow] {escape(str(path))}: {escape(str(reason))}")


_LABELS = {"ndcg@10": "nDCG@10", "recall@1": "R@1", "recall@5": "R@5", "recall@10": "R@10", "recall@20": "R@20",
           "recall@100": "R@100", "mrr@10": "MRR@10", "mrr@20": "MRR@20",
           "latency_p50_ms": "p50 ms", "latency_p95_ms": "p95 ms", "docs_per_query": "docs/q"}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.4f}"
    return str(value)


def _metric_table(title: str, rows: dict[str, dict[str, Any]]) -> Table:
    columns = list(dict.fromkeys(k for r in rows.values() for k, v in r.items() if not isinstance(v, dict)))
    table = Table(title=title)
    table.add_column("", no_wrap=True)
    for c in columns:
        table.add_column(_LABELS.get(c, c), justify="right")
    for name, r in rows.items():
        table.add_row(escape(name), *(_fmt(r.get(c, "")) for c in columns))
    return table


def _with_answers(table: Table, totals: dict[str, Any], skip: tuple[str, ...]) -> RenderableType:
    """The metric table, then the answer groups (answers, faithfulness, ...) as one metric per line."""
    groups = {k: v for k, v in totals.items() if isinstance(v, dict) and k not in skip}
    if not groups:
        return table
    t = Table("", "metric", "value", title=", ".join(groups))
    for name, values in groups.items():
        flat = {**{k: v for k, v in values.items() if not isinstance(v, dict)},
                **{f"{k}.{kk}": vv for k, v in values.items() if isinstance(v, dict) for kk, vv in v.items()}}
        for i, (metric, value) in enumerate(flat.items()):
            t.add_row(escape(name) if i == 0 else "", escape(metric), _fmt(value))
    return Group(table, t)


@eval_app.command()
def retrieval(beir: str = typer.Option(..., "--beir", help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv."),
              split: str = typer.Option("test", "--split", help="qrels split to evaluate (test, train, dev)."),
              index: str | None = IndexOpt,
              retrievers: str = typer.Option(",".join(runners.RETRIEVERS), "--retrievers",
                                             help="Comma-separated: dense, bm25, hybrid-rrf, hybrid-convex."),
              convex_weight: float | None = typer.Option(None, "--convex-weight", min=0.0, max=1.0,
                                                            help="Dense weight for hybrid-convex (default: settings)."),
              sweep: bool = typer.Option(False, "--sweep-convex",
                                         help="Evaluate hybrid-convex at dense weights 0.1..0.9 instead. Use it on "
                                              "--split train to choose the weight without touching test."),
              limit_queries: int | None = typer.Option(None, "--limit-queries", min=1,
                                                          help="Evaluate only the first N queries (a subset)."),
              out: str | None = OutOpt, as_json: bool = JsonOpt, quiet: bool = QuietOpt) -> None:
    """nDCG@10, Recall@10/100, MRR@10 and latency per retriever on a BEIR dataset."""
    names = [r.strip() for r in retrievers.split(",") if r.strip()]
    unknown = [r for r in names if r not in runners.RETRIEVERS]
    if unknown or not names:
        raise typer.BadParameter(f"unknown retriever(s) {', '.join(unknown) or '(none)'}; choose from "
                                 f"{', '.join(runners.RETRIEVERS)}", param_hint="--retrievers")
    if sweep:
        if split == "test":
            err.print("[yellow]sweeping on the test split: a weight chosen here overfits the number you report; "
                      "use --split train[/yellow]")
        result = _run(runners.sweep_convex, quiet, folder=beir, split=split, index_dir=index,
                      limit_queries=limit_queries)
        rows = {k: v for k, v in result["totals"].items() if isinstance(v, dict)}
        table = _metric_table(f"{result['dataset']['name']} {split}: hybrid-convex by dense weight "
                              f"(best {result['totals']['best_weight']})", rows)
    else:
        result = _run(runners.run_beir, quiet, folder=beir, split=split, index_dir=index, retrievers=names,
                      limit_queries=limit_queries, convex_weight=convex_weight)
        rows = {k: v for k, v in result["totals"].items() if isinstance(v, dict)}
        table = _metric_table(f"{result['dataset']['name']} {split}: {result['totals']['queries']} queries, "
                              f"convex weight {result['config']['convex_weight']}", rows)
    _finish(result, table, out, as_json)


@eval_app.command()
def financebench(path: str = typer.Argument(..., help="FinanceBench folder: questions.jsonl and pdfs/."),
                 index: str | None = IndexOpt,
                 ks: str = typer.Option("1,5,10,20", "--ks", help="Cut-offs for evidence-page recall."),
                 answers: str = typer.Option("none", "--answers", help="extractive | local | openai:URL | none"),
                 mode: str | None = typer.Option(None, "--mode", help="hybrid | dense | bm25 (default: settings)"),
                 limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N questions."),
                 abstention: bool = typer.Option(False, "--abstention",
                                                 help="Also ask each question with its own filing held out: "
                                                      "abstention rates at min_evidence."),
                 asking_sentence: bool = typer.Option(False, "--asking-sentence",
                                                      help="Ask each question as its sentence that asks alone, "
                                                           "without FinanceBench's instructions around it."),
                 out: str | None = OutOpt, as_json: bool = JsonOpt, quiet: bool = QuietOpt) -> None:
    """Evidence-page recall over one shared index of every filing; with --answers, answer correctness;
    with --abstention, how often grail says "the documents do not say" when the filing is held out."""
    result = _run(runners.run_financebench, quiet, folder=path, index_dir=index, ks=_ints(ks, "--ks"),
                  answers=answers, limit=limit, mode=mode, abstention=abstention, asking_sentence=asking_sentence)
    ret = result["totals"]["retrieval"]
    # two rows on the same columns: distinct pages (the headline) and the raw chunk ranking
    pages = {key.removeprefix("pages_").removeprefix("page_"): v for key, v in ret.items()
             if key.startswith(("page_", "pages_"))}
    chunks = {key.removeprefix("evidence_"): v for key, v in ret.items()
              if not key.startswith(("page_", "pages_", "doc_"))}
    rows = {"pages (evidence page)": pages, "chunks (evidence page)": chunks,
            "filing in top 10 chunks": {"recall@10": ret["doc_recall@10"]}}
    table = _metric_table(f"FinanceBench: {result['totals']['questions']} questions", rows)
    _finish(result, _with_answers(table, result["totals"], ("retrieval",)), out, as_json)


@eval_app.command()
def squad(path: str = typer.Argument(..., help="SQuAD v1.1 JSON file, or a folder holding dev-v1.1.json."),
          index: str | None = IndexOpt,
          limit_articles: int | None = typer.Option(None, "--limit-articles", min=1, help="Only the first N articles."),
          questions: int | None = typer.Option(None, "--questions", min=1,
                                                  help="N questions spread evenly over those articles."),
          answers: str = typer.Option("none", "--answers", help="extractive | local | openai:URL | none"),
          out: str | None = OutOpt, as_json: bool = JsonOpt, quiet: bool = QuietOpt) -> None:
    """Paragraph retrieval (a top-k chunk holds a gold answer) and, with --answers, EM/F1."""
    result = _run(runners.run_squad, quiet, path=path, index_dir=index, limit_articles=limit_articles,
                  questions=questions, answers=answers)
    rows = {k: v for k, v in result["totals"].items() if isinstance(v, dict) and k == "retrieval"}
    table = _metric_table(f"SQuAD: {result['totals']['questions']} questions", rows)
    _finish(result, _with_answers(table, result["totals"], ("retrieval",)), out, as_json)


@eval_app.command("squad-predictions")
def squad_predictions(dataset: str = typer.Argument(..., help="SQuAD v1.1 JSON file or its folder."),
                      predictions: str = typer.Argument(..., help="JSON object {question id: answer text}."),
                      out: str | None = OutOpt, as_json: bool = JsonOpt) -> None:
    """Official SQuAD v1.1 EM / F1 of a predictions file."""
    result = _score(dataset, predictions)
    _finish(result, _metric_table(f"SQuAD predictions: {Path(predictions).name}",
                                  {"totals": result["totals"]}), out, as_json)


def _score(dataset: str, predictions: str) -> dict[str, Any]:
    try:
        return runners.score_squad_predictions(dataset, predictions)
    except (runners.DatasetError, FileNotFoundError, ValueError) as exc:
        err.print(f"[red]dataset error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None


@eval_app.command()
def diff(a: str = typer.Argument(..., help="Report A (the baseline)."),
         b: str = typer.Argument(..., help="Report B (the change)."),
         max_queries: int = typer.Option(50, "--max-queries", help="Show at most this many changed queries."),
         as_json: bool = JsonOpt) -> None:
    """What changed from report A to report B: every total, then the queries that moved."""
    try:
        d = diff_reports(a, b)
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps({m.name: {"a": m.old, "b": m.new, "delta": m.delta} for m in d.metrics}, indent=2))
        return
    console.print(render_diff(d, max_queries=max_queries))
