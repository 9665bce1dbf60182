"""Hand-labelled audit of answer sentences: validates the faithfulness judge, calibrates ``support_threshold``.

grail's verifier decides which draft sentences ship; ``grail eval`` grades
faithfulness with a separate, stricter lexical judge (``eval/faithfulness.py``).
Neither should be trusted without a look at real sentences, so:

1. ``sample``: draw draft sentences (seeded) from one or more eval reports that
   ran with ``--answers local`` (or any model backend); each is shown with the
   passage the verifier found best for it.
2. A person labels each one: ``true`` when that passage states what the sentence
   says (numbers included), else ``false``. Labels are written to a JSONL file
   that holds the model's sentences and the question ids, never the data sets'
   text (re-joined from the reports).
3. ``replay``: the verifier's decisions at other thresholds, exactly, from the reports.
   ``shipped``: every sentence a later run shipped, to label, carrying over the labels
   already given to the same sentence of the same question.
4. ``score``: agreement of the judge with the labels, and the verifier's
   precision / recall of "supported" at each threshold; ``support_threshold``
   is chosen by two-fold cross-validation (the threshold with the highest
   recall at precision >= 0.95 on one half, scored on the other).

    python bench/faithfulness_audit.py sample --report bench/results/squad_local.json \
        --report bench/results/fb_local.json -n 120 --out /tmp/to_label.jsonl
    python bench/faithfulness_audit.py score --labels bench/faithfulness_labels.jsonl \
        --report bench/results/squad_local.json --report bench/results/fb_local.json
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from grail.eval.faithfulness import judge

GRID = [round(0.05 * i, 2) for i in range(4, 20)]


def _sentences(reports: list[str]) -> list[dict[str, Any]]:
    out = []
    for path in reports:
        rep = json.loads(Path(path).read_text())
        for row in rep["per_query"]:
            passages = row.get("passages", {})
            for i, s in enumerate(row.get("sentences", [])):
                passage = passages.get(str(s["best_source"]))
                if passage is None:
                    continue
                out.append({"report": Path(path).name, "qid": row["id"], "i": i, "sentence": s["text"],
                            "passage": passage, "best_support": s["best_support"]})
    return out


def sample(args: argparse.Namespace) -> None:
    pool = _sentences(args.report)
    random.Random(args.seed).shuffle(pool)
    with open(args.out, "w") as f:
        for s in pool[: args.n]:
            f.write(json.dumps({**s, "label": None}) + "\n")
    print(f"{min(args.n, len(pool))} of {len(pool)} sentences written to {args.out}; set each 'label' to true/false")


def shipped(args: argparse.Namespace) -> None:
    """Every shipped sentence of the reports, to label; a label already given to the same
    sentence of the same question (in --labels) is carried over and marked ``carried``."""
    known: dict[tuple[str, str], bool] = {}
    if args.labels:
        for line in Path(args.labels).read_text().splitlines():
            if line.strip():
                lab = json.loads(line)
                if lab.get("label") is not None:
                    known[(lab["qid"], lab["sentence"])] = bool(lab["label"])
    todo = carried = 0
    with open(args.out, "w") as f:
        for path in args.report:
            rep = json.loads(Path(path).read_text())
            for row in rep["per_query"]:
                for i, sent in enumerate(row.get("sentences", [])):
                    if not sent["supported"]:
                        continue
                    label = known.get((row["id"], sent["text"]))
                    carried += label is not None
                    todo += label is None
                    f.write(json.dumps({"report": Path(path).name, "qid": row["id"], "i": i, "sentence": sent["text"],
                                        "passage": row["passages"].get(str(sent["best_source"]), ""),
                                        "label": label, "carried": label is not None}) + "\n")
    print(f"{todo + carried} shipped sentences written to {args.out}: {carried} labels carried over, {todo} to label")


def _pr(rows: list[dict[str, Any]], t: float) -> tuple[float, float]:
    shipped = [r for r in rows if r["best_support"] >= t]
    good = [r for r in rows if r["label"]]
    precision = sum(r["label"] for r in shipped) / len(shipped) if shipped else 1.0
    recall = sum(r["best_support"] >= t for r in good) / len(good) if good else 1.0
    return precision, recall


def _choose(rows: list[dict[str, Any]], floor: float) -> float:
    ok = [(t, *_pr(rows, t)) for t in GRID]
    meeting = [(t, p, r) for t, p, r in ok if p >= floor]
    if not meeting:
        return max(GRID)
    return max(meeting, key=lambda x: (x[2], -x[0]))[0]


def score(args: argparse.Namespace) -> None:
    labelled = [json.loads(line) for line in Path(args.labels).read_text().splitlines() if line.strip()]
    by_key = {(s["report"], s["qid"], s["i"]): s for s in _sentences(args.report)}
    rows = []
    for lab in labelled:
        s = by_key.get((lab["report"], lab["qid"], lab["i"]))
        if s is None or s["sentence"] != lab["sentence"] or lab.get("label") is None:
            continue  # the report changed since labelling, or not labelled
        rows.append({**s, "label": bool(lab["label"])})
    if not rows:
        raise SystemExit("no labelled sentence matches the reports: re-run the evals that were labelled")
    judged = [(judge(r["sentence"], r["passage"]), r["label"]) for r in rows]
    tp = sum(j and lab for j, lab in judged)
    result: dict[str, Any] = {
        "labelled": len(rows), "labelled_supported": sum(r["label"] for r in rows),
        "judge": {"agreement": round(sum(j == lab for j, lab in judged) / len(rows), 4),
                  "precision": round(tp / max(sum(j for j, _ in judged), 1), 4),
                  "recall": round(tp / max(sum(lab for _, lab in judged), 1), 4)},
        "verifier": [{"threshold": t, "precision": round(p, 4), "recall": round(r, 4)}
                     for t in GRID for p, r in [_pr(rows, t)]],
    }
    halves = [rows[0::2], rows[1::2]]
    folds = []
    for a, b in ((0, 1), (1, 0)):
        t = _choose(halves[a], args.precision)
        p, r = _pr(halves[b], t)
        folds.append({"chosen_on_half": a, "threshold": t, "held_out_precision": round(p, 4),
                      "held_out_recall": round(r, 4)})
    result["cross_validated"] = folds
    result["threshold_on_all"] = _choose(rows, args.precision)
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))


def replay(args: argparse.Namespace) -> None:
    """The verifier's decision at another ``support_threshold``, replayed exactly from a report.

    A sentence ships when its best support over every packed passage
    (``best_support``, from the verify trace) reaches the threshold; it keeps
    its own citations when they carried it, else it cites its best passage.
    Thresholds below the one the report ran with cannot be replayed (sentences
    dropped then were never kept with their citations).
    """
    out = {}
    for path in args.report:
        rep = json.loads(Path(path).read_text())
        ran = rep["config"]["settings"]["support_threshold"]
        rows = []
        for t in sorted({ran, *args.threshold}):
            if t < ran:
                continue
            draft = shipped = faithful = anywhere = kept = 0
            for row in rep["per_query"]:
                passages = row.get("passages", {})
                for s in row.get("sentences", []):
                    draft += 1
                    anywhere += s["judge_anywhere"]
                    if s["best_support"] < t:
                        continue
                    shipped += 1
                    kept += s["judge_anywhere"]
                    own = s["supported"] and s["citations"] and set(s["citations"]) <= set(s["draft_citations"]) \
                        and s["support"] >= t
                    cites = s["citations"] if own else [s["best_source"]]
                    faithful += any(judge(s["text"], passages[str(n)]) for n in cites if str(n) in passages)
            rows.append({"threshold": t, "draft_sentences": draft, "shipped": shipped,
                         "faithfulness_after": round(faithful / shipped, 4) if shipped else None,
                         "kept_of_supported_anywhere": round(kept / anywhere, 4) if anywhere else None})
        out[Path(path).name] = rows
    print(json.dumps(out, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--report", action="append", required=True)
    s.add_argument("-n", type=int, default=120)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--out", required=True)
    c = sub.add_parser("score")
    c.add_argument("--labels", required=True)
    c.add_argument("--report", action="append", required=True)
    c.add_argument("--precision", type=float, default=0.95)
    c.add_argument("--out")
    h = sub.add_parser("shipped")
    h.add_argument("--report", action="append", required=True)
    h.add_argument("--labels")
    h.add_argument("--out", required=True)
    r = sub.add_parser("replay")
    r.add_argument("--report", action="append", required=True)
    r.add_argument("--threshold", type=float, action="append", default=[])
    r.add_argument("--out")
    args = ap.parse_args()
    {"sample": sample, "score": score, "replay": replay, "shipped": shipped}[args.cmd](args)


if __name__ == "__main__":
    main()
