"""StreamWriter: writes events to one stream."""

from __future__ import annotations

import asyncio
import atexit
import logging
import math
import time
import weakref
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Optional, Union

from ._completion import bridge_for, current_loop
from ._ffi import encode_optional, ffi, lib
from ._handle import NativeHandle
from .exceptions import InvalidArgumentError, PravegaError, PravegaTimeoutError

logger = logging.getLogger(__name__)

BytesLike = Union[bytes, bytearray, memoryview]

# Native waits are cut into slices this long, so that Ctrl-C is noticed while a
# blocking call waits for the server.
_WAIT_SLICE_MS = 200
# How long interpreter exit waits, in all, for the events of writers left open. Long
# enough for a backlog to reach a live server; bounded so that a dead one cannot hang
# the exit. A second Ctrl-C stops the wait at once.
_EXIT_FLUSH_S = 10.0


class StreamWriter(NativeHandle):
    """Writes events to one stream.

    With ``max_inflight_events=0`` each write returns once the server has
    acknowledged it. With N > 0 a write returns at once unless N writes are already
    unacknowledged, and then waits for the oldest. ``flush()`` waits for all.

    A write failure that could not be reported by the call that caused it is raised
    by the next write or by ``flush()``, and so is a failure meant for a future that
    was cancelled before it arrived. Blocking waits release the GIL.

    A writer that is garbage-collected without ``close()`` still delivers its events
    in the background, without blocking the collector; failures are then only logged.
    At interpreter exit, writers still open are flushed for up to 10 s; events that
    are not acknowledged by then are logged as lost, at WARNING.
    """

    def __init__(self, ptr: Any, stream: str, max_inflight_events: int) -> None:
        super().__init__(ptr, lib.pravega_writer_free)
        self._stream = stream
        self._max_inflight = max_inflight_events
        # At most one failure whose future was cancelled before it arrived, kept for the
        # next call. A list, because its pop() is atomic: two threads cannot both
        # report it.
        self._orphaned: "list[BaseException]" = []
        _open_writers.add(self)

    def write_event(self, event: str, routing_key: Optional[str] = None) -> None:
        """Writes ``event`` encoded as UTF-8; see :meth:`write_event_bytes`.

        Blocks and raises as that does, and raises :class:`InvalidArgumentError`
        for an event that is not a str.
        """
        if not isinstance(event, str):
            raise InvalidArgumentError(f"event must be str, not {type(event).__name__}")
        self.write_event_bytes(event.encode("utf-8"), routing_key)

    def write_event_bytes(
        self, event: BytesLike, routing_key: Optional[str] = None
    ) -> None:
        """Writes one event of raw bytes (any bytes-like object).

        Blocks on the segment store: until the server acknowledged the event when
        ``max_inflight_events`` is 0, so that it is durable once the call returns;
        otherwise only while that many writes are unacknowledged, and the event is
        durable once :meth:`flush` returns. Raises :class:`InvalidArgumentError`
        for an empty or oversized event or a bad key, :class:`PravegaIOError` for
        this write's failure or an earlier one not yet reported, and
        :class:`ClosedError` after :meth:`close`.
        """
        self._enqueue(event, routing_key, ffi.NULL, ffi.NULL, 0)
        self._wait_outstanding(self._max_inflight)

    def write_event_async(
        self, event: Union[str, BytesLike], routing_key: Optional[str] = None
    ) -> "asyncio.Future[None]":
        """Writes an event and returns a future that resolves once it is durable.

        Does not block, whatever ``max_inflight_events`` is; the future must be
        awaited on the running loop. Raises :class:`InvalidArgumentError` at once
        for a bad event or key; a failed write sets a :class:`PravegaIOError` (an
        ``OSError``) on the future.
        """
        if isinstance(event, str):
            event = event.encode("utf-8")
        self._check_open()
        bridge = bridge_for(current_loop())

        def launch(callback: Any, user_data: Any, tag: int) -> None:
            self._enqueue(event, routing_key, callback, user_data, tag)

        return bridge.start(
            launch, _no_result, orphaned_failure=self._keep_orphaned_failure
        )

    def write_events(
        self, events: Iterable[Union[str, BytesLike]], routing_key: Optional[str] = None
    ) -> None:
        """Writes a batch of events with one routing key, in one native call.

        Blocks and raises as :meth:`write_event_bytes` does, counting each event of
        the batch; the events keep their order. A bad event raises
        :class:`InvalidArgumentError` before any of the batch is written.
        """
        payloads = [payload_bytes(event) for event in events]
        if not payloads:
            return
        if self._orphaned:
            self._raise_orphaned_failure()
        key = encode_optional("routing_key", routing_key)
        data = b"".join(payloads)
        lengths = ffi.new("size_t[]", [len(payload) for payload in payloads])
        self._invoke(
            lib.pravega_writer_write_batch,
            key,
            data,
            len(data),
            lengths,
            len(payloads),
            ffi.NULL,
            ffi.NULL,
            0,
        )
        self._wait_outstanding(self._max_inflight)

    def flush_async(self) -> "asyncio.Future[None]":
        """A future that resolves once every event written so far is acknowledged,
        or fails with the first failure not yet reported.

        Does not block. It has no time limit of its own (see :meth:`flush`).
        Cancelling it, as ``asyncio.wait_for`` does, stops only the wait: the events
        stay queued, the writer stays usable, and a failure the flush would have
        reported is raised by the next call instead.
        """
        self._check_open()
        bridge = bridge_for(current_loop())

        def launch(callback: Any, user_data: Any, tag: int) -> None:
            self._invoke(lib.pravega_writer_flush_async, callback, user_data, tag)

        def settle(_result: Any) -> None:
            self._raise_orphaned_failure()

        return bridge.start(
            launch, settle, orphaned_failure=self._keep_orphaned_failure
        )

    def flush(self, timeout: Optional[float] = None) -> None:
        """Waits until every write is acknowledged, then raises the first failure.

        Blocks the calling thread (never the GIL) until the segment store has
        answered every event written so far. The crate puts no time limit on an
        append: while the segment store is stalled or down, the wait lasts until it
        answers again, and with ``timeout=None`` (the default) ``flush()`` waits that
        long too; Ctrl-C interrupts it.

        With ``timeout`` (seconds, at least 0) it raises :class:`PravegaTimeoutError`
        (also a ``TimeoutError``) once that time has passed. The events stay queued
        and are still delivered, in order and once each: the writer stays usable,
        and a later ``flush()`` waits for them again. A failed write raises
        :class:`PravegaIOError`.
        """
        deadline = _deadline("timeout", timeout)
        try:
            self._wait_outstanding(0, deadline)
        except PravegaTimeoutError as error:
            timed_out = PravegaTimeoutError(
                f"flush did not finish within {timeout} s: {error}"
            )
            timed_out.status = error.status
            raise timed_out from None

    def close(self, timeout: Optional[float] = None) -> None:
        """Flushes, then releases the writer. Calling it again does nothing.

        The flush waits as :meth:`flush` does, so with ``timeout=None`` a close (or
        the end of a ``with`` block) during a stalled connection waits until the
        segment store answers. With ``timeout`` the wait is bounded: the writer is
        released all the same, events still unacknowledged are delivered in the
        background (a failure among them is only logged), and it raises
        :class:`PravegaTimeoutError`. Otherwise it raises what :meth:`flush` raises,
        after releasing the writer.
        """
        if self.closed:
            return
        try:
            self.flush(timeout)
        finally:
            self._release()

    def _enqueue(
        self,
        event: BytesLike,
        routing_key: Optional[str],
        callback: Any,
        user_data: Any,
        tag: int,
    ) -> None:
        if self._orphaned:  # tested inline: this is the per-event path
            self._raise_orphaned_failure()
        key = encode_optional("routing_key", routing_key)
        if isinstance(event, bytes):
            # The common case, and a per-event path: no context manager to pay for.
            self._invoke(
                lib.pravega_writer_write,
                key,
                event,
                len(event),
                callback,
                user_data,
                tag,
            )
            return
        with event_buffer(event) as data:
            self._invoke(
                lib.pravega_writer_write, key, data, len(data), callback, user_data, tag
            )

    def _wait_outstanding(self, limit: int, deadline: Optional[float] = None) -> None:
        """Waits until at most ``limit`` events are unacknowledged, and raises the
        first unreported failure; :class:`PravegaTimeoutError` once the monotonic
        ``deadline`` passed, if one is given."""
        while True:
            slice_ms = _WAIT_SLICE_MS
            if deadline is not None:
                left = deadline - time.monotonic()
                # The last call, with 0 ms, still reports success or a failure.
                slice_ms = max(0, min(slice_ms, math.ceil(left * 1000)))
            try:
                self._invoke(lib.pravega_writer_wait_outstanding, limit, slice_ms)
            except PravegaTimeoutError:
                if slice_ms == 0:
                    raise
                continue
            if self._orphaned:
                self._raise_orphaned_failure()
            return

    def _keep_orphaned_failure(self, failure: BaseException) -> None:
        """Keeps a failure whose future was cancelled, for the next call to raise.

        Runs on the loop's thread. Only the first is kept, as the native writer keeps
        only the first failure of events written without a future.
        """
        if self._orphaned:
            logger.debug(
                "a later failure of %s was not kept: %s", self._stream, failure
            )
            return
        self._orphaned.append(failure)

    def _raise_orphaned_failure(self) -> None:
        try:
            failure = self._orphaned.pop()
        except IndexError:
            return  # another thread reported it first
        raise failure

    def _outstanding(self) -> int:
        ptr = self._ptr
        return 0 if ptr is None else int(lib.pravega_writer_outstanding(ptr))

    def to_str(self) -> str:
        limit = self._max_inflight
        return f"StreamWriter(stream={self._stream!r}, max_inflight_events={limit})"

    def __repr__(self) -> str:
        return self.to_str()


