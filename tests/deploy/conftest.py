"""Packages the app once per stage per test session, as `make package` does (deploy/package.py: the
rendered merge template, `chalice package`, the runtime's bytecode).

Packaging fetches the runtime wheels from the package index the first time; Chalice then reuses the
deployment zip it cached under `.chalice/deployments/` while requirements and code are unchanged.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chalicelib.settings import Settings
from deploy.package import PackagingError, package
from deploy.render import PROJECT_DIR, StageDeployment, stage_deployment

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
    out_dir = tmp_path_factory.mktemp(f"package-{stage}") / "out"
    try:
        package(stage, out_dir, region="us-east-1", environment=packaging_environment())
    except PackagingError as exc:
        pytest.fail(f"packaging failed:\n{exc}")
    template_path = out_dir / "sam.json"
    return PackagedStage(
        deployment=stage_deployment(stage),
        template_path=template_path,
        template=json.loads(template_path.read_text()),
        config=json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text()),
    )
