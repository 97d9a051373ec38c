"""pravega-cli, run as a separate process against the real server."""

from __future__ import annotations

import base64
import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest

import pravega_client
from conftest import new_reader, read_events, unique_name
from pravega_client import StreamRetentionPolicy, StreamScalingPolicy

CLI = [sys.executable, "-m", "pravega_client"]
# Generous: a command costs an interpreter start and a few controller calls.
DEADLINE_S = 120

Run = Callable[..., "subprocess.CompletedProcess[bytes]"]


@pytest.fixture
def cli_env(controller_uri: str) -> Dict[str, str]:
    env = dict(os.environ)
    env["PRAVEGA_CONTROLLER"] = controller_uri
    env.pop("PRAVEGA_PASSWORD", None)
    env.pop("PRAVEGA_TOKEN", None)
    return env


@pytest.fixture
def run(cli_env: Dict[str, str], tmp_path: Path) -> Run:
    """Runs one pravega-cli command to completion and returns its result."""

    def run_cli(
        *args: str, input: Optional[bytes] = None, check: bool = True
    ) -> "subprocess.CompletedProcess[bytes]":
        result = subprocess.run(
            CLI + list(args),
            cwd=tmp_path,
            env=cli_env,
            input=input,
            capture_output=True,
            timeout=DEADLINE_S,
        )
        if check:
            assert result.returncode == 0, result.stderr.decode(errors="replace")
        return result

    return run_cli


def error_line(result: "subprocess.CompletedProcess[bytes]") -> str:
    """The stderr of a failed command, which must be exactly one error line."""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("pravega-cli: error: "), lines
    return lines[0]


def jsonl(output: bytes) -> List[dict]:
    return [json.loads(line) for line in output.decode().splitlines()]


@pytest.fixture
def cli_stream(manager: pravega_client.StreamManager, scope: str) -> str:
    """A new three-segment stream, as SCOPE/STREAM."""
    name = unique_name("stream")
    assert manager.create_stream(scope, name, 3)
    return f"{scope}/{name}"


# Installation


def test_the_installed_script_and_the_module_both_show_help(
    run: Run, tmp_path: Path
) -> None:
    script = Path(sys.executable).parent / "pravega-cli"
    assert script.is_file()
    result = subprocess.run(
        [str(script), "--help"], cwd=tmp_path, capture_output=True, timeout=DEADLINE_S
    )
    assert result.returncode == 0, result.stderr
    assert b"usage: pravega-cli" in result.stdout

    for command in (["--help"], ["read", "--help"], ["write", "--help"]):
        assert b"usage: pravega-cli" in run(*command).stdout


# Scopes


def test_scope_create_list_delete(run: Run) -> None:
    name = unique_name("scope")
    run("scope", "create", name)
    assert name in run("scope", "list").stdout.decode().splitlines()

    again = run("scope", "create", name, check=False)
    assert again.returncode == 1
    assert "already exists" in error_line(again)
    run("scope", "create", name, "--if-not-exists")

    run("scope", "delete", name)
    assert name not in run("scope", "list").stdout.decode().splitlines()
    missing = run("scope", "delete", name, check=False)
    assert missing.returncode == 1
    assert "does not exist" in error_line(missing)
    run("scope", "delete", name, "--if-exists")


def test_scope_list_hides_internal_scopes_unless_all(run: Run) -> None:
    assert "_system" not in run("scope", "list").stdout.decode().splitlines()
    assert "_system" in run("scope", "list", "--all").stdout.decode().splitlines()


# Streams


def test_stream_create_with_policies_and_tags_shows_them_in_info(
    run: Run, manager: pravega_client.StreamManager, scope: str
) -> None:
    name = unique_name("stream")
    run(
        "stream",
        "create",
        f"{scope}/{name}",
        "--segments",
        "2",
        "--scale-by-event-rate",
        "500",
        "--scale-factor",
        "3",
        "--retention-time",
        "2h",
        "--tag",
        "team-a",
        "--tag",
        "logs",
    )

    scaling, retention = manager.get_stream_policies(scope, name)
    assert scaling == StreamScalingPolicy.auto_scaling_policy_by_event_rate(500, 3, 2)
    assert retention == StreamRetentionPolicy.by_time(2 * 3600 * 1000)
    assert sorted(manager.get_stream_tags(scope, name)) == ["logs", "team-a"]

    text = run("stream", "info", f"{scope}/{name}").stdout.decode()
    assert "500 events/s" in text
    assert "7200000 ms" in text
    assert "team-a" in text and "logs" in text
    info = json.loads(run("stream", "info", f"{scope}/{name}", "--json").stdout)
    assert info["scaling"] == {
        "type": "event-rate",
        "segments": 2,
        "target_events_per_s": 500,
        "scale_factor": 3,
    }
    assert info["retention"] == {"type": "time", "milliseconds": 7200000}
    assert sorted(info["tags"]) == ["logs", "team-a"]
    assert info["sealed"] is False
    assert info["tail"] == "0:0,1:0"


