"""Bad input gets a clear Python exception, never a crash."""

from __future__ import annotations

import threading

import pytest

import pravega_client
from conftest import unique_name
from pravega_client._ffi import ffi, lib


def test_none_names_raise_invalid_argument(
    manager: pravega_client.StreamManager,
) -> None:
    with pytest.raises(
        pravega_client.InvalidArgumentError, match="scope_name must be str"
    ):
        manager.create_scope(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stream_name"):
        manager.create_stream("scope", None, 1)  # type: ignore[arg-type]


def test_non_utf8_name_raises_invalid_argument(
    manager: pravega_client.StreamManager,
) -> None:
    with pytest.raises(
        pravega_client.InvalidArgumentError, match="scope_name is not valid UTF-8"
    ):
        manager.create_scope("bad\udcffname")


def test_name_with_nul_raises_invalid_argument(
    manager: pravega_client.StreamManager,
) -> None:
    with pytest.raises(pravega_client.InvalidArgumentError, match="NUL"):
        manager.create_scope("bad\0name")


def test_malformed_controller_uri_raises(controller_uri: str) -> None:
    with pytest.raises(pravega_client.InvalidArgumentError, match="tcp:// or tls://"):
        pravega_client.StreamManager("localhost:9090")


@pytest.mark.parametrize(
    "uri",
    ["tls://127.0.0.1:9090", "tls://[::1]:9090", "tls://localhost:9090,10.0.0.1:9090"],
)
def test_tls_uri_with_an_ip_address_is_refused_at_once(uri: str) -> None:
    # The Rust client's TLS library cannot verify a certificate against an IP
    # address; without this check the caller waits through every retry for an error
    # that does not say why.
    with pytest.raises(
        pravega_client.InvalidArgumentError, match="TLS needs a host name"
    ):
        pravega_client.StreamManager(uri)


def test_closed_manager_raises_closed_error(controller_uri: str) -> None:
    manager = pravega_client.StreamManager(controller_uri)
    manager.close()
    manager.close()  # idempotent

    with pytest.raises(pravega_client.ClosedError, match="StreamManager is closed"):
        manager.list_scope()


def test_closed_writer_raises_closed_error(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream)
    writer.close()

    with pytest.raises(pravega_client.ClosedError):
        writer.write_event("late")


def test_writer_outlives_its_manager(
    controller_uri: str, scope: str, stream: str
) -> None:
    manager = pravega_client.StreamManager(controller_uri)
    writer = manager.create_writer(scope, stream)
    manager.close()

    writer.write_event("after close")
    writer.close()


def test_event_over_8_mib_is_rejected_before_sending(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream)

    with pytest.raises(pravega_client.InvalidArgumentError, match="larger than"):
        writer.write_event_bytes(b"x" * (8 * 1024 * 1024 + 1))
    writer.write_event_bytes(b"still usable")


def test_wrong_argument_types_raise(
    manager: pravega_client.StreamManager, scope: str
) -> None:
    with pytest.raises(pravega_client.InvalidArgumentError, match="initial_segments"):
        manager.create_stream(scope, "s", "one")  # type: ignore[arg-type]
    with pytest.raises(pravega_client.InvalidArgumentError, match="initial_segments"):
        manager.create_stream(scope, "s", 0)


def native_error(function, *args) -> tuple:
    box = ffi.new("PravegaError **")
    status = function(*args, box)
    message = ffi.string(lib.pravega_error_message(box[0])).decode()
    lib.pravega_error_free(box[0])
    return status, message


def test_native_null_handles_are_rejected_not_dereferenced() -> None:
    created = ffi.new("bool *")
    status, message = native_error(
        lib.pravega_manager_create_scope, ffi.NULL, b"s", created
    )
    assert status == lib.PRAVEGA_STATUS_INVALID_ARGUMENT
    assert message == "manager must not be NULL"

    status, message = native_error(lib.pravega_writer_flush, ffi.NULL, 0)
    assert (status, message) == (
        lib.PRAVEGA_STATUS_INVALID_ARGUMENT,
        "writer must not be NULL",
    )


def test_native_null_and_non_utf8_strings_are_rejected(controller_uri: str) -> None:
    box = ffi.new("PravegaManager **")
    status, message = native_error(lib.pravega_manager_new, ffi.NULL, ffi.NULL, box)
    assert (status, message) == (
        lib.PRAVEGA_STATUS_INVALID_ARGUMENT,
        "controller_uri must not be NULL",
    )

    status, message = native_error(
        lib.pravega_manager_new, b"tcp://\xff\xfe", ffi.NULL, box
    )
    assert (status, message) == (
        lib.PRAVEGA_STATUS_INVALID_ARGUMENT,
        "controller_uri is not valid UTF-8",
    )


def test_native_length_without_buffer_is_rejected(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream)

    status, message = native_error(
        lib.pravega_writer_write,
        writer._ptr,
        ffi.NULL,
        ffi.NULL,
        10,
        ffi.NULL,
        ffi.NULL,
        0,
    )
    assert status == lib.PRAVEGA_STATUS_INVALID_ARGUMENT
    assert message == "data is NULL but its length is 10"


def test_native_async_call_without_callback_is_rejected(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    group = manager.create_reader_group(unique_name("group"), scope, stream)
    reader = group.create_reader("r1")

    status, message = native_error(
        lib.pravega_reader_acquire_segment, reader._ptr, ffi.NULL, ffi.NULL, 0
    )
    assert (status, message) == (
        lib.PRAVEGA_STATUS_INVALID_ARGUMENT,
        "callback must not be NULL",
    )


def test_duplicate_online_reader_name_raises(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    group = manager.create_reader_group(unique_name("group"), scope, stream)
    online = group.create_reader("same")

    with pytest.raises(pravega_client.AlreadyExistsError, match="already online"):
        group.create_reader("same")
    online.reader_offline()


def test_reader_group_on_a_missing_stream_raises_not_found(
    manager: pravega_client.StreamManager, scope: str
) -> None:
    with pytest.raises(pravega_client.NotFoundError, match="does not exist"):
        manager.create_reader_group(unique_name("group"), scope, "no-such-stream")


def test_closing_a_writer_during_a_flush_in_another_thread_is_safe(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    writer = manager.create_writer(scope, stream, max_inflight_events=1000)
    for _ in range(1000):
        writer.write_event_bytes(b"x" * 1000)
    flushed = threading.Event()

    def flush() -> None:
        writer.flush()
        flushed.set()

    flusher = threading.Thread(target=flush)
    flusher.start()
    writer.close()
    flusher.join(timeout=60)

    assert flushed.is_set()
    with pytest.raises(pravega_client.ClosedError):
        writer.flush()
