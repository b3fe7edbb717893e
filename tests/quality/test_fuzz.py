"""API fuzzing: every documented operation, valid and invalid inputs, checked against the document.

`make test` runs a short pass (FUZZ_EXAMPLES per operation, default 8); `make fuzz` a long one. The run
prints how many requests were sent, how many were rejected (4xx) and how many were 5xx (must be 0).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from chalicelib.api.openapi import build_document
from tests.quality.conftest import FUZZ_STATS, watch_aws_writes
from tests.quality.fuzz_support import Case, FuzzWorld, case_strategy, check_response, documented_operations

DOCUMENT = json.loads(json.dumps(build_document()))
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "8"))
OPERATIONS = list(documented_operations(DOCUMENT))


@pytest.fixture(scope="module")
def fuzz_client(fuzz_world: FuzzWorld) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    # An undeclared stage: only the top-level environment of .chalice/config.json applies during requests.
    with Client(app, stage_name="test") as client:
        yield client


def send(client: Any, case: Case) -> Any:
    return client.http.request(case.method, case.url, headers=case.headers, body=case.body or b"")


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzz_operation(method: str, path: str, fuzz_world: FuzzWorld, fuzz_client: Any) -> None:
    counts = fuzz_world.counts
    watch_aws_writes()

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=os.environ.get("FUZZ_RANDOM") != "1",
        suppress_health_check=list(HealthCheck),
    )
    @given(case=case_strategy(DOCUMENT, method, path, fuzz_world))
    def run(case: Case) -> None:
        before = fuzz_world.snapshot()
        response = send(fuzz_client, case)
        counts["examples"] = counts.get("examples", 0) + 1
        key = f"status_{response.status_code}"
        counts[key] = counts.get(key, 0) + 1
        if response.status_code >= 500:
            counts["server_errors"] = counts.get("server_errors", 0) + 1
        elif response.status_code >= 400:
            counts["rejected"] = counts.get("rejected", 0) + 1
        check_response(DOCUMENT, case, response.status_code, dict(response.headers), response.body or b"")
        if 400 <= response.status_code < 500:
            after = fuzz_world.snapshot()
            assert after == before, (
                f"rejected with {response.status_code} but data changed: {case.describe()}"
            )
            counts["rejected_checked"] = counts.get("rejected_checked", 0) + 1

    run()
    FUZZ_STATS.update(counts)
