"""TLS and authentication against a real standalone server that requires both.

One server, with TLS and password auth on, serves the whole session (the
`secure_server` fixture of conftest.py): a server start costs 15-30 s, and every
failure tested here (an untrusted certificate, a bad login) happens before the other
feature matters.
"""

from __future__ import annotations

import base64
import logging
import time
import traceback
import uuid
from pathlib import Path

import pytest

import pravega_client
from conftest import new_reader, read_events, unique_name
from pravega_client import _logging
from readme_examples import examples, run_examples
from security_support import USER, SecureServer

# Bounds for calls that must fail. The default retry policy gives up after about 9 s
# here; the timeout only backs that up, so that a hang fails the test, not the run.
FAILING_CALL_TIMEOUT = 20.0
FAILING_CALL_LIMIT = 15.0
# Each failure below costs a full round of retries. The two that users hit most (an
# untrusted certificate, a wrong password) are timed with the default policy; the
# others give up sooner, to keep the module fast.
QUICK_RETRY = pravega_client.RetryPolicy(max_attempts=2)
AUTHENTICATION_FAILURE = "(?i)unauthenticated|authentication failed"


@pytest.fixture
def server(secure_server: SecureServer) -> SecureServer:
    return secure_server


def failing_call(manager: pravega_client.StreamManager) -> None:
    """Makes a controller call that is expected to raise, and closes the manager."""
    with manager:
        manager.create_scope(unique_name("never"))


def round_trip(manager: pravega_client.StreamManager) -> None:
    """Creates a scope and stream, writes two events and reads them back."""
    scope, stream = unique_name("scope"), unique_name("stream")
    assert manager.create_scope(scope)
    assert manager.create_stream(scope, stream, 1)
    assert stream in manager.list_stream(scope)

    writer = manager.create_writer(scope, stream)
    writer.write_event("first", routing_key="k")
    writer.write_event_bytes(b"second", routing_key="k")
    writer.flush()
    writer.close()

    events = read_events(new_reader(manager, scope, stream), 2)
    assert [event.data() for event in events] == [b"first", b"second"]


# TLS


def test_tls_with_the_right_ca_serves_admin_calls(server: SecureServer) -> None:
    scope, stream = unique_name("scope"), unique_name("stream")
    with server.manager() as manager:
        assert manager.create_scope(scope)
        assert not manager.create_scope(scope)
        assert manager.create_stream(scope, stream, 2)

        assert scope in manager.list_scope()
        assert stream in manager.list_stream(scope)


def test_the_right_ca_and_password_carry_writes_and_reads(
    server: SecureServer,
) -> None:
    with server.manager() as manager:
        round_trip(manager)


def test_tls_with_the_right_ca_carries_a_committed_transaction(
    server: SecureServer,
) -> None:
    scope, stream = unique_name("scope"), unique_name("stream")
    with server.manager() as manager:
        assert manager.create_scope(scope)
        assert manager.create_stream(scope, stream, 1)
        txn_writer = manager.create_transaction_writer(scope, stream, writer_id=1)

        transaction = txn_writer.begin_txn()
        transaction.write_event("in txn 1", routing_key="k")
        transaction.write_event("in txn 2", routing_key="k")
        transaction.commit()

        events = read_events(new_reader(manager, scope, stream), 2)
    assert [event.data() for event in events] == [b"in txn 1", b"in txn 2"]


def test_a_trust_cert_given_as_pem_text_works(server: SecureServer) -> None:
    pem = server.certificates.ca_cert.read_text()
    with server.manager(trust_cert=pem) as manager:
        assert manager.create_scope(unique_name("scope"))


