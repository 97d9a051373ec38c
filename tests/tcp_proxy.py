"""A loopback TCP proxy for fault tests: forwards to one target, and can cut or stall
every live connection on demand.

All socket work happens on one thread that runs a selector loop, so cutting or
pausing never races with a forwarding call on the same socket. Other threads ask that
thread to act and wait for it to be done.
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
from typing import Any, Callable, List, Optional

# Bytes read from one side in one call, and the most buffered towards the other side
# before reading from this one stops: a slow receiver slows the sender down instead
# of growing the proxy's memory.
_CHUNK = 256 * 1024
_BUFFER_LIMIT = 4 * 1024 * 1024

# l_onoff=1, l_linger=0: close() then drops the connection with an RST at once,
# without a FIN and without delivering data still queued in the kernel.
_LINGER_ABORT = struct.pack("ii", 1, 0)

# How long a request to the loop thread may take before the caller gives up on it.
_CALL_TIMEOUT = 10.0


class ProxyError(RuntimeError):
    """The proxy's loop thread did not answer, or is not running."""


class _Side:
    """One socket of a proxied connection and the bytes waiting to be sent to it."""

    __slots__ = ("sock", "outbox", "peer", "link", "events")

    def __init__(self, sock: socket.socket, link: "_Link") -> None:
        self.sock = sock
        self.outbox = bytearray()
        self.peer: Optional["_Side"] = None
        self.link = link
        self.events = 0  # what the selector waits for; 0 when not registered


class _Link:
    """A client connection and the connection to the target made for it."""

    __slots__ = ("client", "upstream", "closed")

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = _Side(client, self)
        self.upstream = _Side(upstream, self)
        self.client.peer = self.upstream
        self.upstream.peer = self.client
        self.closed = False


