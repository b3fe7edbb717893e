"""Child processes started by their own binary, each in its own process group, stopped by PID.

Nothing here searches processes by name: a process is only ever signalled through the group id it was
given when this module started it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx


class StartupError(RuntimeError):
    """A piece of the stack could not start; the message says which and what to do."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing is bound to `host:port` (checked by binding it for a moment)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers themselves bind: connections of a stopped run left in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS considers free right now (for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def http_answers(url: str, *, ok_statuses: Callable[[int], bool] = lambda status: status < 500) -> bool:
    """True when `url` answers HTTP with an acceptable status (connection refused -> False)."""
    try:
        response = httpx.get(url, timeout=2.0, trust_env=False)  # never via a proxy
    except httpx.HTTPError:
        return False
    return ok_statuses(response.status_code)


class ManagedProcess:
    """One child in its own session (so its process group id is its PID) with its output in a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        log: IO[bytes] | None = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = log_path.open("wb")
        try:
            self._popen = subprocess.Popen(
                self.argv,
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT if log is not None else None,
                start_new_session=True,  # own process group: Ctrl-C at the terminal doesn't reach it
            )
        finally:
            if log is not None:
                log.close()  # the child holds its own descriptor

    @property
    def pid(self) -> int:
        return self._popen.pid

    def exit_code(self) -> int | None:
        """None while running."""
        return self._popen.poll()

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout_seconds: float = 5.0) -> int | None:
        """SIGTERM the process group (the child and anything it spawned), then SIGKILL it if it lingers."""
        if self._popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self._popen.wait(timeout=timeout_seconds)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._popen.wait(timeout=timeout_seconds)
        # Children of the child may outlive it in the same group; the group id is still ours to signal.
        self._signal_group(signal.SIGKILL)
        return self._popen.returncode

    def _signal_group(self, signum: signal.Signals) -> None:
        # start_new_session=True made the child a session and group leader: its group id is its PID.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signum)


class SignalStop(threading.Event):
    """A stop request that a signal handler may set.

    `threading.Event.set()` takes the event's lock: a handler that interrupts `wait()` on the same thread
    (the main thread, where handlers run) deadlocks there, and the process then ignores SIGTERM for good.
    This one sets a plain flag without a lock, and `wait` polls it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._requested = False

    def set(self) -> None:
        self._requested = True

    def clear(self) -> None:
        self._requested = False

    def is_set(self) -> bool:
        return self._requested

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._requested:
            remaining = 0.1 if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(0.1, remaining))
        return True


def wait_until(
    check: Callable[[], bool],
    *,
    what: str,
    timeout_seconds: float,
    process: ManagedProcess | None = None,
    stop_requested: threading.Event | None = None,
    interval_seconds: float = 0.1,
) -> None:
    """Poll `check` until it is true; fail early if `process` exits or a stop is requested."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        if check():
            return
        if process is not None and (code := process.exit_code()) is not None:
            tail = process.log_tail()
            detail = f"\n--- last lines of {process.log_path} ---\n{tail}" if tail else ""
            raise StartupError(f"{what}: the process exited with code {code} before it was ready.{detail}")
        if stop_requested is not None and stop_requested.is_set():
            raise StartupError(f"{what}: startup interrupted.")
        if time.monotonic() > deadline:
            raise StartupError(f"{what}: not ready after {timeout_seconds:.0f} s.")
        # An Event wait returns at once when a stop is requested, unlike a plain sleep.
        (stop_requested or threading.Event()).wait(interval_seconds)
