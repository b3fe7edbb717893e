"""Apply services with in-memory fakes: token choice, renewal flag, recording, duplicate guard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.clients.embloy.errors import EmbloyTokenRejectedError, EmbloyUnreachableError
from chalicelib.clients.embloy.models import EmbloySession
from chalicelib.clients.stackone.errors import StackOneServerError, StackOneTimeoutError
from chalicelib.clients.stackone.models import CreatedApplication
from chalicelib.errors import ConflictError, UpstreamUnavailableError
from chalicelib.models.applications import ApplicationRecord
from chalicelib.models.apply import NativeApplicationRequest
from chalicelib.models.posting import Posting
from chalicelib.services.apply import (
    EmbloyApplyService,
    IdempotentRequest,
    NativeApplyPolicy,
    NativeApplyService,
    RecordPolicy,
)
from chalicelib.services.embloy_tokens import EmbloyTokenState
from tests.api.apply_factories import NOW, application_body, make_posting


class InMemoryPostings:
    def __init__(self, *postings: Posting) -> None:
        self.postings = {(p.account_id, p.posting_id): p for p in postings}
        self.unsupported: list[str] = []

    def get_posting(self, account_id: str, posting_id: str) -> Posting | None:
        return self.postings.get((account_id, posting_id))

    def mark_native_apply_unsupported(self, account_id: str) -> None:
        self.unsupported.append(account_id)


class InMemoryTokens:
    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens
        self.flagged: list[str] = []

    def get_token(self, employer_id: str) -> str | None:
        return self.tokens.get(employer_id)

    def get_status(self, employer_id: str) -> EmbloyTokenState:
        return EmbloyTokenState(employer_id in self.tokens, None, employer_id in self.flagged)

    def put_token(self, employer_id: str, token: str, updated_at: str) -> None:
        self.tokens[employer_id] = token

    def delete_token(self, employer_id: str, updated_at: str) -> None:
        self.tokens.pop(employer_id, None)

    def flag_needs_renewal(self, employer_id: str) -> None:
        self.flagged.append(employer_id)


class RecordingEmbloy:
    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, EmbloySession]] = []
        self.error = error

    def request_token(self, client_token: str, session: EmbloySession) -> str:
        self.calls.append((client_token, session))
        if self.error:
            raise self.error
        return "request/token+1"


class InMemoryRecords:
    def __init__(self, *, fail_puts: bool = False) -> None:
        self.records: list[ApplicationRecord] = []
        self.guards: dict[tuple[str, str], int] = {}
        self.upload_claims: dict[str, dict[str, Any]] = {}
        self.fail_puts = fail_puts

    def put(self, record: ApplicationRecord) -> None:
        if self.fail_puts:
            raise UpstreamUnavailableError(code="table_unavailable")
        self.records.append(record)

    def claim_guard(self, job_id: str, email_hash: str, *, now: int, until: int) -> bool:
        if self.guards.get((job_id, email_hash), 0) >= now:
            return False
        self.guards[(job_id, email_hash)] = until
        return True

    def release_guard(self, job_id: str, email_hash: str) -> None:
        self.guards.pop((job_id, email_hash), None)

    def claim_upload(self, upload: str, *, email_hash: str, application: str, until: int) -> bool:
        held = self.upload_claims.get(upload)
        if held and held["application"] != application and (held["email"] != email_hash or held["delivered"]):
            return False
        self.upload_claims[upload] = {
            "email": email_hash,
            "application": application,
            "delivered": bool(held and held["delivered"]),
        }
        return True

    def mark_upload_delivered(self, upload: str, *, at: int) -> None:
        self.upload_claims[upload]["delivered"] = True


class ScriptedStackOne:
    def __init__(self, *outcomes: CreatedApplication | Exception) -> None:
        self.outcomes = list(outcomes)
        self.bodies: list[tuple[str, dict[str, Any]]] = []

    def create_application(self, account_id: str, body: dict[str, Any]) -> CreatedApplication:
        self.bodies.append((account_id, body))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class InMemoryIdempotency:
    def __init__(self) -> None:
        self.results: dict[tuple[str, str], dict[str, Any]] = {}

    def run(
        self, request: IdempotentRequest, action: Callable[[], dict[str, Any]], *, lambda_context: Any = None
    ) -> dict[str, Any]:
        if (request.scope, request.key) not in self.results:
            self.results[(request.scope, request.key)] = action()
        return self.results[(request.scope, request.key)]


POLICY = RecordPolicy(retention_days=30)


def embloy_service(
    postings: InMemoryPostings, tokens: InMemoryTokens, embloy: RecordingEmbloy, records: InMemoryRecords
) -> EmbloyApplyService:
    return EmbloyApplyService(
        postings,
        tokens,
        embloy,
        records,
        public_base_url="https://board.test/",
        portal_base_url="https://portal.test",
        record_policy=POLICY,
        now=lambda: NOW,
    )


def native_service(
    postings: InMemoryPostings,
    stackone: ScriptedStackOne,
    records: InMemoryRecords,
    idempotency: InMemoryIdempotency | None = None,
) -> NativeApplyService:
    return NativeApplyService(
        postings,
        postings,
        stackone,
        records,
        idempotency or InMemoryIdempotency(),
        NativeApplyPolicy(
            board_name="Board",
            resume_max_bytes=1024 * 1024,
            duplicate_window_seconds=600,
            record_policy=POLICY,
        ),
        now=lambda: NOW,
    )


def test_each_posting_uses_its_own_employers_token() -> None:
    posting_a = make_posting(employer_id="emp-a", posting_id="a")
    posting_b = make_posting(employer_id="emp-b", posting_id="b", provider="lever", remote_id="lever-1")
    embloy = RecordingEmbloy()
    service = embloy_service(
        InMemoryPostings(posting_a, posting_b),
        InMemoryTokens({"emp-a": "token-a", "emp-b": "token-b"}),
        embloy,
        InMemoryRecords(),
    )

    url = service.portal_url(posting_b.job_id)
    service.portal_url(posting_a.job_id)

    assert url == "https://portal.test/sdk/apply?request_token=request%2Ftoken%2B1"
    assert [(token, s.mode, s.job_slug) for token, s in embloy.calls] == [
        ("token-b", "lever", "lever-1"),
        ("token-a", "ashby", "0a1b2c3d-ashby-posting"),
    ]
    assert embloy.calls[0][1].cancel_url == f"https://board.test/jobs/{posting_b.job_id}?cancelled=embloy"


def test_employer_b_without_a_token_never_borrows_employer_as() -> None:
    posting_b = make_posting(employer_id="emp-b")
    embloy = RecordingEmbloy()
    service = embloy_service(
        InMemoryPostings(posting_b), InMemoryTokens({"emp-a": "token-a"}), embloy, InMemoryRecords()
    )
    with pytest.raises(ConflictError) as caught:
        service.portal_url(posting_b.job_id)
    assert caught.value.code == "embloy_not_configured"
    assert embloy.calls == []


def test_posting_without_an_ats_id_cannot_go_to_embloy() -> None:
    posting = make_posting(remote_id=None)
    service = embloy_service(
        InMemoryPostings(posting), InMemoryTokens({"emp-a": "t"}), RecordingEmbloy(), InMemoryRecords()
    )
    with pytest.raises(ConflictError) as caught:
        service.portal_url(posting.job_id)
    assert caught.value.code == "embloy_unsupported"


def test_only_a_rejected_token_flags_renewal() -> None:
    posting = make_posting()
    tokens = InMemoryTokens({"emp-a": "t"})
    records = InMemoryRecords()
    for error in (EmbloyUnreachableError(), EmbloyTokenRejectedError(status=401)):
        service = embloy_service(InMemoryPostings(posting), tokens, RecordingEmbloy(error), records)
        with pytest.raises(type(error)):
            service.portal_url(posting.job_id)
    assert tokens.flagged == ["emp-a"]
    assert records.records == []  # nothing happened on Embloy's side, nothing is recorded


def test_embloy_click_is_recorded_as_redirected_with_retention() -> None:
    posting = make_posting()
    records = InMemoryRecords()
    embloy_service(
        InMemoryPostings(posting), InMemoryTokens({"emp-a": "t"}), RecordingEmbloy(), records
    ).portal_url(posting.job_id)
    (record,) = records.records
    assert (record.channel, record.outcome, record.employer_id) == ("embloy", "redirected", "emp-a")
    assert record.expires_at == int(NOW.timestamp()) + 30 * 86400
    assert record.candidate_email is None


def request() -> NativeApplicationRequest:
    return NativeApplicationRequest.model_validate(application_body())


def test_idempotent_retry_calls_stackone_once() -> None:
    posting = make_posting()
    stackone = ScriptedStackOne(CreatedApplication(id="app-1"))
    service = native_service(InMemoryPostings(posting), stackone, InMemoryRecords(), InMemoryIdempotency())

    first = service.submit(posting.job_id, request(), idempotency_key="k")
    second = service.submit(posting.job_id, request(), idempotency_key="k")

    assert (second.status_code, second.body) == (first.status_code, first.body)
    assert first.status_code == 201 and first.body == {"application_id": "app-1"}
    # Only the call that delivered it says so (what counts an application once).
    assert first.delivered and not second.delivered
    assert len(stackone.bodies) == 1


def test_a_failed_record_write_does_not_fail_a_delivered_application() -> None:
    posting = make_posting()
    service = native_service(
        InMemoryPostings(posting),
        ScriptedStackOne(CreatedApplication(id="app-1")),
        InMemoryRecords(fail_puts=True),
    )
    assert service.submit(posting.job_id, request()).status_code == 201


def test_timeout_keeps_the_guard_and_records_pending() -> None:
    posting = make_posting()
    records = InMemoryRecords()
    stackone = ScriptedStackOne(StackOneTimeoutError(status=408))
    service = native_service(InMemoryPostings(posting), stackone, records)

    result = service.submit(posting.job_id, request())

    assert result.status_code == 202
    assert records.records[-1].outcome == "pending_confirmation"
    assert result.body["reference"] == records.records[-1].record_id
    with pytest.raises(ConflictError):
        service.submit(posting.job_id, request())
    assert len(stackone.bodies) == 1


def test_server_error_releases_the_guard_and_records_the_failure() -> None:
    posting = make_posting()
    records = InMemoryRecords()
    stackone = ScriptedStackOne(StackOneServerError(status=502), CreatedApplication(id="app-2"))
    service = native_service(InMemoryPostings(posting), stackone, records)

    with pytest.raises(StackOneServerError):
        service.submit(posting.job_id, request())
    assert service.submit(posting.job_id, request()).body == {"application_id": "app-2"}
    assert [(r.outcome, r.error_code) for r in records.records] == [
        ("failed", "stackone_unavailable"),
        ("submitted", None),
    ]


def test_job_id_is_left_out_when_the_posting_has_no_parent_job() -> None:
    posting = make_posting(stackone_job_id=None)
    stackone = ScriptedStackOne(CreatedApplication(id="app-1"))
    native_service(InMemoryPostings(posting), stackone, InMemoryRecords()).submit(posting.job_id, request())
    assert "job_id" not in stackone.bodies[0][1]
    assert stackone.bodies[0][0] == posting.account_id
