"""Measuring this process's threads, descriptors and memory, and joining threads
against a deadline, for the leak, load and soak tests."""

from __future__ import annotations

import faulthandler
import gc
import os
import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, List, NamedTuple, Sequence

import pytest


class Resources(NamedTuple):
    """What this process holds: OS threads, open descriptors, resident KiB."""

    threads: int
    fds: int
    rss_kib: int

    def describe(self) -> str:
        return (
            f"threads={self.threads} fds={self.fds} rss={self.rss_kib / 1024:.1f} MiB"
        )


def process_resources() -> Resources:
    """Threads, open file descriptors, and resident memory in KiB, of this process."""
    threads = len(os.listdir("/proc/self/task"))
    descriptors = len(os.listdir("/proc/self/fd"))
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return Resources(threads, descriptors, rss)


def settled_resources(
    baseline: Resources, fd_allowance: int, seconds: float = 10
) -> Resources:
    """The resources once garbage is collected, and runtime threads that are shutting
    down and connections that are closing are gone (or ``seconds`` passed)."""

    def settled() -> bool:
        gc.collect()
        now = process_resources()
        return (
            now.threads <= baseline.threads and now.fds <= baseline.fds + fd_allowance
        )

    wait_for(settled, seconds)
    return process_resources()


def collected_resources() -> Resources:
    gc.collect()
    return process_resources()


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    """Polls ``condition`` until it holds or ``seconds`` pass; returns whether it
    held."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() >= deadline:
            return condition()
        time.sleep(0.05)
    return True


def report(label: str, before: Resources, after: Resources, elapsed: float) -> str:
    """One line with the numbers measured, printed for `pytest -s` and for the log."""
    line = (
        f"[{label}] {sys.implementation.name}: before {before.describe()}; "
        f"after {after.describe()}; growth threads={after.threads - before.threads} "
        f"fds={after.fds - before.fds} "
        f"rss={(after.rss_kib - before.rss_kib) / 1024:+.1f} MiB; {elapsed:.1f} s"
    )
    print(line, flush=True)
    return line


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Prints every thread's stack to stderr if the block still runs after ``seconds``.

    It runs on faulthandler's own C thread, so it fires even when every Python thread
    is stuck in native code. The test itself fails through the deadlines of its joins.
    """
    faulthandler.dump_traceback_later(seconds, exit=False)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def join_all(threads: Sequence[threading.Thread], deadline: float, what: str) -> None:
    """Joins ``threads`` by the ``time.monotonic()`` ``deadline``; fails the test naming
    the stuck ones, after printing every thread's stack, if any is still running."""
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck: List[str] = [thread.name for thread in threads if thread.is_alive()]
    if stuck:
        faulthandler.dump_traceback(all_threads=True)
        pytest.fail(f"{what} did not finish in time, still running: {stuck}")


class ThreadErrors:
    """Collects exceptions raised in worker threads so the test can re-raise them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.errors: List[BaseException] = []

    def run(self, target: Callable[[], None]) -> Callable[[], None]:
        def guarded() -> None:
            try:
                target()
            except BaseException as error:
                with self._lock:
                    self.errors.append(error)

        return guarded

    def check(self) -> None:
        if self.errors:
            raise self.errors[0]
