"""Every demo posting's JobPosting JSON-LD against Google's required and recommended properties.

The demo postings are the StackOne sandbox's seeded data (what `make run` shows), mapped by the sync's
own mapping, so this covers the shapes the ATSs really send: offices, "Remote - EU", "Remote - US",
plain "Remote", hourly and yearly pay, legacy fields.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.models.posting import Posting
from chalicelib.services.board import json_ld
from chalicelib.services.board.countries import COUNTRY_NAMES, EU_MEMBERS, countries_in, is_remote_name
from chalicelib.services.mapping import AccountInfo, map_posting
from sandbox.demo_employers import DEMO_EMPLOYERS
from sandbox.stackone import seed

ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
GOOGLE_EMPLOYMENT_TYPES = {
    "FULL_TIME", "PART_TIME", "CONTRACTOR", "TEMPORARY", "INTERN", "VOLUNTEER", "PER_DIEM", "OTHER",
}  # fmt: skip
UNIT_TEXTS = {"HOUR", "DAY", "WEEK", "MONTH", "YEAR"}


def _demo_postings() -> list[Posting]:
    rng = random.Random(42)  # the sandbox's default seed
    postings = []
    for employer in DEMO_EMPLOYERS:
        account = AccountInfo(employer.account_id, employer.employer_id, employer.name, employer.provider)
        for raw in seed.demo_postings(employer, rng):
            if seed.is_on_board(raw):
                posting = map_posting(raw, account)
                posting.first_seen_at = datetime(2026, 11, 1, tzinfo=UTC)
                postings.append(posting)
    return postings


DEMO = _demo_postings()


def test_the_demo_data_covers_the_location_shapes() -> None:
    names = {location.name for posting in DEMO for location in posting.locations}
    assert {"Remote - EU", "Remote - US", "Remote", "New York, NY", "Berlin, Germany"} <= names
    assert len(DEMO) >= 30


@pytest.mark.parametrize("posting", DEMO, ids=[f"{p.company}:{p.title}"[:60] for p in DEMO])
def test_demo_posting_json_ld_has_the_required_and_recommended_properties(posting: Posting) -> None:
    url = f"https://board.test/jobs/{posting.job_id}"
    document: dict[str, Any] = json_ld.job_posting(posting, url=url, direct_apply=True)

    # Required.
    assert document["@context"] == "https://schema.org/" and document["@type"] == "JobPosting"
    assert document["title"] == posting.title and document["title"].strip()
    assert document["description"].strip()
    assert ISO_DATETIME.match(document["datePosted"])
    assert document["hiringOrganization"] == {"@type": "Organization", "name": posting.company}
    places = document.get("jobLocation", [])
    for place in places:
        address = place["address"]
        assert address["@type"] == "PostalAddress" and address["addressLocality"]
        assert address["addressCountry"] in COUNTRY_NAMES, address  # ISO 3166-1 alpha-2
    if posting.remote:
        assert document["jobLocationType"] == "TELECOMMUTE"
        requirements = document.get("applicantLocationRequirements", [])
        assert all(r["@type"] == "Country" and r["name"] in COUNTRY_NAMES for r in requirements)
        named = {code for location in posting.locations for code in countries_in(location.name)}
        if named:
            assert requirements, "a remote job whose locations name countries must say which"
        else:  # "Remote" alone: worldwide, and nothing is invented
            assert requirements == [] and all(is_remote_name(loc.name) for loc in posting.locations)
    else:
        assert "jobLocationType" not in document
        assert places, "an on-site job needs its jobLocation"
    # Recommended.
    assert document["identifier"] == {
        "@type": "PropertyValue",
        "name": posting.company,
        "value": posting.job_id,
    }
    assert document["directApply"] is True
    assert document["url"] == url
    if posting.employment_type or posting.contract_type:
        types = document["employmentType"]
        assert set(types if isinstance(types, list) else [types]) <= GOOGLE_EMPLOYMENT_TYPES
    if "baseSalary" in document:
        salary = document["baseSalary"]
        assert salary["@type"] == "MonetaryAmount" and re.fullmatch(r"[A-Z]{3}", salary["currency"])
        value = salary["value"]
        assert value["@type"] == "QuantitativeValue" and value["unitText"] in UNIT_TEXTS
        assert "value" in value or value["minValue"] <= value["maxValue"]
    assert "validThrough" not in document  # StackOne gives no closing date; never invented


def test_most_demo_postings_carry_pay_with_its_unit() -> None:
    with_pay = [p for p in DEMO if "baseSalary" in json_ld.job_posting(p, url="u", direct_apply=False)]
    assert len(with_pay) >= len(DEMO) // 2


def test_remote_eu_means_the_eu_member_states_and_an_office_stays_a_place() -> None:
    posting = next(p for p in DEMO if [loc.name for loc in p.locations] == ["Remote - EU", "Berlin, Germany"])

    document = json_ld.job_posting(posting, url="u", direct_apply=False)

    assert [r["name"] for r in document["applicantLocationRequirements"]] == list(EU_MEMBERS)
    assert document["jobLocation"] == [
        {
            "@type": "Place",
            "address": {"@type": "PostalAddress", "addressLocality": "Berlin", "addressCountry": "DE"},
        }
    ]
    assert document["directApply"] is False


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("Remote - US", ("US",)),
        ("Remote (Canada)", ("CA",)),
        ("New York, NY", ("US",)),
        ("Toronto, ON", ("CA",)),
        ("London, United Kingdom", ("GB",)),
        ("Zürich, Schweiz", ("CH",)),
        ("Remote", ()),
        ("Springfield", ()),
    ],
)
def test_location_names_to_country_codes(name: str, codes: tuple[str, ...]) -> None:
    assert countries_in(name) == codes


def test_json_ld_description_carries_no_protocol_relative_or_non_http_link() -> None:
    raw = {
        "id": "post_links",
        "title": "Engineer",
        "status": {"value": "live"},
        "content": {
            "html": '<p><a href="//evil.example/a">one</a> <a href="/\\evil.example">two</a> '
            '<a href="mailto:x@evil.example">three</a> <a href="https://acme.example/about">four</a></p>'
        },
    }
    posting = map_posting(raw, AccountInfo("acc_1", "emp_1", "Acme", "greenhouse"))

    description = json_ld.job_posting(posting, url="https://board.test/jobs/x", direct_apply=False)[
        "description"
    ]

    assert re.findall(r'href="([^"]*)"', description) == ["https://acme.example/about"]
    assert "evil.example" not in description
