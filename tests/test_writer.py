"""StreamWriter: blocking, pipelined, batched and asyncio writes, read back for real."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict

import pytest

import pravega_client
from conftest import new_reader, read_events, unique_name


def by_key(events: list) -> dict:
    """Payloads grouped by the key prefix before ':', in the order they were read."""
    grouped: dict = defaultdict(list)
    for event in events:
        payload = event.data()
        grouped[payload.split(b":")[0]].append(payload)
    return grouped


def test_100k_events_in_flight_read_back_exactly_in_key_order(
    manager: pravega_client.StreamManager, scope: str
) -> None:
    stream = unique_name("stream")
    manager.create_stream(scope, stream, 3)
    writer = manager.create_writer(scope, stream, max_inflight_events=1000)
    keys = [f"key{k}" for k in range(10)]
    expected = {key.encode(): [] for key in keys}
    for i in range(10_000):
        for key in keys:
            payload = f"{key}:{i:06d}:".encode() + b"x" * 80
            expected[key.encode()].append(payload)
            writer.write_event_bytes(payload, routing_key=key)
    writer.flush()

    events = read_events(new_reader(manager, scope, stream), 100_000)

    assert len(events) == 100_000
    assert by_key(events) == expected


def test_10k_async_writes_all_complete(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream)

    async def write_all() -> list:
        futures = [writer.write_event_async(f"e:{i}") for i in range(10_000)]
        return await asyncio.gather(*futures)

    assert asyncio.run(write_all()) == [None] * 10_000
    events = read_events(new_reader(manager, scope, stream), 10_000)
    assert [e.data() for e in events] == [f"e:{i}".encode() for i in range(10_000)]


def test_async_writes_accept_str_bytes_bytearray_and_memoryview(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream)
    payloads = ["text", b"bytes", bytearray(b"bytearray"), memoryview(b"memoryview")]

    async def write_all() -> None:
        await asyncio.gather(*(writer.write_event_async(p, "k") for p in payloads))

    asyncio.run(write_all())
    events = read_events(new_reader(manager, scope, stream), 4)
    assert [e.data() for e in events] == [
        b"text",
        b"bytes",
        b"bytearray",
        b"memoryview",
    ]


def test_batch_write_keeps_order(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream)

    writer.write_events([f"b:{i}" for i in range(500)], routing_key="batch")

    events = read_events(new_reader(manager, scope, stream), 500)
    assert [e.data() for e in events] == [f"b:{i}".encode() for i in range(500)]


def test_flush_async_waits_for_earlier_writes(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream, max_inflight_events=10_000)

    async def write_then_flush() -> None:
        for i in range(2000):
            writer.write_event(f"f:{i}")
        await writer.flush_async()

    asyncio.run(write_then_flush())
    assert len(read_events(new_reader(manager, scope, stream), 2000)) == 2000


def test_blocking_write_with_no_in_flight_limit_is_acknowledged_on_return(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream)  # max_inflight_events=0

    writer.write_event("acked")

    from pravega_client._ffi import lib

    assert lib.pravega_writer_outstanding(writer._ptr) == 0


def test_flush_releases_the_gil(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream, max_inflight_events=1_000_000)
    ticks: list = []
    stop = threading.Event()

    def tick() -> None:
        # Paced by the wait: a thread that spins on the GIL starves the writing thread
        # on PyPy, which hands the GIL over slowly, and its ticks once filled 18 GB.
        while not stop.wait(0.0005):
            ticks.append(time.monotonic())

    payload = b"g" * 4096
    flushes = []
    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        # A flush that finds every event acknowledged already returns at once and
        # proves nothing, so try a few bursts until one flush had work to wait for.
        for _ in range(5):
            for _ in range(8_000):  # 32 MB
                writer.write_event_bytes(payload)
            started = time.monotonic()
            writer.flush()
            flushes.append((started, time.monotonic()))
            if any(started < t < flushes[-1][1] for t in ticks):
                break
    finally:
        stop.set()
        ticker.join()

    ran_during = [
        (started, finished)
        for started, finished in flushes
        if any(started < t < finished for t in ticks)
    ]
    assert ran_during, f"no other thread ran during the flushes {flushes}"


@pytest.mark.parametrize(
    "event, key, message",
    [
        (123, None, "event must be str"),
        ("ok", 5, "routing_key must be str"),
        ("", None, "empty"),
    ],
)
def test_bad_write_raises_and_leaves_the_writer_usable(
    manager: pravega_client.StreamManager, scope: str, stream: str, event, key, message
) -> None:
    writer = manager.create_writer(scope, stream)

    with pytest.raises(pravega_client.InvalidArgumentError, match=message):
        writer.write_event(event, routing_key=key)
    writer.write_event("still usable")
    writer.flush()


def test_bad_bytes_write_raises_and_leaves_the_writer_usable(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream)

    with pytest.raises(pravega_client.InvalidArgumentError, match="bytes-like"):
        writer.write_event_bytes("text is not bytes")
    with pytest.raises(pravega_client.InvalidArgumentError, match="8388608-byte limit"):
        writer.write_event_bytes(b"x" * (8 * 1024 * 1024 + 1))
    with pytest.raises(pravega_client.InvalidArgumentError, match="empty"):
        writer.write_events([b"fine", b""])
    writer.write_event_bytes(b"x" * (8 * 1024 * 1024))  # exactly the limit is fine
    writer.flush()


def test_write_after_close_raises_and_second_close_is_harmless(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream)
    writer.write_event("before close")
    writer.close()
    writer.close()

    with pytest.raises(pravega_client.ClosedError):
        writer.write_event("after close")
    with pytest.raises(pravega_client.ClosedError):
        asyncio.run(_write_async(writer))


async def _write_async(writer: pravega_client.StreamWriter) -> None:
    await writer.write_event_async("after close")


def test_failure_after_the_call_returned_is_raised_by_flush(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream, max_inflight_events=100)
    writer.write_event("accepted")
    writer.flush()
    manager.seal_stream(scope, stream)

    with pytest.raises(pravega_client.PravegaError):
        for _ in range(20):  # the writer notices the seal on a later append
            writer.write_event("after seal")
        writer.flush()


def test_a_write_to_a_missing_stream_says_that_it_does_not_exist(
    manager: pravega_client.StreamManager, scope: str, caplog: pytest.LogCaptureFixture
) -> None:
    stream = unique_name("missing")
    writer = manager.create_writer(scope, stream)

    with pytest.raises(
        pravega_client.PravegaIOError, match=f"stream {scope}/{stream} does not exist"
    ):
        writer.write_event("x")

    # The crate's panic behind it is explained by the error, so it is no ERROR record.
    pravega_client._logging.flush()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    writer.close()
    manager.create_stream(scope, stream, 1)
    with manager.create_writer(scope, stream) as fresh:
        fresh.write_event("once the stream exists")


def test_each_write_failure_is_reported_once_and_the_bridge_survives(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    # A stream that does not exist makes every write fail. The first event has no
    # future, so its failure is kept for the next call; later async writes get theirs
    # through their futures. A failure is never reported twice, and an async write
    # refused by its call leaves nothing behind for the event loop to choke on.
    missing = unique_name("missing")
    doomed = manager.create_writer(scope, missing, max_inflight_events=10)
    healthy = manager.create_writer(scope, stream)
    loop_errors: list = []

    async def scenario() -> int:
        asyncio.get_running_loop().set_exception_handler(
            lambda _loop, context: loop_errors.append(context)
        )
        try:
            doomed.write_event("kept failure")
            reported_by_call = False
        except pravega_client.PravegaIOError:
            # The server can refuse the event before the call returns; it is then
            # reported by this call and must not come back through a later one.
            reported_by_call = True
        through_futures = 0
        for _ in range(50):
            try:
                future = doomed.write_event_async("fails")
            except pravega_client.PravegaIOError:
                assert not reported_by_call, "a failure was reported twice"
                break  # the kept failure of the first event, reported by the call
            with pytest.raises(pravega_client.PravegaIOError):
                await future
            through_futures += 1
            if reported_by_call and through_futures == 3:
                break
        else:
            pytest.fail("the first event's failure was never reported")
        # Completions arrive in order, so once this resolves any stray completion of the
        # refused write would have reached the loop already.
        await healthy.flush_async()
        await healthy.write_event_async("still works")
        return through_futures

    asyncio.run(scenario())

    assert loop_errors == []
    doomed.flush()  # every failure was reported already: nothing is left to raise
    healthy.close()


async def _flush_until_it_raises(writer: pravega_client.StreamWriter) -> None:
    """Flushes until one flush raises, failing the test if none has within 30 s."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            await writer.flush_async()
        except pravega_client.PravegaIOError:
            return
    pytest.fail("the failure of the cancelled future was never reported")


