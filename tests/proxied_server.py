"""A dedicated standalone server whose segment store is reached through a TcpProxy.

The segment store publishes the proxy's port instead of its own: clients find the
segment store through the controller, so all their segment traffic goes through the
proxy, which can cut or stall it. Controller traffic goes direct. The fault tests
(test_faults, test_restart, test_stalls) share this setup; each module starts its own
server, since what they do to it would disturb the suite's main server.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from typing import Dict, Iterator, Optional

import pytest
from tcp_proxy import TcpProxy

from conftest import SERVER_SCRIPT, server_environment


class ProxiedServer:
    """The server's controller URI, its proxy, and stop/start for restart tests.

    The proxy outlives restarts: it keeps listening on the same port and forwards to
    the segment store's fixed port, so a restarted server publishes the same address.
    """

    def __init__(self, env: Dict[str, str], proxy: TcpProxy) -> None:
        self._env = env
        self.proxy = proxy
        self.uri = ""
        self.running = False
        self.starts = 0
        # Seconds the last start() and stop() took, for the tests' reports.
        self.start_seconds = 0.0
        self.stop_seconds = 0.0

    def start(self) -> None:
        """Starts the server and waits until it serves requests; fails the test if it
        does not come up."""
        began = time.monotonic()
        started = subprocess.run(
            [
                str(SERVER_SCRIPT),
                "start",
                f"-Dpravegaservice.service.published.port={self.proxy.port}",
            ],
            env=self._env,
            capture_output=True,
            text=True,
        )
        self.start_seconds = time.monotonic() - began
        if started.returncode != 0:
            pytest.fail(
                "the proxied standalone server did not start:\n"
                + started.stderr[-6000:],
                pytrace=False,
            )
        uri = started.stdout.strip().splitlines()[-1]
        # A restart uses the same ports, so it must give the same address.
        assert not self.uri or uri == self.uri, (uri, self.uri)
        self.uri = uri
        self.running = True
        self.starts += 1

    def stop(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL after the script's grace period)
        and waits until the process is gone. Idempotent."""
        began = time.monotonic()
        # Also after an interrupt during start: the script records the JVM's pid
        # before it waits for readiness, so stop finds it.
        stopped = subprocess.run(
            [str(SERVER_SCRIPT), "stop"],
            env=self._env,
            capture_output=True,
            text=True,
        )
        self.stop_seconds = time.monotonic() - began
        self.running = False
        if stopped.returncode != 0:
            pytest.fail(
                "the proxied standalone server did not stop:\n" + stopped.stderr,
                pytrace=False,
            )


@contextmanager
def proxied_server(
    prefix: str, heap: str = "1g", cache_bytes: Optional[int] = None
) -> Iterator[ProxiedServer]:
    """Starts a proxied server with its own state dir and ports; stops it and removes
    everything on exit.

    ``heap`` and ``cache_bytes`` size it: a small one leaves room for the suite's main
    server on a small machine.
    """
    state_dir = tempfile.mkdtemp(prefix=f"pravega-test-{prefix}-server-")
    env = server_environment(state_dir)
    env["PRAVEGA_HEAP"] = heap
    if cache_bytes is not None:
        env["PRAVEGA_CACHE_BYTES"] = str(cache_bytes)
    # The proxy must be up before the server: its readiness probe creates a scope,
    # which already reaches the segment store through the published address.
    proxy = TcpProxy(int(env["PRAVEGA_SEGMENTSTORE_PORT"]))
    server = ProxiedServer(env, proxy)
    try:
        proxy.start()
        server.start()
        yield server
    finally:
        server.stop()
        proxy.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
