"""ByteStream: a single-segment stream as a Python binary file."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys

import pytest

import pravega_client
from conftest import unique_name


@pytest.fixture
def byte_stream(manager, scope, stream):
    with manager.create_byte_stream(scope, stream) as opened:
        yield opened


def test_the_0_3_8_sequence(byte_stream) -> None:
    for _ in range(3):
        assert byte_stream.write(b"0123456789abcde") == 15
    byte_stream.flush()

    assert byte_stream.current_tail_offset() == 45
    assert byte_stream.seek(5) == 5
    assert byte_stream.seek(3, io.SEEK_CUR) == 8
    assert byte_stream.seek(-5, io.SEEK_END) == 40
    assert byte_stream.tell() == 40
    buffer = bytearray(5)
    assert byte_stream.readinto(buffer) == 5
    assert bytes(buffer) == b"abcde"
    byte_stream.truncate(2)
    assert byte_stream.current_head_offset() == 2
    assert byte_stream.seekable()


def test_it_is_a_raw_io_object(byte_stream) -> None:
    assert isinstance(byte_stream, io.RawIOBase)
    assert byte_stream.readable() and byte_stream.writable()
    byte_stream.write(b"line one\nline two\n")
    byte_stream.flush()

    assert byte_stream.read(4) == b"line"
    assert byte_stream.readall() == b" one\nline two\n"
    assert byte_stream.read() == b""  # at the tail: nothing, at once


def test_text_and_buffered_wrappers(manager, scope, stream) -> None:
    writer = io.TextIOWrapper(
        io.BufferedWriter(manager.create_byte_stream(scope, stream)), encoding="utf-8"
    )
    writer.write("héllo\nwörld\n")
    writer.close()

    reader = io.TextIOWrapper(
        io.BufferedReader(manager.create_byte_stream(scope, stream)), encoding="utf-8"
    )
    assert reader.readlines() == ["héllo\n", "wörld\n"]
    reader.close()


def test_64_mib_file_round_trip(manager, scope, stream, tmp_path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(64 * 1024 * 1024))

    with (
        open(source, "rb") as file,
        manager.create_byte_stream(scope, stream) as target,
    ):
        shutil.copyfileobj(file, target, length=4 * 1024 * 1024)
    copy = tmp_path / "copy.bin"
    with manager.create_byte_stream(scope, stream) as origin, open(copy, "wb") as file:
        shutil.copyfileobj(origin, file, length=4 * 1024 * 1024)

    assert copy.read_bytes() == source.read_bytes()


def test_opening_a_stream_with_data_appends_at_the_tail(manager, scope, stream) -> None:
    with manager.create_byte_stream(scope, stream) as first:
        first.write(b"first")
    with manager.create_byte_stream(scope, stream) as second:
        second.write(b"second")

    with manager.create_byte_stream(scope, stream) as reader:
        assert reader.read() == b"firstsecond"


def test_another_process_appends_while_this_one_reads(
    manager, scope, stream, controller_uri, tmp_path
) -> None:
    reader = manager.create_byte_stream(scope, stream)
    assert reader.read() == b""
    program = (
        "import pravega_client\n"
        f"m = pravega_client.StreamManager({controller_uri!r})\n"
        f"with m.create_byte_stream({scope!r}, {stream!r}) as s:\n"
        "    s.write(b'from another process')\n"
    )
    subprocess.run(
        [sys.executable, "-c", program], check=True, cwd=tmp_path, timeout=60
    )

    assert reader.read() == b"from another process"
    reader.close()


def test_bad_input(manager, scope, byte_stream) -> None:
    multi = unique_name("multi")
    manager.create_stream(scope, multi, 2)
    with pytest.raises(
        pravega_client.InvalidArgumentError, match="exactly one segment"
    ):
        manager.create_byte_stream(scope, multi)
    byte_stream.write(b"0123456789")
    byte_stream.flush()
    byte_stream.truncate(4)

    with pytest.raises(ValueError, match="cannot seek"):
        byte_stream.seek(0)  # before the head
    with pytest.raises(ValueError, match="cannot seek"):
        byte_stream.seek(11)  # past the tail
    with pytest.raises(ValueError, match="whence"):
        byte_stream.seek(0, 3)
    with pytest.raises(pravega_client.InvalidArgumentError):
        byte_stream.write("text")
    assert byte_stream.write(b"x" * (8 * 1024 * 1024 + 10)) == 8 * 1024 * 1024


def test_use_after_close_raises(manager, scope, stream) -> None:
    byte_stream = manager.create_byte_stream(scope, stream)
    byte_stream.close()
    byte_stream.close()

    with pytest.raises(ValueError):
        byte_stream.write(b"late")
    with pytest.raises(ValueError):
        byte_stream.read()


def test_reading_data_truncated_under_the_reader_raises(manager, scope, stream) -> None:
    writer = manager.create_byte_stream(scope, stream)
    writer.write(b"x" * (3 << 20))
    writer.flush()
    reader = manager.create_byte_stream(scope, stream)
    assert reader.read(10) == b"x" * 10  # the reader now holds a prefetched block

    writer.truncate(5 << 19)
    with pytest.raises(pravega_client.PravegaIOError, match="truncated"):
        while reader.read(1 << 16):
            pass
    writer.close()
    reader.close()
