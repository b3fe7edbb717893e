"""The throttled cold-start benchmark end to end on a small board: moto's server behind the proxy, fresh
processes for both downloads, each answering the first `GET /jobs` with every posting."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.board_download import Link, cold_start_with_download
from chalicelib.settings import get_settings

POSTINGS = 2000


@pytest.fixture
def bench_process_environment() -> Iterator[None]:
    """The benchmark sets its own environment; the test process gets its own back afterwards."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


def build_small_snapshot(work: Path) -> tuple[Path, Path]:
    from bench.board_download import build_in_a_process

    target = work / "snapshot"
    build_in_a_process(POSTINGS, target)
    return target, target / "manifest.json"


@pytest.mark.long
def test_both_downloads_open_the_whole_board_through_the_throttled_link(
    bench_process_environment: None, tmp_path: Path
) -> None:
    snapshot_dir, manifest_path = build_small_snapshot(tmp_path)
    files = len(json.loads(manifest_path.read_text())["files"])
    lines: list[str] = []
    # Ranges of 64 KiB (the least the setting takes), so that the ranged download splits files even on this
    # small (packed) board.
    os.environ["BOARD_SNAPSHOT_RANGE_BYTES"] = str(64 * 1024)

    result = cold_start_with_download(
        snapshot_dir,
        manifest_path,
        tmp_path / "run",
        link=Link(50.0, 100.0, 5.0),
        repeats=1,
        report=lines.append,
    )

    for mode in ("sequential", "ranged", "sequential_loopback", "ranged_loopback"):
        assert result[mode]["postings"] == POSTINGS
    # The baseline: one request per file and the pointer's; the ranged download splits the larger files.
    assert result["sequential"]["requests_through_proxy"] == [files + 1]
    assert result["ranged"]["requests_through_proxy"][0] > files + 1
    # Stored packed: smaller than the files on disk.
    on_disk = sum(f.stat().st_size for f in snapshot_dir.iterdir() if f.name != "manifest.json")
    assert 0 < result["snapshot_bytes"] < on_disk
    assert any(line.startswith("ranged / sequential") for line in lines)
    shutil.rmtree(tmp_path / "run", ignore_errors=True)
