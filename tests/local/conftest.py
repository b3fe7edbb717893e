"""Fixtures for the local stack: a real `moto_server` on a free loopback port, stopped by PID."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.moto_process import moto_server_process


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a moto server started for this module by its own binary."""
    with moto_server_process(tmp_path_factory.mktemp("moto")) as url:
        yield url
