"""Search quality of the board: recall and precision of judged queries over a hand-written corpus.

`search_corpus.json` holds realistic postings, with near misses on purpose ("JavaScript" next to "Java",
"Reacher Media" next to React, "Engineering Manager" and "Aircraft Engine Mechanic" next to "Engineer",
"Front Desk" next to "Frontend"). `judged_queries.json` holds what a user typing each query means:

- `must`: postings the query has to return (recall = share of them returned);
- `typing`: the query is sent as the search box sends it while the last word is being typed
  (`typing=1`: the last word is also a prefix); a submitted search matches whole words only;
- `may`: postings that are acceptable either way, e.g. "JavaScript" for `java` while the word is still
  being typed or a posting whose content uses the word in passing;
- `must_not`: postings that would be plainly wrong (each one returned is reported and fails the test);
- every other returned posting is wrong too: precision = returned `must` / returned (not counting `may`);
- `ranked_above`: [better, worse] pairs, e.g. an exact match above a prefix or typo match.

Run `pytest tests/quality/test_search_quality.py -s` for the per-query report.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.clock import isoformat
from chalicelib.models.posting import Location, Posting, make_job_id
from chalicelib.services.board.engine import BoardEngine, board_document
from chalicelib.services.board.query import BoardQuery

HERE = Path(__file__).parent
CORPUS = HERE / "search_corpus.json"
JUDGED = HERE / "judged_queries.json"
MIN_RECALL = 0.95  # macro average over queries
MIN_PRECISION = 0.9
BASE_TIME = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Judgment:
    q: str
    category: str
    must: frozenset[str]
    may: frozenset[str]
    must_not: frozenset[str]
    ranked_above: tuple[tuple[str, str], ...]
    note: str
    typing: bool = False  # sent as the search box sends it while the last word is being typed


@dataclass(frozen=True)
class Outcome:
    judgment: Judgment
    returned: tuple[str, ...]  # posting ids, in the engine's order

    @property
    def found(self) -> set[str]:
        return set(self.returned) & self.judgment.must

    @property
    def missed(self) -> list[str]:
        return sorted(self.judgment.must - set(self.returned))

    @property
    def wrong(self) -> list[str]:
        """Returned postings that are neither meant nor acceptable (must_not hits included)."""
        acceptable = self.judgment.must | self.judgment.may
        return [posting for posting in self.returned if posting not in acceptable]

    @property
    def forbidden(self) -> list[str]:
        return [posting for posting in self.returned if posting in self.judgment.must_not]

    @property
    def misranked(self) -> list[tuple[str, str]]:
        order = {posting: rank for rank, posting in enumerate(self.returned)}
        return [
            (better, worse)
            for better, worse in self.judgment.ranked_above
            if order.get(better, len(order)) >= order.get(worse, len(order) + 1)
        ]

    @property
    def recall(self) -> float:
        must = self.judgment.must
        return len(self.found) / len(must) if must else 1.0

    @property
    def precision(self) -> float:
        judged = len(self.found) + len(self.wrong)
        return len(self.found) / judged if judged else 1.0


def load_postings() -> list[Posting]:
    postings = []
    for entry in json.loads(CORPUS.read_text(encoding="utf-8"))["postings"]:
        posted = BASE_TIME - timedelta(days=entry["posted_days_ago"])
        postings.append(
            Posting(
                job_id=make_job_id("acc_quality", entry["id"]),
                account_id="acc_quality",
                posting_id=entry["id"],
                employer_id="emp_quality",
                company=entry["company"],
                provider="greenhouse",
                title=entry["title"],
                department=entry["department"],
                locations=[Location(name=name) for name in entry["locations"]],
                remote=entry["remote"],
                employment_type="permanent",
                content_html=f"<p>{entry['content']}</p>",
                content_plain=entry["content"],
                created_at=posted,
                updated_at=posted,
                first_seen_at=posted,
                changed_at=posted,
            )
        )
    return postings


def load_judgments(known: set[str]) -> list[Judgment]:
    judgments = []
    for entry in json.loads(JUDGED.read_text(encoding="utf-8"))["queries"]:
        judgment = Judgment(
            q=entry["q"],
            category=entry["category"],
            must=frozenset(entry["must"]),
            may=frozenset(entry.get("may", ())),
            must_not=frozenset(entry.get("must_not", ())),
            ranked_above=tuple((better, worse) for better, worse in entry.get("ranked_above", ())),
            note=entry.get("note", ""),
            typing=entry.get("typing", False),
        )
        named = judgment.must | judgment.may | judgment.must_not
        named |= {posting for pair in judgment.ranked_above for posting in pair}
        assert named <= known, f"{judgment.q!r} names unknown postings: {sorted(named - known)}"
        overlap = (judgment.must & judgment.may) | (judgment.must & judgment.must_not)
        overlap |= judgment.may & judgment.must_not
        assert not overlap, f"{judgment.q!r} judges postings twice: {sorted(overlap)}"
        judgments.append(judgment)
    return judgments


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoardEngine]:
    directory = tmp_path_factory.mktemp("search_quality") / "index"
    documents = []
    for posting in load_postings():
        changed = posting.changed_at or BASE_TIME
        changed_key = f"{isoformat(changed)}#{posting.job_id}"
        documents.append(board_document(posting, content_hash=posting.posting_id, changed_key=changed_key))
    fingerprint = BoardEngine.create(directory, documents)
    board = BoardEngine(directory, fingerprint=fingerprint)
    yield board
    board.close()


def run(engine: BoardEngine, judgments: list[Judgment], ids: dict[str, str]) -> list[Outcome]:
    outcomes = []
    for judgment in judgments:
        params = {"q": [judgment.q], **({"typing": ["1"]} if judgment.typing else {})}
        plan = BoardQuery.from_params(params).plan()
        page = engine.search(plan, after=None, limit=100, facets=False)
        assert not page.has_more, f"{judgment.q!r} returns more than a page: enlarge the limit"
        outcomes.append(Outcome(judgment, tuple(ids[hit.job_id] for hit in page.hits)))
    return outcomes


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 1.0


def report(outcomes: list[Outcome]) -> str:
    by_category: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_category[outcome.judgment.category].append(outcome)
    lines = [f"{'category':<14} {'queries':>7} {'recall':>7} {'precision':>9}"]
    for category, group in sorted(by_category.items()):
        recall = _mean([o.recall for o in group])
        precision = _mean([o.precision for o in group])
        lines.append(f"{category:<14} {len(group):>7} {recall:>7.3f} {precision:>9.3f}")
    recall = _mean([o.recall for o in outcomes])
    precision = _mean([o.precision for o in outcomes])
    lines.append(f"{'all (macro)':<14} {len(outcomes):>7} {recall:>7.3f} {precision:>9.3f}")
    flawed = [o for o in outcomes if o.missed or o.wrong or o.misranked]
    if flawed:
        lines.append("")
        lines.append("queries below 1.0 or misranked:")
    for outcome in flawed:
        lines.append(
            f"  {outcome.judgment.q!r} [{outcome.judgment.category}] "
            f"recall {outcome.recall:.2f} precision {outcome.precision:.2f}"
        )
        if outcome.missed:
            lines.append(f"    missed:    {', '.join(outcome.missed)}")
        if outcome.forbidden:
            lines.append(f"    MUST NOT:  {', '.join(outcome.forbidden)}")
        extra = [posting for posting in outcome.wrong if posting not in outcome.judgment.must_not]
        if extra:
            lines.append(f"    unwanted:  {', '.join(extra)}")
        for better, worse in outcome.misranked:
            lines.append(f"    misranked: {better} should rank above {worse}")
    return "\n".join(lines)


def test_search_quality(engine: BoardEngine, capsys: pytest.CaptureFixture[str]) -> None:
    postings = load_postings()
    ids = {posting.job_id: posting.posting_id for posting in postings}
    judgments = load_judgments(set(ids.values()))
    assert len(judgments) >= 40
    outcomes = run(engine, judgments, ids)
    summary = report(outcomes)
    with capsys.disabled():  # shown with and without -s (and again in the failure message)
        print(f"\n\nsearch quality ({len(postings)} postings, {len(outcomes)} judged queries)\n{summary}\n")

    recall = _mean([o.recall for o in outcomes])
    precision = _mean([o.precision for o in outcomes])
    forbidden = {o.judgment.q: o.forbidden for o in outcomes if o.forbidden}
    misranked = {o.judgment.q: o.misranked for o in outcomes if o.misranked}
    problems: list[str] = []
    if recall < MIN_RECALL:
        problems.append(f"macro recall {recall:.3f} < {MIN_RECALL}")
    if precision < MIN_PRECISION:
        problems.append(f"macro precision {precision:.3f} < {MIN_PRECISION}")
    if forbidden:
        problems.append(f"must_not postings returned: {forbidden}")
    if misranked:
        problems.append(f"ranking pairs violated: {misranked}")
    assert not problems, "\n".join(problems) + "\n" + summary


def test_judged_set_is_sound() -> None:
    """The judged set covers every required behaviour, with enough queries to mean something."""
    ids = {posting.posting_id for posting in load_postings()}
    judgments = load_judgments(ids)
    categories = {judgment.category for judgment in judgments}
    required = {
        "stemming",
        "prefix",
        "typo",
        "compound",
        "accents",
        "multi-word",
        "company",
        "location",
        "department",
        "negative",
    }
    assert required <= categories, sorted(required - categories)
    assert len({judgment.q for judgment in judgments}) == len(judgments), "a query is judged twice"
    assert sum(len(judgment.ranked_above) for judgment in judgments) >= 3
    assert all(judgment.must or judgment.must_not for judgment in judgments)
