"""Failing AWS calls for tests, injected through botocore's own event hooks (no patching).

`fail_calls(client, error)` makes every call of a boto3 client (or only the operations named, or only
calls whose parameters mention `matching`) raise `error` before anything is sent: an AWS error code gives a
ClientError exactly as botocore raises it for an error response, an exception instance is raised as is
(e.g. botocore's ReadTimeoutError or EndpointConnectionError).
"""

from __future__ import annotations

import copy
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

# The two ways an AWS call fails: the service answers an error, or it does not answer at all.
OUTAGES: dict[str, str | BaseException] = {
    "service_error": "InternalServerError",
    "throttled": "ProvisionedThroughputExceededException",
    "read_timeout": ReadTimeoutError(endpoint_url="https://aws.test"),
    "unreachable": EndpointConnectionError(endpoint_url="https://aws.test"),
}


def client_error(code: str, operation: str = "Operation") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "injected failure"}}, operation)


def fail_calls(
    client: Any,
    error: str | BaseException,
    *,
    operations: set[str] | None = None,
    matching: str | None = None,
) -> list[str]:
    """Make the client's calls fail; returns the list the names of the failed operations go into."""
    failed: list[str] = []

    def raise_error(params: Any, model: Any, **_: Any) -> None:
        if operations is not None and model.name not in operations:
            return
        if matching is not None and matching not in repr(params):
            return
        failed.append(model.name)
        # A fresh exception each time: a shared one would carry the context of wherever it was raised last.
        raise client_error(error, model.name) if isinstance(error, str) else copy.copy(error)

    client.meta.events.register("before-parameter-build", raise_error)
    return failed
