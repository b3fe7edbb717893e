"""Resumes uploaded by the candidate's browser straight to S3 through a presigned POST.

A resume travels outside the API's JSON body: Lambda takes at most 6,291,456 bytes of synchronous event,
and a file's base64 is a third larger than the file. The API hands out a short-lived presigned POST bound
to one object key, one content type and a size range; the application then names the upload and the
apply path reads the object back. Objects live under `resumes/` and a lifecycle rule deletes them after
a day (personal data); a delivered application's upload is deleted at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.errors import UpstreamUnavailableError
from chalicelib.services.resume_uploads import UPLOAD_PREFIX, PresignedUpload

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


def _unavailable() -> UpstreamUnavailableError:
    return UpstreamUnavailableError(
        "Resume storage is not answering; try again shortly.", code="upload_storage_unavailable"
    )


class S3ResumeUploads:
    """Presigned POSTs for, and reads of, uploaded resumes in one bucket."""

    def __init__(self, s3_client: S3Client, bucket: str, *, max_bytes: int, expires_seconds: int) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self.max_bytes = max_bytes
        self.expires_seconds = expires_seconds

    def presign(self, key: str, content_type: str) -> PresignedUpload:
        """A POST policy for exactly `key`, `content_type` and 1..max_bytes bytes, valid `expires_seconds`."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            post: dict[str, Any] = self._s3.generate_presigned_post(
                Bucket=self._bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, self.max_bytes]],
                ExpiresIn=self.expires_seconds,
            )
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable() from exc
        fields = {str(name): str(value) for name, value in post["fields"].items()}
        return PresignedUpload(url=str(post["url"]), fields=fields)

    def origin(self) -> str:
        """The scheme://host the browser posts to (for the job page's connect-src); computed locally."""
        from urllib.parse import urlsplit

        url = urlsplit(self.presign(f"{UPLOAD_PREFIX}origin-probe", "text/plain").url)
        return f"{url.scheme}://{url.netloc}"

    def read(self, key: str, *, max_bytes: int) -> bytes | None:
        """The object's bytes, at most `max_bytes + 1` of them (so the caller sees an oversized file);
        None when there is no such upload."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=key)
            with response["Body"] as body:
                return body.read(max_bytes + 1)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise _unavailable() from exc
        except (BotoCoreError, OSError) as exc:
            raise _unavailable() from exc

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._s3.delete_object(Bucket=self._bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable() from exc
