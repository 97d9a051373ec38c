"""StreamWriter: writes events to one stream."""

from __future__ import annotations

import asyncio
from typing import Any, Optional, Union

from ._completion import bridge_for, current_loop
from ._ffi import encode_name, encode_optional, ffi, invoke, lib
from ._handle import NativeHandle
from .exceptions import InvalidArgumentError, PravegaTimeoutError

BytesLike = Union[bytes, bytearray, memoryview]

# Native waits are cut into slices this long, so that Ctrl-C is noticed while a
# blocking call waits for the server.
_WAIT_SLICE_MS = 200


class StreamWriter(NativeHandle):
    """Writes events to one stream.

    With ``max_inflight_events=0`` each write returns once the server has
    acknowledged it. With N > 0 a write returns at once unless N writes are already
    unacknowledged, and then waits for the oldest. ``flush()`` waits for all.

    A write failure that could not be reported by the call that caused it is raised
    by the next write or by ``flush()``. Blocking waits release the GIL.
    """

    def __init__(
        self, manager: Any, scope_name: str, stream_name: str, max_inflight_events: int
    ) -> None:
        if isinstance(max_inflight_events, bool) or not isinstance(max_inflight_events, int):
            raise InvalidArgumentError("max_inflight_events must be int")
        if max_inflight_events < 0:
            raise InvalidArgumentError("max_inflight_events must not be negative")
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        box = ffi.new("PravegaWriter **")
        invoke(lib.pravega_writer_new, manager, scope, stream, box)
        super().__init__(box[0], lib.pravega_writer_free)
        self._stream = f"{scope_name}/{stream_name}"
        self._max_inflight = max_inflight_events

    def write_event(self, event: str, routing_key: Optional[str] = None) -> None:
        """Writes ``event`` encoded as UTF-8. Blocks as described in the class doc."""
        if not isinstance(event, str):
            raise InvalidArgumentError(f"event must be str, not {type(event).__name__}")
        self.write_event_bytes(event.encode("utf-8"), routing_key)

    def write_event_bytes(self, event: BytesLike, routing_key: Optional[str] = None) -> None:
        """Writes raw bytes. Blocks as described in the class doc."""
        self._enqueue(event, routing_key, ffi.NULL, ffi.NULL, 0)
        self._wait_outstanding(self._max_inflight)

    def write_event_async(
        self, event: Union[str, BytesLike], routing_key: Optional[str] = None
    ) -> "asyncio.Future[None]":
        """Writes an event and returns a future that resolves once it is durable.

        A failed write sets a :class:`PravegaIOError` (an ``OSError``) on the future.
        """
        if isinstance(event, str):
            event = event.encode("utf-8")
        bridge = bridge_for(current_loop())

        def launch(callback: Any, user_data: Any, tag: int) -> None:
            self._enqueue(event, routing_key, callback, user_data, tag)

        return bridge.start(launch, _no_result)

    def flush(self) -> None:
        """Waits until every write is acknowledged; raises the first unreported failure."""
        self._wait_outstanding(0)

    def close(self) -> None:
        """Flushes, then releases the writer. Calling it again does nothing."""
        if self.closed:
            return
        try:
            self.flush()
        finally:
            self._release()

    def _enqueue(
        self, event: BytesLike, routing_key: Optional[str], callback: Any, user_data: Any, tag: int
    ) -> None:
        writer = self._handle()
        key = encode_optional("routing_key", routing_key)
        if isinstance(event, bytes):
            data = event
        elif isinstance(event, (bytearray, memoryview)):
            data = ffi.from_buffer("char[]", event)
        else:
            raise InvalidArgumentError(
                f"event must be bytes-like, not {type(event).__name__}"
            )
        invoke(lib.pravega_writer_write, writer, key, data, len(data), callback, user_data, tag)

    def _wait_outstanding(self, limit: int) -> None:
        writer = self._handle()
        while True:
            try:
                invoke(lib.pravega_writer_wait_outstanding, writer, limit, _WAIT_SLICE_MS)
                return
            except PravegaTimeoutError:
                continue

    def to_str(self) -> str:
        return f"StreamWriter(stream={self._stream!r}, max_inflight_events={self._max_inflight})"

    def __repr__(self) -> str:
        return self.to_str()


def _no_result(_result: Any) -> None:
    return None
