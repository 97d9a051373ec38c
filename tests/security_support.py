"""Certificates, a password file and a standalone server with TLS and auth, for tests.

Everything is made at test time in a scratch directory: nothing secret or long-lived
is committed, and every run gets fresh keys and fresh passwords.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pravega_client
from conftest import SERVER_SCRIPT, server_environment, tool_environment

# The accounts of the secure server: ADMIN_USER for the server's own client, USER for
# the tests.
ADMIN_USER = "admin"
USER = "tester"

# The standalone server's ZooKeeper clean-up assumes this password for its truststore,
# so every keystore made here uses it.
KEYSTORE_PASSWORD = "1111_aaaa"

# Pravega's StrongPasswordProcessor hashes with these; the server rejects other sizes.
PBKDF2_ITERATIONS = 5000
SALT_BYTES = 32
KEY_BYTES = 64

ACL_EVERYTHING = "prn::*,READ_UPDATE;"

CA_EXTENSIONS = """\
[req]
distinguished_name = subject
prompt = no
x509_extensions = ca
[subject]
CN = {name}
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""

# clientAuth too: with TLS on, the server's embedded ZooKeeper asks its own clients,
# which present this same certificate, for a client certificate.
SERVER_EXTENSIONS = """\
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


class ToolError(RuntimeError):
    """openssl or keytool failed; the message carries its output."""


def run_tool(directory: Path, *command: str) -> None:
    # keytool is a JVM, which must not inherit an AddressSanitizer preload.
    result = subprocess.run(
        command,
        cwd=directory,
        env=tool_environment(),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ToolError(
            f"{' '.join(command)} exited with {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )


def make_ca(directory: Path, name: str) -> Tuple[Path, Path]:
    """A self-signed CA; returns the paths of its certificate and its key."""
    config = directory / f"{name}.cnf"
    config.write_text(CA_EXTENSIONS.format(name=f"pravega-client-py test {name}"))
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    run_tool(
        directory,
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
        "-days", "2", "-config", config.name, "-keyout", key.name, "-out", cert.name,
    )  # fmt: skip
    return cert, key


@dataclass(frozen=True)
class Certificates:
    """The files a TLS server needs, and the CAs a client may trust."""

    ca_cert: Path
    unrelated_ca_cert: Path
    server_key: Path  # PKCS#8 PEM, as the segment store requires
    server_chain: Path  # the server certificate, then the CA's
    keystore: Path  # JKS, for the controller's REST listener
    keystore_password_file: Path
    truststore: Path  # JKS, for the embedded ZooKeeper


def make_certificates(directory: Path) -> Certificates:
    ca_cert, ca_key = make_ca(directory, "ca")
    unrelated_ca_cert, _ = make_ca(directory, "unrelated-ca")

    run_tool(
        directory,
        "openssl", "genpkey", "-algorithm", "RSA",
        "-pkeyopt", "rsa_keygen_bits:2048", "-out", "server.key",
    )  # fmt: skip
    run_tool(
        directory,
        "openssl", "req", "-new", "-key", "server.key", "-subj", "/CN=localhost",
        "-out", "server.csr",
    )  # fmt: skip
    (directory / "server.ext").write_text(SERVER_EXTENSIONS)
    run_tool(
        directory,
        "openssl", "x509", "-req", "-in", "server.csr", "-CA", ca_cert.name,
        "-CAkey", ca_key.name, "-CAcreateserial", "-days", "2", "-sha256",
        "-extfile", "server.ext", "-out", "server.crt",
    )  # fmt: skip
    # The controller's own client trusts whatever this file holds, so it carries the
    # CA as well as the leaf; clients get the whole chain in the handshake too.
    chain = directory / "server-chain.crt"
    chain.write_text((directory / "server.crt").read_text() + ca_cert.read_text())

    run_tool(
        directory,
        "openssl", "pkcs12", "-export", "-in", "server.crt", "-inkey", "server.key",
        "-certfile", ca_cert.name, "-name", "server", "-out", "server.p12",
        "-passout", f"pass:{KEYSTORE_PASSWORD}",
    )  # fmt: skip
    run_tool(
        directory,
        "keytool", "-importkeystore", "-noprompt",
        "-srckeystore", "server.p12", "-srcstoretype", "PKCS12",
        "-srcstorepass", KEYSTORE_PASSWORD,
        "-destkeystore", "server.jks", "-deststoretype", "JKS",
        "-deststorepass", KEYSTORE_PASSWORD, "-destkeypass", KEYSTORE_PASSWORD,
    )  # fmt: skip
    run_tool(
        directory,
        "keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", ca_cert.name,
        "-keystore", "truststore.jks", "-storetype", "JKS",
        "-storepass", KEYSTORE_PASSWORD,
    )  # fmt: skip
    password_file = directory / "server.jks.passwd"
    password_file.write_text(KEYSTORE_PASSWORD)

    return Certificates(
        ca_cert=ca_cert,
        unrelated_ca_cert=unrelated_ca_cert,
        server_key=directory / "server.key",
        server_chain=chain,
        keystore=directory / "server.jks",
        keystore_password_file=password_file,
        truststore=directory / "truststore.jks",
    )


def pravega_password_hash(password: str) -> str:
    """The password as Pravega's StrongPasswordProcessor stores it: hex of
    ``iterations:hex(salt):hex(PBKDF2-HMAC-SHA256)``."""
    salt = os.urandom(SALT_BYTES)
    key = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), salt, PBKDF2_ITERATIONS, dklen=KEY_BYTES
    )
    stored = f"{PBKDF2_ITERATIONS}:{salt.hex()}:{key.hex()}"
    return stored.encode().hex()


def write_password_file(path: Path, accounts: Dict[str, str]) -> None:
    """One ``user:hash:acl`` line per account, each allowed everything."""
    lines = [
        f"{user}:{pravega_password_hash(password)}:{ACL_EVERYTHING}"
        for user, password in accounts.items()
    ]
    path.write_text("\n".join(lines) + "\n")


def tls_options(certificates: Certificates) -> List[str]:
    prefix = "-Dsinglenode.security.tls"
    return [
        f"{prefix}.enable=true",
        f"{prefix}.privateKey.location={certificates.server_key}",
        f"{prefix}.certificate.location={certificates.server_chain}",
        f"{prefix}.keyStore.location={certificates.keystore}",
        f"{prefix}.keyStore.pwd.location={certificates.keystore_password_file}",
        f"{prefix}.trustStore.location={certificates.truststore}",
        # The Rust client's TLS stack (rustls 0.19) takes only host names, never IP
        # addresses: with the segment store published as 127.0.0.1, the controller
        # calls work but every write fails ("the writer stopped before ...").
        "-Dpravegaservice.service.published.host.nameOrIp=localhost",
    ]


def auth_options(password_file: Path, user: str, password: str) -> List[str]:
    prefix = "-Dsinglenode.security.auth"
    return [
        f"{prefix}.enable=true",
        f"{prefix}.pwdAuthHandler.accountsDb.location={password_file}",
        # The server's internal client, and the start script's readiness probe, log
        # in as this account.
        f"{prefix}.credentials.username={user}",
        f"{prefix}.credentials.pwd={password}",
    ]


@dataclass(frozen=True)
class RunningServer:
    controller_port: int
    uri: str  # as the start script printed it


@contextmanager
def running_server(options: List[str]) -> Iterator[RunningServer]:
    """Starts a standalone server with extra JVM options on free ports, and stops it
    however the block ends."""
    state_dir = tempfile.mkdtemp(prefix="pravega-test-secure-server-")
    env = server_environment(state_dir)
    # Little data is written; a smaller heap and cache leave room for the suite's
    # other server on a small machine.
    env.update(PRAVEGA_HEAP="1g", PRAVEGA_CACHE_BYTES=str(256 * 1024 * 1024))
    stop = [str(SERVER_SCRIPT), "stop"]
    try:
        started = subprocess.run(
            [str(SERVER_SCRIPT), "start", *options],
            env=env,
            capture_output=True,
            text=True,
        )
        if started.returncode != 0:
            raise RuntimeError(
                "the secure standalone server did not start:\n" + started.stderr[-6000:]
            )
        yield RunningServer(
            controller_port=int(env["PRAVEGA_CONTROLLER_PORT"]),
            uri=started.stdout.strip().splitlines()[-1],
        )
    finally:
        # Also after an interrupt during start: the script records the JVM's pid
        # before it waits for readiness, so stop finds it.
        subprocess.run(stop, env=env, capture_output=True)
        shutil.rmtree(state_dir, ignore_errors=True)


@dataclass(frozen=True)
class SecureServer:
    port: int
    certificates: Certificates
    password: str  # of USER; distinctive, so that a leak is easy to spot

    @property
    def uri(self) -> str:
        # A host name, not 127.0.0.1: the Rust client's TLS stack (rustls 0.19)
        # cannot check a certificate against an IP address.
        return f"tls://localhost:{self.port}"

    def manager(self, **settings: Any) -> pravega_client.StreamManager:
        """A manager for USER that trusts the right CA, unless ``settings`` say
        otherwise."""
        defaults = dict(
            username=USER,
            password=self.password,
            trust_cert=str(self.certificates.ca_cert),
            timeout=30,
        )
        defaults.update(settings)
        return pravega_client.StreamManager(self.uri, **defaults)


@contextmanager
def secure_server(directory: Path) -> Iterator[SecureServer]:
    """A standalone server with TLS and password auth, its certificates and password
    file made in ``directory``; stopped when the block ends."""
    certificates = make_certificates(directory)
    admin_password = f"admin-{uuid.uuid4().hex}"
    user_password = f"secret-{uuid.uuid4().hex}"
    password_file = directory / "passwd"
    write_password_file(
        password_file, {ADMIN_USER: admin_password, USER: user_password}
    )
    options = tls_options(certificates) + auth_options(
        password_file, ADMIN_USER, admin_password
    )
    with running_server(options) as running:
        assert running.uri.startswith("tls://")
        yield SecureServer(running.controller_port, certificates, user_password)
