"""StreamManager: the admin API against the real server, and its bad-input table."""

from __future__ import annotations

import gc
import threading
import time
from typing import Any, Callable

import pytest

import pravega_client
from conftest import unique_name
from pravega_client import (
    InvalidArgumentError,
    StreamRetentionPolicy,
    StreamScalingPolicy,
)
from resource_support import process_resources, wait_for


def user_streams(manager: pravega_client.StreamManager, scope: str) -> list:
    """Stream names without the server's internal "_MARK" streams."""
    return sorted(
        name for name in manager.list_stream(scope) if not name.startswith("_")
    )


def test_stream_lifecycle_create_tag_update_seal_then_delete(
    manager: pravega_client.StreamManager, scope: str
) -> None:
    stream = unique_name("stream")
    scaling = StreamScalingPolicy.fixed_scaling_policy(2)

    assert manager.create_stream_with_policy(scope, stream, scaling, tags=["a", "b"])
    assert user_streams(manager, scope) == [stream]
    assert manager.get_stream_tags(scope, stream) == ["a", "b"]

    assert manager.update_stream_with_policy(scope, stream, scaling, tags=["c"])
    assert manager.get_stream_tags(scope, stream) == ["c"]

    assert manager.seal_stream(scope, stream)
    writer = manager.create_writer(scope, stream)
    with pytest.raises(pravega_client.PravegaError):
        writer.write_event("into a sealed stream")
        writer.flush()

    assert manager.delete_stream(scope, stream)
    assert user_streams(manager, scope) == []
    assert manager.delete_scope(scope)
    assert scope not in manager.list_scope()


