"""The fault bench's figures: budgets, worst answers, the verdict, the table and the JSON line."""

from __future__ import annotations

import json

import pytest

from bench.faults import (
    Answer,
    BenchResults,
    Route,
    age_out_seconds,
    deadline_from_env,
    format_table,
    summary_json,
)

BOARD = Route("GET /jobs", board_read=True)
ACCOUNTS = Route("GET /accounts")
APPLY = Route("POST /jobs/{id}/applications")


def _results() -> BenchResults:
    results = BenchResults(10.0, [BOARD, ACCOUNTS, APPLY], ["none", "dynamodb", "s3"])
    results.answers.update(
        {
            (BOARD.name, "none"): Answer(200, 0.04),
            (BOARD.name, "dynamodb"): Answer(200, 0.9),
            (BOARD.name, "s3"): Answer(200, 0.05),
            (ACCOUNTS.name, "none"): Answer(200, 0.2),
            (ACCOUNTS.name, "dynamodb"): Answer(503, 18.2, "table_unavailable", retry_after=False),
            (ACCOUNTS.name, "s3"): Answer(200, 0.1),
            (APPLY.name, "none"): Answer(201, 0.3),
            (APPLY.name, "dynamodb"): Answer(503, 9.1, "table_unavailable", retry_after=True),
            (APPLY.name, "s3"): Answer(None, 70.0),  # no answer within the client's cap
        }
    )
    return results


def test_budgets_are_the_deadline_plus_one_second_and_one_second_for_board_reads() -> None:
    results = _results()

    assert results.budget(BOARD) == 1.0
    assert results.budget(ACCOUNTS) == 11.0


def test_the_verdict_judges_each_routes_worst_answer_and_no_answer_is_over() -> None:
    results = _results()

    assert results.worst(ACCOUNTS) == Answer(503, 18.2, "table_unavailable", retry_after=False)
    assert results.within_budget(BOARD)
    assert [route.name for route in results.over_budget()] == [ACCOUNTS.name, APPLY.name]


def test_a_fast_answer_without_a_status_is_still_over_budget() -> None:
    results = BenchResults(10.0, [ACCOUNTS], ["none"], {(ACCOUNTS.name, "none"): Answer(None, 0.01)})

    assert results.over_budget() == [ACCOUNTS]


def test_the_table_shows_each_rounds_status_and_seconds_the_worst_and_the_verdict() -> None:
    table = format_table(_results())
    lines = table.splitlines()

    assert lines[0].split() == ["route", "none", "dynamodb", "s3", "worst", "budget", "verdict"]
    board = next(line for line in lines if line.startswith("GET /jobs"))
    assert board.split() == [
        "GET",
        "/jobs",
        "200",
        "0.04",
        "200",
        "0.90",
        "200",
        "0.05",
        "0.90",
        "1.0s",
        "ok",
    ]
    accounts = next(line for line in lines if line.startswith("GET /accounts"))
    # A 503 without Retry-After is marked.
    assert accounts.split()[-7:] == ["503*", "18.20", "200", "0.10", "18.20", "11.0s", "OVER"]
    apply = next(line for line in lines if line.startswith("POST /jobs"))
    assert apply.split()[-9:] == ["201", "0.30", "503", "9.10", "-", "70.00", "70.00", "11.0s", "OVER"]
    assert lines[-1] == (
        "verdict: 1 of 3 routes within budget; over: GET /accounts, POST /jobs/{id}/applications"
    )


def test_the_json_line_carries_every_figure() -> None:
    summary = json.loads(json.dumps(summary_json(_results())))

    assert summary["deadline_seconds"] == 10.0
    assert summary["over_budget"] == [ACCOUNTS.name, APPLY.name]
    assert summary["routes"][ACCOUNTS.name]["worst_seconds"] == 18.2
    assert summary["routes"][ACCOUNTS.name]["rounds"]["dynamodb"] == {
        "status": 503,
        "seconds": 18.2,
        "code": "table_unavailable",
        "retry_after": False,
    }
    assert summary["routes"][APPLY.name]["rounds"]["s3"]["status"] is None
    assert summary["refused_unstalled"] == []


def test_a_request_refused_with_nothing_stalled_is_named_in_a_warning() -> None:
    results = _results()
    results.answers[APPLY.name, "none"] = Answer(400, 0.01, "invalid_request")

    assert results.refused_unstalled() == [APPLY]
    assert format_table(results).splitlines()[-1] == (
        "warning: refused with nothing stalled, so their stall rounds measure little: "
        "POST /jobs/{id}/applications"
    )
    assert summary_json(results)["refused_unstalled"] == [APPLY.name]


@pytest.mark.parametrize(("raw", "expected"), [(None, 10.0), ("", 10.0), ("7.5", 7.5), ("20", 20.0)])
def test_the_deadline_comes_from_request_deadline_seconds(raw: str | None, expected: float) -> None:
    environ = {} if raw is None else {"REQUEST_DEADLINE_SECONDS": raw}

    assert deadline_from_env(environ) == expected


@pytest.mark.parametrize("raw", ["ten", "0", "-1"])
def test_a_bad_deadline_stops_the_bench_with_a_message(raw: str) -> None:
    with pytest.raises(SystemExit, match="REQUEST_DEADLINE_SECONDS"):
        deadline_from_env({"REQUEST_DEADLINE_SECONDS": raw})


def test_rounds_wait_one_second_past_the_longest_cache_age_bounded() -> None:
    assert age_out_seconds({}) == 2.0  # the bench's own 1 s ages
    assert age_out_seconds({"BOARD_REFRESH_SECONDS": "5"}) == 6.0
    assert age_out_seconds({"SECRETS_MAX_AGE_SECONDS": "300"}) == 30.0
    # The employer's key stays cached through a round: its cache age is not waited out.
    assert age_out_seconds({"API_KEY_CACHE_SECONDS": "30"}) == 2.0
