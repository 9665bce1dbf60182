"""SQuAD v1.1 answer scoring: exact match and token F1, as the official script computes them.

This is a faithful reimplementation of ``evaluate-v1.1.py`` from the SQuAD
site: an answer is normalised (lower-case, ASCII punctuation removed, the
articles a/an/the removed, whitespace collapsed); EM is string equality of the
normalised texts; F1 is over the multiset of whitespace tokens; each question
takes the **maximum over its gold answers**; totals are percentages over
**every question in the dataset**, so a question without a prediction counts
as 0 (the official script prints a warning and does the same).

The one decision: the functions keep the official script's exact behaviour,
quirks included (e.g. ``string.punctuation`` is ASCII only, so a curly quote
or an en dash stays a token character), because the point is comparability
with published dev scores, not a better normaliser.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SquadQuestion",
    "evaluate",
    "exact_match_score",
    "f1_score",
    "load_squad",
    "max_over_ground_truths",
    "normalize_answer",
    "score_predictions",
]

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


@dataclass(frozen=True)
class SquadQuestion:
    qid: str
    question: str
    context: str
    answers: tuple[str, ...]  # every gold answer text, duplicates kept as in the file
    title: str
    paragraph_id: str  # "<title>#<paragraph index within the article>"


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation, drop articles, collapse whitespace (official order)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match_score(prediction: str, ground_truth: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def f1_score(prediction: str, ground_truth: str) -> float:
    """Token-bag F1 between the normalised prediction and one gold answer."""
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(prediction_tokens)
    recall = num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def max_over_ground_truths(
    metric: Callable[[str, str], float], prediction: str, ground_truths: Iterable[str]
) -> float:
    """The best score of ``metric(prediction, gold)`` over all gold answers."""
    return float(max(metric(prediction, gt) for gt in ground_truths))


def load_squad(path: str | Path) -> list[SquadQuestion]:
    """Every question of a SQuAD v1.1 JSON file, in file order."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"SQuAD file not found: {path}. Point to dev-v1.1.json (e.g. shared/data/squad-v1.1-dev/)."
        )
    with path.open(encoding="utf-8") as f:
        raw = json.load(f)
    if not isinstance(raw, dict) or "data" not in raw:
        raise ValueError(
            f"{path} is not a SQuAD file: expected a JSON object with a 'data' list."
        )
    version = raw.get("version")
    if version not in (None, "1.1"):
        raise ValueError(
            f"{path} is SQuAD version {version!r}; this scorer implements the v1.1 metric only."
        )
    questions: list[SquadQuestion] = []
    for article in raw["data"]:
        title = article.get("title", "")
        for p_index, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                questions.append(
                    SquadQuestion(
                        qid=qa["id"],
                        question=qa["question"],
                        context=paragraph["context"],
                        answers=tuple(a["text"] for a in qa["answers"]),
                        title=title,
                        paragraph_id=f"{title}#{p_index}",
                    )
                )
    return questions


def evaluate(
    questions: Iterable[SquadQuestion], predictions: Mapping[str, str]
) -> dict[str, float]:
    """Official EM / F1 in percent over ``questions``; missing predictions score 0.

    Returns ``exact_match``, ``f1`` (percent), ``n`` (questions scored) and
    ``unanswered`` (questions with no prediction).
    """
    exact_match = f1 = 0.0
    total = unanswered = 0
    for q in questions:
        total += 1
        if q.qid not in predictions:
            unanswered += 1
            continue
        prediction = predictions[q.qid]
        exact_match += max_over_ground_truths(exact_match_score, prediction, q.answers)
        f1 += max_over_ground_truths(f1_score, prediction, q.answers)
    if total == 0:
        raise ValueError("No questions to score: the dataset is empty.")
    return {
        "exact_match": 100.0 * exact_match / total,
        "f1": 100.0 * f1 / total,
        "n": total,
        "unanswered": unanswered,
    }


def score_predictions(
    dataset_path: str | Path, predictions: Mapping[str, str]
) -> dict[str, float]:
    """Score ``{qid: answer text}`` against a SQuAD v1.1 file, like ``evaluate-v1.1.py``."""
    return evaluate(load_squad(dataset_path), predictions)
