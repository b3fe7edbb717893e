"""Adds compiled bytecode for the functions' runtime to the deployment zip that `chalice package` wrote.

    python -m deploy.bytecode build/prod

Lambda unpacks the zip into `/var/task`, which is read-only: a module without its `__pycache__/*.pyc`
is compiled from source at every cold start, and the result is thrown away. `chalice package` zips sources
only (and whatever stale `__pycache__` the working tree had under `chalicelib/`), so this step replaces
every `__pycache__` entry with bytecode compiled here for every `.py` of the app and its dependencies.

The bytecode is unchecked-hash (PEP 552): the import system loads it without looking at the source. A
timestamp pyc would compare the source's mtime, which zip extraction does not keep reliably, and a
checked-hash pyc would read and hash every source at import. Sources cannot change in `/var/task`, so
nothing is lost. Bytecode only loads in the Python version that wrote it (the magic number), so the step
refuses to run under any Python other than the runtime the template gives the functions.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import importlib.util
import io
import json
import os
import py_compile
import re
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

# Where Lambda unpacks the zip: the source path the bytecode names (tracebacks show it), the same on every
# machine that packages, so the zip stays byte-for-byte reproducible.
TASK_ROOT = "/var/task"
ZIP_NAME = "deployment.zip"
TEMPLATE_NAME = "sam.json"
# Lambda's limit on a function's unzipped code (with its layers; this app has none): 250 MiB.
LAMBDA_UNZIPPED_LIMIT_BYTES = 262_144_000
# The timestamp `chalice package` gives every entry (its zips carry no mtimes, for reproducible builds).
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_UNIX = 3  # ZipInfo.create_system: the file modes in `external_attr` are Unix modes
_PYTHON_RUNTIME = re.compile(r"python(\d+)\.(\d+)")
_PYCACHE = "__pycache__"


class BytecodeError(RuntimeError):
    """The package cannot get bytecode the runtime would load."""


@dataclass(frozen=True)
class BytecodeReport:
    """What the step did: modules compiled, and the zip's size before and after."""

    runtime: str
    modules: int
    zip_bytes_before: int
    zip_bytes_after: int
    unzipped_bytes_before: int
    unzipped_bytes_after: int

    def summary(self) -> str:
        return (
            f"bytecode for {self.runtime}: {self.modules} modules; deployment.zip "
            f"{_mib(self.zip_bytes_before)} -> {_mib(self.zip_bytes_after)}, unzipped "
            f"{_mib(self.unzipped_bytes_before)} -> {_mib(self.unzipped_bytes_after)} "
            f"(Lambda's limit {_mib(LAMBDA_UNZIPPED_LIMIT_BYTES)})"
        )


def template_runtime(template: dict[str, Any]) -> str:
    """The one Python runtime every function of the packaged template runs on (`python3.11`)."""
    default = template.get("Globals", {}).get("Function", {}).get("Runtime")
    runtimes = {
        str(resource.get("Properties", {}).get("Runtime", default))
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function")
    }
    if len(runtimes) != 1:
        raise BytecodeError(
            f"The functions must share one Python runtime to share bytecode; found {sorted(runtimes)}."
        )
    (runtime,) = runtimes
    if not _PYTHON_RUNTIME.fullmatch(runtime):
        raise BytecodeError(f"The functions' runtime {runtime!r} is not a Python runtime (python3.X).")
    return runtime


def check_interpreter(runtime: str, running: tuple[int, int] | None = None) -> None:
    """Refuse to compile for `runtime` (`python3.11`) under any other Python: its bytecode would not load."""
    match = _PYTHON_RUNTIME.fullmatch(runtime)
    if match is None:
        raise BytecodeError(f"The functions' runtime {runtime!r} is not a Python runtime (python3.X).")
    wanted = (int(match[1]), int(match[2]))
    found = running or (sys.version_info.major, sys.version_info.minor)
    if tuple(found) != wanted:
        raise BytecodeError(
            f"The functions run on {runtime}, but this is Python {found[0]}.{found[1]}: bytecode compiled "
            f"here would not load there (each Python version has its own bytecode magic number). Package "
            f"with Python {wanted[0]}.{wanted[1]}."
        )


