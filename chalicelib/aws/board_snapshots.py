"""Board snapshots on S3, and the pointer to the current one as one item of the application table.

Files: `s3://{bucket}/{prefix}files/{sha256}`, packed (zstd frames, see `snapshot.pack_file`), named by
their content, so versions share the files they have in common and each is uploaded once; a copy of each
manifest at `{prefix}manifests/{version}.json` for operators.

Pointer: `BOARD` / `SNAPSHOT` with the manifest as JSON and `changes_after`, replaced only by a snapshot
complete to a later time (conditional write), so an older build finishing late never wins.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import AwsErrors, ConditionFailedError
from chalicelib.aws.s3_download import DownloadError, ObjectToFetch, S3RangedDownloader
from chalicelib.deadline import in_current_context
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.services.board.snapshot import SnapshotFile, SnapshotManifest, unpack_file

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3.client import S3Client

POINTER_KEY = {"PK": "BOARD", "SK": "SNAPSHOT"}
_TRANSFER_THREADS = 8


def _unavailable(what: str) -> UpstreamUnavailableError:
    return UpstreamUnavailableError(
        f"The job board's {what} is not answering; try again shortly.", code="board_unavailable"
    )


_POINTER = AwsErrors("board_unavailable", "The job board's storage is not answering; try again shortly.")
# A file that arrives short or altered (`DownloadError`) is an outage of the snapshot storage too.
_FILES = AwsErrors(
    "board_unavailable",
    "The job board's snapshot storage is not answering; try again shortly.",
    also=(DownloadError,),
)


class S3SnapshotStore:
    """SnapshotStore on S3 (files) and DynamoDB (pointer)."""

    def __init__(
        self,
        s3_client: S3Client,
        table: Table,
        *,
        bucket: str,
        prefix: str,
        download_part_bytes: int = 8 << 20,
        download_concurrency: int = 8,
    ) -> None:
        self._s3 = s3_client
        self._table = table
        self._bucket = bucket
        self._prefix = prefix
        self._downloader = S3RangedDownloader(
            s3_client, bucket, part_bytes=download_part_bytes, concurrency=download_concurrency
        )

    def _key(self, sha256: str) -> str:
        return f"{self._prefix}files/{sha256}"

    def current(self) -> SnapshotManifest | None:
        with _POINTER:
            item = self._table.get_item(Key=POINTER_KEY, ConsistentRead=True).get("Item")
        if not item:
            return None
        return SnapshotManifest.from_dict(json.loads(str(item["manifest"])))

    @_FILES
    def _transfer(self, operation: Any, jobs: list[tuple[Any, ...]]) -> None:
        # The workers see the caller's request deadline (a cold open inside an API request).
        def run(job: tuple[Any, ...]) -> None:
            operation(*job)

        with ThreadPoolExecutor(max_workers=_TRANSFER_THREADS) as pool:
            list(pool.map(in_current_context(run), jobs))

    def download(
        self, manifest: SnapshotManifest, directory: Path, files: Sequence[SnapshotFile] | None = None
    ) -> None:
        """Fetch `files` (default: every file of `manifest`) into `directory`: the packed objects as
        parallel byte ranges, then unpacked (zstd checks every frame) and checked against the manifest's
        sizes (`board_unavailable` when one is not)."""
        wanted = manifest.files if files is None else files
        packed = {file.sha256: directory / f".packed-{file.sha256}" for file in wanted}
        stored = {file.sha256: file.stored for file in wanted}
        try:
            self.fetch([ObjectToFetch(self._key(sha), path, stored[sha]) for sha, path in packed.items()])
            with ThreadPoolExecutor(max_workers=_TRANSFER_THREADS) as pool:  # zstd releases the GIL
                list(
                    pool.map(
                        lambda file: unpack_file(packed[file.sha256], file, directory / file.name), wanted
                    )
                )
        except ValueError as exc:  # a frame that does not unpack: the stored object is not what was packed
            raise _unavailable("snapshot storage") from exc
        finally:
            for path in packed.values():
                path.unlink(missing_ok=True)
        for file in wanted:
            if (directory / file.name).stat().st_size != file.size:
                raise _unavailable("snapshot storage")

    @_FILES
    def fetch(self, objects: list[ObjectToFetch]) -> None:
        """Download `objects` (key, local path, size, SHA-256) from the snapshot bucket, all at once."""
        self._downloader.download(objects)

    def upload(self, manifest: SnapshotManifest, packed: Path) -> None:
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(use_threads=False)  # one pool (ours) over every file

        def upload_one(path: Path) -> None:
            self._s3.upload_file(str(path), self._bucket, self._key(path.name), Config=config)

        self._transfer(upload_one, [(path,) for path in sorted(packed.iterdir())])
        # A copy of the manifest, for operators (the pointer item is what processes read).
        body = json.dumps(manifest.to_dict(), indent=1).encode()
        key = f"{self._prefix}manifests/{manifest.version}.json"
        self._transfer(lambda: self._s3.put_object(Bucket=self._bucket, Key=key, Body=body), [()])

    def publish(self, manifest: SnapshotManifest) -> bool:
        try:
            with _POINTER:
                self._table.put_item(
                    Item={
                        **POINTER_KEY,
                        "version": manifest.version,
                        "changes_after": manifest.changes_after,
                        "manifest": json.dumps(manifest.to_dict(), separators=(",", ":")),
                    },
                    ConditionExpression="attribute_not_exists(PK) OR changes_after < :after",
                    ExpressionAttributeValues={":after": manifest.changes_after},
                )
        except ConditionFailedError:
            return False  # a snapshot complete to a later time is already current
        return True
