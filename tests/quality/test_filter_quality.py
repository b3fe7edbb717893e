"""Quality of the board's pay, date-posted and distance filters: recall and precision of judged queries.

`filter_corpus.json` holds postings as StackOne sends them: compensation amounts as strings in the forms
employers write ("60.000", "1e5", "€65.000 - €80.000", "85k", "$180K", "14,50" an hour, "18 000 -
24 000" a month, "10%") and location names in many spellings ("München", "Köln", "Wien", "San
Francisco, CA", "Portland, ME", "Remote - EU", a name no gazetteer knows). They go through the sync's own
mapping (`map_posting`: pay parsing and geocoding), then into the engine. `judged_filter_queries.json`
judges each query by hand, from the real distances between the cities and the annual figure of each
stated amount; `must`, `may` and `must_not` mean what they mean in `test_search_quality.py`.

"Before" runs the same queries the way the board answered them before these filters existed (it ignored
the parameters), for the note's before/after figures. `pytest tests/quality/test_filter_quality.py -s`
prints the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.clock import isoformat
from chalicelib.models.posting import Posting
from chalicelib.services.board.engine import BoardEngine, board_document
from chalicelib.services.board.query import BoardQuery
from chalicelib.services.mapping import AccountInfo, map_posting
from tests.quality.test_search_quality import MIN_PRECISION, MIN_RECALL, Judgment, Outcome, _mean, report

HERE = Path(__file__).parent
CORPUS = HERE / "filter_corpus.json"
JUDGED = HERE / "judged_filter_queries.json"
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
ACCOUNT = AccountInfo(
    account_id="acc_filters", employer_id="emp_filters", company="Northwind", provider="ashby"
)
_FILTERS = ("pay_min", "pay_currency", "shows_pay", "posted_within", "near", "radius_km")


def load_postings() -> list[Posting]:
    postings = []
    for entry in json.loads(CORPUS.read_text(encoding="utf-8"))["postings"]:
        raw = {
            "id": entry["id"],
            "title": entry["title"],
            "status": {"value": "live"},
            "locations": [{"name": name} for name in entry["locations"]],
            "compensation": entry["compensation"],
            "content": {"plain": "Join a small team that ships every week."},
        }
        posting = map_posting(raw, ACCOUNT)
        assert posting.remote is entry["remote"], entry["id"]
        posted = NOW - timedelta(days=entry["posted_days_ago"])
        posting.created_at = posting.first_seen_at = posting.changed_at = posted
        postings.append(posting)
    return postings


def load_judgments(known: set[str]) -> list[tuple[dict[str, str], Judgment]]:
    judged = []
    for entry in json.loads(JUDGED.read_text(encoding="utf-8"))["queries"]:
        params: dict[str, str] = entry["params"]
        judgment = Judgment(
            q="&".join(f"{name}={value}" for name, value in params.items()),
            category=entry["category"],
            must=frozenset(entry["must"]),
            may=frozenset(entry.get("may", ())),
            must_not=frozenset(entry.get("must_not", ())),
            ranked_above=(),
            note=entry.get("note", ""),
        )
        named = judgment.must | judgment.may | judgment.must_not
        assert named <= known, f"{judgment.q!r} names unknown postings: {sorted(named - known)}"
        assert not (judgment.must & (judgment.may | judgment.must_not)), judgment.q
        judged.append((params, judgment))
    return judged


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoardEngine]:
    directory = tmp_path_factory.mktemp("filter_quality") / "index"
    documents = [
        board_document(p, content_hash=p.posting_id, changed_key=f"{isoformat(NOW)}#{p.job_id}")
        for p in load_postings()
    ]
    fingerprint = BoardEngine.create(directory, documents)
    board = BoardEngine(directory, fingerprint=fingerprint, clock=lambda: NOW)
    yield board
    board.close()


def run(engine: BoardEngine, *, ignore_filters: bool = False) -> list[Outcome]:
    postings = load_postings()
    ids = {posting.job_id: posting.posting_id for posting in postings}
    outcomes = []
    for params, judgment in load_judgments(set(ids.values())):
        sent: dict[str, Any] = {
            name: [value] for name, value in params.items() if not (ignore_filters and name in _FILTERS)
        }
        plan = BoardQuery.from_params(sent).plan()
        page = engine.search(plan, after=None, limit=100, facets=False)
        assert not page.has_more
        outcomes.append(Outcome(judgment, tuple(ids[hit.job_id] for hit in page.hits)))
    return outcomes


def test_filter_quality(engine: BoardEngine, capsys: pytest.CaptureFixture[str]) -> None:
    before = run(engine, ignore_filters=True)
    outcomes = run(engine)
    summary = report(outcomes)
    with capsys.disabled():
        print(
            f"\n\nfilter quality before (parameters ignored, as before the filters existed)\n{report(before)}"
        )
        print(
            f"\nfilter quality ({len(load_postings())} postings, {len(outcomes)} judged queries)\n{summary}\n"
        )
    recall = _mean([o.recall for o in outcomes])
    precision = _mean([o.precision for o in outcomes])
    forbidden = {o.judgment.q: o.forbidden for o in outcomes if o.forbidden}
    assert recall >= MIN_RECALL and precision >= MIN_PRECISION and not forbidden, summary


def test_the_judged_filter_set_covers_each_filter() -> None:
    judged = load_judgments({posting.posting_id for posting in load_postings()})
    categories = {judgment.category for _, judgment in judged}
    assert {"pay", "distance", "date"} <= categories
    assert len(judged) >= 40
    used = {name for params, _ in judged for name in params}
    assert set(_FILTERS) | {"remote", "q"} <= used
    assert all(judgment.must or judgment.must_not for _, judgment in judged)