class TcpProxy:
    """Listens on 127.0.0.1 and forwards each connection to ``target_port``.

    ``start()`` returns once the listening port is known (``port``); ``stop()``
    closes everything. Usable as a context manager.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self._target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]

        self._selector = selectors.DefaultSelector()
        # Another thread wakes the loop by writing one byte here.
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._requests: List[Callable[[], None]] = []
        self._requests_lock = threading.Lock()
        self._links: List[_Link] = []
        self._paused = False
        self._stopping = False
        self._closed = False
        self._thread: Optional[threading.Thread] = None

        # Counters, written by the loop thread only.
        self.accepted = 0
        self.cuts = 0  # cut_all() calls that closed at least one connection
        self.connections_cut = 0

    # Public API: every method below runs its work on the loop thread.

    def start(self) -> "TcpProxy":
        self._selector.register(self._listener, selectors.EVENT_READ, self._accept)
        self._selector.register(self._wake_read, selectors.EVENT_READ, self._drain)
        self._thread = threading.Thread(
            target=self._run, name=f"tcp-proxy-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Closes the listener and every connection (with RST). Idempotent."""
        if self._closed:
            return
        thread = self._thread
        if thread is not None and thread.is_alive():
            try:
                self._call(self._shut_down)
            except ProxyError:
                pass  # the loop is stuck; the sockets are closed below all the same
            thread.join(_CALL_TIMEOUT)
        self._closed = True
        for link in self._links:
            for side in (link.client, link.upstream):
                _abort(side.sock)
        self._links = []
        self._selector.close()
        for sock in (self._listener, self._wake_read, self._wake_write):
            sock.close()

    def cut_all(self) -> int:
        """Drops every live connection abruptly (RST to both ends); returns how many.

        New connections are accepted as before, so clients can reconnect at once.
        """
        return self._call(self._cut_all)

    def pause(self) -> None:
        """Stops forwarding in both directions without closing anything; connections
        made while paused are accepted but not served until ``resume()``."""
        self._call(lambda: self._set_paused(True))

    def resume(self) -> None:
        self._call(lambda: self._set_paused(False))

    def live_connections(self) -> int:
        return self._call(lambda: len(self._links))

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # The loop thread.

    def _call(self, action: Callable[[], Any]) -> Any:
        """Runs ``action`` on the loop thread and returns its result."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            raise ProxyError("the proxy is not running")
        done = threading.Event()
        outcome: List[Any] = []

        def request() -> None:
            try:
                outcome.append((True, action()))
            except BaseException as error:  # handed to the caller's thread
                outcome.append((False, error))
            finally:
                done.set()

        with self._requests_lock:
            self._requests.append(request)
        self._wake_write.send(b"x")
        if not done.wait(_CALL_TIMEOUT):
            raise ProxyError(f"the proxy did not answer within {_CALL_TIMEOUT} s")
        succeeded, value = outcome[0]
        if not succeeded:
            raise value
        return value

    def _run(self) -> None:
        while not self._stopping:
            for key, mask in self._selector.select():
                handler = key.data
                if isinstance(handler, _Side):
                    self._serve(handler, mask)
                else:
                    handler()

    def _drain(self) -> None:
        try:
            while self._wake_read.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self._requests_lock:
            requests, self._requests = self._requests, []
        for request in requests:
            request()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except BlockingIOError:
                return
            try:
                # A blocking connect on loopback takes microseconds; doing it here
                # keeps the loop single-threaded.
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _abort(client)
                continue
            self.accepted += 1
            for sock in (client, upstream):
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client, upstream)
            self._links.append(link)
            self._update(link)

    def _serve(self, side: _Side, mask: int) -> None:
        link = side.link
        if link.closed:
            return
        peer = side.peer
        assert peer is not None
        try:
            if mask & selectors.EVENT_WRITE and side.outbox:
                sent = side.sock.send(side.outbox)
                del side.outbox[:sent]
            if mask & selectors.EVENT_READ:
                data = side.sock.recv(_CHUNK)
                if not data:
                    # An orderly close by one end: pass on what is buffered for the
                    # other end if it goes at once, then close both normally.
                    self._close(link, abort=False)
                    return
                peer.outbox += data
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self._close(link, abort=True)
            return
        self._update(link)

    def _update(self, link: _Link) -> None:
        """Sets what the loop waits for on both sockets of ``link``."""
        for side in (link.client, link.upstream):
            peer = side.peer
            assert peer is not None
            events = 0
            if not self._paused:
                if len(peer.outbox) < _BUFFER_LIMIT:
                    events |= selectors.EVENT_READ
                if side.outbox:
                    events |= selectors.EVENT_WRITE
            if events == side.events:
                continue
            # A selector cannot hold a socket with no interest, so a socket with
            # nothing to do (paused, or both directions blocked) leaves it.
            if not events:
                self._selector.unregister(side.sock)
            elif not side.events:
                self._selector.register(side.sock, events, side)
            else:
                self._selector.modify(side.sock, events, side)
            side.events = events

    def _close(self, link: _Link, abort: bool) -> None:
        if link.closed:
            return
        link.closed = True
        self._links.remove(link)
        for side in (link.client, link.upstream):
            if side.events:
                self._selector.unregister(side.sock)
                side.events = 0
            if not abort and side.outbox:
                try:
                    side.sock.send(side.outbox)
                except OSError:
                    pass
            if abort:
                _abort(side.sock)
            else:
                side.sock.close()

    def _cut_all(self) -> int:
        links = list(self._links)
        for link in links:
            self._close(link, abort=True)
        if links:
            self.cuts += 1
            self.connections_cut += len(links)
        return len(links)

    def _set_paused(self, paused: bool) -> None:
        self._paused = paused
        for link in self._links:
            self._update(link)

    def _shut_down(self) -> None:
        self._stopping = True
        self._selector.unregister(self._listener)
        for link in list(self._links):
            self._close(link, abort=True)


def _abort(sock: socket.socket) -> None:
    """Closes ``sock`` with an RST rather than a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ABORT)
    except OSError:
        pass
    sock.close()
