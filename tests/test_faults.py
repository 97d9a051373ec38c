"""Exactly-once writes while the connections to the segment store are cut.

The module starts its own standalone server whose segment store is reached through a
TCP proxy (tests/proxied_server.py), which can drop every connection at once.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter, defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest
from proxied_server import ProxiedServer, proxied_server
from tcp_proxy import ProxyError, TcpProxy

import pravega_client
from conftest import unique_name

EVENTS = 100_000
KEYS = [f"key-{number:02d}" for number in range(16)]
SEGMENTS = 4
MAX_INFLIGHT = 2_000
# An event counts as acknowledged only once a flush after it returned cleanly, so
# flushes come often enough that a failure puts few events in doubt.
FLUSH_EVERY = 5_000
PADDING = b"." * 16

MIN_CUTS = 20
# The cutter waits a random time in this range (seconds) before each cut: on average
# several times more cuts than MIN_CUTS land in a write of a few seconds.
CUT_GAP = (0.02, 0.2)
# A safety net for a fast writer or an unlucky cutter: the writer goes on to its next
# block of events only once the cutter has cut this share of TARGET_CUTS, so that at
# least MIN_CUTS land while it runs. Normally the cutter is ahead and nobody waits.
TARGET_CUTS = MIN_CUTS + 2
BLOCK = 2_000
# How long the writer waits for the cutter before it writes on regardless; the cut
# count assertion then reports the shortfall.
CUT_WAIT = 10.0
# A writer whose calls failed this many times without a clean flush in between is
# taken as failed for good.
GIVE_UP_AFTER = 3

# Bounds on each phase, so that a client that hangs fails the test instead of
# holding up the run. Both are far above what a healthy run needs.
WRITE_DEADLINE = 75.0
READ_DEADLINE = 60.0


@pytest.fixture(scope="module")
def server() -> Iterator[ProxiedServer]:
    # A few MB are written; a small heap leaves room for the suite's main server.
    with proxied_server("faults", heap="1g", cache_bytes=256 * 1024 * 1024) as started:
        yield started


class Cutter:
    """Cuts every proxied connection at random moments, from its own thread."""

    def __init__(self, proxy: TcpProxy) -> None:
        self._proxy = proxy
        self._random = random.Random()
        self._stopped = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="cutter", daemon=True)
        self.cuts = 0  # cuts that dropped at least one live connection
        self.error: Optional[BaseException] = None

    def __enter__(self) -> "Cutter":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._thread.join()

    def wait_for(self, cuts: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.cuts >= cuts, timeout)

    def _run(self) -> None:
        # The random gaps make cuts land anywhere: mid-append, mid-reconnect, while
        # a flush waits.
        while not self._stopped.wait(self._random.uniform(*CUT_GAP)):
            try:
                dropped = self._proxy.cut_all()
            except ProxyError as error:
                self.error = error
                return
            if dropped:
                with self._changed:
                    self.cuts += 1
                    self._changed.notify_all()


EventId = Tuple[str, int]


@dataclass
class WriteLog:
    """What the writing thread did, for the checks after it."""

    acknowledged: Set[EventId] = field(default_factory=set)
    # Events whose write, or a later call before the next clean flush, raised: each
    # may or may not be in the stream, but never twice.
    in_doubt: Set[EventId] = field(default_factory=set)
    written: int = 0
    failures: List[str] = field(default_factory=list)
    writers: int = 0
    waits_for_cutter: int = 0
    done: bool = False
    crash: Optional[BaseException] = None


def payload(key: str, sequence: int) -> bytes:
    return f"{key}:{sequence:07d}:".encode() + PADDING


def parse(data: bytes) -> EventId:
    key, sequence, _ = data.split(b":", 2)
    return key.decode(), int(sequence)


def write_through_cuts(
    manager: pravega_client.StreamManager,
    scope: str,
    stream: str,
    cutter: Cutter,
    log: WriteLog,
) -> None:
    """Writes EVENTS keyed events, recording which were acknowledged and which are in
    doubt.

    Events are not retried: a write that raised may have reached the stream, and
    writing it again could duplicate it. A writer whose calls fail GIVE_UP_AFTER
    times with no clean flush between them, or that is closed, counts as failed for
    good: it is closed and a new writer goes on with the next sequence numbers, so
    that per-key order still holds across writers.
    """
    rng = random.Random(7)
    next_sequence: Dict[str, int] = {key: 0 for key in KEYS}
    # Written since the last clean flush, in write order.
    unconfirmed: List[EventId] = []
    failures_in_a_row = 0

    def new_writer() -> pravega_client.StreamWriter:
        log.writers += 1
        return manager.create_writer(scope, stream, max_inflight_events=MAX_INFLIGHT)

    def failed(error: pravega_client.PravegaError) -> None:
        nonlocal writer, failures_in_a_row
        log.failures.append(f"event {log.written}: {error!r}")
        log.in_doubt.update(unconfirmed)
        unconfirmed.clear()
        failures_in_a_row += 1
        if failures_in_a_row < GIVE_UP_AFTER and not isinstance(
            error, pravega_client.ClosedError
        ):
            return
        # The old writer is flushed and released first, so that nothing of it is
        # still in flight when the new one writes later sequence numbers.
        try:
            writer.close()
        except pravega_client.PravegaError as close_error:
            log.failures.append(f"closing a failed writer: {close_error!r}")
        writer = new_writer()
        failures_in_a_row = 0

    def flush() -> None:
        nonlocal failures_in_a_row
        try:
            writer.flush()
        except pravega_client.PravegaError as error:
            failed(error)
            return
        log.acknowledged.update(unconfirmed)
        unconfirmed.clear()
        failures_in_a_row = 0

    writer = new_writer()
    try:
        for index in range(EVENTS):
            if index % BLOCK == 0:
                needed = TARGET_CUTS * index // EVENTS
                if cutter.cuts < needed:
                    log.waits_for_cutter += 1
                    cutter.wait_for(needed, CUT_WAIT)
            key = rng.choice(KEYS)
            sequence = next_sequence[key]
            next_sequence[key] = sequence + 1
            unconfirmed.append((key, sequence))
            log.written += 1
            try:
                writer.write_event_bytes(payload(key, sequence), routing_key=key)
            except pravega_client.PravegaError as error:
                failed(error)
            if (index + 1) % FLUSH_EVERY == 0:
                flush()
        # Confirms the last events, or puts them in doubt if it raises.
        flush()
        writer.close()
        log.done = True
    except BaseException as error:  # reported by the test's thread
        log.crash = error


async def read_all(
    reader: pravega_client.StreamReader, expected_at_least: int
) -> List[bytes]:
    """Reads until a read finds nothing after ``expected_at_least`` events came."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READ_DEADLINE
    payloads: List[bytes] = []
    while loop.time() < deadline:
        events = await reader.read(max_events=5_000, timeout=1.0)
        payloads.extend(event.data() for event in events)
        # An empty read means about a second passed without data. Every write was
        # answered before reading began, so then the stream holds nothing more.
        if not events and len(payloads) >= expected_at_least:
            break
    return payloads


