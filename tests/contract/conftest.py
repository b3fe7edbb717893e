"""Contract-test fixtures: the published StackOne specs (skip when unset) and one sandbox per session."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from openapi_core import OpenAPI

from sandbox.stackone import StackOneSandboxHandle, start_stackone_sandbox
from tests.contract.oas import ATS_ENV, PLATFORM_ENV, load_spec, spec_path

API_KEY = "contract-sandbox-key"


def _spec(env_name: str) -> OpenAPI:
    path = spec_path(env_name)
    if path is None:
        pytest.skip(f"{env_name} is not set to a StackOne OpenAPI file")
    return load_spec(path)


@pytest.fixture(scope="session")
def ats_spec() -> OpenAPI:
    return _spec(ATS_ENV)


@pytest.fixture(scope="session")
def platform_spec() -> OpenAPI:
    return _spec(PLATFORM_ENV)


@pytest.fixture
def stackone() -> Iterator[StackOneSandboxHandle]:
    handle = start_stackone_sandbox(api_key=API_KEY)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def stackone_http(stackone: StackOneSandboxHandle) -> Iterator[httpx.Client]:
    # verify=False: plain HTTP on loopback; it only skips loading the CA bundle.
    with httpx.Client(
        base_url=stackone.base_url, auth=httpx.BasicAuth(API_KEY, ""), verify=False, timeout=5
    ) as client:
        yield client
