"""Turns native completions into asyncio futures, in batches, on the loop's own thread.

Native operations report to a ``PravegaCompletionQueue`` instead of calling Python
from a Rust thread. The queue's descriptor becomes readable once when it turns
non-empty; the loop then drains every waiting completion in one go and resolves the
matching futures. One wake-up of the loop serves a whole batch, and no Rust thread
ever takes the GIL.

Each in-flight operation is known by an integer tag that indexes ``_pending``; the
native side never holds a pointer to a Python object.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import weakref
from typing import Any, Callable, Dict, Optional, Tuple

from ._ffi import error_from, ffi, invoke, lib

logger = logging.getLogger(__name__)

_BATCH = 256

# What to do with a successful result pointer, and how to dispose of one that nobody
# will take (the future was cancelled or the loop is gone).
Convert = Callable[[Any], Any]
Discard = Optional[Callable[[Any], None]]
# Lets a caller turn a native failure into the exception its API promises.
Translate = Optional[Callable[[BaseException], BaseException]]
# Takes a failure whose future was cancelled before it arrived, so that the handle can
# report it on its next call instead of losing it.
Orphan = Optional[Callable[[BaseException], None]]


class CompletionBridge:
    """The completion queue of one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        box = ffi.new("PravegaCompletionQueue **")
        invoke(lib.pravega_completion_queue_new, box)
        self._queue = box[0]
        self._loop_ref = weakref.ref(loop)
        self._pending: Dict[
            int, Tuple["asyncio.Future[Any]", Convert, Discard, Translate, Orphan]
        ] = {}
        self._tags = itertools.count(1)
        self._batch = ffi.new("PravegaCompletion[]", _BATCH)
        self._count = ffi.new("size_t *")
        self.callback = ffi.addressof(lib, "pravega_completion_queue_push")
        loop.add_reader(lib.pravega_completion_queue_fd(self._queue), self._drain)

    def start(
        self,
        launch: Callable[[Any, Any, int], None],
        convert: Convert,
        discard: Discard = None,
        translate_error: Translate = None,
        orphaned_failure: Orphan = None,
    ) -> "asyncio.Future[Any]":
        """Starts one native operation and returns the future of its result.

        ``launch(callback, user_data, tag)`` must call the native function. If it
        raises, nothing is left pending. A failure that arrives after the future was
        cancelled goes to ``orphaned_failure`` when one is given, and is dropped
        otherwise.
        """
        loop = self._loop_ref()
        assert loop is not None, "the bridge outlived its loop"
        future = loop.create_future()
        tag = next(self._tags)
        self._pending[tag] = (
            future,
            convert,
            discard,
            translate_error,
            orphaned_failure,
        )
        try:
            launch(self.callback, self._queue, tag)
        except BaseException:
            del self._pending[tag]
            raise
        return future

    def _drain(self) -> None:
        while True:
            invoke(
                lib.pravega_completion_queue_drain,
                self._queue,
                self._batch,
                _BATCH,
                self._count,
            )
            count = self._count[0]
            for index in range(count):
                entry = self._batch[index]
                self._settle(entry.tag, entry.status, entry.error, entry.result)
            if count < _BATCH:
                return

    def _settle(self, tag: int, status: int, error: Any, result: Any) -> None:
        pending = self._pending.pop(tag, None)
        if pending is None:
            # The native side promises never to complete a call that failed; should
            # it, the failed call already raised, so this report has nowhere to go.
            logger.error("a completion arrived for an operation that had failed")
            if status != lib.PRAVEGA_STATUS_OK:
                lib.pravega_error_free(error)
            return
        future, convert, discard, translate, orphan = pending
        if status != lib.PRAVEGA_STATUS_OK:
            failure: BaseException = error_from(status, error)
            if translate is not None:
                failure = translate(failure)
            if not future.done():
                future.set_exception(failure)
            elif orphan is not None:
                orphan(failure)
            return
        if future.done():
            # Cancelled while the native side was working: hand the result back so that
            # nothing it holds (such as a segment slice) is lost.
            if discard is not None and result != ffi.NULL:
                discard(result)
            return
        try:
            future.set_result(convert(result))
        except BaseException as failure:  # a converter bug must not kill the loop
            future.set_exception(failure)

    def __del__(self) -> None:
        try:
            if not self._pending:
                lib.pravega_completion_queue_free(self._queue)
            # FIXME: a loop that is dropped while native operations are still in flight
            # leaks its queue (a few hundred bytes and a socket pair), because freeing
            # it would let those operations write into freed memory.
        except Exception:
            pass


_bridges: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CompletionBridge]" = (
    weakref.WeakKeyDictionary()
)
_bridges_lock = threading.Lock()


def bridge_for(loop: asyncio.AbstractEventLoop) -> CompletionBridge:
    """The bridge of ``loop``, made on first use. Call it on the loop's thread."""
    with _bridges_lock:
        bridge = _bridges.get(loop)
        if bridge is None:
            bridge = CompletionBridge(loop)
            _bridges[loop] = bridge
        return bridge


def current_loop() -> asyncio.AbstractEventLoop:
    """The running loop, or the thread's default loop as the 0.3.8 binding accepted."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop()
