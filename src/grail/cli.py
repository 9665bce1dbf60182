"""The ``grail`` command line: index, ask, search, status, documents, delete, eval.

A thin skin over the ``Grail`` facade. Output is for people (rich tables,
progress bars) unless ``--json`` asks for the record itself. The decision:
the exit status is non-zero whenever anything was skipped or failed, so
scripts can trust it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from grail.config import load_settings
from grail.records import Answer, to_dict

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="grail: ask your documents; every answer cited to page and passage.")
console = Console()
err = Console(stderr=True)

IndexOpt = typer.Option(None, "--index", "-i", help="Collection folder (default ./.grail or GRAIL_INDEX).")
ConfigOpt = typer.Option(None, "--config", "-c", help="Settings file (default ./grail.toml).")


def _grail(index: str | None, config: str | None, **overrides: Any) -> Any:
    from grail.facade import Grail

    try:
        settings = load_settings(config, **overrides)
    except ValueError as exc:
        err.print(f"[red]config error:[/red] {escape(str(exc))}")
        raise typer.Exit(2)
    return Grail(index, settings=settings)


@app.command()
def index(paths: list[str] = typer.Argument(..., help="Files or folders to index."),
          index: str | None = IndexOpt, config: str | None = ConfigOpt,
          quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar.")) -> None:
    """Index files and folders (PDF, HTML, Markdown, text, DOCX). Unchanged files are skipped."""
    g = _grail(index, config)
    columns = [TextColumn("[bold]indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn(), TextColumn("{task.description}")]
    with Progress(*columns, console=err, disable=quiet or not err.is_terminal and os.environ.get("GRAIL_PROGRESS") != "1") as bar:
        task = bar.add_task("", total=None)

        def progress(path: str, done: int, total: int) -> None:
            bar.update(task, total=total, completed=done, description=Path(path).name[:40])

        try:
            report = g.index(*paths, on_progress=progress)
        except ValueError as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(2)
    reread = f"{len(report.reread)} read again by this grail's newer parser, " if report.reread else ""
    reused = f" ({report.chunks_reused} unchanged chunks kept their vectors)" if report.chunks_reused else ""
    console.print(f"indexed {len(report.added)} new, {len(report.updated)} changed, {reread}"
                  f"{len(report.unchanged)} unchanged, {len(report.removed)} removed; "
                  f"{report.pages} pages, {report.chunks_embedded} chunks embedded{reused} in {report.seconds:.1f}s")
    for path, reason in report.failed:
        err.print(f"[yellow]skipped[/yellow] {escape(path)}: {escape(reason)}")
    if report.failed:
        err.print(f"[red]{len(report.failed)} file(s) skipped[/red]; everything else is indexed.")
        raise typer.Exit(1)


def _print_answer(ans: Answer) -> None:
    style = "yellow" if ans.abstained else "bold"
    console.print(f"[{style}]{escape(ans.text)}[/{style}]")
    if ans.abstained:
        console.print(f"[dim]why: {escape(ans.abstain_reason)}[/dim]")
        if ans.citations:
            console.print("\n[dim]Closest passages:[/dim]")
    for c in ans.citations:
        quote = " ".join(c.quote.split())
        quote = quote[:300] + ("…" if len(quote) > 300 else "")
        console.print(f"\n[cyan][{c.n}][/cyan] {escape(Path(c.path).name)}, page {c.page}, "
                      f"chars {c.char_start}-{c.char_end}\n    [dim]{escape(quote)}[/dim]")


def _explain(ans: Answer, embedder_count: Any) -> None:
    from grail.tokens import gpt4o_cost

    q_tokens = embedder_count(ans.question)
    n_o200k, usd = gpt4o_cost(ans.question)
    console.rule("explain")
    console.print(f"[bold]query[/bold]: {q_tokens} MiniLM word pieces; {n_o200k} gpt-4o tokens "
                  f"(≈ ${usd:.6f} as gpt-4o input)")
    for st in ans.trace.stages:
        console.print(f"\n[bold]{st.name}[/bold] {st.seconds * 1000:.1f} ms")
        d = st.data
        if st.name == "retrieve":
            for name in ("dense", "bm25", "fused"):
                if name in d:
                    t = Table(title=name, show_lines=False)
                    for col in ("rank", "score", "page", "file"):
                        t.add_column(col)
                    for row in d[name][:10]:
                        t.add_row(str(row["rank"]), f"{row['score']:.4f}", str(row["page"]), Path(row["path"]).name)
                    console.print(t)
            console.print({k: v for k, v in d.items() if k.endswith("_s") or k in ("mode", "fusion")})
            if d.get("understanding"):
                u = d["understanding"]
                console.print(f"recognised: companies {u['companies']}, years {u['years']}, forms {u['forms']}; "
                              f"filter applied: {u['applied'] or 'none (searched everything)'}")
            if "statements" in d:
                st_pages = d["statements"]["pages"]
                moved = ", ".join(f"{Path(p['path']).name} p.{p['page']} ({', '.join(p['statements'])})"
                                  for p in st_pages) or "none titled in these documents"
                asked = ", ".join(k + (" (by the measure asked for)" if k in d["statements"]["by_measure"] else "")
                                  for k in d["statements"]["asked"])
                console.print(f"statements asked for: {asked}; moved first: {moved}")
        elif st.name == "context":
            console.print(f"packed {len(d['sources'])} sources, {d['n_tokens']} tokens of a {d['budget']} budget; "
                          f"dropped {len(d['dropped'])}")
            console.print("[dim]system:[/dim] " + escape(d["system"]))
            console.print("[dim]prompt:[/dim]\n" + escape(d["prompt"]))
        elif st.name == "generate":
            console.print("[dim]raw output:[/dim] " + escape(str(d.get("raw_output", ""))))
        else:
            console.print(d)
    console.print(f"\ntotal {ans.trace.total_seconds() * 1000:.0f} ms")


@app.command()
def ask(question: str = typer.Argument(..., help="Your question."), index: str | None = IndexOpt,
        config: str | None = ConfigOpt,
        llm: str | None = typer.Option(None, "--llm", help="extractive | local | openai[:BASE_URL]"),
        k: int | None = typer.Option(None, "-k", help="Passages handed to the generator."),
        as_json: bool = typer.Option(False, "--json", help="Print the whole Answer record as JSON."),
        explain: bool = typer.Option(False, "--explain", help="Show what every stage did."),
        allow_weak: bool = typer.Option(False, "--allow-weak", help="Answer even when the evidence is weak."),
        path_glob: str | None = typer.Option(None, "--path", help="Only documents whose path matches this glob."),
        decoding: str | None = typer.Option(None, "--decoding",
                                            help="auto | quotes | free. quotes (auto's choice for --llm local): "
                                                 "the model may only copy whole source sentences."),
        ) -> None:
    """Answer a question from the indexed documents, with citations."""
    from grail.store import Filters

    g = _grail(index, config)
    try:
        ans = g.ask(question, llm=llm, k=k, allow_weak=allow_weak,
                    filters=Filters(path_glob=path_glob) if path_glob else None,
                    decoding=decoding)
    except (ValueError, RuntimeError, ConnectionError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2)
    if as_json:
        print(json.dumps(to_dict(ans), indent=2, ensure_ascii=False))
        return
    _print_answer(ans)
    if explain:
        _explain(ans, g.embedder.count_tokens)


@app.command()
def search(query: str = typer.Argument(...), index: str | None = IndexOpt, config: str | None = ConfigOpt,
           k: int = typer.Option(5, "-k"), mode: str | None = typer.Option(None, "--mode", help="hybrid | dense | bm25"),
           path_glob: str | None = typer.Option(None, "--path", help="Only documents whose path matches this glob."),
           pages: bool = typer.Option(False, "--pages", help="Rank pages: k distinct pages, each by its best passage."),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """The passages that match a query, ranked, with their scores."""
    from grail.store import Filters

    g = _grail(index, config)
    try:
        hits = g.search(query, k, mode=mode, filters=Filters(path_glob=path_glob) if path_glob else None,
                        per_page=pages)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2)
    if as_json:
        print(json.dumps(to_dict(hits), indent=2, ensure_ascii=False))
        return
    for i, h in enumerate(hits, 1):
        scores = "  ".join(f"{k}={v:.4f}" for k, v in h.scores.items())
        more = f"  [dim]({h.ranks['page_chunks']} matching passages on this page)[/dim]" if pages else ""
        if "statement" in h.ranks or "section" in h.ranks:  # routing moved it up, or added it (docs/architecture.md)
            before = (f"ranked {h.ranks['retrieved']} before routing" if "retrieved" in h.ranks
                      else "added by routing: retrieval had not found it")
            what = "a statement" if "statement" in h.ranks else "a filing section"
            more += f"  [dim]({what} the query asks for; {before})[/dim]"
        if "interim" in h.ranks:  # the query asks a fiscal year; this page reports only a quarter
            ranked = f"; ranked {h.ranks['fused']} by retrieval" if "fused" in h.ranks else ""
            more += f"  [dim](reports only a quarter, the query asks for a year: put after the rest{ranked})[/dim]"
        console.print(f"[cyan]{i}.[/cyan] {escape(Path(h.path).name)} p.{h.chunk.page}  [dim]{scores}[/dim]{more}")
        if h.chunk.heading_path:
            console.print(f"   [dim]{escape(' > '.join(h.chunk.heading_path))}[/dim]")
        text = " ".join(h.chunk.text.split())
        console.print("   " + escape(text[:400] + ("…" if len(text) > 400 else "")))


@app.command()
def status(index: str | None = IndexOpt, config: str | None = ConfigOpt,
           as_json: bool = typer.Option(False, "--json")) -> None:
    """What is indexed, how big, how fresh."""
    import datetime as dt

    g = _grail(index, config)
    st = g.status()
    if as_json:
        st["documents_list"] = [to_dict(d) for d in g.documents()]
        print(json.dumps(st, indent=2, default=str))
        return
    last = dt.datetime.fromtimestamp(st["last_indexed_at"]).isoformat(timespec="seconds") if st["last_indexed_at"] else "never"
    console.print(f"[bold]{st['folder']}[/bold]\n{st['documents']} documents, {st['pages']} pages, {st['chunks']} chunks, "
                  f"{st['tokens']} tokens; {st['bytes_on_disk'] / 1e6:.1f} MB on disk; last indexed {last}")
    console.print(f"by type: {st['by_type']}; embedder {st['embedder']}; settings {st['settings']}")
    t = Table("document", "type", "pages", "chunks", "indexed")
    for d in g.documents():
        t.add_row(escape(d.path), d.doc_type, str(d.n_pages), str(d.n_chunks),
                  dt.datetime.fromtimestamp(d.indexed_at).isoformat(timespec="seconds"))
    console.print(t)


@app.command()
def delete(target: str = typer.Argument(..., help="Document id or path."), index: str | None = IndexOpt,
           config: str | None = ConfigOpt) -> None:
    """Remove a document and all its chunks from the index."""
    g = _grail(index, config)
    if not g.delete(target):
        err.print(f"[red]not indexed:[/red] {escape(target)} (see `grail status` for what is)")
        raise typer.Exit(1)
    g.store.save_vector_index()
    console.print(f"deleted {escape(target)}")


def _mount_optional() -> None:
    try:
        from grail.eval.cli import eval_app

        app.add_typer(eval_app, name="eval")
    except ImportError:  # pragma: no cover - eval CLI not present in a partial checkout
        pass
    from grail.rerank.cli import rerank_app

    app.add_typer(rerank_app, name="rerank")
    try:
        from grail.server.cli import register as register_server

        register_server(app)
    except ImportError:  # pragma: no cover
        pass


_mount_optional()


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
