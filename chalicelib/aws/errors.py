"""The one place AWS failures become domain errors: every adapter in `chalicelib/aws` goes through it.

`AwsErrors(code, message)` is a stateless context manager that is also a decorator. Inside it, botocore's
`ClientError` and `BotoCoreError` (timeouts, connection failures, bad credentials), boto3's S3 transfer
failures and any extra types an adapter names (`also`, e.g. Powertools' wrappers) become
`UpstreamUnavailableError` (503) with the adapter's code, unless the AWS error code is one the adapter
expects: `ConditionalCheckFailedException` always raises `ConditionFailedError` (a duplicate or a lost
race, never an outage), and `expect` maps further codes to the error the adapter wants raised, e.g.
`{"ResourceNotFoundException": NoSuchResourceError}` for a missing secret. Adapters catch those specific
errors where they carry meaning (`except ConditionFailedError: return False`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import ConflictError, NotFoundError, UpstreamUnavailableError

CONDITION_FAILED = "ConditionalCheckFailedException"

Func = TypeVar("Func", bound=Callable[..., Any])


class ConditionFailedError(ConflictError):
    """A conditional write's condition did not hold (409 if no adapter gives it a meaning)."""

    code = "conflict"
    default_message = "The request conflicts with the current state."


class NoSuchResourceError(NotFoundError):
    """An AWS resource an adapter looked up does not exist (only where the adapter expects that)."""

    code = "not_found"


def _transfer_errors() -> tuple[type[BaseException], ...]:
    from boto3.exceptions import S3TransferFailedError, S3UploadFailedError

    return (S3TransferFailedError, S3UploadFailedError)


def aws_error_code(exc: BaseException) -> str:
    """The AWS error code of a failure ("" if none), looking through wrappers' causes and contexts.

    Powertools wraps a ClientError in its own error without `from`, so the code may be on the context.
    """
    current: BaseException | None = exc
    seen = 0
    while current is not None and seen < 8:
        response = getattr(current, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            if code:
                return str(code)
        current = current.__cause__ or current.__context__
        seen += 1
    return ""


class AwsErrors:
    """Translate AWS failures raised inside it; usable as `with AwsErrors(...):` and as a decorator.

    Parameters
    ----------
    code
        The stable error code of the 503 (what the frontend acts on), e.g. `table_unavailable`.
    message
        The 503's message (never the AWS error text, which may name resources).
    expect
        AWS error code -> error factory, checked before the 503; `ConditionalCheckFailedException` maps to
        `ConditionFailedError` unless overridden here.
    also
        Further exception types that mean "the AWS service failed" (e.g. Powertools' wrappers).
    """

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        expect: Mapping[str, Callable[[], BaseException]] | None = None,
        also: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.code = code
        self.message = message or "A storage service is not answering; try again shortly."
        self._expect: dict[str, Callable[[], BaseException]] = {CONDITION_FAILED: ConditionFailedError}
        self._expect.update(expect or {})
        self._catch = (ClientError, BotoCoreError, *_transfer_errors(), *also)

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Never suppresses: every failure leaves as the original or as its translation.
        if exc is None or not isinstance(exc, self._catch):
            return
        # botocore's own errors carry their code (or none); only a wrapper's code is looked for underneath,
        # so a timeout raised while handling an earlier, expected error is still an outage.
        own = isinstance(exc, ClientError | BotoCoreError)
        aws_code = str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""
        if not own:
            aws_code = aws_error_code(exc)
        factory = self._expect.get(aws_code)
        if factory is not None:
            raise factory() from exc
        # The AWS error stays the cause (for the operator's log line); the caller sees our code and message.
        raise UpstreamUnavailableError(self.message, code=self.code) from exc

    def __call__(self, func: Func) -> Func:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return cast(Func, wrapper)


# The codes the API answers for each kind of storage (the frontend shows "try again shortly" on all).
TABLE = AwsErrors("table_unavailable", "The table is unavailable; try again shortly.")
