"""The console's applications list: status filter (with paging), CSV export, tenancy and no-store."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.services.applications import CSV_COLUMNS, csv_cell
from tests.api.apply_factories import store_stackone_key
from tests.api.test_applications import list_applications, make_record
from tests.conftest import bearer


@pytest.fixture
def two_employers(client: Any) -> tuple[tuple[str, str], tuple[str, str]]:
    store_stackone_key()
    service = deps.get_employer_service()
    a, key_a = service.create("Employer A")
    b, key_b = service.create("Employer B")
    return (a.employer_id, key_a), (b.employer_id, key_b)


def export(client: Any, api_key: str, query: str = "") -> Any:
    return client.http.get(f"/applications.csv{query}", headers=bearer(api_key))


def rows(response: Any) -> list[dict[str, str]]:
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    return list(csv.DictReader(io.StringIO(body)))


def test_status_filter_pages_through_only_matching_applications(client: Any, two_employers: Any) -> None:
    (employer_id, api_key), _ = two_employers
    # GIVEN 30 applications, every third an Embloy click, one read back as "interview"
    for index in range(30):
        if index % 3 == 0:
            make_record(employer_id, index, channel="embloy", outcome="redirected", candidate_name=None,
                        candidate_email=None, stackone_application_id=None)  # fmt: skip
        else:
            make_record(employer_id, index, application_status="interview" if index == 7 else None)

    # WHEN the console pages through the Embloy clicks, 4 at a time
    seen: list[str] = []
    query = "?status=redirected&limit=4"
    while True:
        page = list_applications(client, api_key, query).json_body
        assert len(page["data"]) <= 4
        seen.extend(item["id"] for item in page["data"])
        if not page["next_cursor"]:
            break
        query = f"?status=redirected&limit=4&cursor={page['next_cursor']}"

    # THEN it sees exactly those, newest first, each once
    assert seen == [f"rec-{i:02d}" for i in range(27, -1, -3)]
    interview = list_applications(client, api_key, "?status=interview").json_body["data"]
    assert [item["id"] for item in interview] == ["rec-07"]


def test_a_cursor_of_another_filter_is_refused(client: Any, two_employers: Any) -> None:
    (employer_id, api_key), _ = two_employers
    for index in range(3):
        make_record(employer_id, index)
    cursor = list_applications(client, api_key, "?status=submitted&limit=1").json_body["next_cursor"]

    response = list_applications(client, api_key, f"?status=failed&limit=1&cursor={cursor}")

    assert response.status_code == 400


def test_filters_combine_job_and_status(client: Any, two_employers: Any) -> None:
    (employer_id, api_key), _ = two_employers
    make_record(employer_id, 1, job_id="job-a")
    make_record(employer_id, 2, job_id="job-a", outcome="failed")
    make_record(employer_id, 3, job_id="job-b", outcome="failed")

    data = list_applications(client, api_key, "?job_id=job-a&status=failed").json_body["data"]

    assert [item["id"] for item in data] == ["rec-02"]


def test_csv_export_has_every_matching_application_as_a_download(client: Any, two_employers: Any) -> None:
    (employer_id, api_key), _ = two_employers
    make_record(employer_id, 1, job_title="Backend Engineer")
    make_record(
        employer_id, 2, channel="embloy", outcome="redirected", candidate_name=None, candidate_email=None
    )
    make_record(
        employer_id, 3, job_title="Designer", application_status="interview", application_stage="Call"
    )

    response = export(client, api_key)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="applications.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    assert body.splitlines()[0] == ",".join(CSV_COLUMNS) and "\r\n" in body
    exported = rows(response)
    assert [row["application_id"] for row in exported] == ["rec-03", "rec-02", "rec-01"]
    assert exported[0]["submitted_at"].endswith("Z")
    assert (exported[0]["job_title"], exported[0]["ats_status"], exported[0]["ats_stage"]) == (
        "Designer",
        "interview",
        "Call",
    )
    assert (exported[1]["source"], exported[1]["outcome"], exported[1]["candidate_email"]) == (
        "embloy",
        "redirected",
        "",
    )
    assert (exported[2]["candidate_name"], exported[2]["candidate_email"]) == (
        "Candidate 1",
        "c1@example.com",
    )
    filtered = rows(export(client, api_key, "?status=redirected"))
    assert [row["application_id"] for row in filtered] == ["rec-02"]


def test_csv_cells_a_spreadsheet_would_run_are_plain_text(client: Any, two_employers: Any) -> None:
    (employer_id, api_key), _ = two_employers
    make_record(employer_id, 1, candidate_name='=HYPERLINK("https://evil.example","x")', job_title="+SUM(A1)")
    make_record(employer_id, 2, candidate_name="-2+3", job_title="@cmd")
    make_record(employer_id, 3, candidate_name="\tTabbed", job_title="\rReturn")

    exported = rows(export(client, api_key))

    cells = [(row["candidate_name"], row["job_title"]) for row in exported]
    assert cells == [
        ("'\tTabbed", "'\rReturn"),
        ("'-2+3", "'@cmd"),
        ('\'=HYPERLINK("https://evil.example","x")', "'+SUM(A1)"),
    ]


@pytest.mark.parametrize(
    ("value", "shown"), [("Ada", "Ada"), ("", ""), (None, ""), ("a=b", "a=b"), ("-1", "'-1")]
)
def test_csv_cell(value: str | None, shown: str) -> None:
    assert csv_cell(value) == shown


def test_another_employers_key_sees_none_of_the_applications(client: Any, two_employers: Any) -> None:
    (employer_a, key_a), (_, key_b) = two_employers
    for index in range(3):
        make_record(employer_a, index, job_id="job-a")

    listed = list_applications(client, key_b).json_body["data"]
    by_job = list_applications(client, key_b, "?job_id=job-a").json_body["data"]
    by_status = list_applications(client, key_b, "?status=submitted").json_body["data"]
    exported = rows(export(client, key_b))
    exported_job = rows(export(client, key_b, "?job_id=job-a"))

    assert (listed, by_job, by_status, exported, exported_job) == ([], [], [], [], [])
    assert len(rows(export(client, key_a))) == 3


def test_applications_are_never_cached(client: Any, two_employers: Any) -> None:
    (employer_id, api_key), _ = two_employers
    make_record(employer_id, 1)

    for response in (
        list_applications(client, api_key),
        export(client, api_key),
        list_applications(client, "jbk_wrong"),
    ):
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "query", ["?status=", "?status=" + "x" * 65, "?limit=5", "?cursor=abc", "?format=json"]
)
def test_bad_export_queries_are_400(client: Any, two_employers: Any, query: str) -> None:
    _, (_, api_key) = two_employers
    response = export(client, api_key, query)
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "invalid_request"


def test_job_and_status_filters_page_through_the_job_index(client: Any, two_employers: Any) -> None:
    (employer_id, api_key), _ = two_employers
    for index in range(12):
        make_record(
            employer_id,
            index,
            job_id="job-a" if index % 2 else "job-b",
            outcome="failed" if index % 3 else "submitted",
        )

    seen: list[str] = []
    query = "?job_id=job-a&status=failed&limit=2"
    while True:
        page = list_applications(client, api_key, query).json_body
        seen.extend(item["id"] for item in page["data"])
        if not page["next_cursor"]:
            break
        query = f"?job_id=job-a&status=failed&limit=2&cursor={page['next_cursor']}"

    assert seen == [f"rec-{i:02d}" for i in (11, 7, 5, 1)]
