"""Employers' Embloy client tokens in Secrets Manager, with their metadata on the employer profile item.

Secret name: `{EMBLOY_SECRET_PREFIX}{employer_id}`. Reads go through the process-wide cached SecretStore,
so a warm invocation makes no Secrets Manager call; a missing secret is remembered for the same max age.
Profile item (PK `EMPLOYER#{id}`, SK `PROFILE`) attributes, set with UpdateItem (the board reads them):
`embloy_configured` (bool), `embloy_updated_at` (ISO string), `embloy_needs_renewal` (bool).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache

from chalicelib.aws.errors import TABLE, AwsErrors, NoSuchResourceError
from chalicelib.aws.secret_store import SecretStore
from chalicelib.errors import ConflictError, NotFoundError
from chalicelib.services.embloy_tokens import EmbloyTokenState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

_MISSING_CACHE_SIZE = 4096  # employers without a token, remembered per warm process


def _profile_key(employer_id: str) -> dict[str, str]:
    return {"PK": f"EMPLOYER#{employer_id}", "SK": "PROFILE"}


def _still_deleting() -> ConflictError:
    # Secrets Manager finishes a deletion asynchronously; until then the name cannot be reused.
    return ConflictError(
        "The previous token is still being deleted; try again in a minute.", code="embloy_token_deleting"
    )


def _no_employer() -> NotFoundError:
    return NotFoundError("No such employer.", code="employer_not_found")


_STORE = AwsErrors(
    "secret_store_unavailable",
    "The token could not be stored; try again.",
    expect={"InvalidRequestException": _still_deleting},
)
_DELETE = AwsErrors(
    "secret_store_unavailable",
    "The token could not be deleted; try again.",
    expect={"ResourceNotFoundException": NoSuchResourceError},
)
_WRITE_SECRET = AwsErrors(
    _STORE.code,
    _STORE.message,
    expect={"InvalidRequestException": _still_deleting, "ResourceNotFoundException": NoSuchResourceError},
)
_PROFILE = AwsErrors(TABLE.code, TABLE.message, expect={"ConditionalCheckFailedException": _no_employer})


class SecretsManagerEmbloyTokenStore:
    """EmbloyTokenRepository over Secrets Manager (values) and the application table (metadata)."""

    def __init__(
        self,
        secrets_client: SecretsManagerClient,
        secret_store: SecretStore,
        table: Table,
        *,
        prefix: str,
        negative_cache_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secrets = secrets_client
        self._secret_store = secret_store
        self._table = table
        self._prefix = prefix
        # Secret names known to be missing, so a board page does not ask Secrets Manager on every view.
        self._missing: TTLCache[str, bool] = TTLCache(
            maxsize=_MISSING_CACHE_SIZE, ttl=negative_cache_seconds, timer=monotonic
        )

    def secret_name(self, employer_id: str) -> str:
        return f"{self._prefix}{employer_id}"

    # Reads ----------------------------------------------------------------------------------------------

    def get_token(self, employer_id: str) -> str | None:
        """The employer's client token, or None when none is stored (cached both ways)."""
        name = self.secret_name(employer_id)
        if name in self._missing:
            return None
        token = self._secret_store.get_optional(name)
        if token is None:
            self._missing[name] = True
        return token

    @TABLE
    def get_status(self, employer_id: str) -> EmbloyTokenState:
        item = (
            self._table.get_item(
                Key=_profile_key(employer_id),
                ProjectionExpression="embloy_configured, embloy_updated_at, embloy_needs_renewal",
            ).get("Item")
            or {}
        )
        return EmbloyTokenState(
            configured=bool(item.get("embloy_configured", False)),
            updated_at=str(item["embloy_updated_at"]) if item.get("embloy_updated_at") else None,
            needs_renewal=bool(item.get("embloy_needs_renewal", False)),
        )

    # Writes ---------------------------------------------------------------------------------------------

    def put_token(self, employer_id: str, token: str, updated_at: str) -> None:
        """Create or update the secret, then mark the profile configured (renewal flag cleared)."""
        name = self.secret_name(employer_id)
        self._write_secret(name, token)
        self._missing.pop(name, None)
        self._secret_store.forget(name)
        self._update_profile(
            employer_id,
            "SET embloy_configured = :yes, embloy_updated_at = :at, embloy_needs_renewal = :no",
            {":yes": True, ":no": False, ":at": updated_at},
        )

    def delete_token(self, employer_id: str, updated_at: str) -> None:
        """Delete the secret immediately (no recovery window) and mark the profile unconfigured."""
        name = self.secret_name(employer_id)
        try:
            with _DELETE:
                self._secrets.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        except NoSuchResourceError:
            pass  # already gone
        self._secret_store.forget(name)
        self._missing[name] = True
        self._update_profile(
            employer_id,
            "SET embloy_configured = :no, embloy_updated_at = :at, embloy_needs_renewal = :no",
            {":no": False, ":at": updated_at},
        )

    def flag_needs_renewal(self, employer_id: str) -> None:
        """Embloy rejected the token: show it on the profile, and re-read the secret on the next click."""
        self._secret_store.forget(self.secret_name(employer_id))
        self._update_profile(employer_id, "SET embloy_needs_renewal = :yes", {":yes": True})

    def _write_secret(self, name: str, token: str) -> None:
        """Update the secret's value, or create the secret when there is none yet."""
        try:
            with _WRITE_SECRET:
                self._secrets.put_secret_value(SecretId=name, SecretString=token)
            return
        except NoSuchResourceError:
            pass
        with _STORE:
            self._secrets.create_secret(
                Name=name, SecretString=token, Description="Embloy client token of one employer (job board)"
            )

    @_PROFILE
    def _update_profile(self, employer_id: str, expression: str, values: dict[str, Any]) -> None:
        self._table.update_item(
            Key=_profile_key(employer_id),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=values,
        )
