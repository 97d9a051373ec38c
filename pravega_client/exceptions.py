"""Exceptions raised by pravega_client.

Every error derives from :class:`PravegaError`. Each subclass also derives from the
built-in exception that the ``pravega`` 0.3.8 package raises in the same situation, so
code that catches ``ValueError`` or ``OSError`` keeps working.
"""

from __future__ import annotations


class PravegaError(Exception):
    """Base class of every error raised by this package."""

    status: int = -1


class InvalidArgumentError(PravegaError, ValueError):
    """An argument was missing, of the wrong type, malformed, or out of range."""


class ClosedError(PravegaError, ValueError):
    """The object was closed, or has gone offline, and cannot be used any more."""


class ControllerError(PravegaError, ValueError):
    """The controller refused or failed a request."""


class AuthenticationError(ControllerError):
    """The controller refused the credentials: a wrong user or password, an unknown
    user, a missing or expired token, or auth on the server but none in the client.

    A :class:`ControllerError`, so code written for the 0.3.8 package that catches
    that (or ``ValueError``) still catches it. Messages never hold the credentials.
    """


class PravegaIOError(PravegaError, OSError):
    """Reading from or writing to a segment store failed."""


class PravegaTimeoutError(PravegaError, ValueError, TimeoutError):
    """An operation did not finish within its time limit.

    It is also a ``ValueError``, which the 0.3.8 package raised for every controller
    failure.
    """


class PravegaConnectionError(PravegaError, ValueError, ConnectionError):
    """The server could not be reached. Also a ``ValueError``, as in 0.3.8."""


class NotFoundError(PravegaError, ValueError):
    """The scope, stream, reader or transaction named does not exist."""


class AlreadyExistsError(PravegaError, ValueError):
    """The object named already exists, or the reader named is already online."""


class TxnFailedException(PravegaError):
    """A transaction was used after commit or abort, or its commit failed.

    ``args`` is ``(txn_id,)``, as in the ``pravega`` 0.3.8 package.
    """


class UnsupportedError(PravegaError, NotImplementedError):
    """The operation is not supported in this situation; the message says why."""


class WouldDeadlockError(PravegaError, RuntimeError):
    """A blocking call was made from a thread of the client's own runtime."""


class CancelledError(PravegaError, RuntimeError):
    """The operation was cancelled before it completed, e.g. by a shutdown."""


class InternalError(PravegaError, RuntimeError):
    """A bug inside the client library was caught before it could crash the process."""
