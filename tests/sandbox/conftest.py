"""Fixtures: a StackOne and an Embloy sandbox per test, on free 127.0.0.1 ports (no sleeping)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypedDict

import httpx
import pytest

from sandbox.embloy import EmbloySandboxHandle, start_embloy_sandbox
from sandbox.stackone import StackOneSandboxHandle, start_stackone_sandbox

API_KEY = "test-sandbox-key"


# The sandboxes speak plain HTTP on loopback; verify=False only skips loading the CA bundle (~0.2 s/client).
class PlainHttp(TypedDict):
    verify: bool
    timeout: float


PLAIN_HTTP: PlainHttp = {"verify": False, "timeout": 5}


class SleepRecorder:
    """Stands in for time.sleep inside the sandbox: records the requested latency instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sandbox_sleep() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def stackone(sandbox_sleep: SleepRecorder) -> Iterator[StackOneSandboxHandle]:
    handle = start_stackone_sandbox(api_key=API_KEY, sleep=sandbox_sleep)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def stackone_http(stackone: StackOneSandboxHandle) -> Iterator[httpx.Client]:
    """An httpx client authenticated the documented way: Basic base64("<key>:")."""
    with httpx.Client(base_url=stackone.base_url, auth=httpx.BasicAuth(API_KEY, ""), **PLAIN_HTTP) as client:
        yield client


@pytest.fixture
def admin(stackone: StackOneSandboxHandle) -> Iterator[httpx.Client]:
    """Unauthenticated client for the sandbox's /_sandbox admin API and Hub page."""
    with httpx.Client(base_url=stackone.base_url, **PLAIN_HTTP) as client:
        yield client


@pytest.fixture
def embloy() -> Iterator[EmbloySandboxHandle]:
    handle = start_embloy_sandbox()
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def embloy_http(embloy: EmbloySandboxHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=embloy.base_url, **PLAIN_HTTP) as client:
        yield client
