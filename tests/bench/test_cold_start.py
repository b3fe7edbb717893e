"""The cold-start bench's samples: an unpacked package alone on `sys.path`, with or without its bytecode."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from bench.cold_start import time_import, unpack
from deploy.bytecode import compile_zip


def _package(tmp_path: Path) -> Path:
    bundle = tmp_path / "deployment.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("app.py", "from pkg import mod\n")
        archive.writestr("pkg/__init__.py", "")
        archive.writestr("pkg/mod.py", "VALUE = 42\n")
    compile_zip(bundle, f"python{sys.version_info.major}.{sys.version_info.minor}")
    return bundle


def test_the_stripped_copy_has_no_bytecode_and_the_shipped_one_keeps_it(tmp_path: Path) -> None:
    bundle = _package(tmp_path)

    unpack(bundle, tmp_path / "with", with_bytecode=True)
    unpack(bundle, tmp_path / "without", with_bytecode=False)

    def files(root: Path) -> set[str]:
        return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}

    shipped, stripped = files(tmp_path / "with"), files(tmp_path / "without")
    assert stripped == {"app.py", "pkg/__init__.py", "pkg/mod.py"}
    tag = sys.implementation.cache_tag
    assert shipped - stripped == {
        f"__pycache__/app.{tag}.pyc",
        f"pkg/__pycache__/__init__.{tag}.pyc",
        f"pkg/__pycache__/mod.{tag}.pyc",
    }


def test_a_sample_imports_from_the_package_and_writes_no_bytecode(tmp_path: Path) -> None:
    unpack(_package(tmp_path), tmp_path / "without", with_bytecode=False)

    seconds = time_import("import app", tmp_path / "without")

    assert seconds > 0
    assert list((tmp_path / "without").rglob("*.pyc")) == []  # every sample compiles, as on Lambda


def test_a_sample_sees_neither_the_repository_nor_site_packages(tmp_path: Path) -> None:
    unpack(_package(tmp_path), tmp_path / "task", with_bytecode=True)

    # `chalicelib` is in the repository and `respx` in the development site-packages, neither in the package
    for source in ("import chalicelib", "import respx"):
        with pytest.raises(RuntimeError, match="ModuleNotFoundError"):
            time_import(source, tmp_path / "task")
