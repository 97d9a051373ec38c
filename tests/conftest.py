"""Fixtures: one real Pravega standalone server per test session, and unique scopes.

Set PRAVEGA_CONTROLLER_URI to run the suite against a server that is already up;
otherwise the session starts its own with server/pravega-standalone, on free ports.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

import pravega_client

ROOT = Path(__file__).resolve().parent.parent
SERVER_SCRIPT = ROOT / "server" / "pravega-standalone"


def free_ports(count: int) -> list:
    """Ports that were free a moment ago; the server binds them right after."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tool_environment() -> Dict[str, str]:
    """The environment for programs the tests start that are not under test: the
    server and cbindgen. `make test-asan` preloads AddressSanitizer into Python, and a
    JVM or rustc with that preloaded hangs or crashes."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


def server_environment(state_dir: str) -> Dict[str, str]:
    controller, segment_store, zookeeper, rest, admin = free_ports(5)
    env = tool_environment()
    env.update(
        PRAVEGA_STATE_DIR=state_dir,
        PRAVEGA_CONTROLLER_PORT=str(controller),
        PRAVEGA_SEGMENTSTORE_PORT=str(segment_store),
        PRAVEGA_ZK_PORT=str(zookeeper),
        PRAVEGA_REST_PORT=str(rest),
        PRAVEGA_ADMIN_PORT=str(admin),
    )
    return env


@pytest.fixture(scope="session")
def controller_uri() -> Iterator[str]:
    external = os.environ.get("PRAVEGA_CONTROLLER_URI")
    if external:
        yield external
        return

    state_dir = tempfile.mkdtemp(prefix="pravega-test-server-")
    env = server_environment(state_dir)
    started = subprocess.run(
        [str(SERVER_SCRIPT), "start"], env=env, capture_output=True, text=True
    )
    if started.returncode != 0:
        pytest.fail(
            "the Pravega standalone server did not start:\n" + started.stderr[-4000:],
            pytrace=False,
        )
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(SERVER_SCRIPT), "stop"], env=env, capture_output=True)
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def secure_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One server with TLS and password auth for the session, shared by the modules
    that need it: a start costs 15-30 s. A `security_support.SecureServer`."""
    # Imported here: security_support imports this module.
    from security_support import secure_server as start_secure_server

    with start_secure_server(tmp_path_factory.mktemp("security")) as server:
        yield server


@pytest.fixture
def manager(controller_uri: str) -> Iterator[pravega_client.StreamManager]:
    with pravega_client.StreamManager(controller_uri) as stream_manager:
        yield stream_manager


def unique_name(prefix: str) -> str:
    """A name no earlier run against the same server can have used."""
    return f"{prefix}{uuid.uuid4().hex[:16]}"


@pytest.fixture
def scope(manager: pravega_client.StreamManager) -> str:
    name = unique_name("scope")
    assert manager.create_scope(name)
    return name


@pytest.fixture
def stream(manager: pravega_client.StreamManager, scope: str) -> str:
    """A new one-segment stream in ``scope``."""
    name = unique_name("stream")
    assert manager.create_stream(scope, name, 1)
    return name


async def _read(reader: pravega_client.StreamReader, count: int, attempts: int) -> list:
    events: list = []
    for _ in range(attempts):  # an empty slice means ~1 s passed without data
        segment_slice = await reader.get_segment_slice_async()
        events.extend(segment_slice)
        reader.release_segment(segment_slice)
        if len(events) >= count:
            break
    return events


def read_events(
    reader: pravega_client.StreamReader, count: int, attempts: int = 120
) -> list:
    """Reads until ``count`` events arrived; fails if they do not come."""
    events = asyncio.run(_read(reader, count, attempts))
    assert len(events) >= count, f"only {len(events)} of {count} events arrived"
    return events


def read_available(reader: pravega_client.StreamReader, slices: int) -> list:
    """Reads whatever arrives within ``slices`` slice requests."""
    return asyncio.run(_read(reader, 1 << 62, slices))


def new_reader(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> pravega_client.StreamReader:
    group = manager.create_reader_group(unique_name("group"), scope, stream)
    return group.create_reader("reader")
