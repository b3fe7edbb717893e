"""Resumes uploaded by the candidate's browser straight to S3 through a presigned POST.

A resume travels outside the API's JSON body: Lambda takes at most 6,291,456 bytes of synchronous event,
and a file's base64 is a third larger than the file. The API hands out a short-lived presigned POST bound
to one object key, one content type and a size range; the application then names the upload and the
apply path reads the object back. Objects live under `resumes/` and a lifecycle rule deletes them after
a day (personal data); a delivered application's upload is deleted at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import AwsErrors, NoSuchResourceError
from chalicelib.services.resume_uploads import UPLOAD_PREFIX, PresignedUpload

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


_UPLOADS = AwsErrors("upload_storage_unavailable", "Resume storage is not answering; try again shortly.")
# Reading an upload: a missing object is "no such upload"; a stream cut mid-read is an outage too.
_READ = AwsErrors(
    _UPLOADS.code,
    _UPLOADS.message,
    expect={code: NoSuchResourceError for code in ("NoSuchKey", "404", "NotFound")},
    also=(OSError,),
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
        with _UPLOADS:
            post: dict[str, Any] = self._s3.generate_presigned_post(
                Bucket=self._bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, self.max_bytes]],
                ExpiresIn=self.expires_seconds,
            )
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
        try:
            with _READ:
                response = self._s3.get_object(Bucket=self._bucket, Key=key)
                with response["Body"] as body:
                    return body.read(max_bytes + 1)
        except NoSuchResourceError:
            return None

    @_UPLOADS
    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self._bucket, Key=key)
