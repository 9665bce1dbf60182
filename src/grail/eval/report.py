"""Evaluation reports: one JSON file per run, and the diff between two runs.

A report records what was measured (``totals``, ``per_query``), under which
``config``, on which ``dataset`` (with a content fingerprint), how long it
took, and the software it ran on (Python, grail, numpy, platform) with a UTC
timestamp, so two runs can be compared honestly. The one decision: a diff
compares **numbers only**: numeric leaves of ``totals`` (nested dicts
flattened with dots, "retrieval.ndcg@10") and numeric or boolean fields of
per-query entries matched by their ``id``; text fields are context, not
results. Values equal within 1e-9 relative / 1e-12 absolute count as unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import platform
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from grail.eval.datasets import dataset_fingerprint
from grail.records import to_dict

__all__ = [
    "FieldChange",
    "MetricDelta",
    "QueryChange",
    "ReportDiff",
    "diff_reports",
    "flatten",
    "read_report",
    "render_diff",
    "write_report",
]

SCHEMA_VERSION = 1
Number = int | float | bool


@dataclass(frozen=True)
class MetricDelta:
    name: str  # dotted path into totals
    old: float | None  # None: absent from report A
    new: float | None  # None: absent from report B

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return float(self.new) - float(self.old)

    @property
    def changed(self) -> bool:
        return not _same(self.old, self.new)


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: Number | None
    new: Number | None


@dataclass(frozen=True)
class QueryChange:
    id: str
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class ReportDiff:
    a_path: str
    b_path: str
    metrics: tuple[
        MetricDelta, ...
    ]  # every numeric total in either report, sorted by name
    changed_queries: tuple[QueryChange, ...]  # in report A's order, then B-only ids
    only_in_a: tuple[str, ...]  # per-query ids missing from B
    only_in_b: tuple[str, ...]
    same_dataset: bool  # both reports carry the same dataset fingerprint
    kinds: tuple[str, str]

    @property
    def changed_metrics(self) -> tuple[MetricDelta, ...]:
        return tuple(m for m in self.metrics if m.changed)


def _versions() -> dict[str, str]:
    try:
        from importlib.metadata import PackageNotFoundError, version

        grail_version = version("grail")
    except PackageNotFoundError:
        import grail

        grail_version = getattr(grail, "__version__", "unknown (not installed)")
    try:
        import numpy

        numpy_version = numpy.__version__
    except ImportError:
        numpy_version = "not installed"
    return {
        "python": sys.version.split()[0],
        "grail": grail_version,
        "numpy": numpy_version,
        "platform": platform.platform(),
    }


def _jsonable(value: Any) -> Any:
    """Records and paths to JSON values; NaN/inf become null (JSON has no such numbers)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(to_dict(value))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [_jsonable(v) for v in items]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    raise TypeError(
        f"Cannot write {type(value).__name__} to a report; pass plain numbers, strings, lists or dicts."
    )


