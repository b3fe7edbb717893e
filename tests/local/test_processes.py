"""Processes are started in their own group and stopped by that group's id, children included."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from local.processes import ManagedProcess, StartupError, free_port, port_is_free, wait_until
from local.stack import PROJECT_DIR


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stop_ends_the_process_and_what_it_spawned(tmp_path: Path) -> None:
    child_pid_file = tmp_path / "child.pid"
    # A parent that spawns a long-lived child and waits for it, like a server with a worker.
    process = ManagedProcess(
        "parent",
        ["/bin/sh", "-c", f"sleep 600 & echo $! > {child_pid_file}; wait"],
        env={"PATH": "/usr/bin:/bin"},
        cwd=PROJECT_DIR,
        log_path=tmp_path / "parent.log",
    )
    wait_until(
        lambda: child_pid_file.exists() and child_pid_file.read_text().strip() != "",
        what="child",
        timeout_seconds=10,
    )
    child_pid = int(child_pid_file.read_text())
    assert os.getpgid(child_pid) == process.pid  # the child is in the group named by the parent's PID

    process.stop(timeout_seconds=5)

    assert process.exit_code() is not None
    wait_until(lambda: not _alive(child_pid), what="child exit", timeout_seconds=5)


def test_waiting_fails_fast_with_the_log_tail_when_the_process_exits(tmp_path: Path) -> None:
    process = ManagedProcess(
        "broken server",
        ["/bin/sh", "-c", "echo 'address already in use' >&2; exit 3"],
        env={"PATH": "/usr/bin:/bin"},
        cwd=PROJECT_DIR,
        log_path=tmp_path / "broken.log",
    )

    try:
        wait_until(lambda: False, what="broken server", timeout_seconds=30, process=process)
    except StartupError as exc:
        message = str(exc)
    else:
        raise AssertionError("wait_until returned for a process that exited")

    assert "exited with code 3" in message
    assert "address already in use" in message


def test_port_is_free_sees_a_listening_socket() -> None:
    port = free_port()
    assert port_is_free(port)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert not port_is_free(port)