def add_bytecode(out_dir: Path, running: tuple[int, int] | None = None) -> BytecodeReport:
    """Compile the deployment zip in `out_dir` for the runtime named by the `sam.json` beside it."""
    template = json.loads((out_dir / TEMPLATE_NAME).read_text())
    runtime = template_runtime(template)
    check_interpreter(runtime, running)
    return compile_zip(out_dir / ZIP_NAME, runtime)


def compile_zip(
    zip_path: Path, runtime: str, unzipped_limit: int = LAMBDA_UNZIPPED_LIMIT_BYTES
) -> BytecodeReport:
    """Rewrite `zip_path` with an unchecked-hash `__pycache__/*.pyc` beside every `.py` it holds.

    The entries keep their order; each module's bytecode follows its source. The zip is only replaced
    once everything compiled and the result fits Lambda's unzipped limit.
    """
    zip_bytes_before = zip_path.stat().st_size
    with zipfile.ZipFile(zip_path) as original:
        entries = [info for info in original.infolist() if not _is_cached_bytecode(info.filename)]
        unzipped_before = sum(info.file_size for info in original.infolist())
        with tempfile.TemporaryDirectory(prefix="bytecode-") as work:
            root = Path(work)
            original.extractall(root, members=[info for info in entries if info.filename.endswith(".py")])
            compiled = _compile_tree(root)
            unzipped_after = sum(info.file_size for info in entries) + sum(
                (root / bytecode).stat().st_size for bytecode in compiled.values()
            )
            if unzipped_after > unzipped_limit:
                raise BytecodeError(
                    f"With bytecode the package unzips to {_mib(unzipped_after)}, over Lambda's limit of "
                    f"{_mib(unzipped_limit)}."
                )
            rewritten = zip_path.with_name(f".{zip_path.name}.bytecode")
            try:
                with zipfile.ZipFile(rewritten, "w", compression=zipfile.ZIP_DEFLATED) as target:
                    for info in entries:
                        target.writestr(_entry(info.filename, info), original.read(info))
                        if info.filename in compiled:
                            bytecode = compiled[info.filename]
                            target.writestr(_entry(bytecode, info), (root / bytecode).read_bytes())
            except BaseException:
                rewritten.unlink(missing_ok=True)
                raise
    os.replace(rewritten, zip_path)
    return BytecodeReport(
        runtime=runtime,
        modules=len(compiled),
        zip_bytes_before=zip_bytes_before,
        zip_bytes_after=zip_path.stat().st_size,
        unzipped_bytes_before=unzipped_before,
        unzipped_bytes_after=unzipped_after,
    )


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def _is_cached_bytecode(name: str) -> bool:
    return _PYCACHE in PurePosixPath(name).parts


def _compile_tree(root: Path) -> dict[str, str]:
    """Source entry -> its bytecode's entry, for every `.py` under `root` (all must compile)."""
    errors = io.StringIO()
    with contextlib.redirect_stdout(errors):  # compileall prints the files it could not compile
        compileall.compile_dir(
            root,
            ddir=TASK_ROOT,
            quiet=1,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    compiled: dict[str, str] = {}
    failed: list[str] = []
    for source in _python_sources(root):
        name = source.relative_to(root).as_posix()
        bytecode = Path(importlib.util.cache_from_source(str(source)))
        if bytecode.is_file():
            compiled[name] = bytecode.relative_to(root).as_posix()
        else:
            failed.append(name)
    if failed:
        raise BytecodeError(
            f"{len(failed)} module(s) of the package do not compile: {', '.join(failed[:10])}\n"
            f"{errors.getvalue().strip()}"
        )
    return compiled


def _python_sources(root: Path) -> Iterator[Path]:
    return (path for path in sorted(root.rglob("*.py")) if path.is_file())


def _entry(name: str, like: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A deflated entry with `like`'s file mode and Chalice's fixed timestamp."""
    entry = zipfile.ZipInfo(name, _ZIP_TIME)
    entry.create_system = _UNIX
    entry.external_attr = like.external_attr
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out_dir", type=Path, help="the directory `chalice package` wrote (build/<stage>)")
    args = parser.parse_args(argv)
    try:
        report = add_bytecode(args.out_dir)
    except BytecodeError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(report.summary())


if __name__ == "__main__":
    main()
