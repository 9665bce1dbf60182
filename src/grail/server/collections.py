"""Collections and indexing jobs: what ``grail serve`` holds between requests.

A collection is a named index folder under the server root
(``<root>/<name>/``, names ``[a-z0-9_-]{1,64}``); uploaded files live in its
``files/`` subfolder under a sanitised basename. One ``Grail`` per collection
is shared by every request, and all collections share one embedder. The
decision: indexing runs on a single background worker thread, one job at a
time in submission order, so uploads never race each other on the store
while searches keep reading their own WAL snapshots.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from grail.config import Settings
from grail.facade import Grail
from grail.ingest.loaders import SUPPORTED_SUFFIXES

NAME = re.compile(r"[a-z0-9_-]{1,64}")
DEFAULT = "default"
FILES = "files"
MAX_JOBS_KEPT = 500


class UnknownCollection(LookupError):
    def __init__(self, name: str, existing: list[str]) -> None:
        super().__init__(f"unknown collection {name!r}; existing collections: {', '.join(existing)}. "
                         "Create it with POST /v1/collections {\"name\": ...}")


class BadUpload(ValueError):
    """An upload refused before anything was written."""


class TooLarge(ValueError):
    """An upload over the size limit (HTTP 413)."""


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise ValueError(f"invalid collection name {name!r}: use 1-64 characters from a-z, 0-9, '_' and '-'")
    return name


def safe_filename(raw: str | None) -> str:
    """The basename an upload is stored under, or BadUpload: never a path, never hidden."""
    name = raw or ""
    if not name.strip():
        raise BadUpload("the uploaded file has no name; send it with a filename")
    if "\x00" in name or any(ord(c) < 32 for c in name):
        raise BadUpload(f"file name {name!r} contains control characters; rename the file")
    if "/" in name or "\\" in name or name.startswith("~") or re.match(r"^[A-Za-z]:", name):
        raise BadUpload(f"file name {name!r} is a path; send just the file's name, without folders")
    if name in (".", "..") or ".." in name or name.startswith("."):
        raise BadUpload(f"file name {name!r} is not allowed (no '..' and no leading '.'); rename the file")
    if len(name.encode("utf-8")) > 200:
        raise BadUpload("file name is longer than 200 bytes; rename the file")
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise BadUpload(f"cannot index {name!r}: supported types are {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    return name


@dataclass
class Job:
    id: str
    collection: str
    files: list[str]
    status: str = "queued"  # queued | running | done | failed
    done: int = 0
    total: int = 0
    current: str = ""
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    error: str = ""
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["files"] = [Path(f).name for f in self.files]
        d["progress"] = round(self.done / self.total, 4) if self.total else (1.0 if self.status == "done" else 0.0)
        return d


class Collections:
    """The server's collections, their shared ``Grail`` objects and the indexing queue."""

    def __init__(self, root: str | Path, settings: Settings, *, mounts: dict[str, str | Path] | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self._mounts = {check_name(k): Path(v).expanduser().resolve() for k, v in (mounts or {}).items()}
        self._grails: dict[str, Grail] = {}
        self._lock = threading.RLock()
        self._embedder: Any = None
        self._jobs: dict[str, Job] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grail-index")
        self.create(DEFAULT)

    def folder(self, name: str) -> Path:
        return self._mounts.get(name) or self.root / name

    def names(self) -> list[str]:
        found = {p.name for p in self.root.iterdir() if p.is_dir() and NAME.fullmatch(p.name)
                 and (p / "index.db").exists()}
        return sorted(found | set(self._mounts) | set(self._grails) | {DEFAULT})

    def get(self, name: str) -> Grail:
        check_name(name)
        with self._lock:
            if name in self._grails:
                return self._grails[name]
            if name not in self.names():
                raise UnknownCollection(name, self.names())
            return self._open(name)

    def create(self, name: str) -> tuple[Grail, bool]:
        """The collection's Grail, and whether it was created now."""
        check_name(name)
        with self._lock:
            existed = name in self._grails or (self.folder(name) / "index.db").exists()
            g = self._grails.get(name) or self._open(name)
            return g, not existed

    def _open(self, name: str) -> Grail:
        g = Grail(self.folder(name), settings=self.settings, embedder=self._embedder)
        self._embedder = g.embedder  # one model in memory for all collections
        _ = g.store  # create the folder and schema now, so the collection is listed from here on
        self._grails[name] = g
        return g

    def files_dir(self, name: str) -> Path:
        d = self.folder(name) / FILES
        d.mkdir(parents=True, exist_ok=True)
        return d

    # -- uploads -------------------------------------------------------------
    def store_uploads(self, name: str, uploads: list[tuple[str, IO[bytes]]], max_bytes: int) -> list[Path]:
        """Write uploads into the collection's files folder; all or nothing.

        Names are checked before any byte is written; each file goes to a
        temporary name first and is renamed into place only when every file
        was read within ``max_bytes`` in total.
        """
        names = [safe_filename(n) for n, _ in uploads]
        if len(set(names)) != len(names):
            raise BadUpload("the same file name was uploaded twice in one request")
        target = self.files_dir(name)
        temps: list[Path] = []
        try:
            total = 0
            for _, stream in uploads:
                fd, tmp_name = tempfile.mkstemp(prefix=".upload-", dir=target)
                temps.append(Path(tmp_name))
                with os.fdopen(fd, "wb") as out:
                    while block := stream.read(1 << 20):
                        total += len(block)
                        if total > max_bytes:
                            raise TooLarge(f"upload is larger than the limit of {max_bytes // (1 << 20)} MB; "
                                           "send smaller files or start the server with a larger --max-upload-mb")
                        out.write(block)
            final = []
            for tmp, n in zip(temps, names, strict=True):
                dest = (target / n).resolve()
                if dest.parent != target.resolve():  # belt and braces after safe_filename
                    raise BadUpload(f"file name {n!r} would be stored outside the collection")
                os.replace(tmp, dest)
                final.append(dest)
            return final
        finally:
            for tmp in temps:
                tmp.unlink(missing_ok=True)

    # -- jobs -------------------------------------------------------------------
    def submit(self, name: str, paths: list[Path]) -> Job:
        g = self.get(name)
        job = Job(id=uuid.uuid4().hex[:16], collection=name, files=[str(p) for p in paths], total=len(paths))
        with self._lock:
            self._jobs[job.id] = job
            for old in sorted(self._jobs.values(), key=lambda j: j.created_at)[:-MAX_JOBS_KEPT]:
                if old.status in ("done", "failed"):
                    del self._jobs[old.id]
        self._worker.submit(self._run, g, job)
        return job

    def _run(self, g: Grail, job: Job) -> None:
        job.status, job.started_at = "running", time.time()

        def progress(path: str, done: int, total: int) -> None:
            job.current, job.done, job.total = Path(path).name, done, total

        try:
            report = g.index(*job.files, on_progress=progress)
            job.added, job.updated, job.unchanged = report.added, report.updated + report.reread, report.unchanged
            job.failures = [{"file": Path(p).name, "reason": r} for p, r in report.failed]
            job.status = "failed" if report.failed and not (job.added or job.updated or job.unchanged) else "done"
        except Exception as exc:  # noqa: BLE001  (a job reports its failure instead of dying silently)
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            job.current, job.finished_at = "", time.time()

    def job(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def jobs(self, name: str | None = None) -> list[Job]:
        return sorted((j for j in list(self._jobs.values()) if name is None or j.collection == name),
                      key=lambda j: j.created_at, reverse=True)

    def pending_files(self, name: str) -> list[dict[str, Any]]:
        """Files of queued or running jobs (shown in the documents list as not yet indexed)."""
        out = []
        for j in self.jobs(name):
            if j.status in ("queued", "running"):
                for i, f in enumerate(j.files):
                    state = "indexing" if j.status == "running" and i >= j.done else (
                        "queued" if j.status == "queued" else "indexed")
                    if state != "indexed":
                        out.append({"path": f, "name": Path(f).name, "status": state, "job_id": j.id})
        return out

    def close(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
        for g in self._grails.values():
            g.close()
