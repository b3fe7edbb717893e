"""Resume uploads: a presigned POST per upload, bound to one job, one key, one content type and a size.

The browser posts the file straight to S3; the application then names the upload by `upload_id`, and
the apply path (services/apply.py) reads it back by the same key. The key is derived from the job and
the upload id on the server, so an upload made for one job can never be attached to another.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from chalicelib.models.apply import ResumeUploadRequest, ResumeUploadResponse
from chalicelib.models.posting import Posting
from chalicelib.services.application_form import CONTENT_TYPES, file_extension

UPLOAD_PREFIX = "resumes/"


@dataclass(frozen=True)
class PresignedUpload:
    """Where and how the browser posts the file: a multipart form of `fields` plus `file`, last."""

    url: str
    fields: dict[str, str]


class ResumeUploadStore(Protocol):
    max_bytes: int
    expires_seconds: int

    def presign(self, key: str, content_type: str) -> PresignedUpload: ...
    def read(self, key: str, *, max_bytes: int) -> bytes | None: ...
    def delete(self, key: str) -> None: ...


def upload_key(job_id: str, upload_id: str) -> str:
    """The object key of one upload for one job (job ids may hold any character: hashed)."""
    job = hashlib.sha256(job_id.encode()).hexdigest()[:32]
    return f"{UPLOAD_PREFIX}{job}/{upload_id}"


class ResumeUploadService:
    """Hands out presigned POSTs for resumes of live jobs."""

    def __init__(
        self,
        live_posting: Callable[[str], Posting],
        uploads: ResumeUploadStore,
        *,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._live_posting = live_posting
        self._uploads = uploads
        self._new_id = new_id

    def create(self, job_id: str, request: ResumeUploadRequest) -> ResumeUploadResponse:
        posting = self._live_posting(job_id)
        extension = file_extension(request.filename, "resume")
        upload_id = self._new_id()
        presigned = self._uploads.presign(upload_key(posting.job_id, upload_id), CONTENT_TYPES[extension])
        return ResumeUploadResponse(
            upload_id=upload_id,
            url=presigned.url,
            fields=presigned.fields,
            max_bytes=self._uploads.max_bytes,
            expires_in=self._uploads.expires_seconds,
        )
