"""The base class of every Python object that owns a native handle."""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional, TypeVar

from ._ffi import invoke
from .exceptions import ClosedError

# `with manager as m:` gives m the type of manager, not of this base class.
_Handle = TypeVar("_Handle", bound="NativeHandle")


class NativeHandle:
    """Owns one native pointer and frees it exactly once, never while it is in use.

    Every native call on the handle goes through :meth:`_invoke`, which counts calls
    in progress. ``close()`` from another thread therefore cannot free the object under
    a call that is still running (say, a flush waiting for the server): the last call
    to finish frees it. After ``close()`` new calls raise :class:`ClosedError` instead
    of touching freed memory. ``close()`` is idempotent, and ``__del__`` is safe at
    interpreter shutdown, when module globals may already be gone.
    """

    _ptr: Any = None
    _free: Optional[Callable[[Any], None]] = None

    def __init__(self, ptr: Any, free: Callable[[Any], None]) -> None:
        self._lock = threading.Lock()
        self._calls_in_progress = 0
        self._closing = False
        self._ptr = ptr
        self._free = free

    @property
    def closed(self) -> bool:
        return self._ptr is None or self._closing

    def _check_open(self) -> None:
        """Raises ClosedError now, before any other work, if the handle is closed."""
        if self._ptr is None or self._closing:
            raise ClosedError(f"{type(self).__name__} is closed")

    def _enter(self) -> Any:
        with self._lock:
            self._check_open()
            self._calls_in_progress += 1
            return self._ptr

    def _exit(self) -> None:
        with self._lock:
            self._calls_in_progress -= 1
            free_now = self._closing and self._calls_in_progress == 0
        if free_now:
            self._free_native()

    def _invoke(self, function: Callable[..., int], *args: Any) -> None:
        """Calls ``function(handle, *args, error)`` and raises on failure."""
        ptr = self._enter()
        try:
            invoke(function, ptr, *args)
        finally:
            self._exit()

    def _take(self) -> Any:
        """Gives up ownership of the pointer to a native call that consumes it."""
        with self._lock:
            if self._calls_in_progress:
                raise ClosedError(f"{type(self).__name__} is in use by another thread")
            ptr, self._ptr = self._ptr, None
            return ptr

    def _release(self) -> None:
        """Frees the native object now, or when the last call in progress returns."""
        lock = getattr(self, "_lock", None)
        if lock is None:  # __init__ never ran
            return
        with lock:
            if self._ptr is None or self._closing:
                return
            self._closing = True
            free_now = self._calls_in_progress == 0
        if free_now:
            self._free_native()

    def _free_native(self) -> None:
        ptr, free = self._ptr, self._free
        self._ptr = None
        if ptr is not None and free is not None:
            free(ptr)

    def close(self) -> None:
        self._release()

    def __enter__(self: _Handle) -> _Handle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._release()
        except Exception:
            # At interpreter shutdown the cffi module may be half torn down; the process
            # is exiting, so there is nothing left to protect.
            pass
