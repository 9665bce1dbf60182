"""``grail serve`` and ``grail mcp``: the commands that put grail on a port or a pipe.

``register(app)`` adds both to the main typer app (``grail/cli.py`` calls it).
The decision: ``serve`` refuses to bind anything but loopback unless at least
one API key is configured, and it loads the embedding model before it
accepts the first request, so the first user does not pay for it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from fastapi import FastAPI

    from grail.config import Settings
    from grail.server.auth import KeyCheck

err = Console(stderr=True)


def serve(root: str = typer.Option("./.grail-server", "--root", help="Server folder: one index folder per collection."),
          host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; anything but loopback needs API keys."),
          port: int = typer.Option(8000, "--port"),
          api_key_file: str | None = typer.Option(None, "--api-key-file",
                                                     help="File of sha256 key hashes, one per line (GRAIL_API_KEYS adds plain keys)."),
          mount: list[str] = typer.Option([], "--collection",
                                          help="NAME=DIR: serve an existing index folder as collection NAME (repeatable)."),
          max_upload_mb: int = typer.Option(50, "--max-upload-mb", help="Largest upload request accepted."),
          config: str | None = typer.Option(None, "--config", "-c", help="Settings file (default ./grail.toml)."),
          new_key: bool = typer.Option(False, "--new-key", help="Print a new API key and the hash line to store, then exit."),
          ) -> None:
    """Serve the HTTP API, the web page and the OpenAI-compatible endpoint."""
    from grail.config import load_settings
    from grail.server.auth import KeyCheck, KeyConfigError, is_loopback, load_key_hashes
    from grail.server.auth import new_key as make_key

    if new_key:
        key, digest = make_key()
        print(f"key (give this to the client, it is not stored): {key}")
        print(f"hash line for --api-key-file: sha256:{digest}")
        return
    try:
        hashes = load_key_hashes(api_key_file)
    except KeyConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    if not hashes and not is_loopback(host):
        err.print(f"[red]refusing to bind {escape(host)} without API keys:[/red] anyone on the network could read "
                  "your documents. Create a key with `grail serve --new-key`, then pass --api-key-file FILE "
                  "or set GRAIL_API_KEYS.")
        raise typer.Exit(2) from None
    mounts = {}
    for m in mount:
        name, sep, folder = m.partition("=")
        if not sep or not folder:
            err.print(f"[red]error:[/red] --collection {escape(m)}: expected NAME=DIR")
            raise typer.Exit(2) from None
        mounts[name] = folder
    try:
        settings = load_settings(config)
        app = build(root, settings, mounts, KeyCheck(hashes), max_upload_mb)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    import uvicorn

    where = f"http://{host}:{port}/"
    err.print(f"grail serving {escape(str(Path(root).resolve()))} at {where} "
              f"({'API keys required' if hashes else 'no API key needed on loopback'}); API schema at {where}docs")
    # keep idle connections longer than clients do (uvicorn's 5 s default races with pooled clients
    # reusing a connection just as the server closes it: seen as a read error under load)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_keep_alive=75)


def build(root: str, settings: Settings, mounts: dict[str, str], keys: KeyCheck, max_upload_mb: int) -> FastAPI:
    """The served app, with the embedding model already loaded."""
    from grail.server.app import create_app
    from grail.server.collections import Collections

    cols = Collections(root, settings, mounts=dict(mounts))
    cols.get("default").embedder.embed(["warm up"])  # load the model now, not on the first request
    return create_app(cols, keys=keys, max_upload_mb=max_upload_mb)


def mcp(index: str | None = typer.Option(None, "--index", "-i", help="Collection folder (default ./.grail or GRAIL_INDEX)."),
        http: bool = typer.Option(False, "--http", help="Serve streamable HTTP instead of stdio."),
        host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(8765, "--port"),
        config: str | None = typer.Option(None, "--config", "-c", help="Settings file (default ./grail.toml)."),
        ) -> None:
    """Serve the index to MCP clients (Claude Desktop, IDEs) over stdio or streamable HTTP."""
    from grail.mcp_server import main as mcp_main

    argv = ["--port", str(port), "--host", host] + (["--index", index] if index else []) + (["--http"] if http else [])
    if config:
        argv += ["--config", config]
    try:
        mcp_main(argv)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(mcp)


@contextlib.contextmanager
def serve_in_thread(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` under uvicorn in a background thread; yields its base URL (port 0 = any free port)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True, name="grail-serve")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
