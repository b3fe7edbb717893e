"""The two ways a candidate applies: through Embloy (a redirect), or natively into the ATS via StackOne."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from chalicelib.clients.embloy.errors import EmbloyTokenRejectedError
from chalicelib.clients.embloy.models import MODE_BY_PROVIDER, EmbloySession, portal_url
from chalicelib.clients.stackone.errors import (
    StackOneConflictError,
    StackOneError,
    StackOneNotFoundError,
    StackOneTimeoutError,
    StackOneUnsupportedError,
)
from chalicelib.clients.stackone.models import CreatedApplication
from chalicelib.clock import Clock, utcnow
from chalicelib.errors import (
    AppError,
    ConflictError,
    NotFoundError,
    UnprocessableError,
    UpstreamUnavailableError,
)
from chalicelib.models.applications import ApplicationRecord, Outcome
from chalicelib.models.apply import (
    ApplicationCreatedResponse,
    ApplicationPendingResponse,
    DocumentIn,
    NativeApplicationRequest,
    UploadedDocumentIn,
)
from chalicelib.models.messages import EmailOutbox
from chalicelib.models.posting import Posting, parse_job_id
from chalicelib.observability import logger
from chalicelib.services.application_emails import application_confirmation
from chalicelib.services.application_form import (
    CheckedDocument,
    Problems,
    check_answers,
    check_content,
    check_document,
    questionnaires_body,
)
from chalicelib.services.embloy_tokens import EmbloyTokenRepository
from chalicelib.services.metrics import MetricsSink
from chalicelib.services.resume_uploads import ResumeUploadStore, upload_key

# The dashboard's apply results: one Count metric per native application outcome.
APPLY_OUTCOME_METRICS: dict[str, str] = {
    "submitted": "ApplicationsSubmitted",
    "pending_confirmation": "ApplicationsPending",
    "duplicate": "ApplicationsDuplicate",
    "failed": "ApplicationsFailed",
    "redirected": "EmbloyRedirects",
}


class PostingSource(Protocol):
    def get_posting(self, account_id: str, posting_id: str) -> Posting | None: ...


class ApplyCapabilities(Protocol):
    def mark_native_apply_unsupported(self, account_id: str) -> None: ...


class PostingCloser(Protocol):
    def close_posting(self, account_id: str, posting_id: str) -> str: ...


class EmbloyGateway(Protocol):
    def request_token(self, client_token: str, session: EmbloySession) -> str: ...


class ApplicationsGateway(Protocol):
    def create_application(self, account_id: str, body: dict[str, Any]) -> CreatedApplication: ...


class RecordStore(Protocol):
    def put(self, record: ApplicationRecord) -> None: ...
    def claim_guard(self, job_id: str, email_hash: str, *, now: int, until: int) -> bool: ...
    def release_guard(self, job_id: str, email_hash: str) -> None: ...
    def claim_upload(self, upload: str, *, email_hash: str, application: str, until: int) -> bool: ...
    def mark_upload_delivered(self, upload: str, *, at: int) -> None: ...


class WriteLimiter(Protocol):
    def check(self, scope: str, client: str, job_id: str) -> None:
        """Count one write by `client` on `job_id`; ThrottledError when over the limit."""
        ...


class _NoLimit:
    def check(self, scope: str, client: str, job_id: str) -> None:
        return None


class AlreadyAppliedError(ConflictError):
    """The employer's ATS already holds this candidate's application for the job (StackOne's 409)."""

    code = "already_applied"
    default_message = "You have already applied to this job; the employer has your application."


@dataclass(frozen=True)
class IdempotentRequest:
    """A client's Idempotency-Key within a scope (the job), with a hash of the request it came with."""

    scope: str
    key: str
    payload_hash: str


class Idempotency(Protocol):
    def run(
        self, request: IdempotentRequest, action: Callable[[], dict[str, Any]], *, lambda_context: Any = None
    ) -> dict[str, Any]:
        """The action's JSON result, at most once per (scope, key); another payload with the key is a 422."""
        ...


def load_live_posting(postings: PostingSource, job_id: str) -> Posting:
    """The live posting of a board id with one read; NotFoundError(job_not_found) otherwise."""
    account_id, posting_id = parse_job_id(job_id)
    posting = postings.get_posting(account_id, posting_id)
    if posting is None or posting.status != "live":
        raise NotFoundError("No such job, or it is closed.", code="job_not_found")
    return posting


def embloy_mode(posting: Posting) -> str | None:
    """The Embloy mode for a posting's ATS, or None when Embloy cannot take its postings."""
    return MODE_BY_PROVIDER.get(posting.provider.lower())


@dataclass(frozen=True)
class RecordPolicy:
    retention_days: int
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex


def _record(
    posting: Posting,
    policy: RecordPolicy,
    at: datetime,
    *,
    channel: str,
    outcome: Outcome,
    **fields: Any,
) -> ApplicationRecord:
    return ApplicationRecord.model_validate(
        {
            "record_id": policy.new_id(),
            "employer_id": posting.employer_id,
            "job_id": posting.job_id,
            "account_id": posting.account_id,
            "posting_id": posting.posting_id,
            "job_title": posting.title,
            "provider": posting.provider,
            "channel": channel,
            "outcome": outcome,
            "submitted_at": at,
            "expires_at": int((at + timedelta(days=policy.retention_days)).timestamp()),
            **fields,
        }
    )


def _store_record(records: RecordStore, record: ApplicationRecord) -> None:
    """Recording never undoes a delivered application: a failed write is logged (without personal data)."""
    try:
        records.put(record)
    except AppError as exc:
        logger.warning(
            "application record not stored", extra={"error_code": exc.code, "job_id": record.job_id}
        )


class EmbloyApplyService:
    """Turns a click on "Apply with Embloy" into the Embloy portal URL for that posting."""

    def __init__(
        self,
        postings: PostingSource,
        tokens: EmbloyTokenRepository,
        embloy: EmbloyGateway,
        records: RecordStore,
        *,
        public_base_url: str,
        portal_base_url: str,
        record_policy: RecordPolicy,
        limiter: WriteLimiter | None = None,
        now: Clock = utcnow,
    ) -> None:
        self._postings = postings
        self._limiter = limiter or _NoLimit()
        self._tokens = tokens
        self._embloy = embloy
        self._records = records
        self._public_base_url = public_base_url.rstrip("/")
        self._portal_base_url = portal_base_url.rstrip("/")
        self._policy = record_policy
        self._now = now

    def session_for(self, posting: Posting) -> EmbloySession:
        """Everything Embloy gets comes from our posting row and config, never from the candidate."""
        mode = embloy_mode(posting)
        if mode is None or not posting.remote_id:
            raise ConflictError(
                "This job cannot be applied to with Embloy; use another way to apply.",
                code="embloy_unsupported",
            )
        job_page = f"{self._public_base_url}/jobs/{posting.job_id}"
        return EmbloySession.model_validate(
            {
                "mode": mode,
                "job_slug": posting.remote_id,
                "success_url": f"{job_page}?applied=embloy",
                "cancel_url": f"{job_page}?cancelled=embloy",
            }
        )

    def portal_url(self, job_id: str, *, client: str = "unknown") -> str:
        """The Embloy portal URL (with a fresh 30-minute request token) for one candidate click.

        The click counts against `client`'s limit for this job only once everything is checked, right
        before the Embloy call: a refused click (404, 409) writes nothing.
        """
        posting = load_live_posting(self._postings, job_id)
        session = self.session_for(posting)
        token = self._tokens.get_token(posting.employer_id)
        if token is None:
            raise ConflictError(
                "The employer has not set up Embloy; use another way to apply.", code="embloy_not_configured"
            )
        self._limiter.check("embloy", client, posting.job_id)
        try:
            request_token = self._embloy.request_token(token, session)
        except EmbloyTokenRejectedError:
            self._tokens.flag_needs_renewal(posting.employer_id)
            raise
        _store_record(
            self._records,
            _record(posting, self._policy, self._now(), channel="embloy", outcome="redirected"),
        )
        return portal_url(self._portal_base_url, request_token)


@dataclass(frozen=True)
class SubmitResult:
    status_code: int  # 201 created, 202 pending confirmation
    body: dict[str, Any]
    # True when this call delivered a new application (201); False for a replayed answer.
    delivered: bool = False


@dataclass(frozen=True)
class NativeApplyPolicy:
    board_name: str
    resume_max_bytes: int  # inline (base64) files
    duplicate_window_seconds: int
    record_policy: RecordPolicy
    resume_upload_max_bytes: int = 10 * 1024 * 1024  # resumes uploaded to S3
    # How long an upload stays bound to the application that used it: past the bucket's lifecycle rule
    # (one day) and the Idempotency-Key window, so no later request can take it over.
    upload_claim_seconds: int = 2 * 86400
    # Where job pages live: the candidate's confirmation email links to the job there.
    public_base_url: str = ""


def email_fingerprint(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class NativeApplyService:
    """Validates a native application against its posting and delivers it once to the ATS via StackOne.

    Duplicates: with an Idempotency-Key a retry returns the first result (no second StackOne call); without
    one, the same email for the same posting within the window is refused with 409 duplicate_application.
    An ATS that already has the candidate for the job (StackOne's 409) answers 409 already_applied, a final
    answer that is replayed under its Idempotency-Key like a success.
    """

    def __init__(
        self,
        postings: PostingSource,
        capabilities: ApplyCapabilities,
        stackone: ApplicationsGateway,
        records: RecordStore,
        idempotency: Idempotency,
        policy: NativeApplyPolicy,
        *,
        uploads: ResumeUploadStore | None = None,
        metrics: MetricsSink | None = None,
        limiter: WriteLimiter | None = None,
        now: Clock = utcnow,
        closer: PostingCloser | None = None,
        outbox: EmailOutbox | None = None,
    ) -> None:
        self._postings = postings
        self._outbox = outbox  # None: no confirmation emails
        self._uploads = uploads
        self._metrics = metrics
        self._limiter = limiter or _NoLimit()
        self._closer = closer  # takes a posting StackOne no longer knows off the board at once
        self._capabilities = capabilities
        self._stackone = stackone
        self._records = records
        self._idempotency = idempotency
        self._policy = policy
        self._now = now

    def submit(
        self,
        job_id: str,
        request: NativeApplicationRequest,
        *,
        idempotency_key: str | None = None,
        payload_hash: str = "",
        lambda_context: Any = None,
        client: str = "unknown",
    ) -> SubmitResult:
        """Validate, then deliver once. With an Idempotency-Key a retry gets the first answer replayed
        without being validated again: an uploaded resume is gone once delivered."""
        posting = load_live_posting(self._postings, job_id)
        application = self._application_identity(posting, idempotency_key, payload_hash)
        delivered: list[int] = []  # the status of a delivery made by this call (none when replayed)

        def deliver() -> dict[str, Any]:
            body = self.stackone_body(posting, request)  # every validation failure happens before delivery
            # Only a valid application counts against the client's limit (a refused one writes nothing).
            self._limiter.check("apply", client, posting.job_id)
            upload = self._claim_upload(posting, request, application)
            try:
                result = self._deliver(posting, request, body)
            except AlreadyAppliedError as exc:
                # The ATS's final word, so it is returned (and stored under an Idempotency-Key) like a
                # success: a retry replays the 409 instead of asking the ATS again. A raised error would
                # store nothing. The ATS already has this candidate's resume: our copy goes too.
                if upload is not None:
                    self._forget_upload(posting, upload)
                return {"status_code": 409, "refused": exc.code}
            if upload is not None:
                self._forget_upload(posting, upload)
            delivered.append(result.status_code)
            return {"status_code": result.status_code, "body": result.body}

        if idempotency_key is None:
            outcome = deliver()
        else:
            outcome = self._idempotency.run(
                IdempotentRequest(posting.job_id, idempotency_key, payload_hash),
                deliver,
                lambda_context=lambda_context,
            )
        if outcome.get("refused") == AlreadyAppliedError.code:
            raise AlreadyAppliedError()
        status = int(outcome["status_code"])
        return SubmitResult(status, dict(outcome["body"]), delivered=delivered == [201] and status == 201)

    def _application_identity(self, posting: Posting, idempotency_key: str | None, payload_hash: str) -> str:
        """Who may use an upload: one request, or every retry of it under the same Idempotency-Key."""
        if idempotency_key is None:
            return uuid.uuid4().hex
        return hashlib.sha256(f"{posting.job_id}\n{idempotency_key}\n{payload_hash}".encode()).hexdigest()

    def _claim_upload(
        self, posting: Posting, request: NativeApplicationRequest, application: str
    ) -> str | None:
        """Bind the uploaded resume to this application before anything is sent; the key of the upload."""
        if not isinstance(request.resume, UploadedDocumentIn):
            return None
        upload = upload_key(posting.job_id, request.resume.upload_id)
        until = int(self._now().timestamp()) + self._policy.upload_claim_seconds
        email_hash = email_fingerprint(request.candidate.email)
        if not self._records.claim_upload(
            upload, email_hash=email_hash, application=application, until=until
        ):
            message = "was already used by another application; upload the file again"
            raise ConflictError(f"resume.upload_id: {message}", code="upload_already_used")
        return upload

    def _resume(self, posting: Posting, resume: DocumentIn | UploadedDocumentIn) -> CheckedDocument:
        if isinstance(resume, DocumentIn):
            return check_document(resume, "resume", max_bytes=self._policy.resume_max_bytes)
        if self._uploads is None:
            raise UpstreamUnavailableError(
                "Resume uploads are not configured.", code="uploads_not_configured"
            )
        limit = self._policy.resume_upload_max_bytes
        content = self._uploads.read(upload_key(posting.job_id, resume.upload_id), max_bytes=limit)
        if content is None:
            message = "names no upload for this job (it may have expired); upload the file again"
            raise UnprocessableError(
                f"resume.upload_id: {message}", code="upload_not_found", fields={"resume.upload_id": message}
            )
        return check_content(resume.filename, content, "resume", max_bytes=limit)

    def _forget_upload(self, posting: Posting, upload: str) -> None:
        """The application is sent (201, or 202 while StackOne's answer is unknown): the upload is spent,
        and our copy of the file is deleted at once (the bucket's lifecycle rule is the fallback)."""
        try:
            self._records.mark_upload_delivered(upload, at=int(self._now().timestamp()))
        except AppError as exc:  # the upload is deleted below, so no later request can read it anyway
            logger.warning(
                "uploaded resume not marked delivered",
                extra={"error_code": exc.code, "job_id": posting.job_id},
            )
        if self._uploads is None:
            return
        try:
            self._uploads.delete(upload)
        except AppError as exc:  # the claim still refuses every other application
            logger.warning(
                "uploaded resume not deleted", extra={"error_code": exc.code, "job_id": posting.job_id}
            )

    def stackone_body(self, posting: Posting, request: NativeApplicationRequest) -> dict[str, Any]:
        """StackOne's AtsCreateApplicationRequestDto for this application (validated first)."""
        problems = Problems()  # the resume's and the answers' problems are reported together
        try:
            resume: CheckedDocument | None = self._resume(posting, request.resume)
        except UnprocessableError as exc:
            problems.add(exc)
            resume = None
        answers = check_answers(
            request, posting, max_file_bytes=self._policy.resume_max_bytes, problems=problems
        )
        assert resume is not None  # check_answers raised every problem, the resume's included
        candidate = request.candidate
        candidate_body: dict[str, Any] = {
            "first_name": candidate.first_name,
            "last_name": candidate.last_name,
            "name": f"{candidate.first_name} {candidate.last_name}",
            "email": candidate.email,
        }
        if candidate.phone:
            candidate_body["phone_numbers"] = [{"type": "mobile", "phone": candidate.phone}]
        if candidate.links:
            candidate_body["social_links"] = [
                {"type": link.type or "website", "url": link.url} for link in candidate.links
            ]
        documents = [
            {
                "name": resume.filename,
                "file_format": {"value": resume.file_format},
                "category": {"value": "resume"},
                "content": resume.content_base64,
            }
        ]
        documents.extend(
            {
                "name": a.attachment.filename,
                "file_format": {"value": a.attachment.file_format},
                "category": {"value": "other"},
                "content": a.attachment.content_base64,
            }
            for a in answers
            if a.attachment is not None
        )
        body: dict[str, Any] = {"job_posting_id": posting.posting_id}
        if posting.stackone_job_id:
            body["job_id"] = posting.stackone_job_id
        body["candidate"] = candidate_body
        questionnaires = questionnaires_body(answers, posting.questionnaires)
        if questionnaires:
            body["questionnaires"] = questionnaires
        body["documents"] = documents
        body["source"] = {"name": self._policy.board_name}
        return body

    def _deliver(
        self, posting: Posting, request: NativeApplicationRequest, body: dict[str, Any]
    ) -> SubmitResult:
        now = self._now()
        candidate = request.candidate
        person = {
            "candidate_name": f"{candidate.first_name} {candidate.last_name}",
            "candidate_email": candidate.email,
        }
        fingerprint = email_fingerprint(candidate.email)
        epoch = int(now.timestamp())
        policy = self._policy.record_policy

        def record(outcome: Outcome, **fields: Any) -> str:
            entry = _record(posting, policy, now, channel="native", outcome=outcome, **person, **fields)
            _store_record(self._records, entry)
            if self._metrics is not None:
                self._metrics.count(APPLY_OUTCOME_METRICS[outcome], 1)
            return entry.record_id

        if not self._records.claim_guard(
            posting.job_id, fingerprint, now=epoch, until=epoch + self._policy.duplicate_window_seconds
        ):
            record("duplicate", error_code="duplicate_application")
            raise ConflictError(
                "An application with this email was already sent for this job.", code="duplicate_application"
            )
        try:
            created = self._stackone.create_application(posting.account_id, body)
        except StackOneUnsupportedError:
            self._records.release_guard(posting.job_id, fingerprint)
            self._capabilities.mark_native_apply_unsupported(posting.account_id)
            record("failed", error_code="apply_externally")
            error = ConflictError(
                "The employer's ATS does not accept applications from the board; apply on its site.",
                code="apply_externally",
            )
            error.details = {"external_apply_url": posting.external_apply_url}  # type: ignore[attr-defined]
            raise error from None
        except StackOneNotFoundError:
            # StackOne no longer knows the posting (deleted at the source): nothing was created. Close it
            # now instead of at the next sweep, so the next candidate never gets this far.
            self._records.release_guard(posting.job_id, fingerprint)
            record("failed", error_code="job_closed")
            self._close(posting)
            raise NotFoundError("This job is no longer open.", code="job_not_found") from None
        except StackOneConflictError:
            # StackOne's 409 on create: the ATS already has this candidate for this job. Nothing new was
            # created and asking again gets the same answer, so it is final (recorded as a duplicate) and
            # the guard stays: a resubmission within the window stops here without calling StackOne.
            record("duplicate", error_code=AlreadyAppliedError.code)
            raise AlreadyAppliedError() from None
        except StackOneTimeoutError:
            # StackOne may have written it before giving up (408 / our own timeout): never re-post blindly.
            # The guard stays, so a quick resubmission is refused as a duplicate instead of doubled.
            reference = record("pending_confirmation", error_code="stackone_timeout")
            self._confirm(posting, request, reference, now, "pending_confirmation")
            return SubmitResult(202, ApplicationPendingResponse(reference=reference).model_dump(mode="json"))
        except StackOneError as exc:
            self._records.release_guard(posting.job_id, fingerprint)
            record("failed", error_code=exc.code)
            raise
        if created.id is None:
            # Created (2xx), but StackOne did not say its id (the spec allows `data.id: null`). It is a
            # success for the candidate; the record says the id is unknown so it can be matched later.
            reference = record("submitted", error_code="stackone_id_unknown")
        else:
            reference = record("submitted", stackone_application_id=created.id)
        self._confirm(posting, request, reference, now, "submitted")
        return SubmitResult(
            201, ApplicationCreatedResponse(application_id=created.id).model_dump(mode="json")
        )

    def _confirm(
        self,
        posting: Posting,
        request: NativeApplicationRequest,
        reference: str,
        at: datetime,
        status: Literal["submitted", "pending_confirmation"],
    ) -> None:
        """Queue the candidate's confirmation. Runs inside the delivery, which an Idempotency-Key replay
        skips, so a replayed answer queues nothing; a queue failure never fails the application."""
        if self._outbox is None:
            return
        message = application_confirmation(
            posting,
            first_name=request.candidate.first_name,
            email=request.candidate.email,
            reference=reference,
            at=at,
            public_base_url=self._policy.public_base_url,
            status=status,
        )
        try:
            self._outbox.enqueue([message])
        except AppError as exc:
            logger.warning(
                "application confirmation not queued",
                extra={"error_code": exc.code, "job_id": posting.job_id, "reference": reference},
            )

    def _close(self, posting: Posting) -> None:
        if self._closer is None:
            return
        try:
            self._closer.close_posting(posting.account_id, posting.posting_id)
        except AppError as exc:  # the candidate's answer does not depend on it; the sweep catches up
            logger.warning("could not close a vanished posting", extra={"error_code": exc.code})
