"""Job alerts match new postings exactly as `GET /jobs` with the same query would show them.

The board is the search-quality corpus (near misses, prefixes, typos, compounds on purpose); a third of
its postings are "new" (first seen after a point). For every judged query, alone and combined with
filters, the matcher's answer must be the board query's full result restricted to the new postings.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib.clock import isoformat
from chalicelib.models.alerts import AlertSearch
from chalicelib.models.posting import Posting
from chalicelib.services.board.alert_matching import AlertMatcher, search_key
from chalicelib.services.board.engine import BoardDocument, BoardEngine, board_document, epoch_ms
from chalicelib.services.board.query import BoardQuery
from tests.quality.test_search_quality import BASE_TIME, JUDGED, load_postings

CUT = BASE_TIME - timedelta(days=1)  # postings first seen after it are the new ones
FILTERS: tuple[dict[str, list[str]], ...] = (
    {},
    {"location": ["Berlin"]},
    {"location": ["Germany"], "remote": ["false"]},
    {"remote": ["true"]},
    {"company": ["Initech Software", "Globex Corporation"]},
    {"department": ["Engineering"]},
    {"employment_type": ["permanent"], "location": ["Zürich, Switzerland", "Oslo"]},
)


def _stamped(postings: list[Posting]) -> list[Posting]:
    """Every third posting first seen in the last day (the new ones), the rest long before."""
    stamped = []
    for number, posting in enumerate(postings):
        seen = CUT + timedelta(minutes=number + 1) if number % 3 == 0 else CUT - timedelta(days=number + 1)
        stamped.append(posting.model_copy(update={"first_seen_at": seen}))
    return stamped


def _document(posting: Posting) -> BoardDocument:
    assert posting.changed_at is not None
    key = f"{isoformat(posting.changed_at)}#{posting.job_id}"
    return board_document(posting, content_hash=posting.posting_id, changed_key=key)


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BoardEngine, list[Posting]]]:
    postings = _stamped(load_postings())
    directory: Path = tmp_path_factory.mktemp("alert_matching") / "index"
    # Most postings come from the snapshot; the last few arrive through the change feed (upsert).
    in_snapshot, on_top = postings[:-8], postings[-8:]
    fingerprint = BoardEngine.create(directory, [_document(p) for p in in_snapshot])
    engine = BoardEngine(directory, fingerprint=fingerprint)
    for posting in on_top:
        engine.upsert(_document(posting))
    engine.commit()
    yield engine, postings
    engine.close()


def _queries() -> list[str]:
    import json

    return [entry["q"] for entry in json.loads(JUDGED.read_text(encoding="utf-8"))["queries"]]


def _board_ids(engine: BoardEngine, params: dict[str, list[str]]) -> set[str]:
    """Every posting `GET /jobs` returns for `params` (the engine call it makes, all pages at once)."""
    plan = BoardQuery.from_params(params).plan()
    page = engine.search(plan, after=None, limit=10_000, facets=False)
    assert not page.has_more
    return {hit.job_id for hit in page.hits}


def _matched_ids(engine: BoardEngine, matcher: AlertMatcher, search: AlertSearch) -> set[str]:
    return {hit.job_id for hit in engine.hits(list(matcher.matches(search)))}


def test_alert_matches_equal_board_results_restricted_to_new_postings(
    board: tuple[BoardEngine, list[Posting]],
) -> None:
    # GIVEN the corpus board, a third of it first seen after CUT, and every judged query with filters
    engine, postings = board
    new_ids = {p.job_id for p in postings if p.first_seen_at and p.first_seen_at > CUT}
    matcher = AlertMatcher.first_seen_between(engine, epoch_ms(CUT), epoch_ms(BASE_TIME + timedelta(days=1)))
    assert {hit.job_id for hit in engine.hits([p.slot for p in matcher.postings])} == new_ids

    compared = partial = 0
    for q, filters in itertools.product(_queries(), FILTERS):
        params = {"q": [q], **filters}
        search = AlertSearch.from_params(params)
        # WHEN the alert's search is matched against the new postings
        matched = _matched_ids(engine, matcher, search)
        # THEN it is exactly what the board shows for the stored search, cut to the new postings
        expected = _board_ids(engine, search.params) & new_ids
        assert matched == expected, (params, sorted(matched ^ expected))
        compared += 1
        partial += bool(expected) and expected != _board_ids(engine, search.params)

    # The comparison is not vacuous: many queries find new postings and old ones alike.
    assert compared == len(_queries()) * len(FILTERS)
    assert partial > 100


def test_identical_searches_are_matched_once(board: tuple[BoardEngine, list[Posting]]) -> None:
    # GIVEN 50 alerts over 3 distinct searches (parameters in different orders and spacing)
    engine, _ = board
    matcher = AlertMatcher.first_seen_between(engine, epoch_ms(CUT), epoch_ms(BASE_TIME + timedelta(days=1)))
    variants = [
        {"q": ["python"], "location": ["Berlin", "München"]},
        {"location": [" München", "Berlin "], "q": ["python"]},
        {"q": ["nurse"]},
        {"q": ["nurse"], "remote": ["true"]},
    ]
    searches = [AlertSearch.from_params(variants[n % len(variants)]) for n in range(50)]
    # WHEN each is matched
    results = [matcher.matches(search) for search in searches]
    # THEN each distinct search ran once, and equal searches got equal answers
    assert matcher.distinct_searches == 3
    assert search_key(searches[0]) == search_key(searches[1])
    assert results[0] == results[1]


def test_a_posting_taken_off_the_board_is_never_matched(tmp_path: Path) -> None:
    # GIVEN two new postings for "nurse", one closed since (removed from the board)
    postings = [
        p for p in _stamped(load_postings()) if "nurse" in p.title.lower() or "Nurse" in p.content_plain
    ]
    assert len(postings) >= 2
    fresh = [
        p.model_copy(update={"first_seen_at": CUT + timedelta(minutes=n + 1)}) for n, p in enumerate(postings)
    ]
    directory = tmp_path / "index"
    fingerprint = BoardEngine.create(directory, [_document(p) for p in fresh])
    engine = BoardEngine(directory, fingerprint=fingerprint)
    closed = fresh[0].job_id
    engine.remove(closed)
    engine.commit()
    # WHEN the new postings are matched against "nurse"
    matcher = AlertMatcher.first_seen_between(engine, epoch_ms(CUT), epoch_ms(BASE_TIME + timedelta(days=1)))
    matched = _matched_ids(engine, matcher, AlertSearch.from_params({"q": ["nurse"]}))
    # THEN the closed one is neither new nor matched; the live ones are
    assert closed not in {hit.job_id for hit in engine.hits([p.slot for p in matcher.postings])}
    assert closed not in matched
    assert matched == _board_ids(engine, {"q": ["nurse"]})
    assert matched
    engine.close()


def test_new_postings_are_those_first_seen_in_the_window(board: tuple[BoardEngine, list[Posting]]) -> None:
    # GIVEN the board and a window of the new postings' first-seen times
    engine, postings = board
    seen = sorted((p.first_seen_at, p.job_id) for p in postings if p.first_seen_at and p.first_seen_at > CUT)
    after, until = seen[2][0], seen[-3][0]
    # WHEN the window (after, until] is read
    found = engine.first_seen_between(epoch_ms(after), epoch_ms(until))
    # THEN it is exactly the postings first seen after `after` up to and including `until`, newest first
    expected = [job_id for moment, job_id in reversed(seen) if after < moment <= until]
    assert [hit.job_id for hit in engine.hits([slot for _, slot in found])] == expected
    assert [ms for ms, _ in found] == sorted((ms for ms, _ in found), reverse=True)
