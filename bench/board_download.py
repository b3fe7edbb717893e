"""Cold start with the snapshot download over a Lambda-like link: `python -m bench.board_download`.

1. A snapshot of N generated postings (`bench.board_data.generate`, built as `bench.board` builds it, in
   a process of its own), or the one in `--snapshot-dir` (its files and the `manifest.json` this
   benchmark leaves beside them; `--keep DIR` keeps a built one).
2. moto's server (its own binary, on a free loopback port, stopped by PID) behind `bench.throttle`'s
   proxy: per connection `--per-connection-mbps`, in total `--total-mbps`, and `--first-byte-ms` before
   each response's first byte (the default link and its sources: docs/benchmarks.md#snapshot-download).
   The snapshot is uploaded and published through the proxy.
3. Fresh processes (`bench.board_download_cold`), one at a time, alternating: the cold first `GET /jobs`
   with the pointer read, the download, the open and the request, for (a) the baseline, one GET per file
   one after the other, and (b) the store's ranged parallel download. Then both once more straight to
   moto (no proxy): what this machine itself allows, so a throttled figure close to it says the machine,
   not the link, was the limit.

Prints the figures, then ONE JSON line. `cold_start_with_download(...)` is the same run for a snapshot
already built (what `bench.board` calls).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.board_common import PROJECT_DIR, bench_environment, child, say

COLD_BUDGET_SECONDS = 1.5  # at 100,000 postings, download included (issue 26)
MODES = ("sequential", "ranged")


@dataclass(frozen=True, slots=True)
class Link:
    """The network between the function and S3, as the throttling proxy plays it."""

    per_connection_mbps: float = 85.0  # MB/s (10^6 bytes) one GET gets
    total_mbps: float = 250.0  # MB/s all the function's connections share
    first_byte_ms: float = 30.0  # from a request to the first byte of its answer

    def describe(self) -> str:
        return (
            f"{self.per_connection_mbps:g} MB/s per connection, {self.total_mbps:g} MB/s in total, "
            f"{self.first_byte_ms:g} ms to the first byte"
        )


LAMBDA_LINK = Link()


@contextmanager
def moto_server(log_dir: Path) -> Iterator[tuple[str, int]]:
    """moto's server on a free loopback port for the `with` block: (host, port)."""
    from local.processes import ManagedProcess, free_port, http_answers, wait_until

    port = free_port()
    process = ManagedProcess(
        "moto server",
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        env={"PATH": "/usr/bin:/bin"},
        cwd=PROJECT_DIR,
        log_path=log_dir / "moto.log",
    )
    try:
        wait_until(
            lambda: http_answers(f"http://127.0.0.1:{port}/moto-api/", ok_statuses=lambda s: s == 200),
            what="moto server",
            timeout_seconds=30,
            process=process,
        )
        yield "127.0.0.1", port
    finally:
        process.stop()


def publish(endpoint: str, snapshot_dir: Path, manifest_path: Path) -> int:
    """Create the bucket and table at `endpoint`, upload the snapshot and make it current; its bytes."""
    import boto3

    from chalicelib.aws.board_snapshots import S3SnapshotStore
    from chalicelib.aws.table_schema import create_table_kwargs
    from chalicelib.services.board.snapshot import SnapshotManifest, pack_file
    from chalicelib.settings import get_settings

    settings = get_settings()
    manifest = SnapshotManifest.from_dict(json.loads(manifest_path.read_text()))
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(
        Bucket=settings.board_snapshot_bucket,
        CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_DEFAULT_REGION"]},  # type: ignore[typeddict-item]
    )
    boto3.client("dynamodb", endpoint_url=endpoint).create_table(**create_table_kwargs(settings.table_name))
    table = boto3.resource("dynamodb", endpoint_url=endpoint).Table(settings.table_name)
    store = S3SnapshotStore(
        s3, table, bucket=settings.board_snapshot_bucket, prefix=settings.board_snapshot_prefix
    )
    packed = snapshot_dir.parent / f"{snapshot_dir.name}.packed"
    packed.mkdir(exist_ok=True)
    try:
        files = tuple(
            dataclasses.replace(file, frames=pack_file(snapshot_dir / file.name, packed / file.sha256))
            for file in manifest.files
        )
        manifest = dataclasses.replace(manifest, files=files)
        store.upload(manifest, packed)
    finally:
        shutil.rmtree(packed, ignore_errors=True)
    assert store.publish(manifest)
    return manifest.size


