"""GET /jobs and GET /jobs/{job_id} over moto, with postings written by the sync's codec."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.clock import utcnow
from chalicelib.models.posting import make_job_id
from chalicelib.settings import get_settings
from tests.api.board_factories import (
    board_refreshes_every_request,  # noqa: F401  (autouse)
    close_posting,
    make_posting,
    put_postings,
    update_posting,
)


def get(client: Any, path: str, headers: dict[str, str] | None = None) -> Any:
    return client.http.get(path, headers=headers or {})


def test_list_shape_and_summary_fields(client: Any) -> None:
    (posting,) = put_postings(make_posting("Backend Engineer", department="Platform"))
    response = get(client, "/jobs")
    assert response.status_code == 200
    body = response.json_body
    assert set(body) == {"data", "next_cursor", "total", "facets"}
    assert body["total"] == 1 and body["next_cursor"] is None
    assert set(body["facets"]) >= {"company", "employment_type", "location", "remote", "provider"}
    (summary,) = body["data"]
    assert summary["job_id"] == posting.job_id
    assert summary["title"] == "Backend Engineer"
    assert summary["company"] == "Acme Robotics"
    assert summary["provider"] == "greenhouse"
    assert summary["locations"] == ["Berlin, Germany"]
    assert summary["remote"] is False
    assert summary["employment_type"] == "permanent"
    assert summary["compensation_summary"]["text"] == "EUR 60,000\u201380,000 / year"
    assert summary["posted_at"] == "2026-10-31T09:00:00.000Z"
    assert summary["url"] == f"https://board.test/jobs/{posting.job_id}"
    assert "content_html" not in summary and "content_plain" not in summary


def test_search_and_filters_over_http(client: Any) -> None:
    put_postings(
        make_posting("Pâtissier", locations=("Zürich, Switzerland",), posted_days_ago=1),
        make_posting("Remote Python Engineer", account_id="acc_lever", remote=True, posted_days_ago=2),
        make_posting("Python Trainer", employment_type="contractor", posted_days_ago=3),
    )
    assert [j["title"] for j in get(client, "/jobs?q=PATISSIER").json_body["data"]] == ["Pâtissier"]
    assert get(client, "/jobs?q=python").json_body["total"] == 2
    assert get(client, "/jobs?q=python%20remote").json_body["total"] == 1
    body = get(client, "/jobs?location=Zurich&location=Berlin&remote=false").json_body
    assert [j["title"] for j in body["data"]] == ["Pâtissier", "Python Trainer"]
    body = get(client, "/jobs?employment_type=contractor&provider=greenhouse").json_body
    assert [j["title"] for j in body["data"]] == ["Python Trainer"]
    assert body["facets"]["employment_type"] == {"contractor": 1, "permanent": 1}
    assert get(client, "/jobs?company=Initech%20Software").json_body["total"] == 1


def test_cursor_pages_through_the_whole_board_while_postings_change(client: Any) -> None:
    postings = put_postings(*[make_posting(f"Job {n:02d}", posted_days_ago=n) for n in range(25)])
    seen: list[str] = []
    cursor = None
    page_number = 0
    while True:
        path = "/jobs?limit=4" + (f"&cursor={cursor}" if cursor else "")
        body = get(client, path).json_body
        seen += [j["job_id"] for j in body["data"]]
        page_number += 1
        if page_number == 2:
            # Underneath: a posting already seen closes, one not yet seen changes its content, a new one
            # appears at the top (already passed), one not yet seen closes.
            close_posting(postings[0])
            update_posting(postings[20], title="Job 20 (edited)")
            put_postings(make_posting("Brand new", posted_days_ago=-1, changed_at=utcnow()))
            close_posting(postings[22])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)), "no duplicates"
    expected = [p.job_id for p in postings if p is not postings[22]]
    assert seen == expected, "no gaps: every posting live throughout is seen exactly once, in order"


def test_closed_posting_vanishes_from_list_and_detail(client: Any) -> None:
    posting, _staying = put_postings(make_posting("Closing soon"), make_posting("Staying"))
    assert get(client, f"/jobs/{posting.job_id}").status_code == 200
    close_posting(posting)
    assert [j["title"] for j in get(client, "/jobs").json_body["data"]] == ["Staying"]
    response = get(client, f"/jobs/{posting.job_id}")
    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "job_not_found"


@pytest.mark.parametrize("job_id", ["nope", make_job_id("acc_x", "never_existed"), "x" * 600])
def test_unknown_job_is_404(client: Any, job_id: str) -> None:
    response = get(client, f"/jobs/{job_id}")
    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "job_not_found"


def test_detail_carries_content_compensation_questionnaires_and_apply_options(client: Any) -> None:
    (posting,) = put_postings(make_posting("Lever Role", account_id="acc_lever"))
    deps.get_table().put_item(
        Item={
            "PK": "EMPLOYER#emp_initech",
            "SK": "PROFILE",
            "GSI1PK": "EMPLOYERS",
            "GSI1SK": "emp_initech",
            "employer_id": "emp_initech",
            "name": "Initech Software",
            "embloy_configured": True,
        }
    )
    deps.get_table().put_item(
        Item={"PK": "ACCOUNT#acc_lever", "SK": "SYNC", "native_apply_unsupported": True}
    )
    body = get(client, f"/jobs/{posting.job_id}").json_body
    assert body["job_id"] == posting.job_id
    assert body["content_html"] == posting.content_html
    assert body["content_plain"] == posting.content_plain
    assert body["compensation"][0] == {
        "kind": "salary",
        "label": "Base salary",
        "currency": "EUR",
        "min": 60000.0,
        "max": 80000.0,
        "period": "year",
        "percent": None,
    }
    assert body["questionnaires"][0]["questions"][0]["options"][1] == {"id": "o2", "text": "No"}
    assert body["apply"] == {"embloy": True, "native": False, "external_url": posting.external_apply_url}
    assert body["json_ld"]["directApply"] is True


def test_detail_apply_defaults_without_token_or_flags(client: Any) -> None:
    (posting,) = put_postings(make_posting(account_id="acc_lever", external_apply_url=None))
    apply = get(client, f"/jobs/{posting.job_id}").json_body["apply"]
    assert apply == {"embloy": False, "native": True, "external_url": posting.external_url}


def test_json_ld_for_an_on_site_posting(client: Any) -> None:
    (posting,) = put_postings(
        make_posting("Nurse", locations=("Munich, Bavaria, Germany",), contract_type="part_time")
    )
    document = get(client, f"/jobs/{posting.job_id}").json_body["json_ld"]
    assert document["@context"] == "https://schema.org/"
    assert document["@type"] == "JobPosting"
    assert document["title"] == "Nurse"
    assert document["description"] == posting.content_html
    assert document["datePosted"] == "2026-10-31T09:00:00.000Z"
    assert document["hiringOrganization"] == {"@type": "Organization", "name": "Acme Robotics"}
    assert document["jobLocation"] == [
        {
            "@type": "Place",
            "address": {
                "@type": "PostalAddress",
                "addressLocality": "Munich",
                "addressRegion": "Bavaria",
                "addressCountry": "DE",
            },
        }
    ]
    assert "jobLocationType" not in document
    assert document["employmentType"] == "PART_TIME"
    assert document["baseSalary"] == {
        "@type": "MonetaryAmount",
        "currency": "EUR",
        "value": {"@type": "QuantitativeValue", "minValue": 60000.0, "maxValue": 80000.0, "unitText": "YEAR"},
    }
    assert document["identifier"] == {
        "@type": "PropertyValue",
        "name": "Acme Robotics",
        "value": posting.job_id,
    }
    assert document["directApply"] is True  # native apply through StackOne
    assert document["url"] == f"https://board.test/jobs/{posting.job_id}"


def test_json_ld_for_a_remote_posting(client: Any) -> None:
    (posting,) = put_postings(
        make_posting(
            "Remote Contractor",
            remote=True,
            locations=("Lisbon, Portugal", "Madrid, Spain"),
            employment_type="contractor",
            contract_type=None,
            salary=(50, 70, "USD", "hour"),
        )
    )
    document = get(client, f"/jobs/{posting.job_id}").json_body["json_ld"]
    assert document["jobLocationType"] == "TELECOMMUTE"
    assert document["applicantLocationRequirements"] == [
        {"@type": "Country", "name": "PT"},
        {"@type": "Country", "name": "ES"},
    ]
    assert "jobLocation" not in document
    assert document["employmentType"] == "CONTRACTOR"
    assert document["baseSalary"]["value"]["unitText"] == "HOUR"


def test_etag_and_cache_control_and_304(client: Any) -> None:
    (posting,) = put_postings(make_posting())
    for path in ("/jobs?q=engineer", f"/jobs/{posting.job_id}"):
        first = get(client, path)
        etag = first.headers["ETag"]
        assert first.headers["Cache-Control"].startswith("public, max-age=")
        again = get(client, path, {"If-None-Match": etag})
        assert again.status_code == 304
        assert again.body in (b"", "")
        assert again.headers["ETag"] == etag
        assert get(client, path, {"If-None-Match": '"something-else"'}).status_code == 200
    list_etag = get(client, "/jobs").headers["ETag"]
    assert get(client, "/jobs?limit=5").headers["ETag"] != list_etag  # another query, another validator
    update_posting(posting, title="Changed")
    changed = get(client, "/jobs", {"If-None-Match": list_etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != list_etag


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("limit=ten", "limit"),
        ("sort=popular", "sort"),
        ("remote=maybe", "remote"),
        ("q=" + "a" * 201, "q"),
        ("q=" + "+".join(f"w{n}" for n in range(13)), "q"),
        ("limit=5&limit=6", "limit"),
        ("cursor=garbage", "cursor"),
    ],
)
def test_bad_input_is_a_400_with_a_clear_message(client: Any, query: str, field: str) -> None:
    put_postings(make_posting())
    response = get(client, f"/jobs?{query}")
    assert response.status_code == 400
    error = response.json_body["error"]
    assert error["message"]
    assert field in error.get("fields", {}) or field in error["message"]


def test_tampered_and_foreign_cursors_are_refused(client: Any) -> None:
    put_postings(*[make_posting(f"Engineer {n}", posted_days_ago=n) for n in range(5)])
    cursor = get(client, "/jobs?limit=2").json_body["next_cursor"]
    assert get(client, f"/jobs?limit=2&cursor={cursor}").status_code == 200
    payload, mac = cursor.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["k"][0] += 1  # move the position
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=") + "." + mac
    for bad in (forged, cursor[:-2], cursor + "x", "a.b"):
        response = get(client, f"/jobs?limit=2&cursor={bad}")
        assert response.status_code == 400
        assert response.json_body["error"]["code"] == "invalid_cursor"
    foreign = get(client, f"/jobs?limit=2&q=engineer&cursor={cursor}")
    assert foreign.status_code == 400
    assert "different query" in foreign.json_body["error"]["message"]


def test_warm_list_requests_cost_no_dynamodb_request_when_fresh(client: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("BOARD_REFRESH_SECONDS", "3600")
    get_settings.cache_clear()
    put_postings(make_posting())
    calls: list[str] = []
    deps.get_table().meta.client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    get(client, "/jobs")
    cold = list(calls)
    assert cold == ["GetItem"] + ["Query"] * 4  # the snapshot pointer, then one change-feed page per shard
    for query in ("", "?q=engineer", "?remote=true", "?limit=1"):
        get(client, f"/jobs{query}")
    assert calls == cold


def test_a_cold_process_serves_the_published_snapshot_from_s3(client: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("BOARD_REFRESH_SECONDS", "3600")
    get_settings.cache_clear()
    first, second = put_postings(make_posting("Snapshot Engineer"), make_posting("Other Engineer"))
    report = deps.get_snapshot_builder().build()
    assert report.published and report.manifest is not None and report.manifest.postings == 2
    calls: list[str] = []
    deps.get_table().meta.client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    body = get(client, "/jobs?q=engineers").json_body
    assert {j["job_id"] for j in body["data"]} == {first.job_id, second.job_id}
    assert "Query" in calls and calls.count("Query") == 4  # the feed after the snapshot, never the live index
    service = deps.get_board_service()
    assert service.snapshot is not None and service.snapshot.version == report.manifest.version
    assert service.stats.applied_changes == 0  # everything came from the snapshot


def test_a_stored_posting_that_cannot_be_decoded_is_skipped_not_an_error(client: Any) -> None:
    from chalicelib.aws.posting_items import posting_to_item

    good, bad = make_posting("Good Engineer"), make_posting("Poisoned Engineer")
    put_postings(good)
    poisoned = {**posting_to_item(bad), "doc": '{"title": "\\ud800", "job_id": 7}'}  # not a Posting
    deps.get_table().put_item(Item=poisoned)
    built = deps.get_snapshot_builder().build()
    assert built.manifest is not None
    assert built.manifest.skipped == 1
    for path in ("/jobs", "/jobs?q=engineer", "/feed.xml", "/sitemap.xml"):
        assert get(client, path).status_code == 200, path
    body = get(client, "/jobs?q=engineer").json_body
    assert [j["job_id"] for j in body["data"]] == [good.job_id]
    assert get(client, f"/jobs/{bad.job_id}").status_code == 404
    assert get(client, f"/jobs/{good.job_id}").status_code == 200
    assert deps.get_board_service().stats.bad_records >= 1


def test_blank_filter_values_count_towards_the_limit_of_twenty(client: Any) -> None:
    # The document's maxItems counts every value sent; blank ones used to be dropped before counting.
    too_many = "&".join(["company="] * 21)

    for path in ("/jobs", "/feed.xml"):
        response = client.http.get(f"{path}?{too_many}")
        assert response.status_code == 400, (path, response.body[:200])
        assert response.json_body["error"]["fields"] == {"company": "more than 20 values"}
    assert client.http.get(f"/board?{too_many}").status_code == 400
    assert client.http.get("/jobs?" + "&".join(["company="] * 20)).status_code == 200
