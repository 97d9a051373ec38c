"""The completion bridge: asyncio futures resolved on the loop thread, in batches."""

from __future__ import annotations

import asyncio
import threading

import pravega_client
from pravega_client._completion import bridge_for


def test_many_async_writes_complete_with_few_loop_wakeups(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream)
    count = 5000

    async def write_all() -> tuple:
        loop = asyncio.get_running_loop()
        bridge = bridge_for(loop)
        drains = 0
        original = bridge._drain

        def counting_drain() -> None:
            nonlocal drains
            drains += 1
            original()

        loop.remove_reader(bridge_fd(bridge))
        loop.add_reader(bridge_fd(bridge), counting_drain)
        futures = [writer.write_event_async(f"event-{i}") for i in range(count)]
        results = await asyncio.gather(*futures)
        return results, drains

    results, drains = asyncio.run(write_all())

    assert results == [None] * count
    # One wake-up per event would be `count` drains; batching must do far better.
    assert drains < count / 10, f"{drains} loop wake-ups for {count} completions"


def test_futures_resolve_on_the_loop_thread(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream)
    threads = []

    async def write_some() -> None:
        futures = [writer.write_event_async(b"payload") for _ in range(100)]
        for future in futures:
            future.add_done_callback(lambda _: threads.append(threading.get_ident()))
        await asyncio.gather(*futures)

    asyncio.run(write_some())

    assert set(threads) == {threading.get_ident()}


def test_cancelled_write_future_does_not_break_the_loop(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream)

    async def cancel_one() -> None:
        cancelled = writer.write_event_async(b"first")
        cancelled.cancel()
        await writer.write_event_async(b"second")

    asyncio.run(cancel_one())
    writer.flush()


def bridge_fd(bridge: object) -> int:
    from pravega_client._ffi import lib

    return lib.pravega_completion_queue_fd(bridge._queue)  # type: ignore[attr-defined]
