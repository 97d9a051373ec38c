"""Interpreter exit and Ctrl-C, in child processes: exit neither hangs nor crashes nor
loses events silently, and Ctrl-C interrupts a blocking call promptly."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
from typing import Any, Dict, Iterator, List

import pytest

import pravega_client
from conftest import unique_name

# Generous, against hangs only.
EXIT_DEADLINE_S = 90
# Ctrl-C must be noticed within this time of the signal.
INTERRUPT_DEADLINE_S = 5
# How long the child is left in its blocking call before the signal: long enough that
# the call is waiting, which the child's own report of its wait confirms.
BLOCKED_FOR_S = 1.0

CRASH_MARKERS = ("Fatal Python error", "Segmentation fault", "panicked", "core dumped")


def child_environment(**values: str) -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONFAULTHANDLER"] = "1"
    env.update(values)
    return env


def run_child(program: str, tmp_path: Any, **env: str) -> subprocess.CompletedProcess:
    """Runs ``program`` to its end; fails if it outlives EXIT_DEADLINE_S."""
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(program)],
            capture_output=True,
            text=True,
            timeout=EXIT_DEADLINE_S,
            cwd=tmp_path,  # the source tree would shadow the installed package
            env=child_environment(**env),
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"the child did not exit within {EXIT_DEADLINE_S} s: {expired}")


def assert_clean_exit(finished: subprocess.CompletedProcess) -> None:
    assert finished.returncode == 0, finished.stderr
    for marker in CRASH_MARKERS:
        assert marker not in finished.stderr, finished.stderr


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A controller URI whose port accepts connections and never answers, so that
    every call to it blocks until its timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)  # the kernel completes handshakes; nobody reads
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def read_all(
    manager: pravega_client.StreamManager, scope: str, stream: str, expected: int
) -> List[bytes]:
    group = manager.create_reader_group(unique_name("group"), scope, stream)

    async def read() -> List[bytes]:
        async with group.create_reader("reader") as reader:
            events: List[bytes] = []
            deadline = time.monotonic() + 120
            while len(events) < expected and time.monotonic() < deadline:
                batch = await reader.read(max_events=10_000, timeout=1.0)
                events.extend(event.data() for event in batch)
            # Once more, so that anything beyond the expected count is seen too.
            batch = await reader.read(max_events=10_000, timeout=0.5)
            events.extend(event.data() for event in batch)
            return events

    return asyncio.run(read())


def test_exit_with_unflushed_writes_open_readers_and_pending_futures_delivers_all(
    controller_uri: str,
    manager: pravega_client.StreamManager,
    scope: str,
    stream: str,
    tmp_path: Any,
) -> None:
    program = """
        import asyncio, os
        import pravega_client
        from pravega_client import _lib

        uri, scope, stream = (os.environ[key] for key in ("URI", "SCOPE", "STREAM"))
        manager = pravega_client.StreamManager(uri)
        group = manager.create_reader_group("exit-group", scope, stream)
        reader = group.create_reader("exit-reader")
        writer = manager.create_writer(scope, stream, max_inflight_events=1_000_000)
        for index in range(100_000):
            writer.write_event_bytes(b"sync %06d" % index, routing_key="sync")
        # Futures of a loop that never runs again stay pending whatever the server does.
        asyncio.set_event_loop(asyncio.new_event_loop())
        futures = [
            writer.write_event_async(b"async %04d" % index, routing_key="async")
            for index in range(1_000)
        ]
        # Last, 100 MiB that the server cannot have acknowledged by the print.
        for index in range(100):
            writer.write_event_bytes(b"big %03d " % index + b"b" * (1 << 20), "big")
        print("unacknowledged at exit:", _lib.pravega_writer_outstanding(writer._ptr))
        print("futures pending at exit:", sum(not f.done() for f in futures))
    """
    finished = run_child(
        program, tmp_path, URI=controller_uri, SCOPE=scope, STREAM=stream
    )

    assert_clean_exit(finished)
    unacknowledged, pending = (
        int(line.rsplit(":", 1)[1]) for line in finished.stdout.splitlines()
    )
    # Otherwise the exit had nothing left to deliver, and the test proves nothing.
    assert unacknowledged > 0 and pending == 1_000, finished.stdout
    events = read_all(manager, scope, stream, 101_100)
    # The 1 MiB events are compared by their heads.
    assert sorted(event[:8] if event[:3] == b"big" else event for event in events) == (
        sorted(
            [b"async %04d" % index for index in range(1_000)]
            + [b"big %03d " % index for index in range(100)]
            + [b"sync %06d" % index for index in range(100_000)]
        )
    )


def test_exit_with_writes_the_server_never_answers_logs_them_as_lost(
    black_hole: str, tmp_path: Any
) -> None:
    program = """
        import logging, os
        import pravega_client

        logging.basicConfig(level=logging.WARNING)
        manager = pravega_client.StreamManager(os.environ["URI"])
        writer = manager.create_writer("scope", "stream", max_inflight_events=100)
        for index in range(10):
            writer.write_event_bytes(b"never acknowledged")
        print("exiting")
    """
    started = time.monotonic()
    finished = run_child(program, tmp_path, URI=black_hole)

    assert_clean_exit(finished)
    assert finished.stdout.strip() == "exiting"
    assert (
        "10 events written to scope/stream were not acknowledged within 10 s of "
        "interpreter exit and may be lost"
    ) in finished.stderr
    assert time.monotonic() - started < EXIT_DEADLINE_S


class Child:
    """A child process that reports on stdout, line by line, read with deadlines."""

    def __init__(self, program: str, tmp_path: Any, **env: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(program)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,  # the source tree would shadow the installed package
            env=child_environment(**env),
        )

    def line(self, seconds: float) -> str:
        assert self.process.stdout is not None
        readable, _, _ = select.select([self.process.stdout], [], [], seconds)
        if not readable:
            self.kill()
            pytest.fail(f"the child printed nothing within {seconds} s")
        return self.process.stdout.readline().strip()

    def finish(self) -> subprocess.CompletedProcess:
        try:
            stdout, stderr = self.process.communicate(timeout=EXIT_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the child did not exit within {EXIT_DEADLINE_S} s")
        return subprocess.CompletedProcess(
            self.process.args, self.process.returncode, stdout, stderr
        )

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


# The child prints "ready" just before the blocking call, and reports how long the call
# had been waiting when KeyboardInterrupt arrived. Writers that are still waiting for a
# server that never answers would hold up a normal exit for the flush at exit (the
# test above covers that), so those children leave with os._exit.
INTERRUPT_PROGRAMS = {
    "flush": """
        writer = manager.create_writer("scope", "stream", max_inflight_events=100)
        for index in range(10):
            writer.write_event_bytes(b"never acknowledged")
        blocking_call = writer.flush
        exit_at_once = True
    """,
    "write_with_a_full_window": """
        writer = manager.create_writer("scope", "stream", max_inflight_events=1)
        writer.write_event_bytes(b"fills the window")
        blocking_call = lambda: writer.write_event_bytes(b"waits for room")
        exit_at_once = True
    """,
    "manager_call": """
        blocking_call = lambda: manager.create_scope("never")
        exit_at_once = False
    """,
    "asyncio_run_awaiting_a_write": """
        import asyncio
        writer = manager.create_writer("scope", "stream")

        async def write():
            await writer.write_event_async(b"never acknowledged")

        blocking_call = lambda: asyncio.run(write())
        exit_at_once = True
    """,
}

INTERRUPT_CHILD = """
    import os, time
    import pravega_client

    manager = pravega_client.StreamManager(os.environ["URI"], timeout=600)
{setup}
    print("ready", flush=True)
    started = time.monotonic()
    try:
        blocking_call()
        print("the call returned", flush=True)
    except KeyboardInterrupt:
        print(f"caught KeyboardInterrupt after {{time.monotonic() - started:.2f}} s",
              flush=True)
    if exit_at_once:
        os._exit(0)
"""


@pytest.mark.parametrize("case", list(INTERRUPT_PROGRAMS))
def test_ctrl_c_interrupts_a_blocking_call_promptly(
    black_hole: str, tmp_path: Any, case: str
) -> None:
    setup = textwrap.indent(textwrap.dedent(INTERRUPT_PROGRAMS[case]), "    ")
    child = Child(INTERRUPT_CHILD.format(setup=setup), tmp_path, URI=black_hole)
    assert child.line(60) == "ready"
    time.sleep(BLOCKED_FOR_S)

    child.process.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    report = child.line(INTERRUPT_DEADLINE_S)
    noticed_after = time.monotonic() - interrupted
    finished = child.finish()

    assert report.startswith("caught KeyboardInterrupt after "), (
        report,
        finished.stderr,
    )
    waited = float(report.split()[-2])
    assert waited >= BLOCKED_FOR_S / 2, "the call was not blocking when interrupted"
    assert noticed_after < INTERRUPT_DEADLINE_S
    assert_clean_exit(finished)
