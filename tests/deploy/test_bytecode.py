"""The deployment zip carries bytecode for the functions' runtime (deploy/bytecode.py): every module of the
app and its dependencies, unchecked-hash, loadable from a read-only `/var/task` without its source."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from deploy.bytecode import BytecodeError, add_bytecode, check_interpreter, compile_zip, template_runtime
from deploy.render import PROJECT_DIR
from tests.deploy.conftest import PackagedStage

# The final bytecode magic number of each Lambda Python runtime (CPython's
# Lib/importlib/_bootstrap_external.py: "Python 3.11rc1 3495"); a new runtime needs its number here.
RUNTIME_MAGIC = {"python3.11": 3495}
# PEP 552 flags word: bit 0 = hash-based, bit 1 = check_source. Unchecked-hash is 0b01.
UNCHECKED_HASH_FLAGS = 0b01
PYC_HEADER_BYTES = 16


def _bytecode_name(source: str, runtime: str) -> str:
    """`pkg/mod.py` -> `pkg/__pycache__/mod.cpython-3XX.pyc` for `runtime` (`python3.XX`)."""
    path = PurePosixPath(source)
    tag = "cpython-" + runtime.removeprefix("python").replace(".", "")
    return str(path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc").removeprefix("./")


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o100644 << 16
            archive.writestr(entry, data)
    return path


def _running_runtime() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def _out_dir(tmp_path: Path, runtime: str, files: dict[str, bytes]) -> Path:
    """A directory shaped like `chalice package`'s output: sam.json naming `runtime`, and the zip."""
    function = {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": runtime}}
    (tmp_path / "sam.json").write_text(json.dumps({"Resources": {"A": function, "B": function}}))
    _zip(tmp_path / "deployment.zip", files)
    return tmp_path


# ---- the packaged zip ------------------------------------------------------------------------------------


def test_the_packaged_zip_holds_runtime_bytecode_for_the_app_every_chalicelib_module_and_dependencies(
    packaged: PackagedStage,
) -> None:
    runtime = template_runtime(packaged.template)
    chalicelib = sorted(
        path.relative_to(PROJECT_DIR).as_posix() for path in (PROJECT_DIR / "chalicelib").rglob("*.py")
    )
    app_sources = ["app.py", *chalicelib]
    dependency_sources = ["pydantic/main.py", "boto3/session.py", "botocore/client.py", "httpx/_client.py"]

    with zipfile.ZipFile(packaged.template_path.parent / "deployment.zip") as bundle:
        names = set(bundle.namelist())
        sources = sorted(name for name in names if name.endswith(".py"))
        missing = [source for source in sources if _bytecode_name(source, runtime) not in names]
        headers = {
            name: (bundle.read(name)[:PYC_HEADER_BYTES], bundle.read(source))
            for source in sources
            if (name := _bytecode_name(source, runtime)) in names
        }
        stray = sorted(name for name in names if name.endswith(".pyc") and name not in headers)

    assert set(app_sources + dependency_sources) <= set(sources)
    assert missing == []
    assert stray == []  # no bytecode of another version, and no stale timestamp pyc of the working tree
    for name, (header, source) in headers.items():
        assert int.from_bytes(header[:2], "little") == RUNTIME_MAGIC[runtime], name
        assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH_FLAGS, name
        assert header[8:16] == importlib.util.source_hash(source), name  # compiled from this very source


def _import_without_sources(task_root: Path, modules: list[str]) -> subprocess.CompletedProcess[str]:
    """Import `modules` from `task_root` alone (no site-packages, no repository, no bytecode writes)."""
    code = f"import sys; sys.path.insert(0, {str(task_root)!r})\n" + "".join(f"import {m}\n" for m in modules)
    return subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", code],
        cwd=task_root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_packaged_bytecode_loads_without_reading_the_sources(
    packaged: PackagedStage, tmp_path: Path
) -> None:
    # GIVEN the zip unpacked as Lambda does, with the sources of an app module and of a dependency broken
    modules = {
        "chalicelib.http_headers": "chalicelib/http_headers.py",
        "cachetools": "cachetools/__init__.py",
    }
    with zipfile.ZipFile(packaged.template_path.parent / "deployment.zip") as bundle:
        bundle.extractall(tmp_path / "task")
    stripped = tmp_path / "stripped"
    stripped.mkdir()
    for source in modules.values():
        for root in (tmp_path / "task", stripped):
            broken = root / source
            broken.parent.mkdir(parents=True, exist_ok=True)
            broken.write_text("raise SystemExit('the source was compiled at import')\n")

    # WHEN both modules are imported in a fresh interpreter
    with_bytecode = _import_without_sources(tmp_path / "task", list(modules))
    # (the same broken sources without bytecode: what an import reads when the pyc is missing)
    without_bytecode = _import_without_sources(stripped, list(modules))

    # THEN the bytecode is loaded and the sources are never read
    assert with_bytecode.returncode == 0, with_bytecode.stderr
    assert "the source was compiled at import" in without_bytecode.stderr


# ---- the runtime's Python, and nothing else, compiles ---------------------------------------------------


def test_a_different_python_than_the_runtime_is_refused_with_a_clear_message() -> None:
    with pytest.raises(BytecodeError) as refused:
        check_interpreter("python3.11", running=(3, 12))

    message = str(refused.value)
    assert "python3.11" in message
    assert "Python 3.12" in message
    assert "Package with Python 3.11" in message


def test_packaging_for_another_runtime_fails_and_leaves_the_zip_unchanged(tmp_path: Path) -> None:
    # GIVEN a package whose functions run on a Python other than this one
    other = f"python{sys.version_info.major}.{sys.version_info.minor + 1}"
    out_dir = _out_dir(tmp_path, other, {"app.py": b"x = 1\n"})
    before = (out_dir / "deployment.zip").read_bytes()

    # WHEN the bytecode step runs
    result = subprocess.run(
        [sys.executable, "-m", "deploy.bytecode", str(out_dir)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # THEN it fails, names both versions, and writes nothing
    assert result.returncode != 0
    assert f"The functions run on {other}, but this is Python 3.{sys.version_info.minor}" in result.stderr
    assert (out_dir / "deployment.zip").read_bytes() == before


def test_functions_on_different_runtimes_are_refused() -> None:
    template = {
        "Resources": {
            "A": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.11"}},
            "B": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.12"}},
        }
    }

    with pytest.raises(BytecodeError, match="one Python runtime"):
        template_runtime(template)


# ---- the rewritten zip ----------------------------------------------------------------------------------


def test_the_zip_keeps_every_entry_and_gains_one_unchecked_hash_pyc_per_module(tmp_path: Path) -> None:
    runtime = _running_runtime()
    files = {
        "app.py": b"from pkg import mod\n",
        "pkg/__init__.py": b"",
        "pkg/mod.py": b"VALUE = 42\n",
        "pkg/data.json": b"{}",
        # a stale timestamp pyc from a working tree: replaced, never shipped
        "pkg/__pycache__/mod.cpython-311.pyc": b"stale",
    }
    out_dir = _out_dir(tmp_path, runtime, files)

    report = add_bytecode(out_dir)

    with zipfile.ZipFile(out_dir / "deployment.zip") as bundle:
        names = bundle.namelist()
        contents = {name: bundle.read(name) for name in names}
    assert names == [
        "app.py",
        _bytecode_name("app.py", runtime),
        "pkg/__init__.py",
        _bytecode_name("pkg/__init__.py", runtime),
        "pkg/mod.py",
        _bytecode_name("pkg/mod.py", runtime),
        "pkg/data.json",
    ]
    for name, data in files.items():
        if "__pycache__" not in name:
            assert contents[name] == data
    pyc = contents[_bytecode_name("pkg/mod.py", runtime)]
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == UNCHECKED_HASH_FLAGS
    assert report.modules == 3
    assert report.unzipped_bytes_before == sum(len(data) for data in files.values())
    assert report.unzipped_bytes_after == sum(len(data) for data in contents.values())


def test_the_rewritten_zip_is_byte_for_byte_reproducible(tmp_path: Path) -> None:
    files = {
        "app.py": b"import json\nVALUE = {'a': [1, 2, 3]}\n",
        "pkg/mod.py": b"def f():\n    return 'x'\n",
    }
    first = _zip(tmp_path / "first.zip", files)
    second = _zip(tmp_path / "second.zip", files)

    compile_zip(first, _running_runtime())
    compile_zip(second, _running_runtime())

    assert first.read_bytes() == second.read_bytes()


def test_a_module_that_does_not_compile_fails_the_step_and_leaves_the_zip_unchanged(tmp_path: Path) -> None:
    bundle = _zip(tmp_path / "deployment.zip", {"app.py": b"x = 1\n", "pkg/broken.py": b"def f(:\n"})
    before = bundle.read_bytes()

    with pytest.raises(BytecodeError, match=r"do not compile: pkg/broken\.py"):
        compile_zip(bundle, _running_runtime())

    assert bundle.read_bytes() == before


def test_a_package_over_lambdas_unzipped_limit_fails_the_step_and_leaves_the_zip_unchanged(
    tmp_path: Path,
) -> None:
    bundle = _zip(tmp_path / "deployment.zip", {"app.py": b"x = 1\n" * 100})
    before = bundle.read_bytes()

    with pytest.raises(BytecodeError, match="over Lambda's limit"):
        compile_zip(bundle, _running_runtime(), unzipped_limit=700)

    assert bundle.read_bytes() == before
