"""S3SnapshotStore on moto: files under the version's prefix, a conditional pointer, checked downloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib import deps
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.services.board.snapshot import SnapshotManifest, describe_files


def manifest_for(directory: Path, version: str, changes_after: str) -> SnapshotManifest:
    return SnapshotManifest(
        version=version,
        format=1,
        built_at=changes_after,
        changes_after=changes_after,
        postings=2,
        skipped=0,
        fingerprint=0xABC,
        files=describe_files(directory),
    )


@pytest.fixture
def built(tmp_path: Path) -> Path:
    directory = tmp_path / "built"
    directory.mkdir()
    (directory / "meta.json").write_text('{"segments": []}')
    (directory / "seg.idx").write_bytes(b"\x00" * 4096)
    return directory


def test_upload_publish_current_and_download_round_trip(aws: None, built: Path, tmp_path: Path) -> None:
    store = deps.get_snapshot_store()
    assert store.current() is None
    manifest = manifest_for(built, "v1", "2026-11-01T09:00:00.000Z")
    store.upload(manifest, built)
    assert store.publish(manifest)
    assert store.current() == manifest
    target = tmp_path / "copy"
    target.mkdir()
    store.download(manifest, target)
    assert (target / "seg.idx").read_bytes() == (built / "seg.idx").read_bytes()
    assert describe_files(target) == manifest.files


def test_an_older_snapshot_never_replaces_a_newer_pointer(aws: None, built: Path) -> None:
    store = deps.get_snapshot_store()
    newer = manifest_for(built, "v2", "2026-11-01T10:00:00.000Z")
    older = manifest_for(built, "v1", "2026-11-01T09:00:00.000Z")
    assert store.publish(newer)
    assert not store.publish(older)
    assert not store.publish(newer)  # the same horizon again: nothing to gain
    assert store.current() == newer


def test_a_missing_or_truncated_file_is_a_503(aws: None, built: Path, tmp_path: Path) -> None:
    store = deps.get_snapshot_store()
    manifest = manifest_for(built, "v3", "2026-11-01T09:00:00.000Z")
    with pytest.raises(UpstreamUnavailableError) as raised:  # never uploaded
        store.download(manifest, tmp_path)
    assert raised.value.code == "board_unavailable"
    store.upload(manifest, built)
    (built / "seg.idx").write_bytes(b"\x00" * 10)
    short = manifest_for(built, "v3", "2026-11-01T09:00:00.000Z")
    store.upload(short, built)  # the object is now shorter than the first manifest says
    with pytest.raises(UpstreamUnavailableError):
        store.download(manifest, tmp_path)
