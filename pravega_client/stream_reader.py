"""Reader groups, readers, segment slices and events."""

from __future__ import annotations

import asyncio
import math
import threading
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Sequence, Set

from ._completion import bridge_for, current_loop
from ._ffi import encode_name, ffi, invoke, lib, raise_for
from ._handle import NativeHandle
from ._interrupt import interruptible
from .exceptions import InvalidArgumentError

# How much payload one native batch call hands over at most. Large enough that the
# call's fixed cost vanishes for small events, small enough to stay in the CPU cache.
_BATCH_BYTES = 256 * 1024
# Events per native call when a slice is iterated: the first call takes a few, and
# each later one twice as many, up to the most.
_FIRST_PREFETCH = 16
_MAX_PREFETCH = 1024
# From this average size on, events are copied one by one out of native memory rather
# than as one block that is then sliced: the per-event call costs less than a second
# copy of their bytes.
_LARGE_EVENT_BYTES = 4096
# The most events one read() asks the native side for: its size_t limit.
_MAX_EVENTS_PER_READ = 2**64 - 1


class Event:
    """One event read from a stream: its payload, its offset in its segment, and
    where it came from."""

    __slots__ = ("_data", "_offset", "_segment")

    def __init__(self, data: bytes, offset: int, segment: str = "") -> None:
        self._data = data
        self._offset = offset
        self._segment = segment

    def stream(self) -> str:
        """The event's stream, as "scope/stream"."""
        return self._segment.rsplit("/", 1)[0]

    def segment(self) -> str:
        """The event's segment, as "scope/stream/number.#epoch.N"."""
        return self._segment

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

    Iteration takes events from native memory in batches, not one call per event.
    Events taken but not yet handed out are given back with the slice and delivered
    again, exactly as if they had never been taken.
    """

    def __init__(self, ptr: Any) -> None:
        super().__init__(ptr, lib.pravega_slice_free)
        self._error = ffi.new("PravegaError **")
        self._batch: Any = None
        # The last native batch, handed out by __next__ up to _ahead_index.
        self._ahead: List[Event] = []
        self._ahead_index = 0
        self._prefetch = _FIRST_PREFETCH
        self._segment = (
            ffi.string(lib.pravega_slice_segment(ptr)).decode() if ptr else ""
        )
        self.reader: Optional["StreamReader"] = None

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        index = self._ahead_index
        if index < len(self._ahead):
            self._ahead_index = index + 1
            return self._ahead[index]
        # A reader that takes a few events and releases the slice pays for a refetch
        # of what was taken ahead, so batches start small and grow while it goes on.
        ahead = self._take_batch(self._prefetch)
        self._prefetch = min(2 * self._prefetch, _MAX_PREFETCH)
        self._ahead = ahead
        if not ahead:
            self._ahead_index = 0
            raise StopIteration
        self._ahead_index = 1
        return ahead[0]

    def _take_batch(self, limit: int) -> List[Event]:
        """Takes up to ``limit`` events from the slice in one native call; none once
        the slice is used up or closed."""
        if self._ptr is None or self._ptr == ffi.NULL:
            return []
        if self._batch is None:
            self._batch = ffi.new("PravegaEventBatch *")
        batch = self._batch
        ptr = self._enter()
        try:
            status = lib.pravega_slice_next_batch(
                ptr, limit, _BATCH_BYTES, batch, self._error
            )
            if status != lib.PRAVEGA_STATUS_OK:
                raise_for(status, self._error[0])
            count = batch.count
            if count == 0:
                return []
            lengths = ffi.unpack(batch.lengths, count)
            offsets = ffi.unpack(batch.offsets, count)
            if batch.data_len >= count * _LARGE_EVENT_BYTES:
                return _copy_each(batch.data, lengths, offsets, self._segment)
            # One copy of the whole batch; slicing bytes is far cheaper than a cffi
            # round trip per event.
            blob = ffi.buffer(batch.data, batch.data_len)[:]
        finally:
            self._exit()
        return _slice_blob(blob, lengths, offsets, self._segment)

    def _read_into(self, events: List[Event], limit: int) -> bool:
        """Appends up to ``limit`` events to ``events`` and tells whether the slice is
        used up.

        Asks the native side for no more than it appends, so that the slice's
        position never runs ahead of what was handed out.
        """
        ahead = self._ahead[self._ahead_index : self._ahead_index + limit]
        self._ahead_index += len(ahead)
        events.extend(ahead)
        limit -= len(ahead)
        while limit > 0:
            batch = self._take_batch(limit)
            if not batch:
                return True
            events.extend(batch)
            limit -= len(batch)
        return False

    def _hand_back(self, ptr: Any) -> None:
        """Counts the events taken ahead but not handed out as unread, so that they
        are delivered again once the slice goes back to its reader."""
        unread = len(self._ahead) - self._ahead_index
        self._ahead = []
        self._ahead_index = 0
        if unread and ptr is not None and ptr != ffi.NULL:
            status = lib.pravega_slice_unread(ptr, unread, self._error)
            raise_for(status, self._error[0])

    def _free_native(self) -> None:
        try:
            self._hand_back(self._ptr)
        finally:
            super()._free_native()

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
        # read() keeps a slice it has not used up for its next call: acquiring and
        # releasing a slice costs far more than reading a few hundred events from it.
        # Never kept while an acquire is in flight, since the crate's acquire may wait
        # for that very slice to come back.
        self._kept: Optional[Slice] = None
        self._acquires_in_flight = 0
        self._kept_lock = threading.Lock()
        # Slices that `async for` loops are in. A loop left with `break` is closed only
        # when its generator is collected, which can be after the reader went
        # offline: going offline releases them first, at the position reached, so
        # that the group does not hand the events already yielded out again.
        self._iterated: Set[Slice] = set()

    def get_segment_slice_async(self) -> "asyncio.Future[Slice]":
        """Returns a future of the next slice; it is empty if no data came within ~1 s.

        Does not block: the slice arrives through the future. The request has no
        time limit of its own beyond that. While the segment store
        keeps its connections open but does not answer (a stalled server or network
        path), the future stays pending until it answers again. When the server is
        down, the future fails with :class:`PravegaConnectionError` once the retries
        give up (about 9 s with the default retry policy), and with
        :class:`ClosedError` when the reader is offline, as after a restart that lost
        its reader group.

        The future can be cancelled at once (``asyncio.wait_for``, ``task.cancel()``).
        The native request still runs to its end, and a slice it gets after the
        cancellation goes back to the reader, so no event is lost or read twice; the
        next request may wait a few seconds for that. Keep the event loop that made
        the request running until then: a slice for a closed loop never gets back to
        the reader, whose later requests may then wait for it.
        """
        self._check_open()
        bridge = bridge_for(current_loop())
        self._release_kept()

        def launch(callback: Any, user_data: Any, tag: int) -> None:
            self._invoke(lib.pravega_reader_acquire_segment, callback, user_data, tag)

        def to_slice(ptr: Any) -> Slice:
            segment_slice = Slice(ptr)
            segment_slice.reader = self
            return segment_slice

        with self._kept_lock:
            self._acquires_in_flight += 1
        try:
            future = bridge.start(launch, to_slice, lib.pravega_slice_free)
        except BaseException:
            self._acquire_done()
            raise
        future.add_done_callback(self._acquire_done)
        return future

    def _acquire_done(self, _future: object = None) -> None:
        with self._kept_lock:
            self._acquires_in_flight -= 1

    def _take_kept(self) -> Optional[Slice]:
        with self._kept_lock:
            kept, self._kept = self._kept, None
            return kept

    def _keep_or_release(self, segment_slice: Slice, used_up: bool) -> None:
        """Keeps a slice with events left for the next read(), or gives it back."""
        with self._kept_lock:
            keep = (
                not used_up
                and self._acquires_in_flight == 0
                and self._kept is None
                and not self.closed
            )
            if keep:
                self._kept = segment_slice
        if not keep:
            self.release_segment(segment_slice)

    def _release_kept(self) -> None:
        kept = self._take_kept()
        if kept is not None:
            self.release_segment(kept)

    def _release_iterated(self) -> None:
        with self._kept_lock:
            iterated, self._iterated = self._iterated, set()
        for segment_slice in iterated:
            self.release_segment(segment_slice)

    async def read(
        self, max_events: int = 1000, timeout: Optional[float] = None
    ) -> List[Event]:
        """Up to ``max_events`` events, waiting at most ``timeout`` seconds for the
        first ones (None: until some arrive); [] when the timeout passed first.

        Waits on the segment store without blocking the loop, and can be cancelled
        with no event lost. Raises :class:`InvalidArgumentError` for a bad count or
        timeout, :class:`PravegaIOError` when reading fails, and
        :class:`ClosedError` after :meth:`close`.

        Slices are acquired and released here. A slice with events left is kept for
        the next call; :meth:`get_segment_slice_async`, :meth:`reader_offline` and
        :meth:`close` give it back first. Events are handed out
        in batches from native memory, so this is the fastest way to read.
        """
        if isinstance(max_events, bool) or not isinstance(max_events, int):
            raise InvalidArgumentError("max_events must be int")
        if max_events < 1:
            raise InvalidArgumentError(
                f"max_events must be at least 1, not {max_events}"
            )
        # More than the native size_t can count is the same request as "all there is".
        max_events = min(max_events, _MAX_EVENTS_PER_READ)
        if timeout is not None:
            # A NaN deadline is never reached, so the call would wait for ever.
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
                raise InvalidArgumentError(
                    f"timeout must be a number of seconds or None, not {timeout!r}"
                )
            if math.isnan(timeout):
                raise InvalidArgumentError("timeout must not be NaN")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        events: List[Event] = []
        while not events:
            segment_slice = self._take_kept()
            if segment_slice is None:
                segment_slice = await self.get_segment_slice_async()
            used_up = True
            try:
                used_up = segment_slice._read_into(events, max_events)
            finally:
                # The rest of a partly read slice stays at its position: kept for the
                # next call, or delivered again after the release.
                self._keep_or_release(segment_slice, used_up)
            if deadline is not None and loop.time() >= deadline:
                break
        return events

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while True:
            segment_slice = await self.get_segment_slice_async()
            with self._kept_lock:
                self._iterated.add(segment_slice)
            try:
                for event in segment_slice:
                    yield event
            finally:
                # Runs also when the consumer stops early: the rest comes again.
                with self._kept_lock:
                    self._iterated.discard(segment_slice)
                self.release_segment(segment_slice)

    async def __aenter__(self) -> "StreamReader":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def release_segment(self, slice: Slice) -> None:
        """Gives a slice back; the events it did not yield are delivered again later.

        Blocks briefly on the reader's state, not on the server. Raises
        :class:`InvalidArgumentError` for something that is not a slice of this
        reader. Releasing a slice twice does nothing.
        """
        if not isinstance(slice, Slice):
            raise InvalidArgumentError(
                f"slice must be a Slice, not {type(slice).__name__}"
            )
        if slice.reader is not None and slice.reader is not self:
            raise InvalidArgumentError("the slice belongs to another reader")
        ptr = slice._take()
        if ptr is None or ptr == ffi.NULL:
            return
        slice._hand_back(ptr)
        self._invoke(lib.pravega_reader_release_segment, ptr)

    @interruptible
    def reader_offline(self) -> None:
        """Takes the reader offline; its segments go to the group's other readers,
        from the positions this reader reached.

        Blocks on the segment store that holds the group's state. Raises
        :class:`ClosedError` after :meth:`close`.
        """
        # A slice kept by read() goes back first, so that the group records how far
        # it was read rather than where it was acquired; so do the slices of loops
        # that were left.
        self._release_kept()
        self._release_iterated()
        self._invoke(lib.pravega_reader_offline)

    def close(self) -> None:
        """Takes the reader offline, then releases it. Calling it again does nothing.

        Blocks and raises as :meth:`reader_offline` does; the reader is released
        even when that raises. A reader that is garbage-collected instead goes
        offline in the background.
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