def test_failure_of_a_cancelled_write_future_is_raised_by_a_later_call(
    manager: pravega_client.StreamManager, scope: str
) -> None:
    # A stream that does not exist makes every write fail. The future that should have
    # carried the failure is cancelled at once, so the failure arrives with nowhere to
    # go; a later flush must raise it, and only one.
    doomed = manager.create_writer(scope, unique_name("missing"))

    async def scenario() -> None:
        doomed.write_event_async("fails").cancel()
        await _flush_until_it_raises(doomed)
        await doomed.flush_async()  # reported once: nothing is left to raise

    asyncio.run(scenario())
    doomed.flush()


def test_failure_taken_by_a_cancelled_flush_is_raised_by_a_later_call(
    manager: pravega_client.StreamManager, scope: str
) -> None:
    doomed = manager.create_writer(
        scope, unique_name("missing"), max_inflight_events=10
    )

    async def scenario() -> None:
        for _ in range(50):
            try:
                doomed.write_event("kept")  # no future: its failure waits for a flush
                break
            except pravega_client.PravegaIOError:
                continue  # an earlier event's failure, reported before this was written
        else:
            pytest.fail("no write was accepted")
        # The native flush takes the kept failure for a future nobody waits on any more.
        doomed.flush_async().cancel()
        await _flush_until_it_raises(doomed)
        await doomed.flush_async()

    asyncio.run(scenario())
    doomed.flush()
