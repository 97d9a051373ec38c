"""Reader groups and readers against the real server."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict

import pytest

import pravega_client
from conftest import new_reader, read_available, read_events, unique_name


def write(manager, scope, stream, payloads, key=None, inflight=1000) -> None:
    writer = manager.create_writer(scope, stream, max_inflight_events=inflight)
    for payload in payloads:
        writer.write_event_bytes(payload, routing_key=key)
    writer.close()


def test_new_group_reads_from_the_head(manager, scope, stream) -> None:
    write(manager, scope, stream, [b"one", b"two"])

    events = read_events(new_reader(manager, scope, stream), 2)

    assert [e.data() for e in events] == [b"one", b"two"]


def test_group_from_the_tail_sees_only_later_events(manager, scope, stream) -> None:
    write(manager, scope, stream, [b"old"])
    group = manager.create_reader_group(
        unique_name("g"), scope, stream, read_from_tail=True
    )
    reader = group.create_reader("r")
    write(manager, scope, stream, [b"new"])

    events = read_events(reader, 1) + read_available(reader, slices=1)

    assert [e.data() for e in events] == [b"new"]


def test_a_sealed_stream_has_no_tail_but_can_be_read_from_the_head(
    manager, scope, stream, caplog
) -> None:
    write(manager, scope, stream, [b"last"])
    manager.seal_stream(scope, stream)

    with pytest.raises(pravega_client.UnsupportedError, match="is sealed"):
        manager.create_reader_group(
            unique_name("g"), scope, stream, read_from_tail=True
        )

    # Refused before the crate could panic over it, which it would log at ERROR.
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    events = read_events(new_reader(manager, scope, stream), 1)
    assert [e.data() for e in events] == [b"last"]


def test_stream_cut_replays_exactly_the_events_after_it(manager, scope, stream) -> None:
    write(manager, scope, stream, [f"before-{i}".encode() for i in range(10)])
    group = manager.create_reader_group(unique_name("g"), scope, stream)
    reader = group.create_reader("r")
    assert len(read_events(reader, 10)) == 10
    reader.reader_offline()  # records the reader's final positions in the group

    cut = group.get_streamcut()
    assert sum(cut.get_segment_offset_map().values()) > 0
    replay = manager.create_reader_group(
        unique_name("g"), scope, stream, read_from_tail=False, stream_cut=cut
    )
    write(manager, scope, stream, [f"after-{i}".encode() for i in range(5)])
    replay_reader = replay.create_reader("r")
    events = read_events(replay_reader, 5) + read_available(replay_reader, slices=1)

    assert [e.data() for e in events] == [f"after-{i}".encode() for i in range(5)]


@pytest.mark.parametrize("reader_count", [2, 4])
def test_readers_share_segments_and_read_each_event_once(
    manager, scope, reader_count
) -> None:
    stream = unique_name("stream")
    manager.create_stream(scope, stream, 4)
    keys = [f"key{k}" for k in range(20)]
    writer = manager.create_writer(scope, stream, max_inflight_events=1000)
    for i in range(500):
        for key in keys:
            writer.write_event(f"{key}:{i}", routing_key=key)
    writer.close()
    group = manager.create_reader_group(unique_name("g"), scope, stream)
    readers = [group.create_reader(f"r{n}") for n in range(reader_count)]

    async def consume(reader, collected: list, total: list) -> None:
        while sum(total) < 10_000:
            batch = await reader.read(max_events=500, timeout=1)
            collected.extend(batch)
            total.append(len(batch))

    async def consume_all() -> list:
        results: list = [[] for _ in readers]
        total: list = []
        await asyncio.wait_for(
            asyncio.gather(
                *(consume(r, out, total) for r, out in zip(readers, results))
            ),
            timeout=180,
        )
        return results

    results = asyncio.run(consume_all())

    payloads = [e.data() for result in results for e in result]
    assert len(payloads) == 10_000
    assert not [p for p, n in Counter(payloads).items() if n > 1], "events read twice"
    for result in results:
        per_key = defaultdict(list)
        for event in result:
            key, index = event.data().decode().split(":")
            per_key[key].append(int(index))
        assert all(indexes == sorted(indexes) for indexes in per_key.values())


def test_offline_reader_hands_its_segments_over(manager, scope) -> None:
    stream = unique_name("stream")
    manager.create_stream(scope, stream, 2)
    write(manager, scope, stream, [f"first:{i}".encode() for i in range(200)], key=None)
    group = manager.create_reader_group(unique_name("g"), scope, stream)
    leaving = group.create_reader("leaving")
    first = read_events(leaving, 200)
    leaving.reader_offline()
    write(
        manager, scope, stream, [f"second:{i}".encode() for i in range(200)], key=None
    )

    staying = group.create_reader("staying")
    second = read_events(staying, 200) + read_available(staying, slices=1)

    payloads = [e.data() for e in first + second]
    assert sorted(payloads) == sorted(
        [f"first:{i}".encode() for i in range(200)]
        + [f"second:{i}".encode() for i in range(200)]
    )


def test_partly_read_slice_redelivers_the_rest(manager, scope, stream) -> None:
    write(manager, scope, stream, [f"e{i}".encode() for i in range(10)])
    reader = new_reader(manager, scope, stream)

    async def read_three_then_release() -> list:
        while True:
            segment_slice = await reader.get_segment_slice_async()
            taken = (
                [next(segment_slice) for _ in range(3)] if segment_slice._ptr else []
            )
            reader.release_segment(segment_slice)
            if taken:
                return taken

    first = asyncio.run(read_three_then_release())
    rest = read_events(reader, 7)

    assert [e.data() for e in first] == [b"e0", b"e1", b"e2"]
    assert [e.data() for e in rest] == [f"e{i}".encode() for i in range(3, 10)]


async def _first_slice_with_data(reader) -> pravega_client.Slice:
    while True:
        segment_slice = await reader.get_segment_slice_async()
        if segment_slice._ptr:
            return segment_slice
        reader.release_segment(segment_slice)


@pytest.mark.parametrize("give_back", ["release", "close"])
def test_events_taken_ahead_by_iteration_are_delivered_again(
    manager, scope, stream, give_back
) -> None:
    # Iteration takes events from native memory in growing batches (16, 32, ...), so
    # stopping after 40 leaves some taken but not handed out. Whether the slice is
    # released or merely closed, exactly those come next, in order.
    payloads = [f"ahead-{i}".encode() for i in range(200)]
    write(manager, scope, stream, payloads, key="k")
    reader = new_reader(manager, scope, stream)

    async def take_forty() -> list:
        segment_slice = await _first_slice_with_data(reader)
        taken = []
        for event in segment_slice:
            taken.append(event)
            if len(taken) == 30:
                break
        # Going on after a break continues where the loop stopped.
        taken.extend(next(segment_slice) for _ in range(10))
        if give_back == "release":
            reader.release_segment(segment_slice)
        else:
            segment_slice.close()
        return taken

    taken = asyncio.run(take_forty())
    rest = read_events(reader, len(payloads) - 40)

    assert [e.data() for e in taken] == payloads[:40]
    assert [e.data() for e in rest] == payloads[40:]


def test_large_events_arrive_byte_for_byte(manager, scope, stream) -> None:
    payloads = [
        bytes([i % 256]) * 1000 + i.to_bytes(4, "big") * 24_750 for i in range(1000)
    ]
    assert all(len(p) == 100_000 for p in payloads)
    write(manager, scope, stream, payloads)

    events = read_events(new_reader(manager, scope, stream), 1000)

    assert [e.data() for e in events] == payloads


def test_group_over_two_streams(manager, scope) -> None:
    streams = [unique_name("a"), unique_name("b")]
    for name in streams:
        manager.create_stream(scope, name, 1)
        write(manager, scope, name, [name.encode()])
    config = pravega_client.StreamReaderGroupConfig(False, scope, *streams)
    group = manager.create_reader_group_with_config(unique_name("g"), scope, config)

    events = read_events(group.create_reader("r"), 2)

    assert sorted(e.data() for e in events) == sorted(n.encode() for n in streams)
    assert {e.stream() for e in events} == {f"{scope}/{n}" for n in streams}


def test_cancelled_slice_wait_loses_no_event(manager, scope, stream) -> None:
    write(manager, scope, stream, [f"c{i}".encode() for i in range(5)])
    reader = new_reader(manager, scope, stream)

    async def cancel_then_read() -> list:
        waiting = asyncio.ensure_future(reader.get_segment_slice_async())
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return await reader.read(max_events=5, timeout=30)

    events = asyncio.run(cancel_then_read())
    events += read_events(reader, 5 - len(events)) if len(events) < 5 else []

    assert [e.data() for e in events] == [f"c{i}".encode() for i in range(5)]


def test_async_iteration_and_context_manager(manager, scope, stream) -> None:
    write(manager, scope, stream, [b"x", b"y", b"z"])
    group = manager.create_reader_group(unique_name("g"), scope, stream)

    async def iterate() -> list:
        seen = []
        async with group.create_reader("r") as reader:
            async for event in reader:
                seen.append(event)
                if len(seen) == 3:
                    break
        return seen

    events = asyncio.run(asyncio.wait_for(iterate(), timeout=60))

    assert [e.data() for e in events] == [b"x", b"y", b"z"]
    assert events[0].segment().startswith(f"{scope}/{stream}/")
    group.create_reader("r")  # the first went offline on exit, so the name is free


def test_group_reader_offline_is_idempotent(manager, scope, stream) -> None:
    group = manager.create_reader_group(unique_name("g"), scope, stream)
    reader = group.create_reader("r")

    group.reader_offline("r")
    group.reader_offline("r")
    reader.close()


def test_slice_released_to_another_reader_is_refused(manager, scope) -> None:
    stream = unique_name("stream")
    manager.create_stream(scope, stream, 2)
    write(manager, scope, stream, [b"a", b"b"], key=None)
    group = manager.create_reader_group(unique_name("g"), scope, stream)
    owner, other = group.create_reader("owner"), group.create_reader("other")

    async def acquire():
        while True:
            segment_slice = await owner.get_segment_slice_async()
            if segment_slice._ptr:
                return segment_slice
            owner.release_segment(segment_slice)

    segment_slice = asyncio.run(asyncio.wait_for(acquire(), timeout=60))
    with pytest.raises(pravega_client.InvalidArgumentError, match="another reader"):
        other.release_segment(segment_slice)
    owner.release_segment(segment_slice)


@pytest.mark.parametrize(
    "make",
    [
        lambda m, sc, st: pravega_client.StreamReaderGroupConfig(False, sc),
        lambda m, sc, st: m.create_reader_group("g", sc, 5),
        lambda m, sc, st: m.create_reader_group("g", sc, st, stream_cut="cut"),
        lambda m, sc, st: m.create_reader_group_with_config("g", sc, [st]),
        lambda m, sc, st: m.create_reader_group("g", sc, st).create_reader(None),
    ],
    ids=[
        "config-without-streams",
        "stream-not-str",
        "cut-not-cut",
        "config-not-config",
        "reader-name-none",
    ],
)
def test_bad_reader_input_raises(manager, scope, stream, make) -> None:
    with pytest.raises(pravega_client.InvalidArgumentError):
        make(manager, scope, stream)


def test_a_reader_name_can_be_reused_after_close(manager, scope, stream) -> None:
    group = manager.create_reader_group(unique_name("g"), scope, stream)
    group.create_reader("same").close()
    replacement = group.create_reader("same")
    write(manager, scope, stream, [b"for the replacement"])

    events = read_events(replacement, 1)

    assert [e.data() for e in events] == [b"for the replacement"]


def test_closing_a_reader_while_an_acquire_is_in_flight_is_safe(
    manager, scope, stream
) -> None:
    reader = new_reader(manager, scope, stream)

    async def close_while_waiting() -> object:
        waiting = reader.get_segment_slice_async()  # nothing written: waits ~1 s
        reader.close()
        try:
            return await waiting
        except pravega_client.ClosedError as closed:
            return closed

    outcome = asyncio.run(close_while_waiting())

    # Either the acquire finished first and gave an (empty) slice, or it saw the close.
    assert isinstance(outcome, (pravega_client.Slice, pravega_client.ClosedError))
    with pytest.raises(pravega_client.ClosedError):
        reader.get_segment_slice_async()


def test_deleting_a_group_twice_is_harmless(manager, scope, stream) -> None:
    name = unique_name("g")
    manager.create_reader_group(name, scope, stream)

    manager.delete_reader_group(name, scope)
    manager.delete_reader_group(name, scope)


def test_read_in_small_batches_loses_and_repeats_nothing(
    manager, scope, stream
) -> None:
    # Small events come many to a native batch and large ones one at a time; a batch
    # must never take more from the slice than read() hands out.
    payloads = (
        [f"small-{i}".encode() for i in range(50)]
        + [bytes([i]) * 300_000 for i in range(3)]
        + [f"tail-{i}".encode() for i in range(20)]
    )
    write(manager, scope, stream, payloads, key="k")
    reader = new_reader(manager, scope, stream)

    async def read_all() -> list:
        events: list = []
        while len(events) < len(payloads):
            batch = await reader.read(max_events=7, timeout=30)
            assert 1 <= len(batch) <= 7
            events.extend(batch)
        return events

    events = asyncio.run(asyncio.wait_for(read_all(), timeout=120))

    assert [e.data() for e in events] == payloads
    offsets = [e.offset() for e in events]
    assert offsets == sorted(set(offsets))
    assert events[0].segment().startswith(f"{scope}/{stream}/")


def test_slice_kept_by_read_goes_back_before_other_calls(
    manager, scope, stream
) -> None:
    payloads = [f"kept-{i}".encode() for i in range(10)]
    write(manager, scope, stream, payloads, key="k")
    group = manager.create_reader_group(unique_name("g"), scope, stream)
    first = group.create_reader("first")

    async def read_then_switch() -> tuple:
        taken = await first.read(max_events=3, timeout=30)
        # read() keeps the rest of its slice; asking for a slice must give it back
        # first, or the acquire could wait for it forever.
        segment_slice = await asyncio.wait_for(first.get_segment_slice_async(), 30)
        one = next(iter(segment_slice))
        first.release_segment(segment_slice)
        more = await first.read(max_events=2, timeout=30)
        return taken, one, more

    taken, one, more = asyncio.run(read_then_switch())
    # Going offline gives the kept slice back first, so that the group records how
    # far it was read: the next reader starts right after, with nothing repeated.
    first.close()
    second = group.create_reader("second")
    rest = read_events(second, 4) + read_available(second, slices=1)

    seen = [e.data() for e in taken] + [one.data()] + [e.data() for e in more]
    assert seen == payloads[:6]
    assert [e.data() for e in rest] == payloads[6:]


def test_a_loop_left_with_break_records_its_position_when_the_reader_closes(
    manager, scope, stream
) -> None:
    payloads = [f"looped-{i}".encode() for i in range(10)]
    write(manager, scope, stream, payloads, key="k")
    group = manager.create_reader_group(unique_name("g"), scope, stream)

    async def take_three() -> list:
        seen = []
        async with group.create_reader("first") as reader:
            async for event in reader:
                seen.append(event.data())
                if len(seen) == 3:
                    break
        # The generator of the loop is still alive here, holding its slice: the
        # reader went offline before the slice could go back through it.
        return seen

    seen = asyncio.run(asyncio.wait_for(take_three(), timeout=60))
    rest = read_events(group.create_reader("second"), 7)

    assert seen == payloads[:3]
    assert [e.data() for e in rest] == payloads[3:]
