"""Idempotent execution keyed on a client's Idempotency-Key (Powertools idempotency on DynamoDB).

A retry with the same key (and the same payload) returns the first call's stored result without running
it again; the same key with a different payload is refused. A call that raises stores nothing, so it may be
retried. Under `chalice local` / `chalice.test` there is no real Lambda context: a fixed budget stands in
for it so an interrupted call's in-progress record still expires.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.errors import ConflictError, UnprocessableError, UpstreamUnavailableError

# API Gateway gives a request at most ~29 s; an in-progress record older than that is abandoned.
_FALLBACK_REMAINING_MS = 30_000


class _FixedBudgetContext:
    """Stands in for the Lambda context where there is none (local runs and tests)."""

    def get_remaining_time_in_millis(self) -> int:
        return _FALLBACK_REMAINING_MS


class PowertoolsIdempotency:
    """`run(scope, key, payload_hash, action)`: the action's JSON result, at most once per (scope, key)."""

    def __init__(self, table_name: str, *, expires_after_seconds: int, boto3_client: Any = None) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        self._config = IdempotencyConfig(
            event_key_jmespath="[scope, key]",
            payload_validation_jmespath="payload_hash",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expires_after_seconds,
        )
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=boto3_client)

        # Powertools annotates `idempotent_function` as returning Any; the wrapped signature is unchanged.
        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="request",
            persistence_store=persistence,
            config=self._config,
            key_prefix="job-board.native-application",
        )
        def _once(request: dict[str, str], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
            return action()

        self._once = _once

    def run(
        self,
        *,
        scope: str,
        key: str,
        payload_hash: str,
        action: Callable[[], dict[str, Any]],
        lambda_context: Any = None,
    ) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        context = lambda_context if hasattr(lambda_context, "get_remaining_time_in_millis") else None
        self._config.register_lambda_context(context or _FixedBudgetContext())  # type: ignore[arg-type]
        try:
            result: dict[str, Any] = self._once(
                request={"scope": scope, "key": key, "payload_hash": payload_hash}, action=action
            )
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
        except IdempotencyPersistenceLayerError as exc:
            raise UpstreamUnavailableError(code="idempotency_unavailable") from exc
        return result
