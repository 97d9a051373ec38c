"""Python client for Pravega, the streaming storage system.

A drop-in for the ``pravega_client`` module of the ``pravega`` 0.3.8 package, built on
a C ABI over the Rust client with cffi, for CPython and PyPy.
"""

import logging as _logging_module

from . import _logging
from ._ffi import ffi as _ffi_module
from ._ffi import lib as _lib
from ._version import __version__ as __version__
from .byte_stream import ByteStream
from .exceptions import (
    AlreadyExistsError,
    AuthenticationError,
    CancelledError,
    ClosedError,
    ControllerError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    PravegaConnectionError,
    PravegaError,
    PravegaIOError,
    PravegaTimeoutError,
    TxnFailedException,
    UnsupportedError,
    WouldDeadlockError,
)
from .policies import RetryPolicy, StreamRetentionPolicy, StreamScalingPolicy
from .stream_manager import StreamManager
from .stream_reader import (
    Event,
    Slice,
    StreamCuts,
    StreamReader,
    StreamReaderGroup,
    StreamReaderGroupConfig,
)
from .stream_writer import StreamWriter
from .transaction import StreamTransaction, StreamTxnWriter

native_version = _ffi_module.string(_lib.pravega_version()).decode()

__all__ = [
    "StreamManager",
    "ByteStream",
    "StreamScalingPolicy",
    "StreamRetentionPolicy",
    "RetryPolicy",
    "StreamWriter",
    "StreamTxnWriter",
    "StreamTransaction",
    "StreamReader",
    "StreamReaderGroup",
    "StreamReaderGroupConfig",
    "StreamCuts",
    "Slice",
    "Event",
    "PravegaError",
    "InvalidArgumentError",
    "ClosedError",
    "ControllerError",
    "AuthenticationError",
    "PravegaIOError",
    "PravegaConnectionError",
    "PravegaTimeoutError",
    "NotFoundError",
    "AlreadyExistsError",
    "TxnFailedException",
    "UnsupportedError",
    "WouldDeadlockError",
    "CancelledError",
    "InternalError",
]

# A library does not print: records go to handlers the application sets up.
_logging_module.getLogger("pravega_client").addHandler(_logging_module.NullHandler())
_logging.start()
