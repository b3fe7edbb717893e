"""Fixtures shared by the API tests: StackOne's API mocked with respx, and a client ready to apply."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import respx

from tests.api.apply_factories import store_stackone_key


@pytest.fixture
def stackone_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url="https://api.stackone.test", assert_all_called=False) as router:
        yield router


@pytest.fixture
def apply_client(client: Any) -> Any:
    """The app's test client with the StackOne API key stored (what native apply reads first)."""
    store_stackone_key()
    return client
