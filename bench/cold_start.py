"""Cold start: importing `app` against importing a bare Chalice app with the same libraries.

Each sample is a fresh interpreter (as a Lambda cold start is) that times only the import, so the
interpreter's own start-up, identical for both, does not dilute the ratio. Samples alternate between
the two so machine noise hits both alike; one discarded warm-up each fills the bytecode caches.
Budget (DESIGN.md §8): median(app) / median(bare) <= 1.3.

    python -m bench.cold_start [--runs 9] [--importtime]

`--importtime` also lists the modules `app` imports that the bare app does not, slowest first
(from `python -X importtime`): the candidates for loading on first use.
Prints a human summary, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
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

_TIMED = """
import time
_started = time.perf_counter()
exec(compile({source!r}, "<cold-start>", "exec"))
print(time.perf_counter() - _started)
"""

# A deployed stage's view: debug off, metrics namespace set, no endpoint overrides.
_ENV = {
    "APP_STAGE": "dev",
    "POWERTOOLS_SERVICE_NAME": "job-board",
    "POWERTOOLS_METRICS_NAMESPACE": "JobBoard",
    "AWS_DEFAULT_REGION": "eu-central-1",
}


@dataclass(frozen=True)
class ColdStartResult:
    runs: int
    app_import_ms: float
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


def time_import(source: str, python: str = sys.executable) -> float:
    """Seconds a fresh interpreter spends running `source` (an import), measured inside it."""
    completed = subprocess.run(
        [python, "-c", _TIMED.format(source=source)],
        cwd=PROJECT_DIR,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(completed.stdout.strip().splitlines()[-1])


def measure(runs: int) -> ColdStartResult:
    time_import(APP_IMPORT)  # warm-up: bytecode caches, page cache
    time_import(BARE_IMPORT)
    app_samples: list[float] = []
    bare_samples: list[float] = []
    for _ in range(runs):
        app_samples.append(time_import(APP_IMPORT))
        bare_samples.append(time_import(BARE_IMPORT))
    app_ms = statistics.median(app_samples) * 1000
    bare_ms = statistics.median(bare_samples) * 1000
    ratio = app_ms / bare_ms
    return ColdStartResult(
        runs=runs,
        app_import_ms=round(app_ms, 1),
        bare_import_ms=round(bare_ms, 1),
        ratio=round(ratio, 3),
        budget=BUDGET,
        within_budget=ratio <= BUDGET,
    )


_IMPORTTIME_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _import_times(source: str) -> dict[str, int]:
    """Top-level-or-nested module -> cumulative microseconds, from `python -X importtime`."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", source],
        cwd=PROJECT_DIR,
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


def extra_imports(limit: int = 25) -> list[tuple[str, float]]:
    """Modules `app` imports that the bare app does not, by cumulative import time (ms), slowest first."""
    app_times = _import_times(APP_IMPORT)
    bare_modules = set(_import_times(BARE_IMPORT))
    extra = [(name, micros / 1000) for name, micros in app_times.items() if name not in bare_modules]
    return sorted(extra, key=lambda item: item[1], reverse=True)[:limit]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description="Cold-start benchmark.")
    parser.add_argument("--runs", type=int, default=9, help="samples of each (default 9)")
    parser.add_argument("--importtime", action="store_true", help="list what `app` imports beyond bare")
    args = parser.parse_args(argv)

    result = measure(args.runs)
    print(f"cold start, median of {result.runs} fresh interpreters each (import only):")
    print(f"  import app              {result.app_import_ms:8.1f} ms")
    print(f"  import bare Chalice app {result.bare_import_ms:8.1f} ms  (same libraries, imported eagerly)")
    verdict = "within" if result.within_budget else "OVER"
    print(f"  ratio                   {result.ratio:8.3f}    ({verdict} the {BUDGET}x budget)")
    if args.importtime:
        print("modules imported by app but not by the bare app (cumulative ms):")
        for name, millis in extra_imports():
            print(f"  {millis:8.1f}  {name}")
    print(json.dumps({"benchmark": "cold_start", **asdict(result)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
