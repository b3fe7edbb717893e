"""One fresh API process for `bench.board_download`: the cold first `GET /jobs` with the snapshot download.

    python -m bench.board_download_cold --endpoint URL --mode ranged|sequential --work DIR --out FILE

Every AWS call goes to `--endpoint` (moto's server, usually behind the throttling proxy). As a Lambda's
init phase, the process first imports `app` (reported apart: `bench.cold_start` measures that). Then the
cold first request is timed from the import of the board's modules to `Response.to_dict()`: building
the AWS clients, reading the snapshot pointer (DynamoDB), downloading the files (S3), opening them,
the catch-up (a feed with no changes, as in `bench.board_cold`) and the request, inside the request
deadline as the API's middleware sets it. `--mode sequential` downloads with one GET per file, one file
after the other (the baseline); `ranged` with the store's own download (parallel byte ranges).
"""

from __future__ import annotations

import time

PROCESS_STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

from bench.board_common import bench_environment, peak_rss_mb, write_result  # noqa: E402

if TYPE_CHECKING:
    from chalicelib.aws.board_snapshots import S3SnapshotStore


def make_store(mode: str) -> S3SnapshotStore:
    """The snapshot store of this process: the app's own (ranged), or one whose files come sequentially."""
    from chalicelib import deps
    from chalicelib.aws.board_snapshots import S3SnapshotStore
    from chalicelib.aws.s3_download import ObjectToFetch
    from chalicelib.services.board.snapshot import SnapshotManifest
    from chalicelib.settings import get_settings

    settings = get_settings()
    s3, table = deps.get_s3_client(), deps.get_table()

    class TimedStore(S3SnapshotStore):
        """The app's store, timing the pointer read."""

        pointer_seconds = 0.0

        def current(self) -> SnapshotManifest | None:
            started = time.perf_counter()
            try:
                return super().current()
            finally:
                self.pointer_seconds += time.perf_counter() - started

    class SequentialStore(TimedStore):
        """The baseline: one GET per file, one file after the other, each streamed to its file."""

        def fetch(self, objects: list[ObjectToFetch]) -> None:
            for target in objects:
                body = s3.get_object(Bucket=settings.board_snapshot_bucket, Key=target.key)["Body"]
                with target.path.open("wb") as handle:
                    while chunk := body.read(1 << 20):
                        handle.write(chunk)
                if target.path.stat().st_size != target.size:
                    raise RuntimeError(f"{target.key}: short download")

    store_class = SequentialStore if mode == "sequential" else TimedStore
    return store_class(
        s3,
        table,
        bucket=settings.board_snapshot_bucket,
        prefix=settings.board_snapshot_prefix,
        download_part_bytes=settings.board_snapshot_range_bytes,
        download_concurrency=settings.board_snapshot_download_concurrency,
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    bench_environment()
    os.environ["AWS_ENDPOINT_URL"] = args.endpoint
    result: dict[str, Any] = {"mode": args.mode}

    # The Lambda init phase (not part of the cold request; reported as the baseline).
    started = time.perf_counter()
    import app  # noqa: F401
    from chalicelib import deps
    from chalicelib.api.board import list_jobs_response
    from chalicelib.aws.table_schema import BOARD_SHARDS
    from chalicelib.deadline import deadline_scope
    from chalicelib.settings import get_settings

    settings = get_settings()
    result["init_import_app_seconds"] = round(time.perf_counter() - started, 4)

    # ---- the cold first request, download included -----------------------------------------------
    began = time.perf_counter()
    import tantivy  # noqa: F401  (BoardEngine imports it on open)

    from bench.board_cold import FakeFeed
    from chalicelib.services.board.query import BoardQuery  # noqa: F401
    from chalicelib.services.board.service import BoardService

    imported = time.perf_counter()
    store = make_store(args.mode)
    service = BoardService(
        FakeFeed(BOARD_SHARDS),
        store,
        local_directory=args.work,
        public_base_url=settings.public_base_url,
        board_name=settings.board_name,
        cursor_key=f"{settings.table_name}\n{settings.public_base_url}".encode(),
        embloy_providers=settings.embloy_supported_providers,
        refresh_seconds=1e9,
        snapshot_check_seconds=1e12,
        facet_limit=settings.board_facet_limit,
    )
    setattr(deps, "get_board_service", lambda: service)  # noqa: B010  (what list_jobs_response calls)
    constructed = time.perf_counter()
    with deadline_scope(settings.request_deadline_seconds):
        answer = list_jobs_response({}, None).to_dict([])
    answered = time.perf_counter()
    assert answer["statusCode"] == 200, answer
    extra = dict(service.stats.extra)
    download = extra.get("download_seconds", 0.0)
    open_ = extra.get("open_seconds", 0.0)
    catch_up = extra.get("catch_up_seconds", 0.0)
    pointer = store.pointer_seconds  # type: ignore[attr-defined]
    result["cold"] = {
        "imports_seconds": round(imported - began, 4),
        "clients_and_construct_seconds": round(constructed - imported, 4),
        "pointer_read_seconds": round(pointer, 4),
        "download_seconds": round(download, 4),
        "open_seconds": round(open_, 4),
        "catch_up_seconds": round(catch_up, 4),
        "first_request_seconds": round((answered - constructed) - pointer - download - open_ - catch_up, 4),
        "cold_seconds": round(answered - began, 4),
        "process_start_to_first_answer_seconds": round(answered - PROCESS_STARTED, 4),
        "postings": json.loads(answer["body"])["total"],
    }
    result["snapshot_bytes"] = sum(f.stat().st_size for f in Path(args.work).rglob("*") if f.is_file())
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--endpoint", required=True, help="AWS endpoint (moto's server or the proxy)")
    parser.add_argument("--mode", choices=("ranged", "sequential"), required=True)
    parser.add_argument("--work", type=Path, required=True, help="the service's local directory")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_result(args.out, run(args))


if __name__ == "__main__":
    main()
