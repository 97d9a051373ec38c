"""Delivers the native library's log records to Python's ``logging``.

Records from Rust (the ``tracing`` events and ``log`` records of this library and of
the Pravega crate) are queued natively. One daemon thread, started at import, wakes
when the queue's descriptor becomes readable, drains the records in batches and logs
each under ``pravega_client.native.<target>``, with the Rust module path's ``::``
turned into dots. A Rust thread never takes the GIL to log.

The native level follows the effective level of the ``pravega_client.native`` logger:
the thread checks it at least once a second, and :func:`sync_level` checks it at once.
With Python's defaults (WARNING) the native side keeps only warnings and errors, so
DEBUG records cost nothing until someone asks for them.
"""

from __future__ import annotations

import logging
import select
import threading
from typing import Dict

from ._ffi import ffi, lib

NATIVE_LOGGER = "pravega_client.native"

# Native level -> Python level, and the native level that keeps a Python level.
_PYTHON_LEVEL: Dict[int, int] = {
    lib.PRAVEGA_LOG_LEVEL_ERROR: logging.ERROR,
    lib.PRAVEGA_LOG_LEVEL_WARN: logging.WARNING,
    lib.PRAVEGA_LOG_LEVEL_INFO: logging.INFO,
    lib.PRAVEGA_LOG_LEVEL_DEBUG: logging.DEBUG,
    lib.PRAVEGA_LOG_LEVEL_TRACE: 5,  # below DEBUG; Python has no name for it
}
_TRACE = 5

# How often the pump re-reads the Python level when no records arrive.
_LEVEL_CHECK_S = 1.0
_BATCH = 256


def native_level_for(python_level: int) -> int:
    """The native level that keeps every record a logger at ``python_level`` shows."""
    if python_level <= _TRACE:
        return int(lib.PRAVEGA_LOG_LEVEL_TRACE)
    if python_level <= logging.DEBUG:
        return int(lib.PRAVEGA_LOG_LEVEL_DEBUG)
    if python_level <= logging.INFO:
        return int(lib.PRAVEGA_LOG_LEVEL_INFO)
    if python_level <= logging.WARNING:
        return int(lib.PRAVEGA_LOG_LEVEL_WARN)
    if python_level <= logging.CRITICAL:
        return int(lib.PRAVEGA_LOG_LEVEL_ERROR)
    return int(lib.PRAVEGA_LOG_LEVEL_OFF)


def sync_level() -> None:
    """Sets the native level from the ``pravega_client.native`` logger's effective
    level, so that a level set in Python takes effect at once."""
    wanted = native_level_for(logging.getLogger(NATIVE_LOGGER).getEffectiveLevel())
    if wanted != lib.pravega_log_level():
        error = ffi.new("PravegaError **")
        if lib.pravega_log_set_level(wanted, error) != lib.PRAVEGA_STATUS_OK:
            lib.pravega_error_free(error[0])


class _LogPump(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="pravega-client-log", daemon=True)
        self._records = ffi.new("PravegaLogRecord[]", _BATCH)
        self._loggers: Dict[str, logging.Logger] = {}

    def run(self) -> None:
        while True:
            sync_level()
            fd = lib.pravega_log_fd()
            if fd < 0:
                # Nothing is logged natively until a level is set; wait for one.
                _no_native_log.wait(_LEVEL_CHECK_S)
                continue
            readable, _, _ = select.select([fd], [], [], _LEVEL_CHECK_S)
            if readable:
                self.drain()

    def drain(self) -> None:
        """Logs every waiting record. One thread at a time: a drain invalidates the
        strings of the one before."""
        with _drain_lock:
            self._drain_locked()

    def _drain_locked(self) -> None:
        while True:
            count = lib.pravega_log_drain(self._records, _BATCH)
            for record in self._records[0:count]:
                target = ffi.string(record.target).decode("utf-8", "replace")
                message = ffi.string(record.message).decode("utf-8", "replace")
                level = _PYTHON_LEVEL.get(record.level, logging.WARNING)
                self._logger(target).log(level, "%s", message)
            if count < _BATCH:
                return

    def _logger(self, target: str) -> logging.Logger:
        logger = self._loggers.get(target)
        if logger is None:
            name = f"{NATIVE_LOGGER}.{target.replace('::', '.')}"
            logger = self._loggers[target] = logging.getLogger(name)
        return logger


# Never set: the pump waits on it as a timer while the native side logs nothing.
_no_native_log = threading.Event()
_pump_lock = threading.Lock()
_drain_lock = threading.Lock()
_pump: _LogPump | None = None


def start() -> None:
    """Syncs the level and starts the pump thread, once per process."""
    global _pump
    with _pump_lock:
        sync_level()
        if _pump is None or not _pump.is_alive():
            _pump = _LogPump()
            _pump.start()


def flush() -> None:
    """Logs, on the calling thread, every native record queued so far."""
    with _pump_lock:
        pump = _pump
    if pump is not None:
        pump.drain()
