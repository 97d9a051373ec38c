"""Keeps Ctrl-C prompt while the main thread waits for a blocking native call.

Python runs signal handlers only on the main thread, between bytecodes. A native call
that waits for the controller (up to its timeout, 30 s by default) would hold off
KeyboardInterrupt until it returned. So on the main thread such calls run on a helper
thread, and the main thread waits for them on a Python lock, in slices: a signal
handler runs within one slice, and its exception propagates to the caller.

An interrupted call goes on to its end on the helper; its result is dropped, and any
object it made is freed by that object's finalizer. Calls from other threads, which
never run signal handlers, are made directly.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
from typing import Any, Callable, List, Optional, TypeVar, cast

# How long the main thread waits on the helper between chances to run signal handlers.
# CPython's lock waits are interrupted by signals anyway; PyPy's may not be.
_WAIT_SLICE_S = 0.2

F = TypeVar("F", bound=Callable[..., Any])


class _Call:
    __slots__ = ("function", "args", "kwargs", "result", "error", "done")

    def __init__(self, function: Callable[..., Any], args: Any, kwargs: Any) -> None:
        self.function: Optional[Callable[..., Any]] = function
        self.args = args
        self.kwargs = kwargs
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.done = threading.Event()

    def run(self) -> None:
        """Runs the call and keeps its outcome; ``done`` is set by the helper."""
        try:
            assert self.function is not None, "a call runs once"
            self.result = self.function(*self.args, **self.kwargs)
        except BaseException as error:
            self.error = error
        finally:
            # Nothing the call refers to is kept by the helper once it is done.
            self.function = self.args = self.kwargs = None


class _Helper(threading.Thread):
    """Runs calls for the main thread, one at a time. A daemon: an interrupted call
    that is still waiting for the server must not hold up interpreter exit."""

    def __init__(self) -> None:
        super().__init__(name="pravega-call", daemon=True)
        self.calls: "queue.SimpleQueue[_Call]" = queue.SimpleQueue()

    def run(self) -> None:
        while True:
            call = self.calls.get()
            call.run()
            # Idle again before the caller hears of the result, so that the caller's
            # next call finds this helper instead of starting another.
            with _idle_lock:
                _idle.append(self)
            call.done.set()
            del call


# Helpers with no call to run. Usually one: a second is started only while an
# interrupted call still occupies the first.
_idle: List[_Helper] = []
_idle_lock = threading.Lock()


def _forget_helpers() -> None:
    """A child made by fork has none of its parent's threads."""
    global _idle_lock
    _idle.clear()
    _idle_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers)


def _helper() -> Optional[_Helper]:
    """An idle helper, started if need be; None when no thread can be started (as
    late in interpreter shutdown)."""
    with _idle_lock:
        if _idle:
            return _idle.pop()
    helper = _Helper()
    try:
        helper.start()
    except RuntimeError:
        return None
    return helper


def call_interruptibly(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Calls ``function(*args, **kwargs)``; on the main thread, as described above."""
    if threading.current_thread() is not threading.main_thread():
        return function(*args, **kwargs)
    helper = _helper()
    if helper is None:
        return function(*args, **kwargs)
    call = _Call(function, args, kwargs)
    helper.calls.put(call)
    while not call.done.wait(_WAIT_SLICE_S):
        pass
    if call.error is not None:
        error, call.error = call.error, None
        raise error
    return call.result


def interruptible(method: F) -> F:
    """Makes a blocking method leave the main thread responsive to Ctrl-C."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return call_interruptibly(method, *args, **kwargs)

    return cast(F, wrapper)
