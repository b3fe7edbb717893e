"""Search quality on the judged set over generated postings (`bench/search_corpus.py`,
`bench/search_judged.py`).

At least 200 queries in every class the board must understand (technical tokens, abbreviations, places
in other languages, phrases, plurals versus prefixes, multi-word), judged from what each posting is, not
from its text. `make bench-search` prints the same table for a larger corpus.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.search_corpus import JudgedPosting, generate
from bench.search_judged import judge, judged_queries
from bench.search_quality import build, evaluate, report, summary
from chalicelib.services.board.engine import BoardEngine

MIN_RECALL = 0.95
MIN_PRECISION = 0.9
MIN_CLASS = 0.9  # no class may hide behind the others' average
CLASSES = {"tech-token", "abbreviation", "place", "phrase", "plural-prefix", "multi-word"}


@pytest.fixture(scope="module")
def corpus() -> list[JudgedPosting]:
    return generate(3000)


@pytest.fixture(scope="module")
def engine(corpus: list[JudgedPosting], tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoardEngine]:
    board = build(corpus, Path(tmp_path_factory.mktemp("judged")) / "index")
    yield board
    board.close()


def test_the_judged_set_meets_recall_and_precision(
    engine: BoardEngine, corpus: list[JudgedPosting], capsys: pytest.CaptureFixture[str]
) -> None:
    scored = evaluate(engine, corpus)
    table = summary(scored)
    with capsys.disabled():
        print(f"\n\njudged search ({len(corpus)} postings)\n{report(scored, worst=15)}\n")
    _, recall, precision = table.pop("all")
    assert recall >= MIN_RECALL, report(scored, worst=30)
    assert precision >= MIN_PRECISION, report(scored, worst=30)
    weak = {kind: row for kind, row in table.items() if min(row[1], row[2]) < MIN_CLASS}
    assert not weak, report(scored, worst=30)


def test_the_judged_set_is_sound(corpus: list[JudgedPosting]) -> None:
    queries = judged_queries()
    assert len(queries) >= 200
    assert {query.kind for query in queries} == CLASSES
    assert len({(query.q, query.typing) for query in queries}) == len(queries), "a query is judged twice"
    for query in queries:
        must, _ = judge(query, corpus)
        assert must, f"{query.q!r} means no posting of the corpus"


def test_the_corpus_is_the_same_for_a_seed() -> None:
    assert generate(50, seed=7) == generate(50, seed=7)
    assert generate(50, seed=7) != generate(50, seed=8)
