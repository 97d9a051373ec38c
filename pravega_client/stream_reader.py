"""Reader groups, readers, segment slices and events."""

from __future__ import annotations

import asyncio
from typing import Any, Iterator

from ._completion import bridge_for, current_loop
from ._ffi import encode_name, ffi, lib
from ._handle import NativeHandle


class Event:
    """One event read from a stream: its payload and its offset in its segment."""

    __slots__ = ("_data", "_offset")

    def __init__(self, data: bytes, offset: int) -> None:
        self._data = data
        self._offset = offset

    def data(self) -> bytes:
        """The payload, exactly as written."""
        return self._data

    def offset(self) -> int:
        """The event's byte offset within its segment."""
        return self._offset

    def to_str(self) -> str:
        return f"Event(offset={self._offset}, length={len(self._data)})"

    def __repr__(self) -> str:
        return self.to_str()


class Slice(NativeHandle):
    """The events of one segment that a reader holds, as an iterator of :class:`Event`.

    An empty slice (no data arrived in time) simply yields nothing. Give the slice
    back with ``StreamReader.release_segment``; a slice that is dropped instead goes
    back to its reader at the position reached.
    """

    def __init__(self, ptr: Any) -> None:
        super().__init__(ptr, lib.pravega_slice_free)
        self._data = ffi.new("uint8_t **")
        self._len = ffi.new("size_t *")
        self._offset = ffi.new("int64_t *")
        self._found = ffi.new("bool *")

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        if self._ptr is None or self._ptr == ffi.NULL:
            raise StopIteration
        self._invoke(
            lib.pravega_slice_next, self._data, self._len, self._offset, self._found
        )
        if not self._found[0]:
            raise StopIteration
        return Event(ffi.buffer(self._data[0], self._len[0])[:], self._offset[0])

    def to_str(self) -> str:
        return f"Slice(empty={self._ptr is None or self._ptr == ffi.NULL})"

    def __repr__(self) -> str:
        return self.to_str()


class StreamReader(NativeHandle):
    """One reader of a reader group.

    Slices come from :meth:`get_segment_slice_async`. Blocking calls release the GIL.
    """

    def __init__(self, ptr: Any, name: str, group: str) -> None:
        super().__init__(ptr, lib.pravega_reader_free)
        self._name = name
        self._group = group

    def get_segment_slice_async(self) -> "asyncio.Future[Slice]":
        """Returns a future of the next slice; it is empty if no data came within ~1 s.

        If the future is cancelled after the slice arrived, the slice goes back to the
        reader, so no event is lost.
        """
        bridge = bridge_for(current_loop())

        def launch(callback: Any, user_data: Any, tag: int) -> None:
            self._invoke(lib.pravega_reader_acquire_segment, callback, user_data, tag)

        return bridge.start(launch, Slice, lib.pravega_slice_free)

    def release_segment(self, slice: Slice) -> None:
        """Gives a slice back; the events it did not yield are delivered again later."""
        ptr = slice._take()
        if ptr is None or ptr == ffi.NULL:
            return
        self._invoke(lib.pravega_reader_release_segment, ptr)

    def reader_offline(self) -> None:
        """Takes the reader offline; its segments go to the group's other readers."""
        self._invoke(lib.pravega_reader_offline)

    def close(self) -> None:
        """Takes the reader offline, then releases it. Calling it again does nothing.

        A reader that is garbage-collected instead goes offline in the background.
        """
        if self.closed:
            return
        try:
            self.reader_offline()
        finally:
            self._release()

    def to_str(self) -> str:
        return f"StreamReader(name={self._name!r}, reader_group={self._group!r})"

    def __repr__(self) -> str:
        return self.to_str()


class StreamReaderGroup(NativeHandle):
    """A named group of readers that share a stream's segments between them."""

    def __init__(self, ptr: Any, name: str, scope_name: str) -> None:
        super().__init__(ptr, lib.pravega_reader_group_free)
        self._name = name
        self._scope = scope_name

    def create_reader(self, reader_name: str) -> StreamReader:
        """Brings a new reader online; a name that is already online raises."""
        name = encode_name("reader_name", reader_name)
        box = ffi.new("PravegaReader **")
        self._invoke(lib.pravega_reader_group_create_reader, name, box)
        return StreamReader(box[0], reader_name, self._name)

    def to_str(self) -> str:
        return f"StreamReaderGroup(name={self._name!r}, scope={self._scope!r})"

    def __repr__(self) -> str:
        return self.to_str()
