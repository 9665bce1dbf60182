"""Fusion: merge ranked lists from different retrievers into one.

Two methods, chosen by measurement on SciFact (see docs/benchmarks.md):
reciprocal rank fusion, which uses ranks only, and a convex combination of
min-max normalised scores (Bruch et al., 2023), which uses score gaps too.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

Ranked = Sequence[tuple[Hashable, float]]  # (id, score) best first


def reciprocal_rank_fusion(lists: Mapping[str, Ranked], k: int = 60,
                           weights: Mapping[str, float] | None = None) -> list[tuple[Hashable, float]]:
    scores: dict[Hashable, float] = {}
    for name, ranked in lists.items():
        w = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, (item, _) in enumerate(ranked, start=1):
            scores[item] = scores.get(item, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def min_max(ranked: Ranked) -> dict[Hashable, float]:
    if not ranked:
        return {}
    vals = [s for _, s in ranked]
    lo, hi = min(vals), max(vals)
    span = hi - lo
    return {item: ((s - lo) / span if span > 0 else 1.0) for item, s in ranked}


def convex_combination(lists: Mapping[str, Ranked], weights: Mapping[str, float]) -> list[tuple[Hashable, float]]:
    """sum_i w_i * minmax_i(score); an item missing from a list gets 0 from it."""
    scores: dict[Hashable, float] = {}
    for name, ranked in lists.items():
        w = weights.get(name, 0.0)
        for item, s in min_max(ranked).items():
            scores[item] = scores.get(item, 0.0) + w * s
    return sorted(scores.items(), key=lambda kv: -kv[1])
