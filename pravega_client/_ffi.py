"""The thin layer over the cffi module: calling convention, errors and strings."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Type

from . import exceptions as exc
from ._version import __version__

try:
    from ._native import ffi, lib
except ModuleNotFoundError as missing:
    if missing.name != f"{__package__}._native":
        raise
    # Nearly always a clone's source directory, which Python puts before the installed
    # package when it runs in the clone's top directory.
    package_dir = os.path.dirname(os.path.abspath(__file__))
    raise ImportError(
        f"the compiled part of pravega_client is missing from {package_dir}, which "
        "looks like a source tree: run Python from another directory, or install the "
        "package (make build, or pip install .) and import that"
    ) from None

__all__ = ["ffi", "lib", "invoke", "raise_for", "encode_name", "encode_optional"]


def check_native_library(
    abi_version: int, header_abi_version: int, native_version: str, package_version: str
) -> None:
    """Refuses a native library that does not match this package.

    The extension links the Rust library statically, so a mismatch means a stale or
    mixed build (an old staticlib linked against a newer header, say). Failing at
    import names the problem; going on would fail later in ways that do not.
    """
    if abi_version != header_abi_version:
        raise ImportError(
            f"pravega_client: the native library has ABI version {abi_version}, but "
            f"this package was built for ABI version {header_abi_version}; rebuild "
            "and reinstall the package"
        )
    if native_version != package_version:
        raise ImportError(
            f"pravega_client: the native library is version {native_version}, but "
            f"the Python package is version {package_version}; rebuild and reinstall "
            "the package"
        )


check_native_library(
    lib.pravega_abi_version(),
    lib.PRAVEGA_ABI_VERSION,
    ffi.string(lib.pravega_version()).decode(),
    __version__,
)

# Status codes of the C ABI (PravegaStatus in include/pravega_client.h) mapped to the
# exception raised for them.
_EXCEPTION_FOR_STATUS: Dict[int, Type[exc.PravegaError]] = {
    lib.PRAVEGA_STATUS_INVALID_ARGUMENT: exc.InvalidArgumentError,
    lib.PRAVEGA_STATUS_CLOSED: exc.ClosedError,
    lib.PRAVEGA_STATUS_CONTROLLER_ERROR: exc.ControllerError,
    lib.PRAVEGA_STATUS_IO_ERROR: exc.PravegaIOError,
    lib.PRAVEGA_STATUS_TIMEOUT: exc.PravegaTimeoutError,
    lib.PRAVEGA_STATUS_NOT_FOUND: exc.NotFoundError,
    lib.PRAVEGA_STATUS_ALREADY_EXISTS: exc.AlreadyExistsError,
    lib.PRAVEGA_STATUS_TXN_FAILED: exc.TxnFailedException,
    lib.PRAVEGA_STATUS_WOULD_DEADLOCK: exc.WouldDeadlockError,
    lib.PRAVEGA_STATUS_CANCELLED: exc.CancelledError,
    lib.PRAVEGA_STATUS_INTERNAL: exc.InternalError,
    lib.PRAVEGA_STATUS_UNAVAILABLE: exc.PravegaConnectionError,
    lib.PRAVEGA_STATUS_UNSUPPORTED: exc.UnsupportedError,
    lib.PRAVEGA_STATUS_AUTH_FAILED: exc.AuthenticationError,
}


def error_from(status: int, error: Any) -> exc.PravegaError:
    """Builds the exception for a failed call and frees the native error object."""
    if error == ffi.NULL:
        message = f"native call failed with status {status}"
    else:
        raw = ffi.string(lib.pravega_error_message(error))
        message = raw.decode("utf-8", "replace")
        lib.pravega_error_free(error)
    cls = _EXCEPTION_FOR_STATUS.get(status, exc.PravegaError)
    error_object = cls(message)
    error_object.status = status
    return error_object


def raise_for(status: int, error: Any) -> None:
    if status != lib.PRAVEGA_STATUS_OK:
        raise error_from(status, error)


def invoke(function: Callable[..., int], *args: Any) -> None:
    """Calls a native function whose last argument is ``PravegaError **``.

    cffi releases the GIL for the call's duration, so a blocking call lets other
    Python threads run.
    """
    error_box = ffi.new("PravegaError **")
    status = function(*args, error_box)
    raise_for(status, error_box[0])


def encode_name(argument: str, value: Any) -> bytes:
    """Encodes a required string as NUL-terminated UTF-8; errors name the argument."""
    if not isinstance(value, str):
        raise exc.InvalidArgumentError(
            f"{argument} must be str, not {type(value).__name__}"
        )
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise exc.InvalidArgumentError(
            f"{argument} is not valid UTF-8: {error}"
        ) from None
    if b"\0" in encoded:
        raise exc.InvalidArgumentError(f"{argument} must not contain NUL characters")
    return encoded


def encode_optional(argument: str, value: Optional[str]) -> Any:
    """Like :func:`encode_name`, but ``None`` becomes a NULL pointer."""
    if value is None:
        return ffi.NULL
    return encode_name(argument, value)


def string_list(box: Any) -> List[str]:
    """Converts an owned ``PravegaStringList *`` to a Python list and frees it."""
    handle = box[0]
    try:
        count = lib.pravega_string_list_len(handle)
        return [
            ffi.string(lib.pravega_string_list_get(handle, index)).decode("utf-8")
            for index in range(count)
        ]
    finally:
        lib.pravega_string_list_free(handle)
