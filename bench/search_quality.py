"""Search quality on the judged set: recall and precision per class of query (`make bench-search`).

Generates the corpus (`bench/search_corpus.py`, seeded), builds the board's index over it in a temporary
directory, runs every judged query (`bench/search_judged.py`) through `GET /jobs`'s own parsing
(`BoardQuery.from_params(...).plan()`) and the engine, and prints per class: queries, macro recall and
macro precision, then the queries below 1.0. `--postings N` (default 3,000), `--seed`, `--worst K`.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.search_corpus import JudgedPosting, generate
from bench.search_judged import JudgedQuery, judge, judged_queries
from chalicelib.clock import isoformat
from chalicelib.services.board.engine import BoardEngine, board_document
from chalicelib.services.board.query import BoardQuery

DEFAULT_POSTINGS = 3000


@dataclass(frozen=True)
class Scored:
    query: JudgedQuery
    must: int
    returned: int
    found: int  # returned and meant
    wrong: int  # returned, neither meant nor acceptable

    @property
    def recall(self) -> float:
        return self.found / self.must if self.must else 1.0

    @property
    def precision(self) -> float:
        judged = self.found + self.wrong
        return self.found / judged if judged else 1.0


def build(postings: list[JudgedPosting], directory: Path) -> BoardEngine:
    documents = []
    for judged in postings:
        posting = judged.posting()
        assert posting.changed_at is not None
        changed_key = f"{isoformat(posting.changed_at)}#{posting.job_id}"
        documents.append(board_document(posting, content_hash=judged.id, changed_key=changed_key))
    fingerprint = BoardEngine.create(directory, documents)
    return BoardEngine(directory, fingerprint=fingerprint)


def params_of(query: JudgedQuery) -> dict[str, list[str]]:
    params = {"q": [query.q]}
    if query.typing:
        params["typing"] = ["1"]
    return params


def evaluate(engine: BoardEngine, postings: list[JudgedPosting]) -> list[Scored]:
    ids = {judged.posting().job_id: judged.id for judged in postings}
    scored = []
    for query in judged_queries():
        must, may = judge(query, postings)
        plan = BoardQuery.from_params(params_of(query)).plan()
        page = engine.search(plan, after=None, limit=len(engine) + 1, facets=False)
        returned = {ids[hit.job_id] for hit in page.hits}
        found = len(returned & must)
        wrong = len(returned - must - may)
        scored.append(Scored(query, len(must), len(returned), found, wrong))
    return scored


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 1.0


def summary(scored: list[Scored]) -> dict[str, tuple[int, float, float]]:
    """Class -> (queries, macro recall, macro precision), plus "all"."""
    by_kind: dict[str, list[Scored]] = defaultdict(list)
    for item in scored:
        by_kind[item.query.kind].append(item)
    table = {
        kind: (len(group), _mean([s.recall for s in group]), _mean([s.precision for s in group]))
        for kind, group in sorted(by_kind.items())
    }
    table["all"] = (len(scored), _mean([s.recall for s in scored]), _mean([s.precision for s in scored]))
    return table


def report(scored: list[Scored], *, worst: int) -> str:
    lines = [f"{'class':<14} {'queries':>7} {'recall':>7} {'precision':>9}"]
    for kind, (count, recall, precision) in summary(scored).items():
        lines.append(f"{kind:<14} {count:>7} {recall:>7.3f} {precision:>9.3f}")
    flawed = sorted(scored, key=lambda s: min(s.recall, s.precision))[:worst]
    flawed = [s for s in flawed if s.recall < 1 or s.precision < 1]
    if flawed:
        lines.append("")
        lines.append(f"worst {len(flawed)} queries (must / returned / found / wrong):")
    for item in flawed:
        shown = item.query.q + (" [typing]" if item.query.typing else "")
        lines.append(
            f"  {shown!r:<32} {item.query.kind:<14} recall {item.recall:.2f} precision {item.precision:.2f}"
            f"  ({item.must} / {item.returned} / {item.found} / {item.wrong})"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=DEFAULT_POSTINGS)
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--worst", type=int, default=25)
    args = parser.parse_args()
    postings = generate(args.postings, seed=args.seed)
    with tempfile.TemporaryDirectory() as work:
        engine = build(postings, Path(work) / "index")
        try:
            scored = evaluate(engine, postings)
        finally:
            engine.close()
    print(
        f"search quality: {len(postings)} generated postings (seed {args.seed}), {len(scored)} judged queries"
    )
    print(report(scored, worst=args.worst))


if __name__ == "__main__":
    main()
