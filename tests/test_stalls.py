"""Readers and writers whose segment store goes silent: connections stay open but no
byte moves (TcpProxy.pause()), as with a hung server or a dead network path.

Every wait here is bounded by the test, never by a bare sleep: a client call that
hangs fails its test instead of holding up the run.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Iterator, List, Sequence, Tuple

import pytest
from proxied_server import ProxiedServer, proxied_server

import pravega_client
from conftest import new_reader, unique_name

# How long a stalled call is given before the test cancels it or times it out.
STALL = 1.5
# Generous bound on how long a cancelled or timed-out call may take to give control
# back; a healthy client takes milliseconds.
PROMPT = 5.0
# Generous bound on catching up once the proxy forwards again.
RECOVERY = 60.0


@pytest.fixture(scope="module")
def server() -> Iterator[ProxiedServer]:
    with proxied_server("stalls") as started:
        yield started


@pytest.fixture(autouse=True)
def forwarding_again(server: ProxiedServer) -> Iterator[None]:
    """The proxy forwards again after each test, whatever happened in it."""
    yield
    server.proxy.resume()


@pytest.fixture
def manager(server: ProxiedServer) -> Iterator[pravega_client.StreamManager]:
    with pravega_client.StreamManager(server.uri) as stream_manager:
        yield stream_manager


@pytest.fixture
def stream(manager: pravega_client.StreamManager) -> tuple:
    scope, name = unique_name("stalls"), unique_name("stream")
    assert manager.create_scope(scope)
    assert manager.create_stream(scope, name, 1)
    return scope, name


def payloads(prefix: str, count: int) -> List[bytes]:
    return [f"{prefix}-{index:04d}".encode() for index in range(count)]


def assert_exactly_once(read: List[bytes], expected: List[bytes]) -> None:
    """Every expected event read once, in write order (one segment, one key)."""
    duplicates = sorted(data for data, n in Counter(read).items() if n > 1)
    missing = sorted(set(expected) - set(read))
    assert not duplicates, f"read twice: {duplicates[:5]}"
    assert not missing, f"lost: {missing[:5]}"
    assert read == expected


def read_all(
    manager: pravega_client.StreamManager, scope: str, stream: str, count: int
) -> List[bytes]:
    """Everything in the stream, read by a new reader, expecting ``count`` events."""
    reader = new_reader(manager, scope, stream)
    try:
        return asyncio.run(read_until(reader, count))
    finally:
        reader.close()


def test_a_slice_request_to_a_silent_segment_store_can_be_cancelled_and_reading_resumes(
    manager: pravega_client.StreamManager, stream: tuple, server: ProxiedServer
) -> None:
    """The request keeps waiting while nothing is forwarded (it does not return an
    empty slice after ~1 s as it does when no data comes); wait_for cancels it at
    once, and once the segment store answers again the same reader reads on.

    All of it runs in one event loop: a cancelled request still runs natively, and
    its slice comes back to the reader through the loop that made it.
    """
    scope, name = stream
    first, second = payloads("first", 10), payloads("second", 10)
    writer = manager.create_writer(scope, name, max_inflight_events=100)
    writer.write_events(first)
    writer.flush()
    reader = new_reader(manager, scope, name)

    async def read_through_a_stall() -> Tuple[List[bytes], float]:
        read = await read_until(reader, len(first))
        server.proxy.pause()
        # The writer's appends wait in the stalled connection too.
        writer.write_events(second)
        began = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(reader.get_segment_slice_async(), STALL)
        waited = time.monotonic() - began
        server.proxy.resume()
        read += await read_until(reader, len(first) + len(second), read)
        return read, waited

    try:
        read, waited = asyncio.run(read_through_a_stall())
        writer.flush(timeout=RECOVERY)
    finally:
        reader.close()
        writer.close()
    print(f"\nwait_for(get_segment_slice_async(), {STALL}) ended after {waited:.2f} s")
    assert waited < STALL + PROMPT
    assert_exactly_once(read, first + second)


async def read_until(
    reader: pravega_client.StreamReader, count: int, before: Sequence[bytes] = ()
) -> List[bytes]:
    """Reads slices until ``count`` events came in all (counting ``before``), then
    one more, in which a duplicate would show."""
    read: List[bytes] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RECOVERY
    extra_done = False
    while loop.time() < deadline:
        segment_slice = await asyncio.wait_for(
            reader.get_segment_slice_async(), RECOVERY
        )
        events = [event.data() for event in segment_slice]
        reader.release_segment(segment_slice)
        read += events
        if len(before) + len(read) >= count:
            if extra_done:
                break
            extra_done = True
    return read


def test_flush_with_a_timeout_on_a_stalled_connection_raises_and_the_writer_recovers(
    manager: pravega_client.StreamManager, stream: tuple, server: ProxiedServer
) -> None:
    scope, name = stream
    first, second = payloads("before", 5), payloads("during", 50)
    with manager.create_writer(scope, name, max_inflight_events=1000) as writer:
        writer.write_events(first)
        writer.flush()

        server.proxy.pause()
        for event in second:
            writer.write_event_bytes(event)
        began = time.monotonic()
        with pytest.raises(pravega_client.PravegaTimeoutError) as raised:
            writer.flush(timeout=STALL)
        waited = time.monotonic() - began
        print(f"\nflush(timeout={STALL}) raised after {waited:.2f} s: {raised.value}")
        assert isinstance(raised.value, TimeoutError)
        assert waited < STALL + PROMPT

        server.proxy.resume()
        writer.flush(timeout=RECOVERY)
    assert_exactly_once(read_all(manager, scope, name, 55), first + second)


def test_flush_async_under_wait_for_can_time_out_and_the_writer_recovers(
    manager: pravega_client.StreamManager, stream: tuple, server: ProxiedServer
) -> None:
    scope, name = stream
    first, second = payloads("before", 5), payloads("during", 50)

    async def write() -> float:
        with manager.create_writer(scope, name, max_inflight_events=1000) as writer:
            writer.write_events(first)
            await writer.flush_async()

            server.proxy.pause()
            for event in second:
                writer.write_event_bytes(event)
            began = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(writer.flush_async(), STALL)
            waited = time.monotonic() - began

            server.proxy.resume()
            await asyncio.wait_for(writer.flush_async(), RECOVERY)
        return waited

    waited = asyncio.run(write())
    print(f"\nwait_for(flush_async(), {STALL}) timed out after {waited:.2f} s")
    assert waited < STALL + PROMPT
    assert_exactly_once(read_all(manager, scope, name, 55), first + second)


def test_close_with_a_timeout_during_a_stall_returns_and_the_events_still_arrive(
    manager: pravega_client.StreamManager, stream: tuple, server: ProxiedServer
) -> None:
    scope, name = stream
    first, second = payloads("before", 5), payloads("during", 50)
    writer = manager.create_writer(scope, name, max_inflight_events=1000)
    writer.write_events(first)
    writer.flush()

    server.proxy.pause()
    for event in second:
        writer.write_event_bytes(event)
    began = time.monotonic()
    with pytest.raises(pravega_client.PravegaTimeoutError):
        writer.close(timeout=STALL)
    waited = time.monotonic() - began
    print(f"\nclose(timeout={STALL}) raised after {waited:.2f} s")
    assert waited < STALL + PROMPT
    assert writer.closed

    # The released writer delivers what it held in the background.
    server.proxy.resume()
    assert_exactly_once(read_all(manager, scope, name, 55), first + second)


def test_a_write_waiting_for_its_acknowledgement_during_a_stall_completes_after_it(
    manager: pravega_client.StreamManager, stream: tuple, server: ProxiedServer
) -> None:
    """With max_inflight_events=0 a write waits for its acknowledgement, without a
    time limit: it returns once the segment store answers again."""
    scope, name = stream
    first = payloads("before", 5)
    with manager.create_writer(scope, name) as writer:
        writer.write_events(first)
        writer.flush()

        server.proxy.pause()
        done = threading.Event()
        failure: List[BaseException] = []

        def write() -> None:
            try:
                writer.write_event_bytes(b"during")
            except BaseException as error:  # reported by the test's thread
                failure.append(error)
            done.set()

        writing = threading.Thread(target=write, daemon=True)
        writing.start()
        assert not done.wait(STALL), "the write returned while nothing was forwarded"

        server.proxy.resume()
        assert done.wait(RECOVERY), "the write did not return after the stall ended"
        assert not failure, failure
    assert_exactly_once(read_all(manager, scope, name, 6), first + [b"during"])


def test_a_write_that_finds_the_queue_full_during_a_stall_fails_after_the_timeout(
    server: ProxiedServer, stream: tuple
) -> None:
    """A write waits for room in the writer's 16 MiB queue for at most the manager's
    timeout, then raises PravegaTimeoutError without writing its event; the events
    written before it still arrive, once each, when the stall ends."""
    scope, name = stream
    room_timeout = 3.0
    size = 1024 * 1024
    written: List[bytes] = []
    with pravega_client.StreamManager(server.uri, timeout=room_timeout) as manager:
        writer = manager.create_writer(scope, name, max_inflight_events=100_000)
        try:
            server.proxy.pause()
            # Far more than the queue and every socket buffer on the way can hold.
            for index in range(96):
                event = f"big-{index:03d}:".encode().ljust(size, b".")
                began = time.monotonic()
                try:
                    writer.write_event_bytes(event)
                except pravega_client.PravegaTimeoutError as error:
                    waited = time.monotonic() - began
                    print(
                        f"\nwrite {index} ({len(written)} MiB queued) raised after "
                        f"{waited:.2f} s: {error}"
                    )
                    break
                written.append(event)
            else:
                pytest.fail("96 MiB were written into a stalled connection")
            assert waited < room_timeout + PROMPT

            server.proxy.resume()
            writer.flush(timeout=RECOVERY)
        finally:
            server.proxy.resume()
            writer.close()
        read = read_all(manager, scope, name, len(written))
    assert [event[:8] for event in read] == [event[:8] for event in written]
    assert read == written
