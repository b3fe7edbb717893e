"""Packages one stage: the merge template, `chalice package`, then the runtime's bytecode in the zip.

    python -m deploy.package --stage prod --out build/prod [--region us-east-1]

`make package`, the deploy tests (tests/deploy/conftest.py) and `make bench-cold-start` all package
through here. It needs no AWS account: the region only picks the Lambda service principal's DNS suffix.
The merge template is written beside the output directory (`build/prod-resources.json`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from deploy.bytecode import BytecodeError, BytecodeReport, add_bytecode
from deploy.render import PROJECT_DIR

BIN_DIR = Path(sys.executable).parent
# `chalice package` fetches the runtime wheels from the package index the first time (then it reuses the
# deployment zip it cached under `.chalice/deployments/` while requirements and code are unchanged).
PACKAGE_TIMEOUT_SECONDS = 600


class PackagingError(RuntimeError):
    """A packaging step failed; the message carries its output."""


def merge_template_path(out_dir: Path) -> Path:
    """Where the rendered merge template goes: beside `out_dir`, which `chalice package` fills."""
    return out_dir.with_name(f"{out_dir.name}-resources.json")


def package(
    stage: str,
    out_dir: Path,
    *,
    region: str,
    environment: Mapping[str, str] | None = None,
    progress: Callable[[str], None] = lambda step: None,
) -> BytecodeReport:
    """Write `out_dir/sam.json` and `out_dir/deployment.zip` (with bytecode) for `stage`.

    `environment` is the one the steps run in (this process's by default); `progress` hears each step.
    """
    env = dict(os.environ if environment is None else environment)
    merge_template = merge_template_path(out_dir)
    progress(f"rendering {merge_template}")
    _run(
        "deploy.render",
        [sys.executable, "-m", "deploy.render", "--stage", stage, "--out", str(merge_template)],
        env,
    )
    env["AWS_DEFAULT_REGION"] = region
    progress(f"chalice package --stage {stage} into {out_dir} (fetches the runtime wheels the first time)")
    _run(
        "chalice package",
        [
            str(BIN_DIR / "chalice"),
            "package",
            "--stage",
            stage,
            "--merge-template",
            str(merge_template),
            str(out_dir),
        ],
        env,
    )
    progress(f"compiling {out_dir / 'deployment.zip'} for the functions' runtime")
    try:
        return add_bytecode(out_dir)
    except BytecodeError as exc:
        raise PackagingError(str(exc)) from exc


def _run(step: str, command: list[str], environment: dict[str, str]) -> None:
    # Fixed argument lists (this interpreter, the venv's chalice, the stage name): no shell, no user input.
    result = subprocess.run(  # noqa: S603
        command,
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=PACKAGE_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise PackagingError(f"{step} failed:\n{result.stdout}{result.stderr}".rstrip())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", required=True, type=Path, help="the output directory (build/<stage>)")
    parser.add_argument("--region", default="us-east-1", help="the Lambda service principal's region")
    args = parser.parse_args(argv)
    try:
        report = package(args.stage, args.out, region=args.region, progress=print)
    except PackagingError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(report.summary())


if __name__ == "__main__":
    main()
