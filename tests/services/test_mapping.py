"""StackOne JobPosting -> Posting: drift, unknown enums, sanitising, remote and compensation."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.models.posting import parse_job_id
from chalicelib.services.mapping import AccountInfo, PostingMappingError, map_posting, sanitize_html

ACCOUNT = AccountInfo(account_id="acc1", employer_id="emp1", company="Acme Robotics", provider="greenhouse")


def raw_posting(**overrides: Any) -> dict[str, Any]:
    posting: dict[str, Any] = {
        "id": "p1",
        "remote_id": "gh-1",
        "title": "Robotics Engineer",
        "status": {"value": "live", "source_value": "open"},
        "internal": "false",
        "job_id": "j1",
        "remote_job_id": "gh-job-1",
        "locations": [{"id": "l1", "name": "Berlin, Germany"}],
        "content": {"html": "<p>Build robots.</p>", "plain": "Build robots."},
        "employment_type": {"value": "permanent", "source_value": "Permanent"},
        "employment_contract_type": {"value": "full_time"},
        "compensation": [],
        "external_url": "https://acme.example/jobs/1",
        "external_apply_url": "https://acme.example/jobs/1/apply",
        "created_at": "2026-01-01T10:00:00.000Z",
        "updated_at": "2026-01-02T10:00:00.000Z",
    }
    posting.update(overrides)
    return posting


def test_maps_the_core_fields_and_owner_from_the_account() -> None:
    posting = map_posting(raw_posting(), ACCOUNT)
    assert parse_job_id(posting.job_id) == ("acc1", "p1")
    assert (posting.employer_id, posting.company, posting.provider) == ("emp1", "Acme Robotics", "greenhouse")
    assert posting.title == "Robotics Engineer"
    assert posting.remote_id == "gh-1"
    assert posting.remote_job_id == "gh-job-1"
    assert posting.stackone_job_id == "j1"
    assert [loc.name for loc in posting.locations] == ["Berlin, Germany"]
    assert posting.employment_type == "permanent"
    assert posting.contract_type == "full_time"
    assert posting.status == "live"
    assert posting.remote is False
    assert posting.external_apply_url == "https://acme.example/jobs/1/apply"
    assert posting.updated_at is not None and posting.updated_at.year == 2026


def test_old_field_spellings_are_accepted() -> None:
    # GIVEN the pre-2025 spellings: remote_job_posting_id and compensation name/min_value/max_value
    raw = raw_posting(
        remote_job_id=None,
        remote_job_posting_id="old-job-7",
        compensation=[
            {"name": "Base", "type": {"value": "salary"}, "currency": "eur", "min_value": "50000",
             "max_value": "70,000", "pay_period": {"value": "year"}},
        ],
    )  # fmt: skip
    posting = map_posting(raw, ACCOUNT)
    assert posting.remote_job_id == "old-job-7"
    [pay] = posting.compensation
    assert (pay.label, pay.kind, pay.currency, pay.min, pay.max, pay.period) == (
        "Base", "salary", "EUR", 50000.0, 70000.0, "year",
    )  # fmt: skip


def test_new_compensation_spelling_and_frequency_fallback() -> None:
    raw = raw_posting(
        compensation=[
            {"title": "Hourly rate", "type": {"value": "hourly"}, "currency": "USD",
             "min_value_range": "40", "max_value_range": "30", "pay_frequency": {"value": "weekly"}},
            {"title": "Bonus", "type": {"value": "bonus"}, "value": "10%"},
            {"title": None, "type": None},
        ],
    )  # fmt: skip
    posting = map_posting(raw, ACCOUNT)
    hourly, bonus = posting.compensation
    assert (hourly.min, hourly.max, hourly.period) == (30.0, 40.0, "week")  # swapped, frequency -> period
    assert (bonus.kind, bonus.min, bonus.max) == ("bonus", None, None)  # percentages are not amounts


@pytest.mark.parametrize(
    ("internal", "visible"),
    [("true", False), (True, False), ("false", True), (False, True), ("unmapped_value", True), (None, True)],
)
def test_internal_as_string_or_bool(internal: Any, visible: bool) -> None:
    posting = map_posting(raw_posting(internal=internal), ACCOUNT)
    assert (posting.status == "live") is visible


@pytest.mark.parametrize("status", ["draft", "closed", "unmapped_value", "brand_new_status", None])
def test_only_live_status_is_on_the_board(status: str | None) -> None:
    raw = raw_posting(status={"value": status, "source_value": "x"} if status else None)
    assert map_posting(raw, ACCOUNT).status == "closed"


def test_unknown_enum_values_never_fail() -> None:
    raw = raw_posting(
        employment_type={"value": "gig_worker", "source_value": "Gig"},
        employment_contract_type={"value": "unmapped_value", "source_value": "Weird"},
        compensation=[{"type": {"value": "stock_lottery"}, "pay_period": {"value": "fortnight_ish"},
                       "min_value_range": "1000"}],
        questionnaires=[{"id": "q1", "questions": [
            {"id": "qq1", "text": "Why?", "type": {"value": "hologram"}, "required": "true",
             "parent_question": {"id": "qq0", "option_ids": ["o1"],
                                 "condition_type": {"value": "sometimes"}}},
        ]}],
    )  # fmt: skip
    posting = map_posting(raw, ACCOUNT)
    assert posting.employment_type == "gig_worker"
    assert posting.contract_type is None
    assert posting.compensation[0].kind == "other"
    assert posting.compensation[0].period is None
    question = posting.questionnaires[0].questions[0]
    assert question.type == "unmapped_value"
    assert question.required is True
    assert question.condition is not None and question.condition.parent_question_id == "qq0"


def test_questionnaires_map_options_and_drop_internal_ones() -> None:
    raw = raw_posting(
        questionnaires=[
            {"id": "q1", "name": "Screening", "internal": "false", "questions": [
                {"id": "a", "text": "Pick", "type": {"value": "single_select"}, "required": False,
                 "multiple_choice_answers": [{"id": "o1", "text": "Yes"}, {"id": "o2", "text": "No"}]},
                {"id": None, "text": "dropped: no id"},
            ]},
            {"id": "q2", "internal": True, "questions": []},
        ],
    )  # fmt: skip
    posting = map_posting(raw, ACCOUNT)
    assert [q.id for q in posting.questionnaires] == ["q1"]
    [question] = posting.questionnaires[0].questions
    assert [(o.id, o.text) for o in question.options] == [("o1", "Yes"), ("o2", "No")]


def test_content_html_is_sanitised_and_plain_text_derived() -> None:
    raw = raw_posting(
        content={
            "html": '<h2>About</h2><p onclick="x()">We <b>build</b> robots.<script>alert(1)</script></p>'
            '<a href="javascript:alert(1)">bad</a><a href="https://acme.example">good</a>'
            '<img src="x" onerror="y()"><style>p{}</style><iframe src="https://evil"></iframe>',
            "plain": None,
        }
    )
    posting = map_posting(raw, ACCOUNT)
    assert "<script" not in posting.content_html
    assert "alert" not in posting.content_html
    assert "onclick" not in posting.content_html
    assert "javascript:" not in posting.content_html
    assert "<img" not in posting.content_html and "<iframe" not in posting.content_html
    assert '<a href="https://acme.example" rel="noopener noreferrer">good</a>' in posting.content_html
    assert "<b>build</b>" in posting.content_html
    assert posting.content_plain.splitlines()[0] == "About"
    assert "We build robots." in posting.content_plain


def test_sections_or_plain_text_become_html_when_no_html() -> None:
    from_sections = map_posting(
        raw_posting(content={"sections": [{"label": "Role & you", "content": "Do <things>"}]}), ACCOUNT
    )
    assert from_sections.content_html.startswith("<h3>Role &amp; you</h3>")
    from_plain = map_posting(raw_posting(content={"plain": "One.\n\nTwo <b>"}), ACCOUNT)
    assert from_plain.content_html == "<p>One.</p><p>Two &lt;b&gt;</p>"
    assert "Two <b>" in from_plain.content_plain


@pytest.mark.parametrize(
    ("overrides", "remote"),
    [
        ({"locations": [{"name": "Remote - EU"}]}, True),
        ({"locations": [{"name": "Anywhere"}]}, True),
        ({"title": "Backend Engineer (Remote)"}, True),
        ({"content": {"html": "<p>This is a fully remote role.</p>"}}, True),
        ({"locations": [{"name": "Remoteville, TX"}]}, False),
        ({"content": {"html": "<p>We use remote controls.</p>"}}, False),
    ],
)
def test_remote_detection(overrides: dict[str, Any], remote: bool) -> None:
    assert map_posting(raw_posting(**overrides), ACCOUNT).remote is remote


def test_a_posting_without_id_cannot_be_mapped() -> None:
    with pytest.raises(PostingMappingError):
        map_posting(raw_posting(id=None), ACCOUNT)


def test_garbage_values_degrade_instead_of_failing() -> None:
    raw = raw_posting(
        title=None, locations="nope", compensation=[{"min_value_range": {"x": 1}}, "junk"],
        content="not a dict", created_at="yesterday", questionnaires=[None, {"questions": "x"}],
    )  # fmt: skip
    posting = map_posting(raw, ACCOUNT)
    assert posting.title == "Untitled position"
    assert posting.created_at is None and posting.content_html == ""


def test_sanitize_keeps_allowed_structure() -> None:
    assert sanitize_html("<ul><li>One</li></ul><table><tr><td colspan='2'>x</td></tr></table>") == (
        '<ul><li>One</li></ul><table><tbody><tr><td colspan="2">x</td></tr></tbody></table>'
    )


def test_source_hash_ignores_key_order_and_unmapped_fields_but_not_content() -> None:
    from chalicelib.services.mapping import source_hash

    base = raw_posting()
    reordered = dict(reversed(list(base.items())))
    assert source_hash(base, ACCOUNT) == source_hash(reordered, ACCOUNT)
    assert source_hash(base, ACCOUNT) == source_hash({**base, "unified_custom_fields": {"x": 1}}, ACCOUNT)
    assert source_hash(base, ACCOUNT) != source_hash({**base, "title": "Other"}, ACCOUNT)
    other_company = AccountInfo("acc1", "emp1", "Acme Renamed", "greenhouse")
    assert source_hash(base, ACCOUNT) != source_hash(base, other_company)
    assert source_hash({**base, "big": 2**70, "title": 2**70}, ACCOUNT)  # beyond 64 bits: still hashed


@pytest.mark.parametrize(
    "href",
    ["//evil.example/x", "/\\evil.example", "\\\\evil.example", " //evil.example", "/jobs/1", "jobs/1",
     "#top", "?q=1", "http:evil.example", "https:\\\\evil.example", "mailto:jobs@acme.example",
     "javascript:alert(1)", "data:text/html,x", "ftp://acme.example/f", "&#x2F;&#x2F;evil.example"],
)  # fmt: skip
def test_only_absolute_http_links_survive_sanitising(href: str) -> None:
    cleaned = sanitize_html(f'<p>Apply <a href="{href}">here</a></p>')

    assert cleaned == '<p>Apply <a rel="noopener noreferrer">here</a></p>'


@pytest.mark.parametrize(
    "href", ["https://acme.example/jobs?a=1#x", "http://acme.example", "HTTPS://acme.example"]
)
def test_absolute_http_links_keep_their_href(href: str) -> None:
    assert sanitize_html(f'<a href="{href}">x</a>') == f'<a href="{href}" rel="noopener noreferrer">x</a>'
