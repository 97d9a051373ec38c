"""The first vertical slice: admin calls, one write and one read, end to end."""

from __future__ import annotations

import pravega_client
from conftest import read_events, unique_name


def test_written_event_is_read_back(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:

    writer = manager.create_writer(scope, stream)
    writer.write_event("e1")

    group = manager.create_reader_group(unique_name("group"), scope, stream)
    reader = group.create_reader("reader1")
    events = read_events(reader, 1)

    assert [event.data() for event in events] == [b"e1"]
    assert events[0].offset() == 0
    reader.reader_offline()


def test_created_scope_and_stream_are_listed(
    manager: pravega_client.StreamManager, scope: str
) -> None:
    stream = unique_name("stream")
    assert manager.create_stream(scope, stream, 2)

    assert scope in manager.list_scope()
    # The server also lists its internal "_MARK" stream for watermarks.
    assert [
        name for name in manager.list_stream(scope) if not name.startswith("_")
    ] == [stream]


def test_creating_an_existing_scope_or_stream_returns_false(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:

    assert manager.create_scope(scope) is False
    assert manager.create_stream(scope, stream, 1) is False


def test_keyed_events_keep_their_order(
    manager: pravega_client.StreamManager, scope: str
) -> None:
    stream = unique_name("stream")
    manager.create_stream(scope, stream, 3)
    writer = manager.create_writer(scope, stream, max_inflight_events=100)
    expected = {
        key: [f"{key}-{i}".encode() for i in range(50)] for key in ("a", "b", "c")
    }
    for i in range(50):
        for key in expected:
            writer.write_event(f"{key}-{i}", routing_key=key)
    writer.flush()

    group = manager.create_reader_group(unique_name("group"), scope, stream)
    reader = group.create_reader("reader1")
    events = read_events(reader, 150)

    for key, payloads in expected.items():
        assert [
            e.data() for e in events if e.data().startswith(key.encode())
        ] == payloads


def test_sealed_stream_can_be_deleted(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:

    assert manager.seal_stream(scope, stream)
    assert manager.delete_stream(scope, stream)
    assert stream not in manager.list_stream(scope)
