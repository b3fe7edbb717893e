"""Fault soak: nothing lost, nothing stale, nothing duplicated after many faulty sync rounds.

`make test` runs a short soak (SOAK_ROUNDS, default 3, on the four demo accounts); `make soak` a long
one with two more accounts and a new seed each run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.soak.conftest import SOAK_LINES
from tests.soak.soak import run_soak
from tests.soak.world import World, local_world

ROUNDS = int(os.environ.get("SOAK_ROUNDS", "3"))
EXTRA_ACCOUNTS = int(os.environ.get("SOAK_EXTRA_ACCOUNTS", "0"))
SEED = int(os.environ.get("SOAK_SEED", "7"))


@pytest.fixture
def soak_world() -> Iterator[tuple[World, Any]]:
    from chalice.test import Client

    env = {
        "SYNC_PAGE_SIZE": "5",
        # One scheduled tick stands for the hour in which deletions must leave the board.
        "SYNC_EXISTENCE_SWEEP_SECONDS": "0",
        # The handlers' StackOne client really sleeps between retries: keep backoff short.
        "STACKONE_BACKOFF_BASE_SECONDS": "0.01",
        "STACKONE_RATE_LIMIT_PER_MINUTE": "60000",
    }
    with local_world(env) as world:
        from app import app

        # An undeclared stage: only the top-level environment of .chalice/config.json applies.
        with Client(app, stage_name="test") as client:
            yield world, client


def test_board_equals_the_sandbox_after_a_fault_soak(soak_world: tuple[World, Any]) -> None:
    world, client = soak_world

    report = run_soak(world, client, rounds=ROUNDS, seed=SEED, extra_accounts=EXTRA_ACCOUNTS)

    print(f"\nseed {SEED}: {report.line()}")
    SOAK_LINES.append(f"seed {SEED}: {report.line()}")
    assert report.rounds == ROUNDS
    assert sum(report.faults.values()) > 0, "the soak injected no faults"
    assert report.syncs >= ROUNDS * 4
    assert report.board_postings > 0
    assert "0 mismatches" in report.comparisons["before"] and "0 mismatches" in report.comparisons["after"]
