"""Quote-constrained decoding: the local model can only copy whole source sentences, cited."""

from __future__ import annotations

import re

import pytest

from grail import Grail
from grail.generate import llms
from grail.generate.local import LocalLLM
from grail.generate.quotes import QuoteConstraint

END = -1


def _encode(text: str) -> list[int]:
    """A toy tokenizer: one token per character (ord), enough to exercise the trie."""
    return [ord(c) for c in text]


def _run(qc: QuoteConstraint, choose) -> str:
    """Decode with ``choose(allowed, generated)`` picking each next token, until END."""
    out: list[int] = []
    for _ in range(500):
        allowed = qc.allowed(out)
        assert allowed, "the constraint must never leave nothing to choose"
        tok = choose(allowed, out)
        assert tok in allowed
        if tok == END:
            break
        out.append(tok)
    return "".join(chr(t) for t in out)


def test_only_whole_sentences_each_followed_by_its_citation():
    qc = QuoteConstraint([(1, "Ab."), (2, "Abc."), (2, "X y.")], _encode, END, max_sentences=2)
    # a chooser that always takes the highest id: it wanders as far from the sources as it may
    text = _run(qc, lambda allowed, out: max(allowed))
    quotes = re.findall(r"(.+?) \[(\d)\]\n", text)
    assert text == "".join(f"{s} [{n}]\n" for s, n in quotes) and len(quotes) == 2
    assert {(s, int(n)) for s, n in quotes} <= {("Ab.", 1), ("Abc.", 2), ("X y.", 2)}
    assert len({s for s, _ in quotes}) == 2  # never the same sentence twice


def test_a_quote_can_stop_at_a_shorter_sentence_that_prefixes_a_longer_one():
    qc = QuoteConstraint([(1, "Ab."), (2, "Ab. Cd.")], _encode, END, max_sentences=1)
    closes_early = _run(qc, lambda allowed, out: ord(" ") if ord(" ") in allowed and out[-1:] == [ord(".")]
                        else (END if END in allowed else min(allowed)))
    assert closes_early == "Ab. [1]\n"


def test_nothing_to_quote_ends_at_once():
    qc = QuoteConstraint([], _encode, END)
    assert qc.empty and qc.allowed([]) == [END]


def test_quotes_start_only_when_they_can_finish_within_the_budget():
    # "short. [1]\n" is 11 tokens here: a second quote no longer fits in 24, the longer one never does
    qc = QuoteConstraint([(1, "short."), (1, "a much longer sentence."), (2, "tiny.")], _encode, END,
                         max_sentences=3, max_tokens=24)
    text = _run(qc, lambda allowed, out: max(allowed))
    assert text in ("short. [1]\ntiny. [2]\n", "tiny. [2]\nshort. [1]\n"), text
    assert len(text) <= 24


@pytest.fixture(scope="module")
def local() -> LocalLLM:
    llm = llms.create("local")
    assert isinstance(llm, LocalLLM)
    return llm


def test_the_real_model_copies_its_answer_from_the_sources(tmp_path, embedder, local):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pumps.md").write_text(
        "# Pump manual\n\n## Maintenance\n\nReplace the impeller seal every 2,000 operating hours. "
        "The seal kit part number is PK-448.\n\n## Warranty\n\nThe warranty covers the motor for 5 years.\n")
    g = Grail(tmp_path / "idx", embedder=embedder, llm="local", answer_tokens=64)
    g._llms["local"] = local  # share the loaded model with the other tests
    assert g.index(docs).ok
    ans = g.ask("How long does the warranty cover the motor?")  # decoding "auto": quotes for the local model
    assert not ans.abstained, ans.abstain_reason
    draft = next(s for s in ans.trace.stages if s.name == "generate").data
    assert draft["decoding"] == "quotes"
    page = (docs / "pumps.md").read_text()
    for sent in ans.sentences:  # verbatim copies, each with the citation of the passage it came from
        assert sent.text in page and sent.supported and sent.draft_citations
    assert "5 years" in ans.text


def test_quotes_need_the_local_model(tmp_path, embedder):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.md").write_text("The warranty covers the motor for 5 years.\n")
    g = Grail(tmp_path / "idx", embedder=embedder)
    assert g.index(tmp_path / "d").ok
    with pytest.raises(ValueError, match="decoding"):
        g.ask("How long is the motor warranty?", decoding="sideways")
    with pytest.raises(ValueError, match="needs the local model"):
        g.ask("How long is the motor warranty?", llm="openai:http://127.0.0.1:9/v1", decoding="quotes")


def test_after_a_quote_the_next_one_still_fits_the_budget():
    # "Ab." is the nearest end below "A"; once quoted, the way to "Abcdef." is longer and must be
    # measured again, or a second quote would start that cannot finish in the budget
    qc = QuoteConstraint([(1, "Ab."), (2, "Abcdef."), (3, "Xy.")], _encode, END, max_sentences=2,
                         max_tokens=len("Ab. [1]\n") + len("Abcdef. [2]\n") - 1)
    # a chooser that prefers "A" (the smallest id) and never ends while it may go on
    text = _run(qc, lambda allowed, out: min((t for t in allowed if t != END), default=END))
    assert text == "Ab. [1]\nXy. [3]\n", text


def test_quote_sources_holds_the_model_to_the_ranker_s_best_passage(tmp_path, embedder, local):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "warranty.md").write_text("# Warranty\n\nThe warranty covers the motor for 5 years.\n")
    (docs / "seals.md").write_text("# Seals\n\nReplace the impeller seal every 2,000 operating hours.\n")
    (docs / "paint.md").write_text("# Paint\n\nThe housing is painted with a two-coat epoxy finish.\n")
    g = Grail(tmp_path / "idx", embedder=embedder, llm="local", answer_tokens=64)  # quote_sources = 1 by default
    g._llms["local"] = local
    assert g.index(docs).ok
    ans = g.ask("How long does the warranty cover the motor?")
    assert not ans.abstained, ans.abstain_reason
    sources = next(s for s in ans.trace.stages if s.name == "context").data["sources"]
    warranty = next(s["n"] for s in sources if s["path"].endswith("warranty.md"))
    assert len(sources) > 1  # the model saw the other passages but could quote only the best one
    assert {n for s in ans.sentences for n in s.draft_citations} == {warranty}
    assert next(s for s in ans.trace.stages if s.name == "generate").data["quote_sources"] == [warranty]
    assert "5 years" in ans.text


def test_a_chunk_s_leading_sentence_tail_is_no_quote():
    from grail.generate.quotes import candidate_sentences
    from grail.records import Chunk, Context, Hit

    text = "of the total combined voting power of the Company. Each of the ten nominees was duly elected."
    ctx = Context("q", (Hit(Chunk("c1", "d", 1, text, 1, 0, len(text)), 1.0),), "", "", 0, 0)
    assert candidate_sentences(ctx) == [(1, "Each of the ten nominees was duly elected.")]