def test_stream_create_by_byte_rate_and_size_retention(
    run: Run, manager: pravega_client.StreamManager, scope: str
) -> None:
    name = unique_name("stream")
    run(
        "stream",
        "create",
        f"{scope}/{name}",
        "--scale-by-byte-rate",
        "2M",
        "--retention-size",
        "10G",
    )

    scaling, retention = manager.get_stream_policies(scope, name)
    assert scaling == StreamScalingPolicy.auto_scaling_policy_by_data_rate(2048, 2, 1)
    assert retention == StreamRetentionPolicy.by_size(10 * 2**30)
    info = json.loads(run("stream", "info", f"{scope}/{name}", "--json").stdout)
    assert info["scaling"]["target_kib_per_s"] == 2048
    assert info["tags"] == []


def test_stream_list_seal_delete(run: Run, scope: str) -> None:
    names = sorted(unique_name("stream") for _ in range(2))
    for name in names:
        run("stream", "create", f"{scope}/{name}", "--segments", "1")
    # Internal streams (_MARK...) are left out unless asked for.
    assert run("stream", "list", scope).stdout.decode().splitlines() == names
    assert len(run("stream", "list", scope, "--all").stdout.splitlines()) > 2

    run("stream", "seal", f"{scope}/{names[0]}")
    info = json.loads(run("stream", "info", f"{scope}/{names[0]}", "--json").stdout)
    assert info["sealed"] is True
    refused = run("write", f"{scope}/{names[0]}", input=b"late\n", check=False)
    assert refused.returncode == 1
    error_line(refused)

    run("stream", "delete", f"{scope}/{names[0]}")
    run("stream", "delete", f"{scope}/{names[1]}")  # seals it first
    assert run("stream", "list", scope).stdout == b""
    missing = run("stream", "delete", f"{scope}/{names[0]}", check=False)
    assert missing.returncode == 1
    assert "does not exist" in error_line(missing)
    run("stream", "delete", f"{scope}/{names[0]}", "--if-exists")


# Writing and reading


def test_write_lines_with_a_fixed_key_and_read_them_back(
    run: Run, manager: pravega_client.StreamManager, cli_stream: str
) -> None:
    lines = [f"line {i}" for i in range(500)]
    written = run("write", cli_stream, "--key", "k1", input="\n".join(lines).encode())
    assert written.stderr == b""  # not a terminal: no progress, no count

    # One key means one segment, in write order.
    records = jsonl(run("read", cli_stream, "--format", "jsonl").stdout)
    assert [record["data"] for record in records] == lines
    assert len({record["segment"] for record in records}) == 1
    offsets = [record["offset"] for record in records]
    assert offsets == sorted(offsets)

    first = jsonl(run("read", cli_stream, "--format", "jsonl", "--count", "7").stdout)
    assert [record["data"] for record in first] == lines[:7]

    raw = run("read", cli_stream, "-n", "3").stdout
    assert raw == b"line 0\nline 1\nline 2\n"

    scope, stream = cli_stream.split("/")
    events = read_events(new_reader(manager, scope, stream), 500)
    assert sorted(event.data().decode() for event in events) == sorted(lines)