@contextmanager
def event_buffer(event: Any) -> Iterator[Any]:
    """What a native call takes for a bytes-like event, without copying it.

    A view into a bytearray or memoryview is released when the block ends. Left to the
    collector, it could be cleared in the same garbage cycle as the memoryview it
    exports from, which crashes CPython 3.11 (the view's buffer is freed twice).
    """
    if isinstance(event, bytes):
        yield event
        return
    if isinstance(event, memoryview) and not event.c_contiguous:
        # A strided view is bytes-like too, but cffi can only point at one block.
        yield event.tobytes()
        return
    if not isinstance(event, (bytearray, memoryview)):
        raise InvalidArgumentError(
            f"event must be bytes-like, not {type(event).__name__}"
        )
    view = ffi.from_buffer("char[]", event)
    try:
        yield view
    finally:
        ffi.release(view)


def payload_bytes(event: Any) -> bytes:
    """A str or bytes-like event as bytes, copied unless it is bytes already."""
    if isinstance(event, str):
        return event.encode("utf-8")
    if isinstance(event, bytes):
        return event
    if isinstance(event, (bytearray, memoryview)):
        return bytes(event)
    raise InvalidArgumentError(f"event must be bytes-like, not {type(event).__name__}")


def _no_result(_result: Any) -> None:
    return None


