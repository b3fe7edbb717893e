"""Text that reaches XML (RSS, sitemap) or a <script> element (JSON-LD), and URLs that leave the API."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from chalicelib.models.posting import http_url_or_none
from chalicelib.services.board.markup import script_json
from tests.api.board_factories import (
    BASE_TIME,
    board_refreshes_every_request,  # noqa: F401  (autouse)
    make_posting,
    put_postings,
)

BREAKOUT = "Chef</script><script>alert(1)</script><!--"
XML_FORBIDDEN = "\ufffe\uffff\x00\x08\x1b"


@pytest.mark.parametrize("bad", list(XML_FORBIDDEN))
def test_rss_stays_well_formed_whatever_a_title_contains(client: Any, bad: str) -> None:
    put_postings(
        make_posting(f"Chef{bad} de partie", department=f"Kitchen{bad}", content=f"Cook{bad} well."),
        make_posting("Waiter"),
    )
    response = client.http.get("/feed.xml")
    assert response.status_code == 200
    titles = [item.findtext("title") for item in ET.fromstring(response.body).iter("item")]
    assert "Chef de partie at Acme Robotics" in titles
    assert len(titles) == 2


def test_job_json_ld_cannot_close_a_script_element(client: Any) -> None:
    posting = put_postings(
        make_posting(BREAKOUT + "\ufffe", department=BREAKOUT, company="</SCRIPT>Co", content=BREAKOUT)
    )[0]
    response = client.http.get(f"/jobs/{posting.job_id}")
    assert response.status_code == 200
    raw = response.body.decode() if isinstance(response.body, bytes) else response.body
    assert "</script" not in raw.lower() and "<!--" not in raw
    body = json.loads(raw)
    assert body["title"].startswith("Chef</script>")  # the same value, only escaped on the wire
    document = body["json_ld"]
    assert document["title"] == BREAKOUT  # U+FFFE removed
    text = script_json(document)
    assert "</script" not in text.lower() and "<!--" not in text
    assert json.loads(text) == document


def test_only_http_urls_leave_the_api(client: Any) -> None:
    posting = put_postings(
        make_posting(external_url="javascript:alert(document.cookie)", external_apply_url=" JavaScript:x")
    )[0]
    body = client.http.get(f"/jobs/{posting.job_id}").json_body
    assert body["external_url"] is None
    assert body["apply"]["external_url"] is None


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,<b>x</b>", "vbscript:x", "//evil.test/x", "https:///nohost",
     "http://exa mple.test", "https://ex.test/\"onmouseover=x", "file:///etc/passwd"],
)  # fmt: skip
def test_non_http_urls_are_dropped(url: str) -> None:
    assert http_url_or_none(url) is None
    assert make_posting(external_url=url).external_url is None


def test_http_urls_are_kept() -> None:
    assert (
        make_posting(external_url="https://jobs.example/1?a=b#c").external_url
        == "https://jobs.example/1?a=b#c"
    )


def test_markup_helpers_drop_lone_surrogates_too() -> None:
    from chalicelib.services.board.markup import clean_strings, xml_chars

    assert xml_chars("a\ud800b\udfffc\U0001f600") == "abc\U0001f600"
    assert clean_strings({"k\ufffe": ["x\ud800"]}) == {"k": ["x"]}


def test_description_links_leave_the_api_and_the_job_page_only_when_absolute_http(client: Any) -> None:
    from chalicelib.services.mapping import AccountInfo, map_posting

    html = (
        '<p><a href="//evil.example/x">a</a> <a href="/\\evil.example">b</a>'
        ' <a href="mailto:x@evil.example">c</a> <a href="https://acme.example/team">d</a></p>'
    )
    account = AccountInfo("acc_gh", "emp_acc_gh", "Acme Robotics", "greenhouse")
    raw = {"id": "post_links", "title": "Engineer", "status": {"value": "live"}, "content": {"html": html}}
    mapped = map_posting(raw, account)
    mapped.first_seen_at = mapped.changed_at = BASE_TIME  # what the sync sets when it stores a posting
    posting = put_postings(mapped)[0]

    body = client.http.get(f"/jobs/{posting.job_id}").json_body
    page = client.http.get(f"/board/jobs/{posting.job_id}").body.decode()

    for text in (body["content_html"], body["json_ld"]["description"]):
        assert "evil.example" not in text
        assert 'href="https://acme.example/team"' in text
    assert "evil.example" not in page
