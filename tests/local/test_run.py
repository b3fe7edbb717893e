"""`make run`'s orchestrator as a person uses it: start, serve the API on moto, stop everything on SIGTERM."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from local.processes import free_port
from local.stack import PORT_VARIABLES, PROJECT_DIR

READY_LINE = "Local job board is running"


def _ports() -> dict[str, str]:
    return {
        # Every port the stack binds (the mail catcher's too) is a free one: a `make run` may be going.
        **{variable: str(free_port()) for variable, _ in PORT_VARIABLES.values()},
        # Long intervals: this test is about processes, not about syncing.
        "LOCAL_SYNC_INTERVAL_SECONDS": "3600",
        "LOCAL_DRAIN_INTERVAL_SECONDS": "3600",
    }


@contextmanager
def _orchestrator(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "local.run"],
        cwd=PROJECT_DIR,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        yield process, lines
    finally:
        if process.poll() is None:  # a failed assertion: don't leave the stack running
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def _read_until(lines: queue.Queue[str], marker: str, timeout: float) -> str:
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no {marker!r} within {timeout} s; output:\n{''.join(seen)}") from None
        seen.append(line)
        if marker in line:
            return "".join(seen)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_serves_the_api_on_local_aws_and_stops_every_process_on_sigterm() -> None:
    env = _ports()
    board_dir = PROJECT_DIR / ".local-state" / "board" / env["LOCAL_API_PORT"]
    with _orchestrator(env) as (process, lines):
        output = _read_until(lines, READY_LINE, timeout=90)
        output += _read_until(lines, "Processes:", timeout=10)
        pids = [int(pid) for pid in re.findall(r"pid (\d+)", output.split("Processes:")[-1])]
        assert len(pids) >= 3  # moto server, chalice local, scheduler (+ sandboxes once present)

        api = f"http://127.0.0.1:{env['LOCAL_API_PORT']}"
        assert httpx.get(f"{api}/health", timeout=5).json() == {"status": "ok"}
        # Answers of the gateway itself come in the API's error shape, as deployed.
        unknown = httpx.get(f"{api}/no/such/route", timeout=5)
        assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
        keyless = httpx.get(f"{api}/accounts", timeout=5)
        assert (keyless.status_code, keyless.json()["error"]["code"]) == (401, "unauthenticated")
        api_keys = re.findall(r"\bjbk_[A-Za-z0-9_-]+", output)
        assert len(api_keys) == 4

        # `make sync-now` from another shell: finds the running stack through the LOCAL_* ports alone.
        sync_now = subprocess.run(
            [sys.executable, "-m", "local.scheduler", "--once"],
            cwd=PROJECT_DIR,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sync_now.returncode == 0, sync_now.stderr
        assert "message(s) handled, 0 failed" in sync_now.stderr
        # ... and builds a board snapshot into moto's S3, under the run's own directory (not /tmp).
        assert "`build_board_snapshot` fired" in sync_now.stderr
        assert board_dir.is_dir()

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0

    assert not any(_pid_alive(pid) for pid in pids)
    assert not board_dir.exists()  # nothing of the run's snapshots is left behind
    with socket.socket() as probe:  # the API port is free again
        probe.bind(("127.0.0.1", int(env["LOCAL_API_PORT"])))


def test_make_run_refuses_to_start_when_a_port_is_taken_and_names_the_variable() -> None:
    env = _ports()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(env["LOCAL_STACKONE_PORT"])))
        squatter.listen()
        with _orchestrator(env) as (process, lines):
            assert process.wait(timeout=30) == 1
            output = _read_until(lines, "LOCAL_STACKONE_PORT", timeout=5)

    assert f"port {env['LOCAL_STACKONE_PORT']} (stackone) is in use" in output
    assert "started" not in output  # nothing was started


def _process_pids(output: str) -> dict[str, int]:
    """name -> pid from the summary's `Processes:` line."""
    listed = output.split("Processes:")[-1].splitlines()[0]
    return {name.strip(): int(pid) for name, pid in re.findall(r"([^,]+?) pid (\d+)", listed)}


def test_make_run_survives_a_stalled_moto_and_the_scheduler_carries_on() -> None:
    env = {**_ports(), "LOCAL_DRAIN_INTERVAL_SECONDS": "1"}
    with _orchestrator(env) as (process, lines):
        output = _read_until(lines, READY_LINE, timeout=90)
        output += _read_until(lines, "Processes:", timeout=10)
        pids = _process_pids(output)
        moto, scheduler = pids["moto server"], pids["local scheduler"]
        _read_until(lines, "message(s) handled", timeout=120)  # the first sync went through

        # GIVEN moto stalls: stopped, its socket still accepts connections but nothing answers
        os.kill(moto, signal.SIGSTOP)
        try:
            # THEN the scheduler logs failed ticks (each after the SQS client's timeouts) and backs off
            _read_until(lines, "queue unavailable", timeout=120)
            _read_until(lines, "queue unavailable", timeout=120)
            assert process.poll() is None and _pid_alive(scheduler)
        finally:
            os.kill(moto, signal.SIGCONT)

        # AND once moto answers again the scheduler carries on, and the stack is still whole
        _read_until(lines, "AWS answers again", timeout=180)
        assert process.poll() is None
        assert all(_pid_alive(pid) for pid in pids.values())
        api = f"http://127.0.0.1:{env['LOCAL_API_PORT']}"
        assert httpx.get(f"{api}/jobs", timeout=30).status_code == 200

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
    assert not any(_pid_alive(pid) for pid in pids.values())
