"""The native library's log records in Python's logging."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

import pravega_client
from pravega_client import _logging
from pravega_client._ffi import lib

NATIVE = "pravega_client.native"
# A controller nobody listens on: the call fails fast, and the Rust controller client
# logs a warning for each failed attempt.
UNREACHABLE = "tcp://127.0.0.1:1"


def fail_against_unreachable_controller() -> None:
    manager = pravega_client.StreamManager(
        UNREACHABLE, retry=pravega_client.RetryPolicy(max_attempts=2), timeout=10
    )
    with manager, pytest.raises(pravega_client.PravegaConnectionError):
        manager.create_scope("never")


def wait_for(records: Callable[[], List[logging.LogRecord]]) -> List[logging.LogRecord]:
    """Waits until ``records()`` finds something: the pump delivers asynchronously."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = records()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("no matching native log record arrived within 10 s")


@pytest.fixture
def native_level() -> Iterator[Callable[[int], None]]:
    """Sets the native logger's level for one test, and restores it."""
    logger = logging.getLogger(NATIVE)
    before = logger.level

    def set_level(level: int) -> None:
        logger.setLevel(level)
        _logging.sync_level()

    yield set_level
    set_level(before)


def test_native_warnings_arrive_under_the_native_logger_tree(
    caplog: pytest.LogCaptureFixture, native_level: Callable[[int], None]
) -> None:
    native_level(logging.WARNING)
    caplog.set_level(logging.WARNING, logger=NATIVE)

    fail_against_unreachable_controller()

    def from_controller_client() -> List[logging.LogRecord]:
        prefix = f"{NATIVE}.pravega_controller_client"
        return [r for r in caplog.records if r.name.startswith(prefix)]

    records = wait_for(from_controller_client)
    assert all(record.levelno == logging.WARNING for record in records)
    assert "CreateScope" in records[0].getMessage()
    # Delivered by the pump, in batches, never from a Rust thread.
    assert {record.threadName for record in records} == {"pravega-client-log"}


def test_debug_records_come_only_when_python_asks_for_them(
    caplog: pytest.LogCaptureFixture, native_level: Callable[[int], None]
) -> None:
    caplog.set_level(logging.DEBUG, logger=NATIVE)
    native_level(logging.WARNING)
    fail_against_unreachable_controller()
    wait_for(lambda: [r for r in caplog.records if r.levelno == logging.WARNING])
    assert not [r for r in caplog.records if r.levelno < logging.WARNING]

    caplog.clear()
    native_level(logging.DEBUG)
    fail_against_unreachable_controller()
    debug = wait_for(lambda: [r for r in caplog.records if r.levelno == logging.DEBUG])
    assert all(record.name.startswith(f"{NATIVE}.") for record in debug)


def test_native_level_follows_the_python_level(
    native_level: Callable[[int], None],
) -> None:
    table = [
        (logging.DEBUG, lib.PRAVEGA_LOG_LEVEL_DEBUG),
        (logging.INFO, lib.PRAVEGA_LOG_LEVEL_INFO),
        (logging.WARNING, lib.PRAVEGA_LOG_LEVEL_WARN),
        (logging.ERROR, lib.PRAVEGA_LOG_LEVEL_ERROR),
        (logging.CRITICAL + 1, lib.PRAVEGA_LOG_LEVEL_OFF),
        (5, lib.PRAVEGA_LOG_LEVEL_TRACE),
    ]
    for python_level, native in table:
        native_level(python_level)
        assert lib.pravega_log_level() == native, logging.getLevelName(python_level)


def test_a_level_set_without_sync_is_picked_up_by_the_pump(
    native_level: Callable[[int], None],
) -> None:
    native_level(logging.WARNING)
    logging.getLogger(NATIVE).setLevel(logging.INFO)

    deadline = time.monotonic() + 10
    while lib.pravega_log_level() != lib.PRAVEGA_LOG_LEVEL_INFO:
        assert time.monotonic() < deadline, "the pump did not follow the new level"
        time.sleep(0.05)


def test_nothing_is_printed_by_default(tmp_path: Path) -> None:
    # A fresh interpreter with logging left unconfigured: the native warnings of a
    # failing call, and our own warning about disabled certificate checks, must not
    # reach stdout or stderr.
    script = tmp_path / "quiet.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import logging
            import threading
            import pravega_client

            # Counts what reaches the native logger tree without printing it, so that
            # the script ends once the failure's records were delivered.
            delivered = threading.Event()

            class Seen(logging.Handler):
                def emit(self, record):
                    if record.levelno >= logging.WARNING:
                        delivered.set()

            logging.getLogger("pravega_client.native").addHandler(Seen())
            manager = pravega_client.StreamManager(
                {UNREACHABLE!r},
                retry=pravega_client.RetryPolicy(max_attempts=2),
                timeout=10,
            )
            try:
                manager.create_scope("never")
            except pravega_client.PravegaConnectionError:
                pass
            pravega_client.StreamManager(
                "tls://localhost:1", disable_cert_verification=True
            ).close()
            assert delivered.wait(30), "no native warning was delivered"
            """
        )
    )
    finished = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == ""
    assert finished.stderr == ""
