"""The board's search engine: search semantics, filters, facets, ordering, cursor positions and updates."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chalicelib.aws.posting_items import content_hash
from chalicelib.clock import isoformat
from chalicelib.models.posting import Posting
from chalicelib.services.board.engine import BoardDocument, BoardEngine, Page, Plan, board_document
from chalicelib.services.board.query import BoardQuery
from tests.api.board_factories import make_posting

_directories = itertools.count()


def document(posting: Posting) -> BoardDocument:
    assert posting.changed_at is not None
    return board_document(
        posting,
        content_hash=content_hash(posting),
        changed_key=f"{isoformat(posting.changed_at)}#{posting.job_id}",
    )


@pytest.fixture
def index_of(tmp_path: Path) -> Callable[..., BoardEngine]:
    def build(*postings: Posting, facet_limit: int = 100) -> BoardEngine:
        directory = tmp_path / f"index-{next(_directories)}"
        fingerprint = BoardEngine.create(directory, [document(p) for p in postings])
        return BoardEngine(directory, fingerprint=fingerprint, facet_limit=facet_limit)

    return build


def search(index: BoardEngine, **params: Any) -> Page:
    query = BoardQuery.from_params({k: v if isinstance(v, list) else [str(v)] for k, v in params.items()})
    return index.search(query.plan(), after=None, limit=query.limit)


def titles(page: Page) -> list[str]:
    return [hit.summary["title"] for hit in page.hits]


@pytest.fixture
def board(index_of: Callable[..., BoardEngine]) -> BoardEngine:
    return index_of(
        make_posting("Senior Python Engineer", posted_days_ago=1, locations=("Zürich, Switzerland",)),
        make_posting(
            "Data Scientist",
            posted_days_ago=2,
            account_id="acc_lever",
            remote=True,
            locations=("Lisbon, Portugal",),
            content="Python, statistics and a senior mindset.",
            employment_type="contractor",
        ),
        make_posting(
            "Café Manager",
            posted_days_ago=3,
            account_id="acc_wd",
            company="Crème Brûlée GmbH",
            department="Hospitality",
            locations=("São Paulo, Brazil",),
            content="Run our café.",
            employment_type=None,
        ),
        make_posting(
            "Frontend Engineer", posted_days_ago=4, locations=("Berlin, Germany", "London, United Kingdom")
        ),
    )


def test_no_query_lists_everything_newest_first(board: BoardEngine) -> None:
    page = search(board)
    assert titles(page) == ["Senior Python Engineer", "Data Scientist", "Café Manager", "Frontend Engineer"]
    assert page.total == 4 and not page.has_more


def test_search_is_case_and_accent_insensitive_over_title_company_location_content(
    board: BoardEngine,
) -> None:
    assert titles(search(board, q="CAFE")) == ["Café Manager"]
    assert titles(search(board, q="creme brulee")) == ["Café Manager"]  # company
    assert titles(search(board, q="zurich")) == ["Senior Python Engineer"]  # location
    assert titles(search(board, q="sao")) == ["Café Manager"]
    assert titles(search(board, q="statistics")) == ["Data Scientist"]  # content only


def test_several_words_must_all_match(board: BoardEngine) -> None:
    assert titles(search(board, q="python engineer")) == ["Senior Python Engineer"]
    assert titles(search(board, q="python engineer ", typing=1)) == ["Senior Python Engineer"]
    # while typed, "engineer" is also a prefix of the Data Scientist's department ("Engineering")
    typed = titles(search(board, q="python engineer", typing=1))
    assert typed == ["Senior Python Engineer", "Data Scientist"]
    assert search(board, q="python brazil").total == 0


def test_relevance_ranks_title_matches_before_content_matches(board: BoardEngine, index_of: Any) -> None:
    # Both contain "senior" and "python"; the one with them in its title ranks first.
    relevance = titles(search(board, q="senior python"))
    assert relevance == ["Senior Python Engineer", "Data Scientist"]
    newest_first = index_of(
        make_posting("Warehouse Associate", posted_days_ago=0, content="Some python scripting."),
        make_posting("Python Developer", posted_days_ago=5),
    )
    assert titles(search(newest_first, q="python")) == ["Python Developer", "Warehouse Associate"]
    assert titles(search(newest_first, q="python", sort="newest")) == [
        "Warehouse Associate",
        "Python Developer",
    ]


def test_each_filter_selects_matching_postings(board: BoardEngine) -> None:
    assert titles(search(board, remote="true")) == ["Data Scientist"]
    assert search(board, remote="false").total == 3
    assert titles(search(board, company="crème brûlée gmbh")) == ["Café Manager"]
    assert titles(search(board, provider="LEVER")) == ["Data Scientist"]
    assert titles(search(board, employment_type="contractor")) == ["Data Scientist"]
    assert titles(search(board, department="hospitality")) == ["Café Manager"]
    assert titles(search(board, location="Germany")) == ["Frontend Engineer"]  # a part of "Berlin, Germany"
    assert titles(search(board, location="London, United Kingdom")) == ["Frontend Engineer"]
    assert search(board, company="Nobody").total == 0
    assert search(board, company="!!!").total == 0  # a value with no words matches nothing, not everything


def test_values_of_one_filter_or_and_different_filters_and(board: BoardEngine) -> None:
    either = search(board, location=["Zurich", "Berlin"])
    assert titles(either) == ["Senior Python Engineer", "Frontend Engineer"]
    both = search(board, location=["Zurich", "Berlin"], provider="greenhouse", q="senior")
    assert titles(both) == ["Senior Python Engineer"]
    assert search(board, remote=["true", "false"]).total == 4
    assert search(board, remote="true", provider="greenhouse").total == 0


def test_facets_count_values_with_the_other_filters_applied(board: BoardEngine) -> None:
    page = search(board, remote="false", provider="greenhouse")
    assert page.total == 2
    # provider counts ignore the provider filter but keep remote=false ...
    assert page.facets["provider"] == {"greenhouse": 2, "workday": 1}
    # ... and remote counts ignore remote but keep provider=greenhouse.
    assert page.facets["remote"] == {"false": 2}
    assert page.facets["company"] == {"Acme Robotics": 2}
    assert page.facets["location"] == {
        "Berlin, Germany": 1,
        "London, United Kingdom": 1,
        "Zürich, Switzerland": 1,
    }
    assert search(board, provider="greenhouse").facets["provider"]["lever"] == 1
    assert page.facets["employment_type"] == {"permanent": 2}
    unfiltered = search(board)
    assert unfiltered.facets["remote"] == {"false": 3, "true": 1}
    assert unfiltered.facets["company"]["Acme Robotics"] == 2
    assert search(board, q="python").facets["provider"] == {"greenhouse": 1, "lever": 1}


def test_facet_values_are_capped_by_count(index_of: Any) -> None:
    postings = [make_posting(company=f"Company {n:02d}", account_id=f"acc_{n}") for n in range(5)]
    postings += [make_posting(company="Company 03", account_id="acc_3") for _ in range(2)]
    index = index_of(*postings, facet_limit=2)
    assert index.search(Plan(), after=None, limit=1).facets["company"] == {"Company 03": 3, "Company 00": 1}


def test_pages_follow_positions_without_overlap(board: BoardEngine) -> None:
    plan = Plan()
    seen: list[str] = []
    after = None
    while True:
        page = board.search(plan, after=after, limit=3)
        seen += titles(page)
        if not page.has_more:
            break
        after = page.hits[-1].position
    assert seen == titles(search(board))


def test_updates_and_additions_keep_the_order_and_the_indexes_right(board: BoardEngine) -> None:
    newest = make_posting("Platform Engineer", posted_days_ago=0.5)
    old = make_posting("Archivist", posted_days_ago=30, content="Dusty rare words.")
    board.upsert(document(newest))
    board.upsert(document(old))
    board.commit()
    assert titles(search(board))[0] == "Platform Engineer"
    assert titles(search(board))[-1] == "Archivist"
    assert titles(search(board, q="dusty")) == ["Archivist"]
    renamed = old.model_copy(update={"title": "Librarian", "content_plain": "Quiet shelves."})
    board.upsert(document(renamed))
    board.commit()
    assert search(board, q="dusty").total == 0
    assert titles(search(board, q="shelves")) == ["Librarian"]
    assert board.remove(newest.job_id)
    board.commit()
    assert search(board, q="platform").total == 0
    assert not board.remove(newest.job_id)
    assert len(board) == 5


def test_written_and_flushed_changes_stay_invisible_until_published(board: BoardEngine) -> None:
    # GIVEN the board's answers, fingerprint and generation
    before = {params: search(board, **dict(params)) for params in ((), (("q", "python"),), (("q", "dusty"),))}
    fingerprint, generation = board.fingerprint, board.generation
    python = next(hit for hit in before[(("q", "python"),)].hits if hit.summary["title"].startswith("Senior"))
    # WHEN a posting is added and another one closed, then flushed but not published
    board.upsert(document(make_posting("Archivist", content="Dusty rare words.")))
    assert board.remove(python.job_id)
    board.flush()
    # THEN searches answer exactly as before: totals, facets, pages, fingerprint and generation
    for params, page in before.items():
        again = search(board, **dict(params))
        assert (again.total, again.facets, titles(again)) == (page.total, page.facets, titles(page))
    assert (board.fingerprint, board.generation, len(board)) == (
        fingerprint,
        generation,
        len(before[()].hits),
    )
    # AND once published, all of it shows at once
    board.reveal()
    assert titles(search(board, q="dusty")) == ["Archivist"]
    assert python.job_id not in {hit.job_id for hit in search(board, q="python").hits}
    assert board.fingerprint != fingerprint and board.generation == generation + 1


def test_many_changes_give_the_same_answers_as_a_fresh_build(index_of: Any) -> None:
    postings = [
        make_posting(f"Role {n}", posted_days_ago=n % 50, account_id=f"acc_{n % 7}") for n in range(300)
    ]
    incremental = index_of(*postings[:50])
    for start in range(50, len(postings), 60):
        for posting in postings[start : start + 60]:
            incremental.upsert(document(posting))
        incremental.commit()
    for posting in postings[::3]:
        incremental.remove(posting.job_id)
    incremental.commit()
    rebuilt = index_of(*[p for n, p in enumerate(postings) if n % 3])
    for params in ({}, {"q": "role"}, {"q": "7"}, {"provider": "workday"}, {"q": "role", "sort": "newest"}):
        ours, fresh = search(incremental, limit=100, **params), search(rebuilt, limit=100, **params)
        assert ours.total == fresh.total and ours.facets == fresh.facets
        if params.get("q") != "role" or "sort" in params:  # BM25 statistics differ only by deleted documents
            assert titles(ours) == titles(fresh)
    assert incremental.fingerprint == rebuilt.fingerprint
    assert len(incremental) == 200


def test_plurals_and_other_forms_of_a_word_match(board: BoardEngine) -> None:
    assert set(titles(search(board, q="engineers"))) == {"Senior Python Engineer", "Frontend Engineer"}
    assert search(board, q="engineering ").total == 3  # the department, not a form of "engineer"
    assert titles(search(board, q="scientists")) == ["Data Scientist"]
    assert titles(search(board, q="managers")) == ["Café Manager"]


def test_the_last_word_matches_as_a_prefix_while_typed(board: BoardEngine) -> None:
    typed = titles(search(board, q="pyth", typing=1))
    assert set(typed) == {"Senior Python Engineer", "Data Scientist"}
    assert titles(search(board, q="senior pyth", typing="true")) == [
        "Senior Python Engineer",
        "Data Scientist",
    ]
    assert search(board, q="pyth ", typing=1).total == 0  # a space after it: a whole word
    assert search(board, q="py", typing=1).total == 0  # too short to expand


def test_a_submitted_search_never_expands_its_last_word(board: BoardEngine) -> None:
    assert search(board, q="pyth").total == 0
    assert search(board, q="senior pyth", typing=0).total == 0
    assert search(board, q="pyth", typing="false").total == 0


def test_one_typo_in_a_word_the_board_does_not_know_is_forgiven(index_of: Any) -> None:
    index = index_of(
        make_posting("Python Developer", posted_days_ago=5),
        make_posting("Store Manager", posted_days_ago=1, content="Run the shop."),
        make_posting("Nativity Manger Carver", posted_days_ago=9, content="Wood."),
        make_posting("Gardener", posted_days_ago=0, content="Plants."),
    )
    assert titles(search(index, q="pyhton")) == ["Python Developer"]
    assert titles(search(index, q="developr")) == ["Python Developer"]
    assert titles(search(index, q="managr")) == ["Store Manager"]
    assert titles(search(index, q="manger")) == ["Nativity Manger Carver"]  # a word it knows is meant
    assert search(index, q="gardner").total == 1
    assert search(index, q="pyhtn").total == 0  # two edits away
    assert search(index, q="gard", typing=1).total == 1  # four letters: a prefix while typed, never a typo
    assert search(index, q="gard").total == 0


def test_loose_matches_rank_below_exact_ones(index_of: Any) -> None:
    index = index_of(
        make_posting("Data Analyst", posted_days_ago=9),
        make_posting("Database Administrator", posted_days_ago=1),
        make_posting("Pythonista Coach", posted_days_ago=0, content="Coaching."),
        make_posting("Python Developer", posted_days_ago=5),
    )
    typed = titles(search(index, q="data", typing=1))
    assert typed == ["Data Analyst", "Database Administrator"]  # prefix below
    assert titles(search(index, q="pythn")) == ["Python Developer"]  # the likeliest correction only
    assert titles(search(index, q="python", typing=1)) == ["Python Developer", "Pythonista Coach"]
    assert titles(search(index, q="python")) == ["Python Developer"]


def test_hyphenated_joined_and_separate_compounds_are_the_same(index_of: Any) -> None:
    index = index_of(
        make_posting("Front-end Engineer", posted_days_ago=1),
        make_posting("Frontend Developer", posted_days_ago=2),
        make_posting("Front End Designer", posted_days_ago=3),
        make_posting("Back Office Clerk", posted_days_ago=4, content="Front desk duties at the end of day."),
    )
    expected = {"Front-end Engineer", "Frontend Developer", "Front End Designer"}
    for q in ("front-end", "frontend", "front end", "Front-End "):
        found = set(titles(search(index, q=q)))
        assert expected <= found, q
        assert found - expected <= {"Back Office Clerk"}, q
    assert "Back Office Clerk" not in titles(search(index, q="frontend"))


def test_relevance_pages_cross_from_exact_to_loose_matches_without_gaps(index_of: Any) -> None:
    postings = [make_posting(f"Data Analyst {n}", posted_days_ago=n) for n in range(5)]
    postings += [make_posting(f"Database Admin {n}", posted_days_ago=n + 0.5) for n in range(4)]
    index = index_of(*postings)
    plan = BoardQuery.from_params({"q": ["data"], "typing": ["1"]}).plan()
    everything = titles(index.search(plan, after=None, limit=100))
    assert everything[:5] == [f"Data Analyst {n}" for n in range(5)]  # BM25; equal scores newest first
    assert everything[5:] == [f"Database Admin {n}" for n in range(4)]  # then prefix matches, newest first
    for size in (1, 2, 4):
        seen: list[str] = []
        after = None
        while True:
            page = index.search(plan, after=after, limit=size)
            seen += titles(page)
            assert page.total == 9
            if not page.has_more:
                break
            after = page.hits[-1].position
        assert seen == everything, size


def test_a_dimension_no_posting_has_counts_nothing(index_of: Any) -> None:
    index = index_of(*[make_posting(f"Job {n}", department=None, employment_type=None) for n in range(3)])
    page = search(index)
    assert page.total == 3
    assert page.facets["department"] == {} and page.facets["employment_type"] == {}
    assert search(index, q="job").facets["department"] == {}
    assert search(index, department="Sales").total == 0
