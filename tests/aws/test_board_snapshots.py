"""S3SnapshotStore on moto: packed files named by their content, a conditional pointer, checked downloads."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from chalicelib import deps
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.services.board.snapshot import (
    FRAME_BYTES,
    SnapshotManifest,
    describe_files,
    pack_directory,
)
from chalicelib.settings import get_settings


def manifest_for(directory: Path, version: str, changes_after: str, packed: Path) -> SnapshotManifest:
    return SnapshotManifest(
        version=version,
        format=1,
        built_at=changes_after,
        changes_after=changes_after,
        postings=2,
        skipped=0,
        fingerprint=0xABC,
        files=pack_directory(directory, packed),
    )


@pytest.fixture
def built(tmp_path: Path) -> Path:
    directory = tmp_path / "built"
    directory.mkdir()
    (directory / "meta.json").write_text('{"segments": []}')
    # Larger than a frame, so the file is stored as several independent frames.
    (directory / "seg.idx").write_bytes(bytes(range(256)) * (FRAME_BYTES // 256 + 100))
    (directory / "empty.pos").write_bytes(b"")
    return directory


def test_upload_publish_current_and_download_round_trip(aws: None, built: Path, tmp_path: Path) -> None:
    store = deps.get_snapshot_store()
    assert store.current() is None
    manifest = manifest_for(built, "v1", "2026-11-01T09:00:00.000Z", tmp_path / "packed")
    big = next(file for file in manifest.files if file.name == "seg.idx")
    assert len(big.frames) == 2 and big.stored < big.size  # packed: compressed, in frames
    store.upload(manifest, tmp_path / "packed")
    assert store.publish(manifest)
    assert store.current() == manifest
    target = tmp_path / "copy"
    target.mkdir()
    store.download(manifest, target)
    assert (target / "seg.idx").read_bytes() == (built / "seg.idx").read_bytes()
    assert describe_files(target) == describe_files(built)


def test_files_are_stored_once_under_their_content_hash(aws: None, built: Path, tmp_path: Path) -> None:
    import boto3

    settings = get_settings()
    store = deps.get_snapshot_store()
    first = manifest_for(built, "v1", "2026-11-01T09:00:00.000Z", tmp_path / "p1")
    store.upload(first, tmp_path / "p1")
    (built / "meta.json").write_text('{"segments": ["new"]}')
    # The next version packs (and uploads) only what the store does not hold yet.
    files = pack_directory(built, tmp_path / "p2", first.files)
    second = dataclasses.replace(first, version="v2", files=files)
    meta = next(file for file in second.files if file.name == "meta.json")
    assert [path.name for path in (tmp_path / "p2").iterdir()] == [meta.sha256]
    store.upload(second, tmp_path / "p2")
    listed = boto3.client("s3").list_objects_v2(
        Bucket=settings.board_snapshot_bucket, Prefix=f"{settings.board_snapshot_prefix}files/"
    )
    stored = {item["Key"].rsplit("/", 1)[1] for item in listed["Contents"]}
    assert stored == {file.sha256 for file in first.files} | {meta.sha256}
    target = tmp_path / "copy"
    target.mkdir()
    store.download(second, target)
    assert (target / "meta.json").read_text() == '{"segments": ["new"]}'


def test_an_older_snapshot_never_replaces_a_newer_pointer(aws: None, built: Path, tmp_path: Path) -> None:
    store = deps.get_snapshot_store()
    newer = manifest_for(built, "v2", "2026-11-01T10:00:00.000Z", tmp_path / "packed")
    older = manifest_for(built, "v1", "2026-11-01T09:00:00.000Z", tmp_path / "packed")
    assert store.publish(newer)
    assert not store.publish(older)
    assert not store.publish(newer)  # the same horizon again: nothing to gain
    assert store.current() == newer


def test_a_missing_or_truncated_file_is_a_503(aws: None, built: Path, tmp_path: Path) -> None:
    import boto3

    settings = get_settings()
    store = deps.get_snapshot_store()
    manifest = manifest_for(built, "v3", "2026-11-01T09:00:00.000Z", tmp_path / "packed")
    target = tmp_path / "copy"
    target.mkdir()
    with pytest.raises(UpstreamUnavailableError) as raised:  # never uploaded
        store.download(manifest, target)
    assert raised.value.code == "board_unavailable"
    store.upload(manifest, tmp_path / "packed")
    big = next(file for file in manifest.files if file.name == "seg.idx")
    stored = (tmp_path / "packed" / big.sha256).read_bytes()
    key = f"{settings.board_snapshot_prefix}files/{big.sha256}"
    boto3.client("s3").put_object(Bucket=settings.board_snapshot_bucket, Key=key, Body=stored[:-10])
    with pytest.raises(UpstreamUnavailableError) as raised:
        store.download(manifest, target)
    assert raised.value.code == "board_unavailable"
