"""``grail rerank train``: fit the cross-encoder reranker on an index's own passages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

rerank_app = typer.Typer(no_args_is_help=True, help="Train the cross-encoder reranker on your own documents.")
err = Console(stderr=True)


@rerank_app.command("train")
def train_cmd(
    index: str | None = typer.Option(None, "--index", "-i", help="Collection to mine pairs from and to "
                                     "train for (default ./.grail or GRAIL_INDEX)."),
    also: list[str] = typer.Option([], "--also-index", help="Mine pairs from this collection too (repeatable)."),
    scifact: str | None = typer.Option(None, "--scifact", help="Add the SciFact TRAIN split from this BEIR folder."),
    groups: int = typer.Option(4000, "--groups", help="Questions to mine per collection."),
    negatives: int = typer.Option(5, "--negatives", help="Hard negatives per question."),
    layers: int = typer.Option(2, "--layers", help="MiniLM layers kept (more is slower at query time)."),
    max_len: int = typer.Option(128, "--max-len", help="Word pieces read per (question, passage) pair."),
    minutes: float = typer.Option(20.0, "--minutes", help="Wall-clock budget for the optimisation."),
    max_steps: int = typer.Option(4000, "--max-steps"),
    seed: int = typer.Option(13, "--seed"),
    out: str | None = typer.Option(None, "--out", "-o", help="Output folder (default <index>/reranker)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Mine (question, passage, hard negatives) from the index, fine-tune, and export for NumPy inference."""
    from grail.config import load_settings
    from grail.embed.minilm import DIM
    from grail.facade import _space
    from grail.rerank import reranker_dir
    from grail.rerank.train import TrainConfig, mine_groups, scifact_groups, train
    from grail.store.sqlite import SQLiteStore

    settings = load_settings(index=index)
    folders = [settings.index, *also]
    for f in folders:
        if not (Path(f) / "index.db").is_file():
            err.print(f"[red]no index at {escape(f)}[/red]: run `grail index PATH --index {escape(f)}` first")
            raise typer.Exit(2)
    cfg = TrainConfig(layers=layers, max_len=max_len, negatives=negatives, groups=groups, minutes=minutes,
                      max_steps=max_steps, seed=seed, extra={"mined_from": folders, "scifact_train": scifact})
    hidden = quiet or not err.is_terminal and os.environ.get("GRAIL_PROGRESS") != "1"
    columns = [TextColumn("[bold]{task.fields[what]}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn(), TextColumn("{task.description}")]
    space = _space(settings.embedder)
    all_groups = []
    try:
        with Progress(*columns, console=err, disable=hidden) as bar:
            for f in folders:
                task = bar.add_task("", total=groups, what=f"mining {Path(f).name}")
                store = SQLiteStore(f, embedder_name=space, dim=DIM)
                all_groups += mine_groups(store, groups, negatives, seed,
                                          progress=lambda n, t=task: bar.update(t, completed=n))  # type: ignore[misc]
            if scifact:
                all_groups += scifact_groups(scifact, negatives, seed)
            task = bar.add_task("", total=max_steps, what="training")
            meta = train(all_groups, out or reranker_dir(settings.index), cfg,
                         progress=lambda s, total, loss: bar.update(task, completed=s, total=total,
                                                                    description=f"loss {loss:.3f}"))
    except (RuntimeError, ValueError, FileNotFoundError) as exc:  # no torch, too small an index, bad --scifact
        err.print(f"[red]cannot train the reranker:[/red] {escape(str(exc))}")
        raise typer.Exit(2)
    err.print(json.dumps({k: meta[k] for k in ("groups", "steps", "seconds", "loss_first50", "loss_last50",
                                              "holdout_top1_before", "holdout_top1_after")}))
    err.print(f"reranker written to {escape(str(out or reranker_dir(settings.index)))}; "
              "turn it on with `rerank = true` in grail.toml or GRAIL_RERANK=1")
