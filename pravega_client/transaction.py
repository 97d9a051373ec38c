"""Transactions: groups of events that become visible together, or not at all."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from ._completion import bridge_for, current_loop
from ._ffi import encode_optional, ffi, lib
from ._handle import NativeHandle
from ._interrupt import interruptible
from .exceptions import InvalidArgumentError, TxnFailedException
from .stream_writer import BytesLike, event_buffer

_TXN_ID_BITS = 64


def _split_id(txn_id: Any) -> Any:
    if isinstance(txn_id, bool) or not isinstance(txn_id, int):
        raise InvalidArgumentError(f"txn_id must be int, not {type(txn_id).__name__}")
    if not 0 <= txn_id < 1 << (2 * _TXN_ID_BITS):
        raise InvalidArgumentError(f"txn_id {txn_id} is not a 128-bit transaction id")
    native = ffi.new("PravegaTxnId *")
    native.high = txn_id >> _TXN_ID_BITS
    native.low = txn_id & ((1 << _TXN_ID_BITS) - 1)
    return native[0]


class StreamTransaction(NativeHandle):
    """One transaction. Its events stay invisible to readers until :meth:`commit`,
    and then appear together; after :meth:`abort` they never appear.

    Once committed or aborted, every write, commit or abort raises
    :class:`TxnFailedException` with ``args == (txn_id,)``.
    """

    def __init__(self, ptr: Any) -> None:
        super().__init__(ptr, lib.pravega_txn_free)
        native_id = lib.pravega_txn_id(ptr)
        self._txn_id: int = (native_id.high << _TXN_ID_BITS) | native_id.low

    def get_txn_id(self) -> int:
        """The transaction's 128-bit id, to reopen it with ``get_txn``. Does not
        block, and raises nothing."""
        return self._txn_id

    @interruptible
    def is_open(self) -> bool:
        """Whether the server still takes writes for it.

        Blocks on the controller. Raises :class:`ControllerError` when the request
        fails.
        """
        status = ffi.new("int32_t *")
        self._call(lib.pravega_txn_status, status)
        return bool(status[0] == lib.PRAVEGA_TXN_STATUS_OPEN)

    def write_event(self, event: str, routing_key: Optional[str] = None) -> None:
        """Writes ``event`` as UTF-8 into the transaction. Blocks and raises as
        :meth:`write_event_bytes` does, and raises :class:`InvalidArgumentError` for
        an event that is not a str."""
        if not isinstance(event, str):
            raise InvalidArgumentError(f"event must be str, not {type(event).__name__}")
        self.write_event_bytes(event.encode("utf-8"), routing_key)

    def write_event_bytes(
        self, event: BytesLike, routing_key: Optional[str] = None
    ) -> None:
        """Writes raw bytes into the transaction.

        Blocks only while the transaction's queue is full. Nothing written is
        readable, or durable as part of the stream, before :meth:`commit` returns.
        Raises :class:`TxnFailedException` once the transaction is committed or
        aborted, :class:`UnsupportedError` on a transaction reopened with
        ``get_txn``, and :class:`InvalidArgumentError` for a bad event or key. A
        failure after the call returned is raised by a later write or the commit.
        """
        key = encode_optional("routing_key", routing_key)
        if isinstance(event, bytes):  # the common case, without a context manager
            self._call(lib.pravega_txn_write, key, event, len(event))
            return
        with event_buffer(event) as data:
            self._call(lib.pravega_txn_write, key, data, len(data))

    @interruptible
    def commit(self) -> None:
        """Waits for the transaction's events, then commits it.

        Blocks on the segment store and the controller. Once it returns, the events
        are durable and become readable together. Raises :class:`TxnFailedException`
        when the transaction was already committed or aborted, or the commit failed.
        """
        self._call(lib.pravega_txn_commit, lib.PRAVEGA_NO_TIMESTAMP)

    @interruptible
    def commit_timestamp(self, timestamp: int) -> None:
        """Commits, recording ``timestamp`` as the events' time. Blocks and raises
        as :meth:`commit` does, and raises :class:`InvalidArgumentError` for a
        timestamp out of range."""
        if isinstance(timestamp, bool) or not isinstance(timestamp, int):
            raise InvalidArgumentError("timestamp must be int")
        if not 0 <= timestamp < lib.PRAVEGA_NO_TIMESTAMP:
            raise InvalidArgumentError(f"timestamp {timestamp} is out of range")
        self._call(lib.pravega_txn_commit, timestamp)

    @interruptible
    def abort(self) -> None:
        """Aborts the transaction: none of its events will ever be read.

        Blocks on the controller. Raises :class:`TxnFailedException` when the
        transaction was already committed or aborted.
        """
        self._call(lib.pravega_txn_abort)

    def commit_async(self) -> "asyncio.Future[None]":
        """Commits without blocking; the future resolves once it is committed, as
        :meth:`commit` returns, or fails with what it raises."""
        return self._start(lib.pravega_txn_commit_async, lib.PRAVEGA_NO_TIMESTAMP)

    def abort_async(self) -> "asyncio.Future[None]":
        """Aborts without blocking; the future resolves once it is aborted, or fails
        with what :meth:`abort` raises."""
        return self._start(lib.pravega_txn_abort_async)

    def _call(self, function: Any, *args: Any) -> None:
        try:
            self._invoke(function, *args)
        except TxnFailedException:
            raise TxnFailedException(self._txn_id) from None

    def _start(self, function: Any, *args: Any) -> "asyncio.Future[None]":
        self._check_open()
        bridge = bridge_for(current_loop())
        txn_id = self._txn_id

        def launch(callback: Any, user_data: Any, tag: int) -> None:
            self._call(function, *args, callback, user_data, tag)

        def translate(failure: BaseException) -> BaseException:
            if isinstance(failure, TxnFailedException):
                return TxnFailedException(txn_id)
            return failure

        return bridge.start(launch, _no_result, translate_error=translate)

    def to_str(self) -> str:
        return f"StreamTransaction(txn_id={self._txn_id})"

    def __repr__(self) -> str:
        return self.to_str()


class StreamTxnWriter(NativeHandle):
    """Begins transactions on one stream, and reopens them by id."""

    def __init__(self, ptr: Any, stream: str, writer_id: int) -> None:
        super().__init__(ptr, lib.pravega_txn_writer_free)
        self._stream = stream
        self._writer_id = writer_id

    @interruptible
    def begin_txn(self) -> StreamTransaction:
        """Begins a new transaction.

        Blocks on the controller. Raises :class:`ControllerError` when the stream
        does not exist or the request fails.
        """
        box = ffi.new("PravegaTransaction **")
        self._invoke(lib.pravega_txn_writer_begin, box)
        return StreamTransaction(box[0])

    @interruptible
    def get_txn(self, txn_id: int) -> StreamTransaction:
        """Reopens transaction ``txn_id``, to commit or abort it or ask its state.

        The Rust client cannot write to a transaction it did not begin, so writes to
        the result raise :class:`UnsupportedError`. Blocks on the controller.
        Raises :class:`InvalidArgumentError` for an id that is not 128 bits, and
        :class:`ControllerError` when the request fails.
        """
        native_id = _split_id(txn_id)
        box = ffi.new("PravegaTransaction **")
        self._invoke(lib.pravega_txn_writer_get_txn, native_id, box)
        return StreamTransaction(box[0])

    def to_str(self) -> str:
        return f"StreamTxnWriter(stream={self._stream!r}, writer_id={self._writer_id})"

    def __repr__(self) -> str:
        return self.to_str()


def _no_result(_result: Any) -> None:
    return None