def cold_process(endpoint: str, mode: str, work: Path, name: str) -> dict[str, Any]:
    """One fresh process's cold first request (its own empty local directory)."""
    local = work / f"api-{name}"
    shutil.rmtree(local, ignore_errors=True)
    local.mkdir(parents=True)
    try:
        return child(
            "bench.board_download_cold",
            name,
            work,
            *("--endpoint", endpoint, "--mode", mode, "--work", str(local)),
        )
    finally:
        shutil.rmtree(local, ignore_errors=True)


def median_of(runs: list[dict[str, Any]], field: str) -> float:
    return round(float(statistics.median(run["cold"][field] for run in runs)), 4)


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    fields = (
        "cold_seconds",
        "pointer_read_seconds",
        "download_seconds",
        "open_seconds",
        "first_request_seconds",
        "imports_seconds",
        "clients_and_construct_seconds",
    )
    summary: dict[str, Any] = {field: median_of(runs, field) for field in fields}
    summary["cold_seconds_all"] = [run["cold"]["cold_seconds"] for run in runs]
    summary["download_seconds_all"] = [run["cold"]["download_seconds"] for run in runs]
    summary["init_import_app_seconds"] = round(
        statistics.median(r["init_import_app_seconds"] for r in runs), 4
    )
    summary["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    summary["postings"] = runs[0]["cold"]["postings"]
    return summary


def cold_start_with_download(
    snapshot_dir: Path,
    manifest_path: Path,
    work: Path,
    *,
    link: Link = LAMBDA_LINK,
    repeats: int = 3,
    report: Callable[[str], None] = say,
) -> dict[str, Any]:
    """The cold first request with the download, throttled to `link`, baseline and ranged, `repeats`
    fresh processes each (alternating); then both straight to moto. Returns the figures (medians)."""
    from bench.throttle import ThrottlingProxy

    bench_environment()
    manifest = json.loads(manifest_path.read_text())
    result: dict[str, Any] = {
        "link": asdict(link),
        "snapshot_files": len(manifest["files"]),
        "largest_file_bytes": max(f["size"] for f in manifest["files"]),
    }
    with moto_server(work) as upstream:
        direct = f"http://{upstream[0]}:{upstream[1]}"
        with ThrottlingProxy(
            upstream,
            per_connection_bytes_per_second=link.per_connection_mbps * 1e6,
            total_bytes_per_second=link.total_mbps * 1e6,
            first_byte_seconds=link.first_byte_ms / 1000,
        ) as proxy:
            started = time.perf_counter()
            result["snapshot_bytes"] = publish(proxy.url, snapshot_dir, manifest_path)
            result["publish_seconds"] = round(time.perf_counter() - started, 2)
            runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
            requests: dict[str, list[int]] = {mode: [] for mode in MODES}
            for repeat in range(repeats):
                for mode in MODES:
                    before = proxy.requests
                    runs[mode].append(cold_process(proxy.url, mode, work, f"{mode}-{repeat}"))
                    requests[mode].append(proxy.requests - before)
        loopback = {mode: [cold_process(direct, mode, work, f"{mode}-loopback")] for mode in MODES}
    for mode in MODES:
        result[mode] = summarise(runs[mode])
        result[mode]["requests_through_proxy"] = requests[mode]
        result[f"{mode}_loopback"] = summarise(loopback[mode])
    sequential, ranged = result["sequential"], result["ranged"]
    result["cold_ratio_ranged_to_sequential"] = round(ranged["cold_seconds"] / sequential["cold_seconds"], 3)
    result["download_ratio_ranged_to_sequential"] = round(
        ranged["download_seconds"] / sequential["download_seconds"], 3
    )
    size_mb = result["snapshot_bytes"] / 1e6
    floor = size_mb / link.total_mbps
    report(
        f"snapshot: {result['snapshot_bytes'] / 1e6:.1f} MB in {result['snapshot_files']} files (largest "
        f"{result['largest_file_bytes'] / 1e6:.1f} MB); link: {link.describe()} (the link alone needs "
        f"{floor * 1000:.0f} ms for these bytes)"
    )
    for mode, title in (("sequential", "(a) one GET per file, in turn"), ("ranged", "(b) ranged, parallel")):
        figures = result[mode]
        report(
            f"{title:<32} cold first GET /jobs {figures['cold_seconds'] * 1000:7.0f} ms "
            f"(all runs: {', '.join(f'{s * 1000:.0f}' for s in figures['cold_seconds_all'])}) = imports "
            f"{figures['imports_seconds'] * 1000:.0f} + clients "
            f"{figures['clients_and_construct_seconds'] * 1000:.0f} + pointer "
            f"{figures['pointer_read_seconds'] * 1000:.0f} + download "
            f"{figures['download_seconds'] * 1000:.0f} + open {figures['open_seconds'] * 1000:.0f} + request "
            f"{figures['first_request_seconds'] * 1000:.0f} ms; requests through the proxy (pointer "
            f"included) {figures['requests_through_proxy']}"
        )
    verdict = "within" if ranged["cold_seconds"] <= COLD_BUDGET_SECONDS else "OVER"
    report(
        f"ranged / sequential: cold {result['cold_ratio_ranged_to_sequential']:.3f}, download "
        f"{result['download_ratio_ranged_to_sequential']:.3f}; budget at 100,000 postings "
        f"{COLD_BUDGET_SECONDS * 1000:.0f} ms: ranged {verdict}"
    )
    report(
        "straight to moto (no throttle; this machine's own limit): cold "
        f"{result['sequential_loopback']['cold_seconds'] * 1000:.0f} ms sequential, "
        f"{result['ranged_loopback']['cold_seconds'] * 1000:.0f} ms ranged (download "
        f"{result['sequential_loopback']['download_seconds'] * 1000:.0f} / "
        f"{result['ranged_loopback']['download_seconds'] * 1000:.0f} ms); init (import app, apart): "
        f"{ranged['init_import_app_seconds'] * 1000:.0f} ms"
    )
    return result


def build(postings: int, target: Path) -> None:
    """Build the snapshot of `postings` generated postings as `bench.board` does (the builder in a process
    of its own), unpacked into `target` with its `manifest.json`."""
    from bench.board import generate_items, unpack_current

    with tempfile.TemporaryDirectory(prefix="board-download-build-") as scratch:
        work = Path(scratch)
        items_path = work / "items.jsonl"
        generate_items(postings, items_path)
        built = child(
            "bench.board_build",
            "build",
            work,
            *("full", "--items", str(items_path), "--count", str(postings)),
            *("--store", str(work / f"store-{postings}"), "--work", str(work / "builder")),
        )
        snapshot_dir, manifest_path = unpack_current(postings, work)
        shutil.copytree(snapshot_dir, target, dirs_exist_ok=True)
        shutil.copyfile(manifest_path, target / "manifest.json")
    say(f"built {built['postings']:,} postings in {built['seconds']:.1f}s into {target}")


def build_in_a_process(postings: int, target: Path) -> None:
    """`build` in its own process: the measuring process (which runs the proxy) stays small and quiet."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.board_download",
            "--postings",
            str(postings),
            "--build-into",
            str(target),
        ],
        cwd=PROJECT_DIR,
        env=os.environ.copy(),
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postings", type=int, default=100_000)
    parser.add_argument("--snapshot-dir", type=Path, help="a snapshot built before (with its manifest.json)")
    parser.add_argument("--keep", type=Path, help="keep the built snapshot in this directory")
    parser.add_argument("--build-into", type=Path, help=argparse.SUPPRESS)  # the building process
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per download kind")
    parser.add_argument("--per-connection-mbps", type=float, default=LAMBDA_LINK.per_connection_mbps)
    parser.add_argument("--total-mbps", type=float, default=LAMBDA_LINK.total_mbps)
    parser.add_argument("--first-byte-ms", type=float, default=LAMBDA_LINK.first_byte_ms)
    args = parser.parse_args()
    bench_environment()
    if args.build_into is not None:
        build(args.postings, args.build_into)
        return
    link = Link(args.per_connection_mbps, args.total_mbps, args.first_byte_ms)
    with tempfile.TemporaryDirectory(prefix="board-download-") as scratch:
        work = Path(scratch)
        snapshot_dir = args.snapshot_dir
        if snapshot_dir is None:
            snapshot_dir = args.keep or work / "snapshot"
            build_in_a_process(args.postings, snapshot_dir)
        result = cold_start_with_download(
            snapshot_dir, snapshot_dir / "manifest.json", work, link=link, repeats=args.repeats
        )
    print(json.dumps({"bench": "board_download", **result}, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
