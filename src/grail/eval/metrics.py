"""Ranking metrics: nDCG@k, Recall@k, Precision@k, MRR@k and Hit@k for one query.

These are the trec_eval / pytrec_eval definitions that BEIR and MTEB report,
so numbers computed here are comparable with their published tables:

* DCG@k = sum over ranks r = 1..k of gain(r) / log2(r + 1), with the **gain
  equal to the relevance grade** in the qrels (linear gain). This is what
  trec_eval's ``ndcg_cut`` does ("Gain values are the relevance values in the
  qrels file"; its loop adds ``gain / log2(i + 2)`` for the 0-based index i),
  and BEIR's ``EvaluateRetrieval.evaluate`` calls pytrec_eval with
  ``ndcg_cut.k``. It is *not* the exponential 2^rel - 1 gain of Burges et al.
  (trec_eval's separate ``ndcg2`` measures); on binary qrels such as SciFact
  the two agree.
* Ideal DCG@k sorts the qrels' positive grades in descending order; grades <= 0
  are not relevant. A query with no relevant documents scores 0.0 everywhere.
* Recall@k = |relevant in top k| / |relevant|; Precision@k divides by k even
  when fewer than k results were returned (trec_eval's ``P_k``); MRR@k is
  1 / rank of the first relevant result within the top k (BEIR's ``mrr@k``);
  Hit@k is 1.0 when any relevant result is in the top k. ``relevant`` may be
  a set of ids or a qrels mapping (then only grades > 0 count).

The one decision: a ranking that repeats an id counts the document **once**, at
its first position, and later copies are dropped before the cut-off (as if the
run were the id -> score mapping pytrec_eval takes), so duplicates can neither
earn gain twice nor push other results out of the top k.
Averages over queries are left to the caller (``statistics.fmean``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence

__all__ = [
    "dcg_at_k",
    "hit_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "recall_at_k",
    "top_k_unique",
]


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")


def _relevant_set(relevant: Collection[str]) -> set[str]:
    # A qrels mapping may be passed as ``relevant``: only grades > 0 count.
    if isinstance(relevant, Mapping):
        return {doc_id for doc_id, grade in relevant.items() if grade > 0}
    return set(relevant)


def top_k_unique(ranked_ids: Iterable[str], k: int) -> list[str]:
    """The first ``k`` distinct ids of a ranking, each at its first position."""
    _check_k(k)
    seen: set[str] = set()
    top: list[str] = []
    for doc_id in ranked_ids:
        if doc_id in seen:
            continue
        seen.add(doc_id)
        top.append(doc_id)
        if len(top) == k:
            break
    return top


def dcg_at_k(gains: Sequence[float], k: int) -> float:
    """Discounted cumulative gain of the first ``k`` gains (rank 1 first).

    ``gains[i]`` is the relevance grade of the result at rank i + 1, used as-is
    (linear gain, the trec_eval / BEIR convention), discounted by log2(rank + 1).
    """
    _check_k(k)
    return sum(
        g / math.log2(rank + 1) for rank, g in enumerate(gains[:k], start=1) if g > 0
    )


def ndcg_at_k(ranked_ids: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """nDCG@k of one ranking against graded qrels (doc id -> grade; > 0 is relevant)."""
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)
    if not ideal:
        return 0.0
    gains = [max(qrels.get(doc_id, 0), 0) for doc_id in top_k_unique(ranked_ids, k)]
    return dcg_at_k(gains, k) / dcg_at_k(ideal, k)


def recall_at_k(ranked_ids: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant documents that appear in the top ``k``."""
    relevant = _relevant_set(relevant)
    if not relevant:
        _check_k(k)
        return 0.0
    found = sum(1 for doc_id in top_k_unique(ranked_ids, k) if doc_id in relevant)
    return found / len(relevant)


def precision_at_k(
    ranked_ids: Sequence[str], relevant: Collection[str], k: int
) -> float:
    """Relevant results in the top ``k`` divided by ``k`` (not by the number returned)."""
    relevant = _relevant_set(relevant)
    found = sum(1 for doc_id in top_k_unique(ranked_ids, k) if doc_id in relevant)
    return found / k


def mrr_at_k(ranked_ids: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Reciprocal rank of the first relevant result in the top ``k``; 0.0 if none."""
    relevant = _relevant_set(relevant)
    for rank, doc_id in enumerate(top_k_unique(ranked_ids, k), start=1):
        if doc_id in relevant:
            return 1.0 / rank
    return 0.0


def hit_at_k(ranked_ids: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1.0 when at least one relevant result is in the top ``k``, else 0.0."""
    relevant = _relevant_set(relevant)
    return (
        1.0
        if any(doc_id in relevant for doc_id in top_k_unique(ranked_ids, k))
        else 0.0
    )