def test_write_lines_routed_by_a_field_keep_order_per_key(
    run: Run, cli_stream: str
) -> None:
    lines = [f"{i},user{i % 4},payload {i}" for i in range(400)]
    run(
        "write",
        cli_stream,
        "--key-field",
        "2",
        "--delimiter",
        ",",
        "-v",
        input=("\n".join(lines) + "\n").encode(),
    )

    records = jsonl(run("read", cli_stream, "--format", "jsonl").stdout)
    assert sorted(record["data"] for record in records) == sorted(lines)
    by_user: Dict[str, List[str]] = {}
    segment_of: Dict[str, int] = {}
    for record in records:
        user = record["data"].split(",")[1]
        by_user.setdefault(user, []).append(record["data"])
        assert segment_of.setdefault(user, record["segment"]) == record["segment"]
    for user, seen in by_user.items():
        assert seen == [line for line in lines if line.split(",")[1] == user]


def test_a_line_without_the_key_field_fails_with_its_number(
    run: Run, cli_stream: str
) -> None:
    result = run(
        "write",
        cli_stream,
        "--key-field",
        "3",
        "--delimiter",
        ",",
        input=b"a,b,c\na,b\n",
        check=False,
    )
    assert result.returncode == 1
    assert "line 2 has no field 3" in error_line(result)


def test_length_prefixed_round_trip_with_binary_payloads(
    run: Run, cli_stream: str
) -> None:
    payloads = [bytes([i % 256]) * (1 + i * 37 % 3000) for i in range(300)]
    quoted = 'say "hi" \\ \t\x01 ☃'
    payloads += [b"\n\x00\xff\r\n", quoted.encode(), b"caf\xc3\xa9", bytes(range(256))]
    framed = b"".join(len(p).to_bytes(4, "big") + p for p in payloads)
    run(
        "write", cli_stream, "--format", "length-prefixed", "--key", "bin", input=framed
    )

    read_back = run("read", cli_stream, "--format", "length-prefixed").stdout
    assert read_back == framed

    records = jsonl(run("read", cli_stream, "--format", "jsonl").stdout)
    assert records[-3]["data"] == quoted
    assert records[-2]["data"] == "café"
    assert "data_base64" not in records[-2]
    assert base64.b64decode(records[-1]["data_base64"]) == bytes(range(256))
    assert "data" not in records[-1]


def test_a_truncated_length_prefixed_record_fails(run: Run, cli_stream: str) -> None:
    framed = (5).to_bytes(4, "big") + b"hello" + (10).to_bytes(4, "big") + b"short"
    result = run(
        "write", cli_stream, "--format", "length-prefixed", input=framed, check=False
    )
    assert result.returncode == 1
    assert "record 2" in error_line(result)
    # The complete record before it was still written.
    assert run("read", cli_stream).stdout == b"hello\n"


def test_a_whole_file_becomes_one_event(
    run: Run, cli_stream: str, tmp_path: Path
) -> None:
    blob = os.urandom(100_000) + b"\n\n"
    (tmp_path / "blob.bin").write_bytes(blob)
    run("write", cli_stream, "--format", "whole", "--file", "blob.bin")

    read_back = run("read", cli_stream, "--format", "length-prefixed").stdout
    assert read_back == len(blob).to_bytes(4, "big") + blob


def test_read_from_a_stream_cut_and_the_cut_where_a_read_stopped(
    run: Run, cli_stream: str
) -> None:
    run("write", cli_stream, "--key", "k", input=b"a\nb\nc\n")
    stopped = run("read", cli_stream, "--count", "2", "--verbose")
    assert stopped.stdout == b"a\nb\n"
    cut = stopped.stderr.decode().split("stopped at cut ")[1].strip()

    assert run("read", cli_stream, "--from-cut", cut).stdout == b"c\n"
    tail = json.loads(run("stream", "info", cli_stream, "--json").stdout)["tail"]
    run("write", cli_stream, "--key", "k", input=b"d\n")
    assert run("read", cli_stream, "--from-cut", tail).stdout == b"d\n"


def test_a_cut_naming_some_segments_reads_those_and_ends(
    run: Run, cli_stream: str
) -> None:
    run("write", cli_stream, "--key", "k", input=b"a\nb\n")
    tail = json.loads(run("stream", "info", cli_stream, "--json").stdout)["tail"]
    positions = dict(pair.split(":") for pair in tail.split(","))
    (written,) = [segment for segment, offset in positions.items() if offset != "0"]
    (empty, *_) = [segment for segment, offset in positions.items() if offset == "0"]

    # The group reads only the segments its cut names, so the read must not wait for
    # the tail of the others.
    assert run("read", cli_stream, "--from-cut", f"{empty}:0").stdout == b""
    assert run("read", cli_stream, "--from-cut", f"{written}:0").stdout == b"a\nb\n"