# Every writer not yet collected, so that interpreter exit can flush those left open:
# at exit the runtime's threads stop with the process, and PyPy runs no finalizers,
# so events still in flight would otherwise be lost without a word.
_open_writers: "weakref.WeakSet[StreamWriter]" = weakref.WeakSet()


def _flush_open_writers() -> None:
    deadline = time.monotonic() + _EXIT_FLUSH_S
    for writer in list(_open_writers):
        if writer.closed:
            continue
        try:
            writer._wait_outstanding(0, deadline)
        except PravegaTimeoutError:
            logger.warning(
                "%d events written to %s were not acknowledged within %.0f s of "
                "interpreter exit and may be lost",
                writer._outstanding(),
                writer._stream,
                _EXIT_FLUSH_S,
            )
        except PravegaError as error:
            logger.warning(
                "a write to %s failed before interpreter exit: %s",
                writer._stream,
                error,
            )
        except KeyboardInterrupt:
            logger.warning("the flush of open writers at exit was interrupted")
            return


atexit.register(_flush_open_writers)


def _deadline(argument: str, timeout: Optional[float]) -> Optional[float]:
    """The ``time.monotonic()`` at which ``timeout`` seconds from now end; None for
    no limit."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise InvalidArgumentError(
            f"{argument} must be a number of seconds or None, not {timeout!r}"
        )
    # A NaN deadline is never reached, so the wait would never end.
    if math.isnan(timeout) or timeout < 0:
        raise InvalidArgumentError(f"{argument} must be at least 0, not {timeout}")
    return time.monotonic() + timeout
