"""Secrets read through Powertools' SecretsProvider (cached in-process: no call on a warm invocation)."""

from __future__ import annotations

from typing import Any

from chalicelib.errors import UpstreamUnavailableError


def _is_not_found(exc: BaseException) -> bool:
    """Whether a provider failure was Secrets Manager's ResourceNotFoundException.

    Powertools wraps every failure in GetParameterError without `from`, so the ClientError is the
    implicit context of the wrapper.
    """
    current: BaseException | None = exc
    while current is not None:
        response = getattr(current, "response", None)
        if (
            isinstance(response, dict)
            and response.get("Error", {}).get("Code") == "ResourceNotFoundException"
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


class SecretStore:
    """Reads named secrets with a max age; failures become a typed 503, never a stack trace."""

    def __init__(self, provider: Any, *, max_age_seconds: int) -> None:
        self._provider = provider
        self._max_age = max_age_seconds

    def get(self, name: str) -> str:
        value = self.get_optional(name)
        if value is None:
            raise UpstreamUnavailableError("A required secret could not be read.", code="secret_unavailable")
        return value

    def get_optional(self, name: str) -> str | None:
        """The secret's value, or None when no secret of that name exists."""
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self._provider.get(name, max_age=self._max_age)
        except GetParameterError as exc:
            if _is_not_found(exc):
                return None
            raise UpstreamUnavailableError(
                "A required secret could not be read.", code="secret_unavailable"
            ) from exc
        # `put-secret-value --secret-string file://key.txt` keeps the file's trailing newline; no key,
        # token or signing secret of ours has surrounding whitespace, and StackOne would answer 401.
        return str(value).strip()

    def forget(self, name: str) -> None:
        """Drop a cached value so the next read fetches it (after this process changed the secret)."""
        store = getattr(self._provider, "store", None)
        if isinstance(store, dict):
            for key in [key for key in store if isinstance(key, tuple) and key and key[0] == name]:
                del store[key]
