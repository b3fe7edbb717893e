"""Packages the app once per stage per test session (`chalice package` + the rendered merge template).

Packaging fetches the runtime wheels from the package index the first time; Chalice then reuses the
deployment zip it cached under `.chalice/deployments/` while requirements and code are unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chalicelib.settings import Settings
from deploy.render import PROJECT_DIR, StageDeployment, render, stage_deployment

DEPLOYED_STAGES = ("dev", "prod")
BIN_DIR = Path(sys.executable).parent


@dataclass(frozen=True)
class PackagedStage:
    deployment: StageDeployment
    template_path: Path
    template: dict[str, Any]
    config: dict[str, Any]

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.template["Resources"])

    def function_config(self, name: str) -> dict[str, Any]:
        return dict(self.config["stages"][self.deployment.stage]["lambda_functions"][name])


def packaging_environment() -> dict[str, str]:
    """This process's environment minus everything the app reads: only the stage config may decide."""
    app_variables = {str(field.alias) for field in Settings.model_fields.values() if field.alias}
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in app_variables and not name.startswith(("AWS_", "POWERTOOLS_"))
    }
    environment["AWS_DEFAULT_REGION"] = "us-east-1"
    return environment


@pytest.fixture(scope="session", params=DEPLOYED_STAGES)
def packaged(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> PackagedStage:
    stage: str = request.param
    work_dir = tmp_path_factory.mktemp(f"package-{stage}")
    deployment = stage_deployment(stage)
    merge_template = work_dir / "resources.json"
    merge_template.write_text(json.dumps(render(deployment)))
    out_dir = work_dir / "out"
    result = subprocess.run(
        [
            str(BIN_DIR / "chalice"),
            "package",
            "--stage",
            stage,
            "--merge-template",
            str(merge_template),
            str(out_dir),
        ],
        cwd=PROJECT_DIR,
        env=packaging_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"chalice package failed:\n{result.stdout}\n{result.stderr}"
    template_path = out_dir / "sam.json"
    return PackagedStage(
        deployment=deployment,
        template_path=template_path,
        template=json.loads(template_path.read_text()),
        config=json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text()),
    )