def test_read_from_tail_without_follow_prints_nothing(
    run: Run, cli_stream: str
) -> None:
    run("write", cli_stream, input=b"old\n")
    assert run("read", cli_stream, "--from", "tail").stdout == b""


def test_read_of_an_empty_stream_ends_at_once(run: Run, cli_stream: str) -> None:
    assert run("read", cli_stream, "--format", "jsonl").stdout == b""


def test_read_of_a_sealed_stream_ends_after_the_idle_time(
    run: Run, cli_stream: str
) -> None:
    run("write", cli_stream, "--key", "k", input=b"x\ny\n")
    run("stream", "seal", cli_stream)
    assert run("read", cli_stream, "--idle", "1").stdout == b"x\ny\n"
    from_tail = run("read", cli_stream, "--from", "tail", check=False)
    assert from_tail.returncode == 1
    assert error_line(from_tail).endswith(
        f"stream {cli_stream} is sealed: it has no tail"
    )


def test_a_stream_copied_through_an_os_pipe_between_two_processes(
    run: Run, cli_env: Dict[str, str], tmp_path: Path, scope: str
) -> None:
    source, target = (f"{scope}/{unique_name('stream')}" for _ in range(2))
    run("stream", "create", source, "--segments", "2")
    run("stream", "create", target)
    lines = [f"event {i}" for i in range(2000)]
    run("write", source, "--key", "one", input="\n".join(lines).encode())

    reader = subprocess.Popen(
        CLI + ["read", source, "--format", "length-prefixed"],
        cwd=tmp_path,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None
    writer = subprocess.Popen(
        CLI + ["write", target, "--format", "length-prefixed", "--key", "one"],
        cwd=tmp_path,
        env=cli_env,
        stdin=reader.stdout,
        stderr=subprocess.PIPE,
    )
    reader.stdout.close()  # the writer holds the only read end now
    _, writer_errors = writer.communicate(timeout=DEADLINE_S)
    _, reader_errors = reader.communicate(timeout=DEADLINE_S)

    assert (reader.returncode, reader_errors) == (0, b"")
    assert (writer.returncode, writer_errors) == (0, b"")
    assert run("read", target).stdout.decode().splitlines() == lines


def test_output_into_a_closed_pipe_ends_quietly(
    cli_env: Dict[str, str], tmp_path: Path, run: Run, cli_stream: str
) -> None:
    run("write", cli_stream, input=b"".join(b"%d\n" % i for i in range(50_000)))

    reader = subprocess.Popen(
        CLI + ["read", cli_stream],
        cwd=tmp_path,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.readline()
    reader.stdout.close()  # as `| head -1` does
    assert reader.wait(timeout=DEADLINE_S) == 0
    assert reader.stderr.read() == b""


def test_follow_prints_new_events_and_ctrl_c_exits_130_cleanly(
    cli_env: Dict[str, str],
    tmp_path: Path,
    manager: pravega_client.StreamManager,
    cli_stream: str,
) -> None:
    scope, stream = cli_stream.split("/")
    reader = subprocess.Popen(
        CLI + ["read", cli_stream, "--from", "tail", "--follow", "--format", "jsonl"],
        cwd=tmp_path,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    try:
        # Written until the reader, which starts at the tail, has printed one.
        writer = manager.create_writer(scope, stream)
        deadline = time.monotonic() + DEADLINE_S
        while True:
            writer.write_event("new", routing_key="k")
            ready, _, _ = select.select([reader.stdout], [], [], 0.5)
            if ready:
                break
            assert reader.poll() is None, reader.stderr.read()
            assert time.monotonic() < deadline, "the follower printed nothing"
        assert json.loads(reader.stdout.readline())["data"] == "new"
        writer.close()

        reader.send_signal(signal.SIGINT)
        assert reader.wait(timeout=30) == 130
        assert reader.stderr.read() == b""
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()


def test_write_sends_lines_as_they_come_and_ctrl_c_exits_130_cleanly(
    cli_env: Dict[str, str],
    tmp_path: Path,
    manager: pravega_client.StreamManager,
    cli_stream: str,
) -> None:
    scope, stream = cli_stream.split("/")
    writer = subprocess.Popen(
        CLI + ["write", cli_stream, "--key", "k"],
        cwd=tmp_path,
        env=cli_env,
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert writer.stdin is not None and writer.stderr is not None
    try:
        writer.stdin.write(b"first\nsecond\n")
        writer.stdin.flush()
        # The input stays open, as with `tail -f`: the events must arrive anyway.
        events = read_events(new_reader(manager, scope, stream), 2)
        assert [event.data() for event in events] == [b"first", b"second"]

        writer.send_signal(signal.SIGINT)
        assert writer.wait(timeout=30) == 130
        assert writer.stderr.read() == b""
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
        writer.stdin.close()


# Progress on a terminal


def run_with_terminal_stderr(
    args: List[str], cli_env: Dict[str, str], tmp_path: Path, input: bytes
) -> bytes:
    """Runs a command whose stderr is a pseudo-terminal; returns what it showed."""
    controller, terminal = pty.openpty()
    shown: List[bytes] = []

    def collect() -> None:
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO once the command closed the terminal
                return
            if not chunk:
                return
            shown.append(chunk)

    collector = threading.Thread(target=collect)
    collector.start()
    try:
        result = subprocess.run(
            CLI + args,
            cwd=tmp_path,
            env=cli_env,
            input=input,
            stdout=subprocess.DEVNULL,
            stderr=terminal,
            timeout=DEADLINE_S,
        )
    finally:
        os.close(terminal)
        collector.join(timeout=DEADLINE_S)
        os.close(controller)
    assert result.returncode == 0, b"".join(shown)
    return b"".join(shown)


def test_write_shows_progress_and_count_only_on_a_terminal(
    cli_env: Dict[str, str], tmp_path: Path, run: Run, cli_stream: str
) -> None:
    data = b"".join(b"event %d\n" % i for i in range(20_000))

    shown = run_with_terminal_stderr(["write", cli_stream], cli_env, tmp_path, data)
    assert b"events/s" in shown
    assert b"20000 event(s) written to " + cli_stream.encode() in shown

    piped = run("write", cli_stream, input=data)
    assert piped.stderr == b""
    assert len(run("read", cli_stream).stdout.splitlines()) == 40_000


# Errors


def test_an_unknown_stream_is_one_error_line_and_exit_1(run: Run, scope: str) -> None:
    for command in (
        ["stream", "info", f"{scope}/nosuch"],
        ["read", f"{scope}/nosuch"],
        ["write", f"{scope}/nosuch"],
        ["stream", "seal", f"{scope}/nosuch"],
    ):
        result = run(*command, input=b"x\n", check=False)
        assert result.returncode == 1, command
        assert error_line(result) == (
            f"pravega-cli: error: stream {scope}/nosuch does not exist"
        )


def test_a_bad_controller_uri_is_one_error_line(run: Run) -> None:
    result = run("--controller", "http://localhost:9090", "scope", "list", check=False)
    assert result.returncode == 1
    assert "tcp:// or tls://" in error_line(result)


def test_an_unreachable_controller_is_one_error_line(run: Run) -> None:
    result = run(
        "scope",
        "list",
        "--controller",
        "tcp://127.0.0.1:1",
        "--timeout",
        "5",
        check=False,
    )
    assert result.returncode == 1
    error_line(result)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["bogus"],
        ["stream", "info", "no-slash"],
        ["read", "a/b", "--count", "0"],
        ["read", "a/b", "--from", "tail", "--from-cut", "0:0"],
        ["write", "a/b", "--key", "k", "--key-field", "1"],
        ["stream", "create", "a/b", "--retention-time", "5"],
        ["scope", "list", "--password", "secret"],
    ],
)
def test_usage_errors_exit_2_with_one_line(run: Run, args: List[str]) -> None:
    result = run(*args, check=False)
    assert result.returncode == 2
    error_line(result)


def test_debug_shows_the_traceback(run: Run, scope: str) -> None:
    result = run("--debug", "stream", "info", f"{scope}/nosuch", check=False)
    assert result.returncode == 1
    errors = result.stderr.decode()
    assert "Traceback (most recent call last)" in errors
    # Native DEBUG records arrive from a background thread, before or after it.
    assert f"pravega-cli: error: stream {scope}/nosuch does not exist" in (
        errors.splitlines()
    )
