"""Secrets read through Powertools' SecretsProvider (cached in-process: no call on a warm invocation)."""

from __future__ import annotations

from typing import Any

from chalicelib.aws.errors import AwsErrors, NoSuchResourceError
from chalicelib.errors import UpstreamUnavailableError

_MESSAGE = "A required secret could not be read."


def _secrets() -> AwsErrors:
    """Powertools wraps every failure in GetParameterError (the ClientError is its implicit context,
    which the translation reads the AWS error code from)."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    return AwsErrors(
        "secret_unavailable",
        _MESSAGE,
        expect={"ResourceNotFoundException": NoSuchResourceError},
        also=(GetParameterError,),
    )


class SecretStore:
    """Reads named secrets with a max age; failures become a typed 503, never a stack trace."""

    def __init__(self, provider: Any, *, max_age_seconds: int) -> None:
        self._provider = provider
        self._max_age = max_age_seconds
        self._errors = _secrets()

    def get(self, name: str) -> str:
        value = self.get_optional(name)
        if value is None:
            raise UpstreamUnavailableError(_MESSAGE, code="secret_unavailable")
        return value

    def get_optional(self, name: str) -> str | None:
        """The secret's value, or None when no secret of that name exists."""
        try:
            with self._errors:
                value = self._provider.get(name, max_age=self._max_age)
        except NoSuchResourceError:
            return None
        # `put-secret-value --secret-string file://key.txt` keeps the file's trailing newline; no key,
        # token or signing secret of ours has surrounding whitespace, and StackOne would answer 401.
        return str(value).strip()

    def forget(self, name: str) -> None:
        """Drop a cached value so the next read fetches it (after this process changed the secret)."""
        store = getattr(self._provider, "store", None)
        if isinstance(store, dict):
            for key in [key for key in store if isinstance(key, tuple) and key and key[0] == name]:
                del store[key]
