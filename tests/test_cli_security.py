"""pravega-cli's TLS and auth options, against a server that requires both."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Dict, List

import pytest

from conftest import unique_name
from security_support import USER, SecureServer

CLI = [sys.executable, "-m", "pravega_client"]
# A refused login is retried for about 9 s before it is reported.
DEADLINE_S = 120


@pytest.fixture
def server(secure_server: SecureServer) -> SecureServer:
    return secure_server


def run(
    server: SecureServer, tmp_path: Path, args: List[str], password: str, input: bytes
) -> "subprocess.CompletedProcess[bytes]":
    env: Dict[str, str] = dict(os.environ)
    env.update(PRAVEGA_CONTROLLER=server.uri, PRAVEGA_PASSWORD=password)
    connection = ["--tls-cert", str(server.certificates.ca_cert), "--user", USER]
    return subprocess.run(
        CLI + args + connection,
        cwd=tmp_path,
        env=env,
        input=input,
        capture_output=True,
        timeout=DEADLINE_S,
    )


def test_tls_and_password_from_the_environment_round_trip(
    server: SecureServer, tmp_path: Path
) -> None:
    scope = unique_name("scope")
    stream = f"{scope}/{unique_name('stream')}"
    for args, input in (
        (["scope", "create", scope], b""),
        (["stream", "create", stream], b""),
        (["write", stream, "--key", "k"], b"one\ntwo\n"),
    ):
        result = run(server, tmp_path, args, server.password, input)
        assert result.returncode == 0, result.stderr

    result = run(server, tmp_path, ["read", stream], server.password, b"")
    assert (result.returncode, result.stdout) == (0, b"one\ntwo\n"), result.stderr


def test_a_wrong_password_is_one_line_without_the_password(
    server: SecureServer, tmp_path: Path
) -> None:
    wrong = f"wrong-{uuid.uuid4().hex}"
    result = run(server, tmp_path, ["scope", "list"], wrong, b"")

    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pravega-cli: error: "), lines
    assert wrong not in lines[0]
