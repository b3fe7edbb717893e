"""GET /feed.xml (RSS 2.0) and GET /sitemap.xml: well-formed XML, live postings only, public URLs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from chalicelib.clock import utcnow
from tests.api.board_factories import (
    board_refreshes_every_request,  # noqa: F401  (autouse)
    close_posting,
    make_posting,
    put_postings,
)

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def test_rss_lists_newest_live_postings_with_filters(client: Any) -> None:
    newest, remote, _old = put_postings(
        make_posting("Chef <Sous> & Co", posted_days_ago=1, content="Cook\x0b well & fast."),
        make_posting("Remote Writer", posted_days_ago=2, remote=True, account_id="acc_lever"),
        make_posting("Old Job", posted_days_ago=9),
    )
    response = client.http.get("/feed.xml")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Unified Job Board"
    assert channel.findtext("link") == "https://board.test"
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == [
        "Chef <Sous> & Co at Acme Robotics",
        "Remote Writer at Initech Software",
        "Old Job at Acme Robotics",
    ]
    first = items[0]
    assert first.findtext("link") == f"https://board.test/jobs/{newest.job_id}"
    assert first.findtext("guid") == first.findtext("link")
    assert first.findtext("pubDate") == "Sat, 31 Oct 2026 09:00:00 GMT"
    assert "Cook well & fast." in (first.findtext("description") or "")

    filtered = ET.fromstring(client.http.get("/feed.xml?remote=true").body)
    links = [item.findtext("link") for item in filtered.iter("item")]
    assert links == [f"https://board.test/jobs/{remote.job_id}"]
    limited = ET.fromstring(client.http.get("/feed.xml?limit=1").body)
    assert len(limited.findall("channel/item")) == 1


def test_rss_rejects_bad_input(client: Any) -> None:
    response = client.http.get("/feed.xml?limit=0")
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "invalid_request"


def test_sitemap_has_one_entry_per_live_posting_with_lastmod(client: Any) -> None:
    live, closing = put_postings(make_posting("Live"), make_posting("Closing"))
    close_posting(closing)
    response = client.http.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.body)
    assert root.tag == f"{SITEMAP_NS}urlset"
    urls = root.findall(f"{SITEMAP_NS}url")
    assert [u.findtext(f"{SITEMAP_NS}loc") for u in urls] == [f"https://board.test/jobs/{live.job_id}"]
    assert urls[0].findtext(f"{SITEMAP_NS}lastmod") == "2026-10-31T09:00:00Z"


def test_feeds_answer_304_to_a_current_etag(client: Any) -> None:
    put_postings(make_posting())
    for path in ("/feed.xml", "/sitemap.xml"):
        first = client.http.get(path)
        assert first.headers["Cache-Control"].startswith("public, max-age=")
        again = client.http.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304
    etag = client.http.get("/sitemap.xml").headers["ETag"]
    put_postings(make_posting("Fresh", changed_at=utcnow()))  # the sync writes with its clock
    assert client.http.get("/sitemap.xml", headers={"If-None-Match": etag}).status_code == 200


def test_sitemap_lastmod_is_the_posting_s_change_time_not_the_ats_update_time(client: Any) -> None:
    from datetime import UTC, datetime

    changed = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
    (posting,) = put_postings(make_posting("Edited", changed_at=changed))  # the ATS's updated_at is older

    root = ET.fromstring(client.http.get("/sitemap.xml").body)

    (url,) = root.findall(f"{SITEMAP_NS}url")
    assert posting.updated_at is not None and posting.updated_at < changed
    assert url.findtext(f"{SITEMAP_NS}lastmod") == "2026-11-20T07:30:00Z"


def test_past_the_per_file_limit_the_sitemap_is_an_index_of_pages(client: Any, monkeypatch: Any) -> None:
    from chalicelib.settings import get_settings

    monkeypatch.setenv("BOARD_SITEMAP_MAX_URLS", "2")
    get_settings.cache_clear()  # the fixture's setup read the settings already
    postings = put_postings(*(make_posting(f"Job {i}", posted_days_ago=i) for i in range(1, 6)))

    index = ET.fromstring(client.http.get("/sitemap.xml").body)

    assert index.tag == f"{SITEMAP_NS}sitemapindex"
    locations = [entry.findtext(f"{SITEMAP_NS}loc") for entry in index.findall(f"{SITEMAP_NS}sitemap")]
    assert locations == [f"https://board.test/sitemap.xml?page={n}" for n in (1, 2, 3)]
    listed: list[str | None] = []
    for n in (1, 2, 3):
        page = ET.fromstring(client.http.get(f"/sitemap.xml?page={n}").body)
        assert page.tag == f"{SITEMAP_NS}urlset"
        urls = [u.findtext(f"{SITEMAP_NS}loc") for u in page.findall(f"{SITEMAP_NS}url")]
        assert len(urls) == (2 if n < 3 else 1)
        listed += urls
    assert listed == [f"https://board.test/jobs/{p.job_id}" for p in postings]  # newest first, each once
    assert client.http.get("/sitemap.xml?page=4").status_code == 404
    assert client.http.get("/sitemap.xml?page=zero").status_code == 400


def test_robots_txt_allows_crawling_and_names_the_sitemap(client: Any) -> None:
    response = client.http.get("/robots.txt")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.body.decode().splitlines()
    assert "User-agent: *" in lines and "Allow: /" in lines
    assert "Disallow: /board/employer" in lines
    assert "Sitemap: https://board.test/sitemap.xml" in lines


def test_sitemap_page_must_be_one_ascii_number_in_range(client: Any) -> None:
    # "¹" passes str.isdigit() but not int() (it was a 500); "٣" is a digit int() reads as 3; a repeated
    # page is ambiguous; 5,000 digits exceed int()'s conversion limit.
    for query in (
        "page=%C2%B9",
        "page=%D9%A3",
        "page=1&page=2",
        "page=" + "9" * 5000,
        "page=100001",
        "page=",
    ):
        response = client.http.get(f"/sitemap.xml?{query}")

        assert response.status_code == 400, (query, response.body)
        assert response.json_body["error"]["fields"] == {"page": "not a page number"}
    # Other parameters are ignored, as before.
    assert client.http.get("/sitemap.xml?utm_source=x&utm_source=y").status_code == 200
