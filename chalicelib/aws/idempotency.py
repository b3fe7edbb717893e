"""Idempotent execution keyed on a client's Idempotency-Key (Powertools idempotency on DynamoDB).

A retry with the same key (and the same payload) returns the first call's stored result without running
it again; the same key with a different payload is refused. A call that raises stores nothing, so it may be
retried. Under `chalice local` / `chalice.test` there is no real Lambda context: a fixed budget stands in
for it so an interrupted call's in-progress record still expires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import AwsErrors
from chalicelib.errors import ConflictError, UnprocessableError

if TYPE_CHECKING:
    from chalicelib.services.apply import IdempotentRequest

# API Gateway gives a request at most ~29 s; an in-progress record older than that is abandoned.
_FALLBACK_REMAINING_MS = 30_000


class _FixedBudgetContext:
    """Stands in for the Lambda context where there is none (local runs and tests)."""

    def get_remaining_time_in_millis(self) -> int:
        return _FALLBACK_REMAINING_MS


class PowertoolsOnce:
    """Runs an action at most once per key (Powertools `idempotent_function` on the idempotency table).

    `key_jmespath` picks the key out of the request dict; with `payload_jmespath`, a repeated key with a
    different payload raises Powertools' IdempotencyValidationError. The action's JSON result is stored
    and returned to every repeat within `expires_after_seconds`.
    """

    def __init__(
        self,
        table_name: str,
        *,
        key_prefix: str,
        key_jmespath: str,
        expires_after_seconds: int,
        payload_jmespath: str = "",
        boto3_client: Any = None,
    ) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        self._config = IdempotencyConfig(
            event_key_jmespath=key_jmespath,
            payload_validation_jmespath=payload_jmespath,
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expires_after_seconds,
        )
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=boto3_client)

        # Powertools annotates `idempotent_function` as returning Any; the wrapped signature is unchanged.
        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="request",
            persistence_store=persistence,
            config=self._config,
            key_prefix=key_prefix,
        )
        def _once(request: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
            return action()

        self._once = _once

    def __call__(
        self, request: dict[str, Any], action: Callable[[], dict[str, Any]], *, lambda_context: Any = None
    ) -> dict[str, Any]:
        context = lambda_context if hasattr(lambda_context, "get_remaining_time_in_millis") else None
        self._config.register_lambda_context(context or _FixedBudgetContext())  # type: ignore[arg-type]
        result: dict[str, Any] = self._once(request=request, action=action)
        return result


class PowertoolsIdempotency:
    """`run(request, action)`: the action's JSON result, at most once per (scope, key) of the request."""

    def __init__(self, table_name: str, *, expires_after_seconds: int, boto3_client: Any = None) -> None:
        self._once = PowertoolsOnce(
            table_name,
            key_prefix="job-board.native-application",
            key_jmespath="[scope, key]",
            payload_jmespath="payload_hash",
            expires_after_seconds=expires_after_seconds,
            boto3_client=boto3_client,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyPersistenceLayerError

        # Powertools wraps the table's failures; any that escape unwrapped are translated all the same.
        self._errors = AwsErrors(
            "idempotency_unavailable",
            "Duplicate submissions cannot be checked right now; try again shortly.",
            also=(IdempotencyPersistenceLayerError,),
        )

    def run(
        self, request: IdempotentRequest, action: Callable[[], dict[str, Any]], *, lambda_context: Any = None
    ) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        try:
            with self._errors:
                return self._once(asdict(request), action, lambda_context=lambda_context)
        except IdempotencyAlreadyInProgressError as exc:
            raise ConflictError(
                "A request with this Idempotency-Key is still being processed.", code="request_in_progress"
            ) from exc
        except IdempotencyValidationError as exc:
            raise UnprocessableError(
                "This Idempotency-Key was already used with a different request.",
                code="idempotency_key_reused",
                fields={"Idempotency-Key": "already used with a different request"},
            ) from exc
