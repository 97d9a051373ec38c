"""The base class of every Python object that owns a native handle."""

from __future__ import annotations

from typing import Any, Callable, Optional

from ._ffi import ffi
from .exceptions import ClosedError


class NativeHandle:
    """Owns one native pointer and frees it exactly once.

    ``close()`` is idempotent; using the object afterwards raises :class:`ClosedError`
    instead of touching freed memory. ``__del__`` frees a handle that was never closed,
    and is safe at interpreter shutdown, when module globals may already be gone.
    """

    _ptr: Any = None
    _free: Optional[Callable[[Any], None]] = None

    def __init__(self, ptr: Any, free: Callable[[Any], None]) -> None:
        self._ptr = ptr
        self._free = free

    def _handle(self) -> Any:
        ptr = self._ptr
        if ptr is None:
            raise ClosedError(f"{type(self).__name__} is closed")
        return ptr

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def _release(self) -> None:
        """Frees the native object now. Subclasses call this at the end of close()."""
        ptr, free = self._ptr, self._free
        self._ptr = None
        if ptr is not None and free is not None and ptr != ffi.NULL:
            free(ptr)

    def close(self) -> None:
        self._release()

    def __enter__(self) -> "NativeHandle":
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