class StreamCuts:
    """A reader group's position in a stream: a byte offset for each segment."""

    def __init__(self, stream: str, positions: Dict[int, int]) -> None:
        self._stream = stream
        self._positions = dict(positions)

    def get_segment_offset_map(self) -> Dict[int, int]:
        """Segment number to byte offset."""
        return dict(self._positions)

    def stream(self) -> str:
        """The stream, as "scope/stream"."""
        return self._stream

    def to_str(self) -> str:
        return f"StreamCuts(stream={self._stream!r}, positions={self._positions})"

    def __repr__(self) -> str:
        return self.to_str()


class StreamReaderGroupConfig:
    """The streams of a reader group, all read from their head, or from their tail
    when ``read_from_tail`` is true."""

    def __init__(
        self, read_from_tail: bool, scope_name: str, *stream_names: str
    ) -> None:
        if not stream_names:
            raise InvalidArgumentError(
                "a reader group config needs at least one stream"
            )
        encode_name("scope_name", scope_name)
        for index, name in enumerate(stream_names):
            encode_name(f"stream_names[{index}]", name)
        self.read_from_tail = bool(read_from_tail)
        self.scope_name = scope_name
        self.stream_names = tuple(stream_names)

    def to_str(self) -> str:
        return (
            f"StreamReaderGroupConfig(read_from_tail={self.read_from_tail}, "
            f"scope={self.scope_name!r}, streams={list(self.stream_names)})"
        )

    def __repr__(self) -> str:
        return self.to_str()


