"""Cold start: `import app` from the built deployment zip, with its bytecode and with the bytecode stripped.

The zip (`build/dev/deployment.zip`, built first through deploy/package.py, as `make package` builds it,
when it is missing or has no bytecode) is unpacked twice into a temporary directory: once as shipped,
once without any `__pycache__`, which is what every cold start compiled before the package carried
bytecode (Lambda's `/var/task` is read-only, so nothing compiled there is kept). Each sample is a fresh
interpreter run as `python -I -S -B` from the unpacked copy: no repository files, no site-packages, no
bytecode written, as on Lambda (a module the package lacks fails the benchmark, as it would fail there).
It times only the import, so the interpreter's own start-up, identical for all, does not dilute the
ratios. Samples of every kind alternate so machine noise hits all alike; one discarded warm-up each fills
the page cache.

Two ratios:
- with / without bytecode: what shipping bytecode saves at every cold start (the baseline, same run);
- `import app` / a bare Chalice app importing the same libraries, both with bytecode. Budget
  (DESIGN.md §8): at most 1.3.

    python -m bench.cold_start [--runs 9] [--package build/dev] [--rebuild] [--importtime]

`--importtime` also lists the modules `app` imports that the bare app does not, slowest first
(from `python -X importtime`): the candidates for loading on first use.
Prints a human summary, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PACKAGE_DIR = PROJECT_DIR / "build" / "dev"
PACKAGE_STAGE = "dev"
BUDGET = 1.3

APP_IMPORT = "import app"
# The libraries the real app is built with, imported eagerly, plus the Powertools objects it creates.
BARE_IMPORT = """
import boto3
import httpx
import pydantic
import pydantic_settings
from aws_lambda_powertools import Logger, Metrics
from chalice import Chalice

logger = Logger()
metrics = Metrics()
app = Chalice(app_name="bare")


@app.route("/health")
def health():
    return {"status": "ok"}
"""

# The unpacked package is the only place modules come from besides the standard library, as `/var/task` is
# on Lambda. No fallback to the development site-packages: it would also satisfy optional imports that the
# package leaves out on purpose (httpx's command line pulls in rich, click and pygments when present).
_TIMED = """
import sys, time
sys.path.insert(0, {task_root!r})
_started = time.perf_counter()
exec(compile({source!r}, "<cold-start>", "exec"))
print(time.perf_counter() - _started)
"""
# Isolated (no PYTHON* variables, no user site, no script directory), no `site` (no site-packages), and
# no bytecode written: the stripped copy compiles every module at every import, as on Lambda.
_INTERPRETER_FLAGS = ("-I", "-S", "-B")

# A deployed stage's view: debug off, metrics namespace set, no endpoint overrides.
_ENV = {
    "APP_STAGE": "dev",
    "POWERTOOLS_SERVICE_NAME": "job-board",
    "POWERTOOLS_METRICS_NAMESPACE": "JobBoard",
    "AWS_DEFAULT_REGION": "eu-central-1",
}
_PYCACHE = "__pycache__"


@dataclass(frozen=True)
class ColdStartResult:
    runs: int
    package: str
    zip_bytes: int
    unzipped_bytes: int
    unzipped_bytes_without_bytecode: int
    app_import_ms: float
    app_import_without_bytecode_ms: float
    bytecode_ratio: float
    bare_import_ms: float
    ratio: float
    budget: float
    within_budget: bool


def _environment() -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "POWERTOOLS_", "APP_", "PYTHON"))
    }
    # The dev stage's names, as `chalice package` gives them to the functions (settings require them).
    from local.stack import stage_environment

    environment.update(stage_environment("dev"))
    environment.update(_ENV)
    return environment


def _has_bytecode(zip_path: Path) -> bool:
    with zipfile.ZipFile(zip_path) as bundle:
        return any(name.endswith(".pyc") for name in bundle.namelist())


def ensure_package(out_dir: Path, rebuild: bool = False) -> Path:
    """`out_dir`'s deployment zip, packaged first (as `make package` does) if missing or without bytecode."""
    zip_path = out_dir / "deployment.zip"
    if not rebuild and zip_path.is_file() and _has_bytecode(zip_path):
        return zip_path
    from deploy.package import package

    reason = "asked to" if rebuild else ("no bytecode" if zip_path.is_file() else "missing")
    print(f"packaging stage {PACKAGE_STAGE} into {out_dir} ({reason}):")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    report = package(PACKAGE_STAGE, out_dir, region="us-east-1", progress=lambda step: print(f"  {step}"))
    print(f"  {report.summary()}")
    return zip_path


def unpack(zip_path: Path, task_root: Path, with_bytecode: bool) -> int:
    """Unpack the zip into `task_root` (without any `__pycache__` unless `with_bytecode`); bytes written."""
    with zipfile.ZipFile(zip_path) as bundle:
        members = [
            info
            for info in bundle.infolist()
            if with_bytecode or _PYCACHE not in PurePosixPath(info.filename).parts
        ]
        bundle.extractall(task_root, members=members)
    return sum(info.file_size for info in members)


