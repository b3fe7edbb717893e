"""POST /webhooks/stackone: signature, replay, malformed bodies, and what each event does."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.models.posting import make_job_id
from chalicelib.services.webhooks import sign
from chalicelib.settings import get_settings
from tests.sync_support import StackOneStub, stackone_stub

SECRET = "whsec-test-signing-secret"
PATH = "/webhooks/stackone"


@pytest.fixture
def stackone(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[StackOneStub]:
    import boto3

    settings = get_settings()
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name=settings.webhook_secret_name, SecretString=SECRET)
    secrets.create_secret(Name=settings.stackone_api_key_secret_name, SecretString="v1.eu1.key")
    url = boto3.client("sqs").create_queue(QueueName=settings.sync_queue_name)["QueueUrl"]
    monkeypatch.setenv("SYNC_QUEUE_URL", url)
    get_settings.cache_clear()
    yield from stackone_stub()


@pytest.fixture
def synced(client: Any, stackone: StackOneStub) -> StackOneStub:
    """An account with 3 postings already on the board."""
    stackone.add_account("acc1", postings=3)
    deps.get_sync_service().sync_account("acc1", "run-0", "full")
    return stackone


def event(name: str, **fields: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {"project_id": "proj", "event": name, "event_date": now, "sent_at": now, **fields}


def post(client: Any, body: dict[str, Any] | bytes, *, signature: str | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    headers["x-stackone-signature"] = signature if signature is not None else sign(SECRET, raw)
    return client.http.post(PATH, headers=headers, body=raw)


def live_ids(account_id: str) -> set[str]:
    stored = deps.get_postings_repository().load_account(account_id)
    return {pid for pid, entry in stored.items() if entry.posting.status == "live"}


def test_good_signature_refreshes_the_posting(client: Any, synced: StackOneStub) -> None:
    synced.postings["acc1"][0]["title"] = "Renamed by webhook"
    response = post(client, event("ats_job_postings.updated", account_id="acc1", record_id="acc1-p0"))
    assert response.status_code == 204
    stored = deps.get_postings_repository().get("acc1", "acc1-p0")
    assert stored is not None and stored.posting.title == "Renamed by webhook"
    assert stored.posting.job_id == make_job_id("acc1", "acc1-p0")


def test_created_event_adds_a_new_posting(client: Any, synced: StackOneStub) -> None:
    from tests.sync_support import raw_posting

    synced.postings["acc1"].append(raw_posting("fresh"))
    assert (
        post(client, event("ats_job_postings.created", account_id="acc1", record_id="fresh")).status_code
        == 204
    )
    assert "fresh" in live_ids("acc1")


@pytest.mark.parametrize("signature", ["", "not-the-signature", sign("other-secret", b"{}")])
def test_bad_or_missing_signature_is_401_and_changes_nothing(
    client: Any, synced: StackOneStub, signature: str
) -> None:
    calls = len(synced.router.calls)
    body = event("ats_job_postings.deleted", account_id="acc1", record_id="acc1-p0")
    response = post(client, body, signature=signature)
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"] == "invalid_signature"
    assert "acc1-p0" in live_ids("acc1")
    assert len(synced.router.calls) == calls


def test_signature_is_checked_over_the_exact_raw_body(client: Any, synced: StackOneStub) -> None:
    raw = json.dumps(event("ats_job_postings.deleted", account_id="acc1", record_id="acc1-p0")).encode()
    tampered = raw.replace(b"acc1-p0", b"acc1-p1")
    assert post(client, tampered, signature=sign(SECRET, raw)).status_code == 401
    assert live_ids("acc1") == {"acc1-p0", "acc1-p1", "acc1-p2"}


def test_padded_signature_is_accepted(client: Any, synced: StackOneStub) -> None:
    raw = json.dumps(event("something.else")).encode()
    assert post(client, raw, signature=sign(SECRET, raw) + "=").status_code == 204


def test_replayed_delivery_does_no_work(client: Any, synced: StackOneStub) -> None:
    body = event("ats_job_postings.updated", account_id="acc1", record_id="acc1-p0")
    assert post(client, body).status_code == 204
    calls = len(synced.router.calls)
    assert post(client, body).status_code == 204
    assert len(synced.router.calls) == calls


def test_stale_delivery_is_rejected(client: Any, synced: StackOneStub) -> None:
    old = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = event(
        "ats_job_postings.deleted", account_id="acc1", record_id="acc1-p0", sent_at=old, event_date=old
    )
    response = post(client, body)
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"] == "webhook_expired"
    assert "acc1-p0" in live_ids("acc1")


@pytest.mark.parametrize(
    ("make_raw", "code"),
    [(lambda: b"not json", "invalid_json"), (lambda: b"[1, 2]", "invalid_json"),
     (lambda: json.dumps({"account_id": "acc1"}).encode(), "malformed_webhook"),
     # Built when the test runs, so its timestamps are fresh however long the run before it took.
     (lambda: json.dumps(event("ats_job_postings.updated", record_id="x")).encode(), "malformed_webhook")],
)  # fmt: skip
def test_malformed_body_with_valid_signature_is_400(
    client: Any, synced: StackOneStub, make_raw: Callable[[], bytes], code: str
) -> None:
    response = post(client, make_raw())
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["code"] == code


def test_deeply_nested_signed_body_is_400_invalid_json(client: Any, synced: StackOneStub) -> None:
    raw = b'{"event": "account.deleted", "account_id": "acc1", "x": ' + b"[" * 2000 + b"]" * 2000 + b"}"
    response = post(client, raw)
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["code"] == "invalid_json"
    assert live_ids("acc1") == {"acc1-p0", "acc1-p1", "acc1-p2"}


def test_signed_event_without_a_timestamp_is_400_and_changes_nothing(
    client: Any, synced: StackOneStub
) -> None:
    body = event("account.deleted", account_id="acc1")
    del body["sent_at"], body["event_date"]
    response = post(client, body)
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["code"] == "webhook_timestamp_required"
    assert live_ids("acc1") == {"acc1-p0", "acc1-p1", "acc1-p2"}


def test_signed_event_with_a_naive_timestamp_is_400(client: Any, synced: StackOneStub) -> None:
    naive = datetime.now(UTC).replace(tzinfo=None).isoformat()
    body = event("account.deleted", account_id="acc1", sent_at=naive, event_date=naive)
    response = post(client, body)
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["code"] == "webhook_timestamp_required"
    assert live_ids("acc1") == {"acc1-p0", "acc1-p1", "acc1-p2"}


def test_only_the_event_date_is_enough(client: Any, synced: StackOneStub) -> None:
    body = event("ats_job_postings.deleted", account_id="acc1", record_id="acc1-p1")
    del body["sent_at"]
    assert post(client, body).status_code == 204
    assert live_ids("acc1") == {"acc1-p0", "acc1-p2"}


@pytest.mark.parametrize("skew", [-1, 1])
def test_replay_guard_outlives_the_tolerance_window(client: Any, synced: StackOneStub, skew: int) -> None:
    from chalicelib.services.webhooks import WebhookService

    tolerance = get_settings().webhook_tolerance_seconds
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    sent = now + skew * timedelta(seconds=tolerance)  # accepted at either edge of the window
    guard = _RecordingGuard()
    service = WebhookService(
        lambda: SECRET, deps.get_sync_service(), guard, tolerance_seconds=tolerance, clock=lambda: now
    )
    raw = json.dumps(event("something.else", sent_at=sent.isoformat())).encode()
    assert service.handle(raw, sign(SECRET, raw)) == "ignored"
    # Until the claim expires a replay is a duplicate; after it, the timestamp is too old to pass.
    assert guard.expires_at is not None and guard.expires_at >= sent + timedelta(seconds=tolerance)


class _RecordingGuard:
    expires_at: datetime | None = None

    def claim(self, digest: str, *, now: datetime, expires_at: datetime) -> bool:
        self.expires_at = expires_at
        return True

    def release(self, digest: str) -> None:
        return None


@pytest.mark.parametrize(
    ("field", "value"),
    [("account_id", "../../accounts"), ("account_id", "acc1/../acc2"), ("record_id", "../acc1-p0"),
     ("record_id", "a?b=c"), ("account_id", "x" * 200)],
)  # fmt: skip
def test_ids_outside_stackones_shape_are_400_before_any_use(
    client: Any, synced: StackOneStub, field: str, value: str
) -> None:
    calls = len(synced.router.calls)
    fields = {"account_id": "acc1", "record_id": "acc1-p0", field: value}
    for name in ("ats_job_postings.updated", "ats_job_postings.deleted", "account.deleted"):
        response = post(client, event(name, **fields))
        assert response.status_code == 400
        assert json.loads(response.body)["error"]["code"] == "malformed_webhook"
    assert len(synced.router.calls) == calls
    assert live_ids("acc1") == {"acc1-p0", "acc1-p1", "acc1-p2"}


def test_unknown_event_is_204_and_ignored(client: Any, synced: StackOneStub) -> None:
    calls = len(synced.router.calls)
    response = post(client, event("ats_interviews.created", account_id="acc1", record_id="i1"))
    assert response.status_code == 204
    assert len(synced.router.calls) == calls
    assert len(live_ids("acc1")) == 3


def test_deleted_event_closes_the_posting(client: Any, synced: StackOneStub) -> None:
    response = post(client, event("ats_job_postings.deleted", account_id="acc1", record_id="acc1-p1"))
    assert response.status_code == 204
    assert live_ids("acc1") == {"acc1-p0", "acc1-p2"}


def test_account_created_enqueues_a_sync(client: Any, synced: StackOneStub) -> None:
    import boto3

    assert post(client, event("account.created", account_id="acc-new")).status_code == 204
    messages = boto3.client("sqs").receive_message(QueueUrl=get_settings().sync_queue_url)["Messages"]
    body = json.loads(messages[0]["Body"])
    assert (body["account_id"], body["reason"], body["mode"]) == ("acc-new", "webhook", "full")


def test_an_account_id_sent_as_a_number_is_read_as_text(client: Any, synced: StackOneStub) -> None:
    import boto3

    assert post(client, event("account.created", account_id=4711)).status_code == 204
    messages = boto3.client("sqs").receive_message(QueueUrl=get_settings().sync_queue_url)["Messages"]
    assert json.loads(messages[0]["Body"])["account_id"] == "4711"


def test_account_deleted_closes_its_postings(client: Any, synced: StackOneStub) -> None:
    assert post(client, event("account.deleted", account_id="acc1")).status_code == 204
    assert live_ids("acc1") == set()
    state = deps.get_sync_state_repository().get("acc1")
    assert state is not None and state.account_status == "deleted"


def test_upstream_failure_releases_the_replay_claim(client: Any, synced: StackOneStub) -> None:
    synced.status_for_account["acc1"] = 401
    body = event("ats_job_postings.updated", account_id="acc1", record_id="acc1-p0")
    assert post(client, body).status_code == 502
    del synced.status_for_account["acc1"]
    synced.postings["acc1"][0]["title"] = "Second try"
    assert post(client, body).status_code == 204  # StackOne's retry of the same delivery is processed
    stored = deps.get_postings_repository().get("acc1", "acc1-p0")
    assert stored is not None and stored.posting.title == "Second try"