def test_stream_without_tags_has_an_empty_tag_list(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    assert manager.get_stream_tags(scope, stream) == []


def test_listing_follows_pagination_past_one_page(
    manager: pravega_client.StreamManager, scope: str
) -> None:
    names = [f"s{index:03d}" for index in range(120)]
    for name in names:
        manager.create_stream(scope, name, 1)

    assert user_streams(manager, scope) == names


@pytest.mark.parametrize(
    "scaling, retention",
    [
        (StreamScalingPolicy.fixed_scaling_policy(3), StreamRetentionPolicy.none()),
        (
            StreamScalingPolicy.auto_scaling_policy_by_data_rate(1024, 2, 2),
            StreamRetentionPolicy.by_size(64 * 1024 * 1024),
        ),
        (
            StreamScalingPolicy.auto_scaling_policy_by_event_rate(500, 3, 1),
            StreamRetentionPolicy.by_time(24 * 3600 * 1000),
        ),
    ],
    ids=["fixed-keep", "data-rate-by-size", "event-rate-by-time"],
)
def test_policies_read_back_as_set(
    manager: pravega_client.StreamManager,
    scope: str,
    scaling: StreamScalingPolicy,
    retention: StreamRetentionPolicy,
) -> None:
    stream = unique_name("stream")
    assert manager.create_stream_with_policy(scope, stream, scaling, retention)

    assert manager.get_stream_policies(scope, stream) == (scaling, retention)


def test_update_changes_the_policies(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    scaling = StreamScalingPolicy.auto_scaling_policy_by_event_rate(100, 2, 1)
    retention = StreamRetentionPolicy.by_size(1024 * 1024)

    assert manager.update_stream_with_policy(scope, stream, scaling, retention)

    assert manager.get_stream_policies(scope, stream) == (scaling, retention)


def test_policies_say_what_they_hold() -> None:
    by_events = StreamScalingPolicy.auto_scaling_policy_by_event_rate(100, 2, 3)
    by_data = StreamScalingPolicy.auto_scaling_policy_by_data_rate(10, 4, 1)
    fixed = StreamScalingPolicy.fixed_scaling_policy(5)
    assert (by_events.kind, by_events.target_rate, by_events.scale_factor) == (
        "by_event_rate",
        100,
        2,
    )
    assert (by_events.min_segments, by_data.kind, by_data.scale_factor) == (
        3,
        "by_data_rate",
        4,
    )
    assert (fixed.kind, fixed.min_segments, fixed.target_rate) == ("fixed", 5, 0)

    by_size = StreamRetentionPolicy.by_size(2048)
    by_time = StreamRetentionPolicy.by_time(60_000)
    keep = StreamRetentionPolicy.none()
    assert (by_size.kind, by_size.limit) == ("by_size", 2048)
    assert (by_time.kind, by_time.limit) == ("by_time", 60_000)
    assert (keep.kind, keep.limit) == ("none", 0)


def test_policies_have_a_readable_repr() -> None:
    policy = StreamScalingPolicy.auto_scaling_policy_by_data_rate(10, 2, 3)

    assert (
        repr(policy) == "StreamScalingPolicy.auto_scaling_policy_by_data_rate(10, 2, 3)"
    )
    assert (
        StreamRetentionPolicy.by_time(5).to_str() == "StreamRetentionPolicy.by_time(5)"
    )
    assert repr(StreamRetentionPolicy.none()) == "StreamRetentionPolicy.none()"


def test_manager_works_as_a_context_manager(controller_uri: str) -> None:
    with pravega_client.StreamManager(controller_uri) as manager:
        manager.list_scope()

    assert manager.closed
    with pytest.raises(pravega_client.ClosedError):
        manager.list_scope()


def test_credentials_never_appear_in_repr(controller_uri: str) -> None:
    manager = pravega_client.StreamManager(
        controller_uri, username="admin", password="s3cr3t-pw"
    )

    assert "s3cr3t-pw" not in repr(manager)
    assert "s3cr3t-pw" not in manager.to_str()
    manager.close()


# The bad-input table: each row is a call and the exception it must raise. Calls take
# the manager, a scope and a stream that exist.
BAD_INPUT = [
    ("scope name None", lambda m, sc, st: m.create_scope(None), InvalidArgumentError),
    ("scope name int", lambda m, sc, st: m.create_scope(7), InvalidArgumentError),
    (
        "stream name bytes",
        lambda m, sc, st: m.create_stream(sc, b"s", 1),
        InvalidArgumentError,
    ),
    ("empty scope name", lambda m, sc, st: m.create_scope(""), InvalidArgumentError),
    (
        "empty stream name",
        lambda m, sc, st: m.create_stream(sc, "", 1),
        InvalidArgumentError,
    ),
    ("scope name with a space", lambda m, sc, st: m.create_scope("a b"), ValueError),
    (
        "stream name with a slash",
        lambda m, sc, st: m.create_stream(sc, "a/b", 1),
        ValueError,
    ),
    ("scope name too long", lambda m, sc, st: m.create_scope("x" * 300), ValueError),
    (
        "zero segments",
        lambda m, sc, st: m.create_stream(sc, "z", 0),
        InvalidArgumentError,
    ),
    (
        "negative segments",
        lambda m, sc, st: m.create_stream(sc, "z", -2),
        InvalidArgumentError,
    ),
    (
        "negative rate",
        lambda m, sc, st: StreamScalingPolicy.auto_scaling_policy_by_event_rate(
            -1, 2, 1
        ),
        InvalidArgumentError,
    ),
    (
        "negative size",
        lambda m, sc, st: StreamRetentionPolicy.by_size(-5),
        InvalidArgumentError,
    ),
    (
        "policy of the wrong type",
        lambda m, sc, st: m.create_stream_with_policy(sc, "p", scaling_policy=3),
        InvalidArgumentError,
    ),
    (
        "tags not a list",
        lambda m, sc, st: m.create_stream_with_policy(sc, "p", tags="abc"),
        InvalidArgumentError,
    ),
    (
        "unknown scope",
        lambda m, sc, st: m.create_stream("no-such-scope", "s", 1),
        ValueError,
    ),
    (
        "unknown stream",
        lambda m, sc, st: m.get_stream_tags(sc, "no-such-stream"),
        pravega_client.NotFoundError,
    ),
    (
        "seal unknown stream",
        lambda m, sc, st: m.seal_stream(sc, "no-such-stream"),
        pravega_client.NotFoundError,
    ),
    ("delete unsealed stream", lambda m, sc, st: m.delete_stream(sc, st), ValueError),
    ("delete non-empty scope", lambda m, sc, st: m.delete_scope(sc), ValueError),
]


@pytest.mark.parametrize(
    "call, expected", [row[1:] for row in BAD_INPUT], ids=[row[0] for row in BAD_INPUT]
)
def test_bad_input_raises_a_clear_error(
    manager: pravega_client.StreamManager,
    scope: str,
    stream: str,
    call: Callable[..., Any],
    expected: type,
) -> None:
    with pytest.raises(expected) as raised:
        call(manager, scope, stream)

    assert isinstance(raised.value, pravega_client.PravegaError)
    assert str(raised.value)
    # Nothing else is disturbed: the manager still works.
    assert scope in manager.list_scope()


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:9090",
        "tcp://127.0.0.1",
        "garbage",
        "tcp://:9090",
        "tcp://h:99999",
    ],
)
def test_malformed_uri_is_rejected(uri: str) -> None:
    with pytest.raises(InvalidArgumentError, match="controller"):
        pravega_client.StreamManager(uri)


