"""Job alerts matched with the board's own search: the postings new since a point, against many searches.

The new postings are a part of the live board (`BoardEngine.part`): every stored search is resolved on the
whole board (word forms, prefixes and typos as `GET /jobs` resolves them) and matched on bitmaps cut to
the new postings, so an alert holds exactly what `GET /jobs` with the same query shows of them. Alerts
with the same search share one match: many alerts share a query, and each distinct one runs once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pyroaring import BitMap

from chalicelib.models.alerts import AlertSearch
from chalicelib.services.board.engine import BoardEngine, Plan
from chalicelib.services.board.query import BoardQuery

SearchKey = tuple[tuple[str, tuple[str, ...]], ...]
PlanKey = tuple[tuple[str, ...], bool, tuple[tuple[str, tuple[str, ...]], ...]]


def search_key(search: AlertSearch) -> SearchKey:
    """A hashable form of a stored search (its parameters are canonical already)."""
    return tuple((name, tuple(values)) for name, values in sorted(search.params.items()))


def plan_key(plan: Plan) -> PlanKey:
    """What decides a plan's matches (not its order): words, whether the last is a prefix, filters."""
    return (plan.terms, plan.prefix_last and bool(plan.terms), plan.filters)


@dataclass(frozen=True, slots=True)
class NewPosting:
    slot: int
    first_seen_ms: int


class AlertMatcher:
    """Matches stored searches against the live postings first seen in a window of the board."""

    def __init__(self, engine: BoardEngine, new_postings: Iterable[NewPosting]) -> None:
        self._engine = engine
        self.postings = sorted(new_postings, key=lambda posting: (-posting.first_seen_ms, posting.slot))
        self.first_seen_ms = {posting.slot: posting.first_seen_ms for posting in self.postings}
        self._part = engine.part(BitMap(self.first_seen_ms))
        self._plans: dict[SearchKey, PlanKey] = {}
        self._results: dict[PlanKey, BitMap] = {}
        self._ordered: dict[PlanKey, list[NewPosting]] = {}
        self.distinct_searches = 0

    @classmethod
    def first_seen_between(cls, engine: BoardEngine, after_ms: int, until_ms: int) -> AlertMatcher:
        """Over the live postings first seen in (after_ms, until_ms]."""
        found = engine.first_seen_between(after_ms, until_ms)
        return cls(engine, (NewPosting(slot, ms) for ms, slot in found))

    def matches(self, search: AlertSearch) -> BitMap:
        """The new postings `search` matches (slots; do not modify the result)."""
        key = search_key(search)
        found_plan = self._plans.get(key)
        if found_plan is None:
            plan = BoardQuery.from_params(search.params).plan()  # stored searches were validated
            found_plan = self._plans[key] = plan_key(plan)
            if found_plan not in self._results:
                self.distinct_searches += 1
                self._results[found_plan] = self._part.results(plan)
        return self._results[found_plan]

    def new_for(self, search: AlertSearch, *, after_ms: int) -> list[NewPosting]:
        """The postings `search` matches that were first seen after `after_ms`, newest first."""
        self.matches(search)
        key = self._plans[search_key(search)]
        ordered = self._ordered.get(key)
        if ordered is None:
            seen = self.first_seen_ms
            ordered = sorted(
                (NewPosting(slot, seen[slot]) for slot in self._results[key]),
                key=lambda posting: (-posting.first_seen_ms, posting.slot),
            )
            self._ordered[key] = ordered
        # Newest first: the ones after `after_ms` are a prefix.
        end = next(
            (n for n, posting in enumerate(ordered) if posting.first_seen_ms <= after_ms), len(ordered)
        )
        return ordered[:end]