def native_group_config(
    scope_name: str,
    stream_names: Sequence[str],
    read_from_tail: bool,
    stream_cut: Optional[StreamCuts] = None,
) -> Any:
    """A native reader group config; the caller frees it."""
    box = ffi.new("PravegaReaderGroupConfig **")
    invoke(lib.pravega_reader_group_config_new, box)
    config = box[0]
    try:
        scope = encode_name("scope_name", scope_name)
        for index, name in enumerate(stream_names):
            stream = encode_name(f"stream_names[{index}]", name)
            if stream_cut is not None and index == 0:
                positions = _cut_positions(stream_cut)
                segments = ffi.new("int64_t[]", list(positions))
                offsets = ffi.new("int64_t[]", list(positions.values()))
                invoke(
                    lib.pravega_reader_group_config_add_stream_at,
                    config,
                    scope,
                    stream,
                    segments,
                    offsets,
                    len(positions),
                )
            else:
                invoke(
                    lib.pravega_reader_group_config_add_stream,
                    config,
                    scope,
                    stream,
                    bool(read_from_tail),
                )
    except BaseException:
        lib.pravega_reader_group_config_free(config)
        raise
    return config


def _cut_positions(stream_cut: StreamCuts) -> Dict[int, int]:
    """The cut's segments and offsets, checked to fit the native int64_t arrays."""
    positions = stream_cut.get_segment_offset_map()
    for segment, offset in positions.items():
        for argument, value in (("segment", segment), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidArgumentError(
                    f"stream cut {argument}s must be int, not {type(value).__name__}"
                )
            if not -(2**63) <= value < 2**63:
                raise InvalidArgumentError(
                    f"stream cut {argument} {value} does not fit in 64 bits"
                )
    return positions


class StreamReaderGroup(NativeHandle):
    """A named group of readers that share a stream's segments between them."""

    def __init__(self, ptr: Any, name: str, scope_name: str) -> None:
        super().__init__(ptr, lib.pravega_reader_group_free)
        self._name = name
        self._scope = scope_name

    @interruptible
    def create_reader(self, reader_name: str) -> StreamReader:
        """Brings a new reader online in this group.

        Blocks on the controller and on the segment store that holds the group's
        state. Raises :class:`AlreadyExistsError` when a reader of that name is
        online, and :class:`InvalidArgumentError` for a bad name.
        """
        name = encode_name("reader_name", reader_name)
        box = ffi.new("PravegaReader **")
        self._invoke(lib.pravega_reader_group_create_reader, name, box)
        return StreamReader(box[0], reader_name, self._name)

    @interruptible
    def reader_offline(self, reader_name: str) -> None:
        """Takes a reader of this group offline, e.g. one whose process died; its
        segments go to the other readers, from the positions it last recorded.
        Doing it twice is harmless.

        Blocks on the segment store that holds the group's state. Raises
        :class:`InvalidArgumentError` for a bad name.
        """
        name = encode_name("reader_name", reader_name)
        self._invoke(lib.pravega_reader_group_reader_offline, name)

    @interruptible
    def get_streamcut(self) -> "StreamCuts":
        """Where the group is now in its (first) stream: the positions its readers
        recorded when they last released a slice or went offline.

        Blocks on the segment store that holds the group's state. Raises
        :class:`PravegaIOError` when it cannot be read.
        """
        box = ffi.new("PravegaStreamCut **")
        self._invoke(lib.pravega_reader_group_get_stream_cut, box)
        cut = box[0]
        try:
            segment, offset = ffi.new("int64_t *"), ffi.new("int64_t *")
            positions = {}
            for index in range(lib.pravega_stream_cut_len(cut)):
                lib.pravega_stream_cut_get(cut, index, segment, offset)
                positions[segment[0]] = offset[0]
            stream = ffi.string(lib.pravega_stream_cut_stream(cut)).decode()
        finally:
            lib.pravega_stream_cut_free(cut)
        return StreamCuts(stream, positions)

    def to_str(self) -> str:
        return f"StreamReaderGroup(name={self._name!r}, scope={self._scope!r})"

    def __repr__(self) -> str:
        return self.to_str()


def _slice_blob(
    blob: bytes, lengths: List[int], offsets: List[int], segment: str
) -> List[Event]:
    """The events of a batch copied out of native memory as one ``blob``."""
    events: List[Event] = []
    append = events.append
    new_event = object.__new__
    start = 0
    for length, offset in zip(lengths, offsets):
        # Event.__init__, inlined: filling the slots of a bare object costs half as
        # much as the call, on CPython and PyPy alike.
        event = new_event(Event)
        end = start + length
        event._data = blob[start:end]
        event._offset = offset
        event._segment = segment
        append(event)
        start = end
    return events


def _copy_each(
    data: Any, lengths: List[int], offsets: List[int], segment: str
) -> List[Event]:
    """The events of a batch of large events, each copied once from native memory:
    copying the whole batch and then slicing it would copy every byte twice."""
    data = ffi.cast("char *", data)
    events: List[Event] = []
    start = 0
    for length, offset in zip(lengths, offsets):
        events.append(Event(ffi.unpack(data + start, length), offset, segment))
        start += length
    return events