def test_tls_flag_that_disagrees_with_the_scheme_is_rejected(
    controller_uri: str,
) -> None:
    with pytest.raises(InvalidArgumentError, match="does not match the scheme"):
        pravega_client.StreamManager(controller_uri, tls_enabled=True)


def test_unreachable_controller_fails_with_a_connection_error_in_time() -> None:
    closed_port = free_closed_port()
    manager = pravega_client.StreamManager(f"tcp://127.0.0.1:{closed_port}", timeout=20)

    started = time.monotonic()
    with pytest.raises(pravega_client.PravegaConnectionError, match="cannot reach"):
        manager.list_scope()
    elapsed = time.monotonic() - started

    # The default retry policy gives up after ~7 s, well before the timeout.
    assert elapsed < 20


def test_the_timeout_bounds_a_call_that_cannot_finish() -> None:
    closed_port = free_closed_port()
    patient = pravega_client.RetryPolicy(max_attempts=None)
    manager = pravega_client.StreamManager(
        f"tcp://127.0.0.1:{closed_port}", timeout=1.5, retry=patient
    )

    started = time.monotonic()
    with pytest.raises(pravega_client.PravegaTimeoutError, match="1500 ms"):
        manager.create_scope("never")
    assert time.monotonic() - started < 10


def free_closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_thousand_managers_leave_threads_fds_and_memory_flat(
    controller_uri: str,
) -> None:
    def cycle() -> None:
        manager = pravega_client.StreamManager(controller_uri)
        manager.list_scope()
        manager.close()

    for _ in range(50):  # warm up allocator pools and lazily made objects
        cycle()
    gc.collect()
    threads_before, fds_before, rss_before = process_resources()
    # The main thread and the log pump, which lives as long as the process.
    python_threads_before = {thread.name for thread in threading.enumerate()}

    for _ in range(1000):
        cycle()
    gc.collect()
    wait_for(lambda: process_resources()[0] <= threads_before, seconds=10)
    threads_after, fds_after, rss_after = process_resources()

    assert threads_after <= threads_before, "runtime threads were left behind"
    assert fds_after <= fds_before + 2, "file descriptors leaked"
    assert rss_after - rss_before < 32 * 1024, (
        f"RSS grew by {rss_after - rss_before} KiB"
    )
    assert {thread.name for thread in threading.enumerate()} == python_threads_before


def test_interpreter_exit_with_open_objects_is_clean(
    controller_uri: str, scope: str, stream: str, tmp_path: Any
) -> None:
    import subprocess
    import sys

    program = f"""
import pravega_client
manager = pravega_client.StreamManager({controller_uri!r})
writer = manager.create_writer({scope!r}, {stream!r}, max_inflight_events=10)
writer.write_event("left open at exit")
group = manager.create_reader_group("exit-group", {scope!r}, {stream!r})
reader = group.create_reader("exit-reader")
print("done")
"""
    finished = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # so that the source tree does not shadow the installed package
    )

    assert (finished.returncode, finished.stdout.strip()) == (0, "done")
    assert finished.stderr == ""


def test_objects_dropped_without_close_are_freed_by_the_collector(
    controller_uri: str, scope: str, stream: str, tmp_path: Any
) -> None:
    # PyPy frees nothing when the last reference goes, only when its collector runs, so
    # handles must be released by finalizers and never by reference counting alone.
    # The runtime threads end only once every object made from the manager is freed:
    # that makes the release visible. A fresh interpreter has no garbage from other
    # tests whose collection would blur the count.
    import subprocess
    import sys

    program = f"""
import gc, os, time
import pravega_client

def runtime_threads():
    names = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{{task}}/comm") as comm:
            names.append(comm.read().strip())
    return names.count("pravega-client")

def make_and_drop():
    manager = pravega_client.StreamManager({controller_uri!r})
    writer = manager.create_writer({scope!r}, {stream!r})
    writer.write_event("dropped without close")
    writer.flush()
    group = manager.create_reader_group("dropped-group", {scope!r}, {stream!r})
    group.create_reader("reader")
    manager.create_stream({scope!r}, "dropped-bytes", 1)
    manager.create_byte_stream({scope!r}, "dropped-bytes")
    print("threads while open:", runtime_threads() > 0)

make_and_drop()
deadline = time.monotonic() + 20
while runtime_threads() and time.monotonic() < deadline:
    gc.collect()
    time.sleep(0.05)
print("threads after collection:", runtime_threads())
"""
    finished = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # so that the source tree does not shadow the installed package
    )

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines() == [
        "threads while open: True",
        "threads after collection: 0",
    ]