def test_a_trust_cert_path_from_the_environment_works(
    server: SecureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("pravega_client_tls_cert_path", str(server.certificates.ca_cert))
    with server.manager(trust_cert=None) as manager:
        assert manager.create_scope(unique_name("scope"))


def test_an_unrelated_ca_fails_promptly_with_a_connection_error(
    server: SecureServer,
) -> None:
    manager = server.manager(
        trust_cert=str(server.certificates.unrelated_ca_cert),
        timeout=FAILING_CALL_TIMEOUT,
    )

    started = time.monotonic()
    with pytest.raises(pravega_client.PravegaConnectionError) as raised:
        failing_call(manager)

    assert "cannot reach the controller" in str(raised.value)
    assert "certificate" in str(raised.value)
    assert time.monotonic() - started < FAILING_CALL_LIMIT


def test_no_trust_cert_fails_with_a_connection_error(server: SecureServer) -> None:
    manager = server.manager(
        trust_cert=None, timeout=FAILING_CALL_TIMEOUT, retry=QUICK_RETRY
    )

    with pytest.raises(pravega_client.PravegaConnectionError, match="cannot reach"):
        failing_call(manager)


def test_disabled_cert_verification_connects_and_warns(
    server: SecureServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pravega_client")

    with server.manager(trust_cert=None, disable_cert_verification=True) as manager:
        round_trip(manager)

    warnings = [
        record
        for record in caplog.records
        if record.name == "pravega_client" and record.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    assert "certificate verification is disabled" in warnings[0].getMessage()
    assert server.uri in warnings[0].getMessage()


# Authentication


def test_a_ready_made_basic_token_works(server: SecureServer) -> None:
    token = base64.b64encode(f"{USER}:{server.password}".encode()).decode()
    with server.manager(username=None, password=None, token=token) as manager:
        assert manager.create_scope(unique_name("scope"))


def test_credentials_from_the_environment_work_with_auth_enabled(
    server: SecureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("pravega_client_auth_method", "Basic")
    monkeypatch.setenv("pravega_client_auth_username", USER)
    monkeypatch.setenv("pravega_client_auth_password", server.password)

    with pravega_client.StreamManager(
        server.uri,
        auth_enabled=True,
        trust_cert=str(server.certificates.ca_cert),
        timeout=30,
    ) as manager:
        round_trip(manager)


def test_a_wrong_password_fails_promptly_with_an_authentication_error(
    server: SecureServer,
) -> None:
    manager = server.manager(
        password=f"wrong-{uuid.uuid4().hex}", timeout=FAILING_CALL_TIMEOUT
    )

    started = time.monotonic()
    with pytest.raises(
        pravega_client.AuthenticationError, match=AUTHENTICATION_FAILURE
    ):
        failing_call(manager)

    assert time.monotonic() - started < FAILING_CALL_LIMIT


def test_an_unknown_user_fails_with_an_authentication_error(
    server: SecureServer,
) -> None:
    manager = server.manager(
        username=unique_name("nobody"),
        password=server.password,
        timeout=FAILING_CALL_TIMEOUT,
        retry=QUICK_RETRY,
    )

    with pytest.raises(
        pravega_client.AuthenticationError, match=AUTHENTICATION_FAILURE
    ):
        failing_call(manager)


def test_no_credentials_fail_with_an_authentication_error(
    server: SecureServer,
) -> None:
    manager = server.manager(
        username=None, password=None, timeout=FAILING_CALL_TIMEOUT, retry=QUICK_RETRY
    )

    with pytest.raises(
        pravega_client.AuthenticationError, match=AUTHENTICATION_FAILURE
    ):
        failing_call(manager)


def test_passwords_never_reach_reprs_errors_or_logs(
    server: SecureServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_password = f"wrong-{uuid.uuid4().hex}"
    secrets = {
        server.password,
        wrong_password,
        # What goes over the wire: a leaked header is as bad as a leaked password.
        base64.b64encode(f"{USER}:{server.password}".encode()).decode(),
        base64.b64encode(f"{USER}:{wrong_password}".encode()).decode(),
    }

    with server.manager() as manager:
        assert manager.create_scope(unique_name("scope"))
        texts = [repr(manager), str(manager)]
    rejected = server.manager(
        password=wrong_password, timeout=FAILING_CALL_TIMEOUT, retry=QUICK_RETRY
    )
    texts.append(repr(rejected))
    with pytest.raises(pravega_client.AuthenticationError) as raised:
        failing_call(rejected)
    texts += [
        repr(raised.value),
        *traceback.format_exception_only(raised.type, raised.value),
    ]
    # Native records are delivered by a background thread; take the rest now.
    _logging.flush()
    texts += [record.getMessage() for record in caplog.records]
    texts.append(caplog.text)

    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_the_readme_tls_and_auth_examples_run(
    server: SecureServer, tmp_path: Path
) -> None:
    blocks = [
        block
        for block in examples()
        if block.language == "python" and block.section == "TLS and auth"
    ]
    replacements = {
        '"tls://localhost:9090"': f'"{server.uri}"',
        '"alice"': f'"{USER}"',
        '"alice-password"': f'"{server.password}"',
        '"ca-cert.pem"': f'"{server.certificates.ca_cert}"',
        '"examples"': f'"{unique_name("readme")}"',
    }

    output = run_examples(blocks, replacements, tmp_path, timeout=120)

    assert "refused:" in output
    assert server.password not in output
