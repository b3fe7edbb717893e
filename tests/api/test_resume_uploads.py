"""POST /jobs/{job_id}/resume-uploads and applications that name an upload (moto S3, respx StackOne).

The browser's multipart POST to the presigned form is exercised against moto's server in
tests/e2e/test_full_stack.py; here the upload lands with `put_object` under the key the form names.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import httpx
import pytest
import respx

from chalicelib import deps
from chalicelib.settings import get_settings
from tests.api.apply_factories import (
    PDF,
    application_body,
    json_headers,
    make_posting,
    store_posting,
)

APPLICATIONS = "/unified/ats/applications"
CREATED = {"statusCode": 201, "message": "Record created successfully.", "data": {"id": "app-9"}}


def create_upload(client: Any, job_id: str, filename: str = "cv.pdf") -> Any:
    return client.http.post(
        f"/jobs/{job_id}/resume-uploads", body=json.dumps({"filename": filename}), headers=json_headers()
    )


def upload(client: Any, job_id: str, content: bytes, filename: str = "cv.pdf") -> str:
    """Create a presigned POST and store `content` where it points (what the browser's POST does)."""
    response = create_upload(client, job_id, filename)
    assert response.status_code == 201, response.json_body
    form = response.json_body
    s3 = boto3.client("s3")
    s3.put_object(
        Bucket=get_settings().resume_upload_bucket,
        Key=form["fields"]["key"],
        Body=content,
        ContentType=form["fields"]["Content-Type"],
    )
    return str(form["upload_id"])


def uploaded_keys() -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=get_settings().resume_upload_bucket)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_upload_form_is_bound_to_one_key_one_type_and_the_size_limit(apply_client: Any) -> None:
    posting = store_posting(make_posting())

    response = create_upload(apply_client, posting.job_id, "Ada CV.docx")

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    form = response.json_body
    assert len(form["upload_id"]) == 32
    assert form["max_bytes"] == get_settings().resume_upload_max_bytes
    assert form["expires_in"] == get_settings().resume_upload_expires_seconds
    fields = form["fields"]
    assert fields["key"].startswith("resumes/") and fields["key"].endswith(form["upload_id"])
    assert fields["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, get_settings().resume_upload_max_bytes] in conditions
    assert {"Content-Type": fields["Content-Type"]} in conditions
    assert {"key": fields["key"]} in conditions
    assert get_settings().resume_upload_bucket in form["url"]


def test_upload_for_a_closed_job_or_a_bad_extension_is_refused(apply_client: Any) -> None:
    closed = store_posting(make_posting(status="closed"))
    live = store_posting(make_posting(posting_id="post-2"))

    assert create_upload(apply_client, closed.job_id).status_code == 404
    bad = create_upload(apply_client, live.job_id, "cv.exe")
    assert bad.status_code == 422
    assert bad.json_body["error"]["code"] == "unsupported_file_type"
    assert create_upload(apply_client, live.job_id, "../cv.pdf").status_code == 400
    assert uploaded_keys() == []


def test_application_naming_an_upload_forwards_the_file_and_deletes_the_upload(
    apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    posting = store_posting(make_posting())
    route = stackone_api.post(APPLICATIONS).respond(201, json=CREATED)
    # Larger than the inline limit: only the upload path can carry it.
    content = PDF + b"%" + b"x" * (get_settings().resume_max_bytes + 10) + b"\n%%EOF\n"
    upload_id = upload(apply_client, posting.job_id, content)

    body = application_body(resume={"filename": "cv.pdf", "upload_id": upload_id})
    response = apply_client.http.post(
        f"/jobs/{posting.job_id}/applications", body=json.dumps(body), headers=json_headers()
    )

    assert response.status_code == 201, response.json_body
    (document,) = json.loads(route.calls.last.request.content)["documents"]
    assert document["name"] == "cv.pdf"
    assert document["category"] == {"value": "resume"}
    assert base64.b64decode(document["content"]) == content
    assert uploaded_keys() == []  # the ATS has it: our copy of the personal data is gone


def test_a_retry_under_the_same_idempotency_key_after_success_gets_the_same_answer(
    apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    # The first answer was lost on the way to the browser; its retry must not read as a failure.
    posting = store_posting(make_posting())
    route = stackone_api.post(APPLICATIONS).respond(201, json=CREATED)
    upload_id = upload(apply_client, posting.job_id, PDF + b"%%EOF\n")
    body = json.dumps(application_body(resume={"filename": "cv.pdf", "upload_id": upload_id}))
    headers = json_headers(**{"Idempotency-Key": "retry-1"})

    first = apply_client.http.post(f"/jobs/{posting.job_id}/applications", body=body, headers=headers)
    again = apply_client.http.post(f"/jobs/{posting.job_id}/applications", body=body, headers=headers)

    assert first.status_code == 201, first.json_body
    assert (again.status_code, again.json_body) == (201, first.json_body)
    assert route.call_count == 1  # replayed, not re-sent
    assert uploaded_keys() == []  # delivered: deleted at once, Idempotency-Key or not


def put_back(job_id: str, upload_id: str) -> None:
    """The upload's object as if its deletion after delivery had failed."""
    from chalicelib.services.resume_uploads import upload_key

    bucket = get_settings().resume_upload_bucket
    boto3.client("s3").put_object(Bucket=bucket, Key=upload_key(job_id, upload_id), Body=PDF + b"%%EOF\n")


def apply_with(client: Any, job_id: str, upload_id: str, email: str, key: str | None = None) -> Any:
    body = application_body(resume={"filename": "cv.pdf", "upload_id": upload_id})
    body["candidate"]["email"] = email
    headers = json_headers(**({"Idempotency-Key": key} if key else {}))
    return client.http.post(f"/jobs/{job_id}/applications", body=json.dumps(body), headers=headers)


def test_a_delivered_upload_is_never_sent_again_by_anyone(
    apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    # Another person who learnt the upload id, with a key of their own, gets nothing sent under their name.
    posting = store_posting(make_posting())
    route = stackone_api.post(APPLICATIONS).respond(201, json=CREATED)
    upload_id = upload(apply_client, posting.job_id, PDF + b"%%EOF\n")

    first = apply_with(apply_client, posting.job_id, upload_id, "ada@example.com", key="ada-1")
    assert first.status_code == 201, first.json_body
    gone = apply_with(apply_client, posting.job_id, upload_id, "mallory@example.com", key="mallory-1")
    put_back(posting.job_id, upload_id)  # even if our copy had survived
    other = apply_with(apply_client, posting.job_id, upload_id, "mallory@example.com", key="mallory-2")
    later = apply_with(apply_client, posting.job_id, upload_id, "ada@example.com")

    assert gone.status_code == 422 and gone.json_body["error"]["code"] == "upload_not_found"
    assert other.status_code == 409 and other.json_body["error"]["code"] == "upload_already_used"
    assert later.status_code == 409 and later.json_body["error"]["code"] == "upload_already_used"
    assert route.call_count == 1


def test_an_upload_stays_with_the_candidate_whose_application_failed(
    apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    posting = store_posting(make_posting())
    route = stackone_api.post(APPLICATIONS)
    route.side_effect = [httpx.Response(500, json={"message": "down"}), httpx.Response(201, json=CREATED)]
    upload_id = upload(apply_client, posting.job_id, PDF + b"%%EOF\n")

    failed = apply_with(apply_client, posting.job_id, upload_id, "ada@example.com")
    assert failed.status_code >= 500, failed.json_body
    taken = apply_with(apply_client, posting.job_id, upload_id, "mallory@example.com")
    retried = apply_with(apply_client, posting.job_id, upload_id, "ada@example.com")

    assert taken.status_code == 409 and taken.json_body["error"]["code"] == "upload_already_used"
    assert retried.status_code == 201, retried.json_body
    assert route.call_count == 2  # the failed attempt and Ada's retry; nothing under Mallory's name
    assert uploaded_keys() == []


def test_an_upload_cannot_be_attached_to_another_job(
    apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    first = store_posting(make_posting())
    other = store_posting(make_posting(posting_id="post-2"))
    route = stackone_api.post(APPLICATIONS).respond(201, json=CREATED)
    upload_id = upload(apply_client, first.job_id, PDF)

    body = application_body(resume={"filename": "cv.pdf", "upload_id": upload_id})
    response = apply_client.http.post(
        f"/jobs/{other.job_id}/applications", body=json.dumps(body), headers=json_headers()
    )

    assert response.status_code == 422
    assert response.json_body["error"]["code"] == "upload_not_found"
    assert "resume.upload_id" in response.json_body["error"]["fields"]
    assert not route.called


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"just some text, not a PDF", 422, "unsupported_file_type"),
        (PDF + b"x" * 2048, 413, "file_too_large"),
    ],
)
def test_uploaded_files_are_checked_like_inline_ones(
    apply_client: Any,
    stackone_api: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    status: int,
    code: str,
) -> None:
    monkeypatch.setenv("RESUME_UPLOAD_MAX_BYTES", "1024")
    get_settings.cache_clear()
    posting = store_posting(make_posting())
    route = stackone_api.post(APPLICATIONS).respond(201, json=CREATED)
    upload_id = upload(apply_client, posting.job_id, content)

    body = application_body(resume={"filename": "cv.pdf", "upload_id": upload_id})
    response = apply_client.http.post(
        f"/jobs/{posting.job_id}/applications", body=json.dumps(body), headers=json_headers()
    )

    assert response.status_code == status
    assert response.json_body["error"]["code"] == code
    assert not route.called
    assert len(uploaded_keys()) == 1  # kept for a corrected retry; the lifecycle rule removes it


def test_inline_resumes_over_the_inline_limit_point_to_uploads(apply_client: Any) -> None:
    posting = store_posting(make_posting())
    big = PDF + b"x" * get_settings().resume_max_bytes
    body = application_body(resume={"filename": "cv.pdf", "content_base64": base64.b64encode(big).decode()})

    response = apply_client.http.post(
        f"/jobs/{posting.job_id}/applications", body=json.dumps(body), headers=json_headers()
    )

    assert response.status_code == 413
    assert response.json_body["error"]["code"] in ("payload_too_large", "file_too_large")


def test_forms_post_to_the_buckets_regional_endpoint_which_the_job_page_allows(client: Any) -> None:
    # The global endpoint redirects for a new bucket and does not serve opt-in regions.
    bucket = get_settings().resume_upload_bucket
    origin = f"https://{bucket}.s3.eu-central-1.amazonaws.com"
    assert deps.get_resume_uploads().origin() == origin

    posting = store_posting(make_posting())
    page = client.http.get(f"/board/jobs/{posting.job_id}")

    assert page.status_code == 200

    policy = page.headers["Content-Security-Policy"]
    (connect,) = [part for part in policy.split(";") if part.strip().startswith("connect-src")]
    assert connect.split()[1:] == ["'self'", origin]
    other = client.http.get("/board")
    assert origin not in other.headers["Content-Security-Policy"]  # only the page with the form