def out_of_key_order(payloads: List[bytes]) -> List[Tuple[str, int, int]]:
    """(key, previous, next) wherever a key's sequence number did not go up."""
    found = []
    last_sequence: Dict[str, int] = defaultdict(lambda: -1)
    for key, sequence in map(parse, payloads):
        if sequence <= last_sequence[key]:
            found.append((key, last_sequence[key], sequence))
        last_sequence[key] = sequence
    return found


def test_100k_keyed_writes_survive_connection_cuts_exactly_once(
    server: ProxiedServer,
) -> None:
    proxy = server.proxy
    log = WriteLog()
    with pravega_client.StreamManager(server.uri) as manager:
        scope, stream = unique_name("faults"), unique_name("stream")
        assert manager.create_scope(scope)
        assert manager.create_stream(scope, stream, SEGMENTS)

        started = time.monotonic()
        with Cutter(proxy) as cutter:
            writing = threading.Thread(
                target=write_through_cuts,
                args=(manager, scope, stream, cutter, log),
                name="writer",
                daemon=True,  # a writer stuck in the client must not keep pytest up
            )
            writing.start()
            writing.join(WRITE_DEADLINE)
            cuts = cutter.cuts
        write_seconds = time.monotonic() - started

        assert cutter.error is None, f"the proxy failed: {cutter.error!r}"
        assert not writing.is_alive(), (
            f"the writer hung: after {WRITE_DEADLINE:.0f} s it had written "
            f"{log.written} of {EVENTS} events, {len(log.acknowledged)} acknowledged, "
            f"{cuts} cuts, {proxy.live_connections()} live proxied connections, "
            f"failures: {log.failures[-5:]}"
        )
        if log.crash is not None:
            raise log.crash
        assert log.done

        group = manager.create_reader_group(unique_name("group"), scope, stream)
        with closing(group.create_reader("reader")) as reader:
            payloads = asyncio.run(read_all(reader, len(log.acknowledged)))

    read_back = Counter(parse(data) for data in payloads)
    duplicates = sorted(event for event, times in read_back.items() if times > 1)
    missing = sorted(log.acknowledged - read_back.keys())
    never_written = sorted(read_back.keys() - log.acknowledged - log.in_doubt)
    out_of_order = out_of_key_order(payloads)
    print(
        f"\nconnection cuts: {cuts} rounds during the write "
        f"({proxy.connections_cut} connections in all, {proxy.accepted} accepted); "
        f"events written: {log.written}; acknowledged: {len(log.acknowledged)}; "
        f"in doubt: {len(log.in_doubt)}; read back: {len(payloads)} "
        f"({len(read_back)} distinct); duplicates: {len(duplicates)}; "
        f"writers: {log.writers}; failed calls: {len(log.failures)}; "
        f"waits for the cutter: {log.waits_for_cutter}; "
        f"write phase {write_seconds:.1f} s",
        flush=True,
    )
    for failure in log.failures[:10]:
        print(f"  {failure}", flush=True)

    assert cuts >= MIN_CUTS, f"only {cuts} cuts landed during the write"
    assert not duplicates, f"{len(duplicates)} events read twice: {duplicates[:5]}"
    assert not missing, f"{len(missing)} acknowledged events missing: {missing[:5]}"
    assert not never_written, f"events never written were read: {never_written[:5]}"
    assert not out_of_order, (
        f"{len(out_of_order)} events out of key order (key, previous, next): "
        f"{out_of_order[:5]}"
    )
