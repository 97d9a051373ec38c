"""Soak: long runs of writes, reads and create/close cycles leave the process's
threads, file descriptors and memory where they started.

Two scales. `make test` runs the small one; `make soak` sets PRAVEGA_SOAK=full for the
large one. Each test prints its before/after numbers (see them with `pytest -s`).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import List

import pytest

import pravega_client
from conftest import unique_name
from resource_support import (
    Resources,
    collected_resources,
    report,
    settled_resources,
    watchdog,
)

FULL = os.environ.get("PRAVEGA_SOAK", "small") == "full"
if os.environ.get("PRAVEGA_SOAK", "small") not in ("small", "full"):
    raise ValueError("PRAVEGA_SOAK must be 'small' or 'full'")

EVENTS = 1_000_000 if FULL else 100_000
# A reader cycle (a group, a reader, offline, delete) and a transaction cycle (begin,
# write, commit) cost several controller round trips each, about 50 ms, so the full
# scale takes about 20 minutes per interpreter; the small one keeps `make test` quick.
CYCLES = {
    "managers": 10_000 if FULL else 500,
    "writers": 10_000 if FULL else 500,
    "readers": 10_000 if FULL else 100,
    "transactions": 10_000 if FULL else 100,
}
# Events are written and read in rounds of this many, so that a leak per event shows
# as growth over many rounds rather than as one round's working set.
ROUND = 10_000
WARM_UP_ROUNDS = 2
WARM_UP_CYCLES = 20

# Bounds, measured after a warm-up (allocator pools, lazily made objects, the
# interrupt helper thread and the log pump exist by then):
# - RSS: the working set of one round (10,000 events of ~100 bytes as Python objects,
#   plus the crate's buffers) is a few MiB, and allocators keep freed pages, so a
#   round's worth of slack is allowed, with margin for allocator fragmentation. A leak
#   of even 16 bytes per event (or 2 KiB per cycle) at full scale exceeds it.
RSS_GROWTH_LIMIT_KIB = 32 * 1024
# - Threads: every runtime a closed manager started is shut down, so the count comes
#   back exactly to the baseline.
THREAD_ALLOWANCE = 0
# - Descriptors: every socket and eventfd is closed with its owner; two are allowed
#   for a connection the server has not yet finished closing.
FD_ALLOWANCE = 2
# - Reader cycles leave idle connections in the manager's pool, which keeps at most 16
#   per segment store (IDLE_CONNECTIONS_PER_ENDPOINT in rust_ffi/src/config.rs).
POOLED_CONNECTIONS = 16
# Reader cycles end the fetch tasks of closed readers this often (see release()), so
# that they cannot exhaust the process's descriptors.
RELEASE_EVERY = 100
PAYLOAD_PAD = b"p" * 80


def assert_within_bounds(
    before: Resources, after: Resources, fd_allowance: int = FD_ALLOWANCE
) -> None:
    assert after.threads <= before.threads + THREAD_ALLOWANCE, "threads leaked"
    assert after.fds <= before.fds + fd_allowance, "file descriptors leaked"
    assert after.rss_kib - before.rss_kib <= RSS_GROWTH_LIMIT_KIB, (
        f"RSS grew by {(after.rss_kib - before.rss_kib) / 1024:.1f} MiB"
    )


def test_soak_writes_and_reads_keep_memory_threads_and_fds_flat(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream, max_inflight_events=1000)
    group = manager.create_reader_group(unique_name("group"), scope, stream)
    reader = group.create_reader("reader")
    loop = asyncio.new_event_loop()
    written = [0]
    read_count = [0]

    def one_round() -> None:
        first = written[0]
        for index in range(first, first + ROUND):
            writer.write_event_bytes(b"%09d:" % index + PAYLOAD_PAD)
        writer.flush()
        written[0] += ROUND
        events: List[pravega_client.Event] = []
        deadline = time.monotonic() + 60
        while len(events) < ROUND and time.monotonic() < deadline:
            events.extend(
                loop.run_until_complete(reader.read(ROUND - len(events), timeout=1.0))
            )
        # One segment, so the events come back exactly in the order written.
        assert len(events) == ROUND, f"round at {first}: {len(events)} read"
        for offset, event in enumerate(events):
            assert event.data()[:9] == b"%09d" % (first + offset)
        read_count[0] += len(events)

    try:
        with watchdog(1800 if FULL else 300):
            for _ in range(WARM_UP_ROUNDS):
                one_round()
            before = collected_resources()
            started = time.monotonic()
            for _ in range(EVENTS // ROUND):
                one_round()
            after = settled_resources(before, FD_ALLOWANCE)
            elapsed = time.monotonic() - started
    finally:
        writer.close()
        reader.close()
        loop.close()

    report(f"soak events {EVENTS:,} written and read", before, after, elapsed)
    assert written[0] - WARM_UP_ROUNDS * ROUND == EVENTS
    assert read_count[0] == written[0]
    assert_within_bounds(before, after)


def manager_cycle(controller_uri: str, scope: str, stream: str, index: int) -> None:
    with pravega_client.StreamManager(controller_uri) as manager:
        manager.list_stream(scope)


def writer_cycle(
    manager: pravega_client.StreamManager, scope: str, stream: str, index: int
) -> None:
    writer = manager.create_writer(scope, stream)
    writer.write_event_bytes(b"cycle %d" % index)
    writer.close()


def release(manager: pravega_client.StreamManager, scope: str, stream: str) -> None:
    """Ends the fetch tasks of readers closed earlier.

    FIXME: the crate's fetch task of a reader checks for its stop signal only between
    reads of its segment, and a read at the tail waits until new data arrives. Each
    reader closed while its segment is idle keeps one segment-store connection open
    until then. It bites a process that opens and closes many readers on idle
    streams: its descriptors grow by one per closed reader.
    """
    with manager.create_writer(scope, stream) as writer:
        writer.write_event_bytes(b"wakes the fetch tasks of closed readers")


def reader_cycle(
    manager: pravega_client.StreamManager, scope: str, stream: str, index: int
) -> None:
    name = unique_name("group")
    group = manager.create_reader_group(name, scope, stream)
    reader = group.create_reader("reader")
    reader.close()
    group.close()
    manager.delete_reader_group(name, scope)


def transaction_cycle(
    manager: pravega_client.StreamManager, scope: str, stream: str, index: int
) -> None:
    txn_writer = manager.create_transaction_writer(scope, stream, index)
    txn = txn_writer.begin_txn()
    txn.write_event_bytes(b"txn %d" % index)
    txn.commit()
    txn.close()
    txn_writer.close()


CYCLE_KINDS = {
    "managers": manager_cycle,
    "writers": writer_cycle,
    "readers": reader_cycle,
    "transactions": transaction_cycle,
}


@pytest.mark.parametrize("kind", list(CYCLE_KINDS))
def test_soak_create_close_cycles_keep_memory_threads_and_fds_flat(
    controller_uri: str, manager: pravega_client.StreamManager, scope: str, kind: str
) -> None:
    stream = unique_name("stream")
    manager.create_stream(scope, stream, 1)
    target = controller_uri if kind == "managers" else manager
    cycle = CYCLE_KINDS[kind]
    cycles = CYCLES[kind]
    fd_allowance = FD_ALLOWANCE + (POOLED_CONNECTIONS if kind == "readers" else 0)

    with watchdog(3600 if FULL else 300):
        for index in range(WARM_UP_CYCLES):
            cycle(target, scope, stream, index)
        release(manager, scope, stream)
        before = collected_resources()
        started = time.monotonic()
        for index in range(WARM_UP_CYCLES, WARM_UP_CYCLES + cycles):
            cycle(target, scope, stream, index)
            if kind == "readers" and index % RELEASE_EVERY == 0:
                release(manager, scope, stream)
        release(manager, scope, stream)
        after = settled_resources(before, fd_allowance)
        elapsed = time.monotonic() - started

    report(f"soak {cycles:,} {kind} made, used and closed", before, after, elapsed)
    assert_within_bounds(before, after, fd_allowance)


@pytest.fixture(autouse=True)
def _announce_scale(request: pytest.FixtureRequest) -> None:
    print(f"\n[{request.node.name}] PRAVEGA_SOAK={'full' if FULL else 'small'}")
