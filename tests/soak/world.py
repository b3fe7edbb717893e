"""An in-process world for soak and load runs: moto (tables, secrets, queue) plus the StackOne sandbox.

Everything binds to 127.0.0.1; nothing leaves the process except loopback HTTP to the sandbox.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STACKONE_KEY = "soak-stackone-key"
WEBHOOK_SECRET = "soak-webhook-secret"

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "APP_STAGE": "test",
    "POWERTOOLS_SERVICE_NAME": "job-board",
    "POWERTOOLS_METRICS_NAMESPACE": "JobBoard",
    "PUBLIC_BASE_URL": "https://board.test",
}


@dataclass
class World:
    stackone: Any  # sandbox.stackone.StackOneSandboxHandle
    queue_url: str
    queue_name: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def provision_aws(stackone_key: str, webhook_secret: str) -> tuple[str, str]:
    """Inside an active AWS emulator: the app's tables, its secrets, the sync and email queues, with
    SYNC_QUEUE_URL and EMAIL_QUEUE_URL exported and settings re-read. Returns the sync queue's (URL, name)."""
    import boto3

    from chalicelib import deps
    from chalicelib.aws.table_schema import create_idempotency_table_kwargs, create_table_kwargs
    from chalicelib.settings import get_settings

    get_settings.cache_clear()
    deps.reset_dependencies()
    settings = get_settings()
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**create_table_kwargs(settings.table_name))
    dynamodb.create_table(**create_idempotency_table_kwargs(settings.idempotency_table_name))
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name=settings.stackone_api_key_secret_name, SecretString=stackone_key)
    secrets.create_secret(Name=settings.webhook_secret_name, SecretString=webhook_secret)
    secrets.create_secret(Name=settings.cursor_secret_name, SecretString="soak-cursor-signing-key")
    queue_url = boto3.client("sqs").create_queue(QueueName=settings.sync_queue_name)["QueueUrl"]
    os.environ["SYNC_QUEUE_URL"] = queue_url
    email_queue = boto3.client("sqs").create_queue(QueueName=settings.email_queue_name)
    os.environ["EMAIL_QUEUE_URL"] = email_queue["QueueUrl"]
    get_settings.cache_clear()
    return queue_url, settings.sync_queue_name


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's server as a child process on a free loopback port (its own binary; stopped by PID)."""
    port = _free_port()
    binary = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def local_world(
    extra_env: dict[str, str] | None = None, *, aws_server: bool = False, **sandbox_options: Any
) -> Iterator[World]:
    """moto + the StackOne sandbox, with the app's settings pointed at them; restores the environment.

    `aws_server`: moto runs as its own process (DynamoDB etc. over loopback HTTP, like a real service, so
    concurrent threads in this process don't contend with it for the GIL); otherwise in-process.
    """
    from moto import mock_aws

    from sandbox.stackone import start_stackone_sandbox

    saved_env = dict(os.environ)
    stackone = start_stackone_sandbox(api_key=STACKONE_KEY, **sandbox_options)
    try:
        for name in list(os.environ):
            if name.startswith("AWS_ENDPOINT_URL"):
                del os.environ[name]
        from chalicelib.settings import local_names_environment

        os.environ.update({**local_names_environment(), **FAKE_AWS_ENV})
        os.environ.update({"STACKONE_BASE_URL": stackone.base_url, **(extra_env or {})})
        with contextlib.ExitStack() as stack:
            if aws_server:
                os.environ["AWS_ENDPOINT_URL"] = stack.enter_context(moto_server())
            else:
                stack.enter_context(mock_aws())
            from chalicelib import deps

            queue_url, queue_name = provision_aws(STACKONE_KEY, WEBHOOK_SECRET)
            deps.reset_dependencies()
            yield World(stackone=stackone, queue_url=queue_url, queue_name=queue_name)
            deps.reset_dependencies()
    finally:
        stackone.stop()
        os.environ.clear()
        os.environ.update(saved_env)
        from chalicelib.settings import get_settings

        get_settings.cache_clear()
