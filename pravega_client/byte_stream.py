"""ByteStream: a single-segment stream as a binary file."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Optional, Tuple

from ._ffi import ffi, lib
from ._handle import NativeHandle
from ._interrupt import interruptible
from .exceptions import ClosedError, InvalidArgumentError
from .stream_writer import event_buffer

if TYPE_CHECKING:
    # The buffer protocols io.RawIOBase is typed with; typeshed only, never imported.
    from _typeshed import ReadableBuffer, WriteableBuffer


class _NativeByteStream(NativeHandle):
    def __init__(self, ptr: Any) -> None:
        super().__init__(ptr, lib.pravega_byte_stream_free)


class ByteStream(io.RawIOBase):
    """A Pravega stream with one segment, read and written as bytes.

    It is a genuine ``io.RawIOBase``: it works with ``read()``, ``readall()``,
    ``with``, ``io.BufferedReader``/``BufferedWriter``, ``io.TextIOWrapper`` and
    ``shutil.copyfileobj``. Every call blocks its thread (never the GIL).

    - ``write(b)`` appends at the tail of the stream, even when the stream already
      held data, and returns how many bytes it took: at most 8 MiB per call, as a raw
      file may (buffered wrappers write the rest). ``flush()`` makes them durable.
    - Reads start at the head and return what is there; at the tail they return
      ``b""`` at once, as a file at its end does, instead of waiting for new data.
    - ``seek`` moves the read position within ``[head, tail]``; ``truncate(offset)``
      drops the data *before* ``offset``, as in the 0.3.8 package.
    """

    def __init__(self, ptr: Any, name: str) -> None:
        super().__init__()
        self._native = _NativeByteStream(ptr)
        self._name = name

    # Capabilities. Documented here, not inherited: PyPy's io classes carry no
    # docstrings for them.

    def readable(self) -> bool:
        """True: a byte stream can be read. Raises :class:`ClosedError` once closed."""
        self._check_open()
        return True

    def writable(self) -> bool:
        """True: a byte stream takes writes. Raises :class:`ClosedError` once closed."""
        self._check_open()
        return True

    def seekable(self) -> bool:
        """True: a byte stream can seek. Raises :class:`ClosedError` once closed."""
        self._check_open()
        return True

    # Reading and writing

    def readinto(self, buffer: WriteableBuffer) -> int:
        """Reads into ``buffer``; returns the count, 0 at the tail.

        Blocks on the segment store. Raises :class:`PravegaIOError` when the read
        fails, and :class:`ClosedError` after :meth:`close`.
        """
        self._check_open()
        target = ffi.from_buffer("char[]", buffer, require_writable=True)
        count = ffi.new("size_t *")
        try:
            self._native._invoke(
                lib.pravega_byte_stream_read, target, len(target), count
            )
        finally:
            ffi.release(target)  # see stream_writer.event_buffer
        return int(count[0])

    def write(self, data: ReadableBuffer) -> int:
        """Appends up to 8 MiB of ``data`` at the tail; returns how many bytes.

        Blocks only while the write queue is full; the bytes are durable once
        :meth:`flush` returns. Raises :class:`InvalidArgumentError` for a str, and
        :class:`PravegaIOError` for a failure of this or an earlier write.
        """
        self._check_open()
        if isinstance(data, str):
            raise InvalidArgumentError("write() takes bytes-like data, not str")
        written = ffi.new("size_t *")
        with event_buffer(data) as source:
            self._native._invoke(
                lib.pravega_byte_stream_write, source, len(source), written
            )
        return int(written[0])

    @interruptible
    def flush(self) -> None:
        """Waits until every byte written is durable.

        Blocks on the segment store. Raises :class:`PravegaIOError` for a write that
        failed.
        """
        if self.closed or self._native.closed:  # io's close() flushes after ours
            return
        self._native._invoke(lib.pravega_byte_stream_flush)

    # Position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Moves the read position and returns it.

        Blocks on the segment store for ``SEEK_END``. Raises
        :class:`InvalidArgumentError` (a ``ValueError``) for a position outside
        ``[head, tail]`` or a bad ``whence``.
        """
        self._check_open()
        # 1.0 == io.SEEK_CUR, but the native int32_t parameter takes no float.
        exact_int = isinstance(whence, int) and not isinstance(whence, bool)
        if not exact_int or whence not in (io.SEEK_SET, io.SEEK_CUR, io.SEEK_END):
            raise InvalidArgumentError(f"whence must be 0, 1 or 2, not {whence!r}")
        _check_offset(offset)
        position = ffi.new("uint64_t *")
        self._native._invoke(lib.pravega_byte_stream_seek, offset, whence, position)
        return int(position[0])

    def tell(self) -> int:
        """The read position. Does not block; raises :class:`ClosedError` after
        :meth:`close`."""
        self._check_open()
        ptr = self._native._enter()  # counted, so a concurrent close() waits for it
        try:
            return int(lib.pravega_byte_stream_tell(ptr))
        finally:
            self._native._exit()

    @interruptible
    def truncate(self, offset: Optional[int] = None) -> int:
        """Drops the data before ``offset`` (the read position when None), for good.

        Blocks on the segment store. Raises :class:`InvalidArgumentError` for an
        offset outside the stream, and :class:`PravegaIOError` when it fails.
        """
        self._check_open()
        if offset is None:
            offset = self.tell()
        _check_offset(offset)
        self._native._invoke(lib.pravega_byte_stream_truncate, offset)
        return offset

    def current_head_offset(self) -> int:
        """The offset of the first byte the stream still holds. Blocks on the
        segment store; raises :class:`PravegaIOError` when it fails."""
        return self._bounds()[0]

    def current_tail_offset(self) -> int:
        """The offset just past the last byte written. Blocks on the segment
        store; raises :class:`PravegaIOError` when it fails."""
        return self._bounds()[1]

    @interruptible
    def _bounds(self) -> Tuple[int, int]:
        self._check_open()
        head, tail = ffi.new("uint64_t *"), ffi.new("uint64_t *")
        self._native._invoke(lib.pravega_byte_stream_bounds, head, tail)
        return head[0], tail[0]

    # Lifecycle

    def close(self) -> None:
        """Flushes, then releases the stream. Calling it again does nothing.

        Blocks and raises as :meth:`flush` does; the stream is released even then.
        """
        if self.closed:
            return
        try:
            self.flush()
        finally:
            self._native.close()
            super().close()

    def _check_open(self) -> None:
        if self.closed:
            raise ClosedError("ByteStream is closed")

    def to_str(self) -> str:
        return f"ByteStream(stream={self._name!r}, closed={self.closed})"

    def __repr__(self) -> str:
        return self.to_str()


def _check_offset(offset: Any) -> None:
    """Refuses what the native int64_t offset cannot hold, with the ValueError that
    an offset outside the stream gets, rather than cffi's OverflowError."""
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise InvalidArgumentError(f"offset must be int, not {type(offset).__name__}")
    if not -(2**63) <= offset < 2**63:
        raise InvalidArgumentError(f"offset {offset} is outside the stream")
