"""GET /jobs/suggest, GET /jobs/{job_id}/similar and the job page's similar jobs, over moto."""

from __future__ import annotations

from typing import Any

from tests.api.board_factories import (
    board_refreshes_every_request,  # noqa: F401  (autouse)
    close_posting,
    make_posting,
    put_postings,
)


def test_suggest_offers_titles_companies_and_places_while_typing(client: Any) -> None:
    put_postings(
        make_posting("Python Engineer", posted_days_ago=1),
        make_posting("Senior Python Engineer", posted_days_ago=2),
        make_posting("Python Engineer", locations=("Wien, Austria",), posted_days_ago=3),
        make_posting("Pastry Chef", account_id="acc_lever", posted_days_ago=4),
    )
    body = client.http.get("/jobs/suggest?q=pyth").json_body
    assert body["titles"] == [
        {"text": "Python Engineer", "count": 2},
        {"text": "Senior Python Engineer", "count": 1},
    ]
    assert body["companies"] == [] and body["places"] == []
    places = client.http.get("/jobs/suggest?q=vienna").json_body["places"]
    assert places == [{"text": "Wien, Austria", "count": 1}]  # another name of the place
    assert client.http.get("/jobs/suggest?q=ber").json_body["places"] == [
        {"text": "Berlin, Germany", "count": 3}
    ]
    companies = client.http.get("/jobs/suggest?q=acm").json_body["companies"]
    assert companies == [{"text": "Acme Robotics", "count": 3}]
    assert client.http.get("/jobs/suggest?q=pyth%20").json_body["titles"] == []  # a whole word: no "pyth"


def test_suggest_validates_its_parameters(client: Any) -> None:
    for path in (
        "/jobs/suggest",
        "/jobs/suggest?q=",
        "/jobs/suggest?q=a&limit=0",
        "/jobs/suggest?q=a&limit=11",
        "/jobs/suggest?q=a&q=b",
        "/jobs/suggest?q=" + "a" * 201,
    ):
        response = client.http.get(path)
        assert response.status_code == 400, path
        assert response.json_body["error"]["code"] == "invalid_request"
    assert client.http.get("/jobs/suggest?q=%21%21").json_body == {
        "titles": [],
        "companies": [],
        "places": [],
    }


def test_suggest_answers_304_for_its_etag(client: Any) -> None:
    put_postings(make_posting("Python Engineer"))
    first = client.http.get("/jobs/suggest?q=pyth")
    again = client.http.get("/jobs/suggest?q=pyth", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_similar_jobs_are_like_the_posting_and_never_the_posting_itself(client: Any) -> None:
    (sre, *_) = put_postings(
        make_posting("Site Reliability Engineer", posted_days_ago=1),
        make_posting("Senior Site Reliability Engineer", posted_days_ago=2),
        make_posting("Reliability Engineer, Platform", posted_days_ago=3),
        make_posting("Pastry Chef", posted_days_ago=4),
    )
    body = client.http.get(f"/jobs/{sre.job_id}/similar").json_body
    titles = [job["title"] for job in body["data"]]
    assert titles[:2] == ["Senior Site Reliability Engineer", "Reliability Engineer, Platform"]
    assert "Site Reliability Engineer" not in titles and "Pastry Chef" not in titles
    assert body["data"][0]["url"].startswith("https://board.test/jobs/")
    assert len(client.http.get(f"/jobs/{sre.job_id}/similar?limit=1").json_body["data"]) == 1
    assert client.http.get(f"/jobs/{sre.job_id}/similar?limit=0").status_code == 400


def test_similar_jobs_of_an_unknown_or_closed_posting_is_404(client: Any) -> None:
    (posting,) = put_postings(make_posting("Site Reliability Engineer"))
    close_posting(posting)
    for job_id in (posting.job_id, "not-a-job"):
        response = client.http.get(f"/jobs/{job_id}/similar")
        assert response.status_code == 404
        assert response.json_body["error"]["code"] == "job_not_found"


def test_the_job_page_lists_similar_jobs(client: Any) -> None:
    sre, other, _ = put_postings(
        make_posting("Site Reliability Engineer", posted_days_ago=1),
        make_posting("Senior Site Reliability Engineer", posted_days_ago=2),
        make_posting("Pastry Chef", posted_days_ago=3),
    )
    html = client.http.get(f"/board/jobs/{sre.job_id}").body.decode()
    assert 'id="similar-heading">Similar jobs</h2>' in html
    assert f'href="/board/jobs/{other.job_id}">Senior Site Reliability Engineer</a>' in html
    assert "Pastry Chef" not in html