def time_import(source: str, task_root: Path, python: str = sys.executable) -> float:
    """Seconds a fresh interpreter spends running `source` (an import) from `task_root`, timed inside it."""
    completed = subprocess.run(
        [python, *_INTERPRETER_FLAGS, "-c", _TIMED.format(task_root=str(task_root), source=source)],
        cwd=task_root,
        env=_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:  # e.g. a module the package lacks: it would fail on Lambda too
        raise RuntimeError(f"the import failed from {task_root}:\n{completed.stderr}")
    return float(completed.stdout.strip().splitlines()[-1])


def measure(runs: int, zip_path: Path) -> ColdStartResult:
    with tempfile.TemporaryDirectory(prefix="cold-start-") as work:
        with_bytecode, without_bytecode = Path(work) / "with-bytecode", Path(work) / "without-bytecode"
        unzipped = unpack(zip_path, with_bytecode, with_bytecode=True)
        unzipped_without = unpack(zip_path, without_bytecode, with_bytecode=False)
        kinds = {
            "app": (APP_IMPORT, with_bytecode),
            "app_without_bytecode": (APP_IMPORT, without_bytecode),
            "bare": (BARE_IMPORT, with_bytecode),
        }
        for source, root in kinds.values():
            time_import(source, root)  # warm-up: page cache
        samples: dict[str, list[float]] = {kind: [] for kind in kinds}
        for _ in range(runs):
            for kind, (source, root) in kinds.items():
                samples[kind].append(time_import(source, root))
    median_ms = {kind: statistics.median(taken) * 1000 for kind, taken in samples.items()}
    ratio = median_ms["app"] / median_ms["bare"]
    return ColdStartResult(
        runs=runs,
        package=str(zip_path),
        zip_bytes=zip_path.stat().st_size,
        unzipped_bytes=unzipped,
        unzipped_bytes_without_bytecode=unzipped_without,
        app_import_ms=round(median_ms["app"], 1),
        app_import_without_bytecode_ms=round(median_ms["app_without_bytecode"], 1),
        bytecode_ratio=round(median_ms["app"] / median_ms["app_without_bytecode"], 3),
        bare_import_ms=round(median_ms["bare"], 1),
        ratio=round(ratio, 3),
        budget=BUDGET,
        within_budget=ratio <= BUDGET,
    )


_IMPORTTIME_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _import_times(source: str, task_root: Path) -> dict[str, int]:
    """Top-level-or-nested module -> cumulative microseconds, from `python -X importtime`."""
    code = f"import sys; sys.path.insert(0, {str(task_root)!r})\n"
    completed = subprocess.run(
        [sys.executable, *_INTERPRETER_FLAGS, "-X", "importtime", "-c", code + source],
        cwd=task_root,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    times: dict[str, int] = {}
    for line in completed.stderr.splitlines():
        match = _IMPORTTIME_LINE.match(line)
        if match:
            times[match.group(4)] = int(match.group(2))
    return times


def extra_imports(zip_path: Path, limit: int = 25) -> list[tuple[str, float]]:
    """Modules `app` imports that the bare app does not, by cumulative import time (ms), slowest first."""
    with tempfile.TemporaryDirectory(prefix="cold-start-") as work:
        task_root = Path(work)
        unpack(zip_path, task_root, with_bytecode=True)
        app_times = _import_times(APP_IMPORT, task_root)
        bare_modules = set(_import_times(BARE_IMPORT, task_root))
    extra = [(name, micros / 1000) for name, micros in app_times.items() if name not in bare_modules]
    return sorted(extra, key=lambda item: item[1], reverse=True)[:limit]


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description="Cold-start benchmark.")
    parser.add_argument("--runs", type=int, default=9, help="samples of each (default 9)")
    parser.add_argument(
        "--package",
        type=Path,
        default=DEFAULT_PACKAGE_DIR,
        help="the directory `make package` writes (default build/dev); packaged first if needed",
    )
    parser.add_argument("--rebuild", action="store_true", help="package again even if the zip is there")
    parser.add_argument("--importtime", action="store_true", help="list what `app` imports beyond bare")
    args = parser.parse_args(argv)

    zip_path = ensure_package(args.package, rebuild=args.rebuild)
    result = measure(args.runs, zip_path)
    print(
        f"package {zip_path}: {_mib(result.zip_bytes)}, unzipped {_mib(result.unzipped_bytes)} "
        f"({_mib(result.unzipped_bytes_without_bytecode)} without bytecode)"
    )
    print(f"cold start from the package, median of {result.runs} fresh interpreters each (import only):")
    print(f"  import app, with bytecode      {result.app_import_ms:8.1f} ms")
    print(f"  import app, bytecode stripped  {result.app_import_without_bytecode_ms:8.1f} ms  (baseline)")
    print(f"  with / without bytecode        {result.bytecode_ratio:8.3f}")
    print(
        f"  import bare Chalice app        {result.bare_import_ms:8.1f} ms  (same libraries, with bytecode)"
    )
    verdict = "within" if result.within_budget else "OVER"
    print(f"  app / bare                     {result.ratio:8.3f}    ({verdict} the {BUDGET}x budget)")
    if args.importtime:
        print("modules imported by app but not by the bare app (cumulative ms):")
        for name, millis in extra_imports(zip_path):
            print(f"  {millis:8.1f}  {name}")
    print(json.dumps({"benchmark": "cold_start", **asdict(result)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
