"""Secrets read through Powertools' SecretsProvider (cached in-process: no call on a warm invocation)."""

from __future__ import annotations

from typing import Any

from chalicelib.errors import UpstreamUnavailableError


class SecretStore:
    """Reads named secrets with a max age; failures become a typed 503, never a stack trace."""

    def __init__(self, provider: Any, *, max_age_seconds: int) -> None:
        self._provider = provider
        self._max_age = max_age_seconds

    def get(self, name: str) -> str:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self._provider.get(name, max_age=self._max_age)
        except GetParameterError as exc:
            raise UpstreamUnavailableError(
                "A required secret could not be read.", code="secret_unavailable"
            ) from exc
        return str(value)