def write_report(
    path: str | Path,
    *,
    kind: str,
    config: dict,
    dataset: dict,
    totals: dict,
    per_query: list[dict],
    timings: dict,
) -> None:
    """Write one evaluation report as JSON (atomically: a reader never sees half a file).

    ``dataset`` should name the data (e.g. ``{"name": "scifact", "split": "test",
    "path": ...}``); when it has a ``path`` and no ``fingerprint``, the
    fingerprint is computed here. Each ``per_query`` entry needs an ``id``.
    """
    path = Path(path)
    dataset = dict(dataset)
    if "fingerprint" not in dataset and dataset.get("path"):
        dataset["fingerprint"] = dataset_fingerprint(dataset["path"])
    for i, entry in enumerate(per_query):
        if "id" not in entry:
            raise ValueError(
                f"per_query[{i}] has no 'id' key; every entry needs one so runs can be diffed."
            )
    report = {
        "schema": SCHEMA_VERSION,
        "kind": kind,
        "created_utc": dt.datetime.now(dt.UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "versions": _versions(),
        "config": config,
        "dataset": dataset,
        "totals": totals,
        "timings": timings,
        "per_query": per_query,
    }
    text = json.dumps(_jsonable(report), indent=2, ensure_ascii=False, allow_nan=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_report(path: str | Path) -> dict:
    """Load a report written by ``write_report``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Report not found: {path}.")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path} is not a JSON report ({exc.msg} at line {exc.lineno})."
        ) from exc
    if (
        not isinstance(report, dict)
        or "totals" not in report
        or "per_query" not in report
    ):
        raise ValueError(
            f"{path} is not a grail evaluation report: it lacks 'totals' or 'per_query'."
        )
    return report


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts to one level with dotted keys: {"a": {"b": 1}} -> {"a.b": 1}."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(flatten(item, name + "."))
        else:
            out[name] = item
    return out


def _is_number(value: Any) -> bool:
    return isinstance(
        value, (int, float)
    )  # bool is an int: a flag flip is a result change


def _same(old: Number | None, new: Number | None) -> bool:
    if old is None or new is None:
        return old is None and new is None
    return math.isclose(float(old), float(new), rel_tol=1e-9, abs_tol=1e-12)


def _numeric_fields(entry: Mapping[str, Any]) -> dict[str, Number]:
    return {k: v for k, v in flatten(entry).items() if k != "id" and _is_number(v)}


def _by_id(report: dict, path: str | Path) -> dict[str, Mapping[str, Any]]:
    entries: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(report["per_query"]):
        if "id" not in entry:
            raise ValueError(
                f"{path}: per_query[{i}] has no 'id'; cannot match queries between runs."
            )
        key = str(entry["id"])
        if key in entries:
            raise ValueError(
                f"{path}: per-query id {key!r} appears twice; ids must be unique."
            )
        entries[key] = entry
    return entries


def diff_reports(a_path: str | Path, b_path: str | Path) -> ReportDiff:
    """What changed from report A to report B: totals deltas and per-query numeric changes."""
    a, b = read_report(a_path), read_report(b_path)
    a_totals = {k: v for k, v in flatten(a["totals"]).items() if _is_number(v)}
    b_totals = {k: v for k, v in flatten(b["totals"]).items() if _is_number(v)}
    metrics = tuple(
        MetricDelta(name, a_totals.get(name), b_totals.get(name))
        for name in sorted(a_totals.keys() | b_totals.keys())
    )
    a_queries, b_queries = _by_id(a, a_path), _by_id(b, b_path)
    changes = []
    for qid, a_entry in a_queries.items():
        if qid not in b_queries:
            continue
        old, new = _numeric_fields(a_entry), _numeric_fields(b_queries[qid])
        fields = tuple(
            FieldChange(name, old.get(name), new.get(name))
            for name in sorted(old.keys() | new.keys())
            if not _same(old.get(name), new.get(name))
        )
        if fields:
            changes.append(QueryChange(qid, fields))
    a_fp = (a.get("dataset") or {}).get("fingerprint")
    b_fp = (b.get("dataset") or {}).get("fingerprint")
    return ReportDiff(
        a_path=str(a_path),
        b_path=str(b_path),
        metrics=metrics,
        changed_queries=tuple(changes),
        only_in_a=tuple(q for q in a_queries if q not in b_queries),
        only_in_b=tuple(q for q in b_queries if q not in a_queries),
        same_dataset=a_fp is not None and a_fp == b_fp,
        kinds=(str(a.get("kind", "")), str(b.get("kind", ""))),
    )


def _fmt(value: Number | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):  # bool included
        return str(value)
    return f"{value:.4f}"


def _fmt_delta(old: Number | None, new: Number | None) -> str:
    if old is None or new is None or isinstance(old, bool) or isinstance(new, bool):
        return ""
    delta = float(new) - float(old)
    style = "green" if delta > 0 else "red" if delta < 0 else "dim"
    return f"[{style}]{delta:+.4f}[/{style}]"


def render_diff(diff: ReportDiff, max_queries: int = 50) -> Table:
    """A rich table: every total (A, B, delta), then the changed per-query fields.

    Green and red mark the sign of the delta, not whether it is better: for
    latencies a rise is worse.
    """
    title = f"{Path(diff.a_path).name} → {Path(diff.b_path).name}"
    if not diff.same_dataset:
        title += "  [yellow](dataset fingerprints differ or are missing)[/yellow]"
    table = Table(title=title)
    table.add_column("metric / query · field")
    table.add_column("A", justify="right")
    table.add_column("B", justify="right")
    table.add_column("Δ", justify="right")
    for m in diff.metrics:
        name = escape(m.name) if m.changed else f"[dim]{escape(m.name)}[/dim]"
        table.add_row(name, _fmt(m.old), _fmt(m.new), _fmt_delta(m.old, m.new))
    if diff.changed_queries or diff.only_in_a or diff.only_in_b:
        table.add_section()
        table.add_row(
            f"[bold]{len(diff.changed_queries)} queries changed[/bold]", "", "", ""
        )
        for change in diff.changed_queries[:max_queries]:
            for f in change.fields:
                table.add_row(
                    escape(f"{change.id} · {f.name}"),
                    _fmt(f.old),
                    _fmt(f.new),
                    _fmt_delta(f.old, f.new),
                )
        if len(diff.changed_queries) > max_queries:
            table.add_row(
                f"… and {len(diff.changed_queries) - max_queries} more queries",
                "",
                "",
                "",
            )
        if diff.only_in_a:
            table.add_row(f"only in A: {len(diff.only_in_a)} queries", "", "", "")
        if diff.only_in_b:
            table.add_row(f"only in B: {len(diff.only_in_b)} queries", "", "", "")
    return table
