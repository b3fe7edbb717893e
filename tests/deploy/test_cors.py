"""CORS is restricted to the configured origins (or absent)."""

from __future__ import annotations

import pytest

from chalicelib.api.cors import cors_config
from chalicelib.settings import get_settings


def _with_origins(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("CORS_ORIGINS", raising=False)
    else:
        monkeypatch.setenv("CORS_ORIGINS", value)
    get_settings.cache_clear()


def test_no_configured_origin_means_no_cors(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_origins(monkeypatch, None)
    assert cors_config() is None
    _with_origins(monkeypatch, " , ")
    assert cors_config() is None


def test_cors_allows_only_the_first_configured_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_origins(monkeypatch, "https://jobs.example.com, https://staging.example.com")

    config = cors_config()

    assert config is not None
    assert config.allow_origin == "https://jobs.example.com"
    headers = config.get_access_control_headers()
    assert headers["Access-Control-Allow-Origin"] == "https://jobs.example.com"
    allowed = {name.strip() for name in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"Authorization", "Content-Type", "Idempotency-Key"} <= allowed
    assert headers["Access-Control-Expose-Headers"] == "Retry-After"
