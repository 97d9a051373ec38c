"""Benchmark runner for the Python clients, following benchmarks/RUNNERS.md.

Usage: python benchmarks/python_runner.py CONTROLLER_URI --client NAME --scope SCOPE
       --cases CASE[,CASE...] --repeats N [--read-100b STREAM] [--read-100kb STREAM]

The same script runs on our package (CPython and PyPy) and on the PyO3 binding of the
`pravega` 0.3.8 package: both are imported as `pravega_client`. For each case it takes
the fastest honest path that the imported module offers and names it in `mode`. It
prints one JSON line per case on stdout and everything else on stderr.

Run it from a directory other than the repository root, so that the source tree does
not shadow the installed package.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import inspect
import itertools
import json
import os
import platform
import resource
import sys
import time
import uuid
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import pravega_client

MIB = 1 << 20
SMALL = b"x" * 100
LARGE = b"x" * MIB

# A read repeat that has not read everything by then fails its case.
READ_DEADLINE_S = 120.0
# A backstop for calls that never return to Python (the PyO3 binding holds the GIL in
# its blocking calls, so no Python timer can fire): past this, faulthandler dumps the
# stacks and ends the process. Cases already reported have been printed by then.
HARD_LIMIT_S = READ_DEADLINE_S + 60.0

WRITER_CLASS = pravega_client.StreamWriter
HAS_WRITE_EVENTS = hasattr(WRITER_CLASS, "write_events")
HAS_WRITE_ASYNC = hasattr(WRITER_CLASS, "write_event_async")
HAS_FLUSH = hasattr(WRITER_CLASS, "flush")
READER_CLASS = getattr(pravega_client, "StreamReader", None)


def _takes(function: Any, keyword: str) -> bool:
    """Whether a callable (Python or PyO3) declares the keyword argument."""
    try:
        return keyword in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


MANAGER_CLASS = pravega_client.StreamManager
HAS_MAX_INFLIGHT = _takes(MANAGER_CLASS.create_writer, "max_inflight_events")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# Write paths. Each writes `count` copies of `payload` and returns only once the
# server has acknowledged all of them.


def write_acked(writer: Any, payload: bytes, count: int) -> None:
    for _ in range(count):
        writer.write_event_bytes(payload)


def write_then_flush(writer: Any, payload: bytes, count: int) -> None:
    for _ in range(count):
        writer.write_event_bytes(payload)
    writer.flush()


def batches_of(size: int) -> Callable[[Any, bytes, int], None]:
    def write_batches(writer: Any, payload: bytes, count: int) -> None:
        batch = [payload] * min(size, count)
        full, rest = divmod(count, len(batch))
        for _ in range(full):
            writer.write_events(batch)
        if rest:
            writer.write_events(batch[:rest])
        writer.flush()

    return write_batches


def write_futures(writer: Any, payload: bytes, count: int) -> None:
    # The PyO3 binding's write_event_async takes str only; ours takes both.
    event = payload.decode("ascii")

    async def write_all() -> None:
        await asyncio.gather(*[writer.write_event_async(event) for _ in range(count)])

    asyncio.run(write_all())


class WritePath(NamedTuple):
    mode: str
    max_inflight: int
    write: Callable[[Any, bytes, int], None]
    usable: bool


def always() -> bool:
    return True


# The candidates of each write case, fastest first as measured on this project's
# 2-core machine (see the report that came with this file); a run takes the first
# usable one. Our package is fastest with write_events batches. The PyO3 binding has
# no batches: its best is write_event_bytes with a deep in-flight window and a flush.
WRITE_PATHS: Dict[str, List[WritePath]] = {
    "write_100B_acked": [
        WritePath("write_event_bytes, max_inflight_events=0", 0, write_acked, True),
    ],
    "write_100B_pipelined": [
        WritePath(
            "write_events batches of 1000, max_inflight_events=100000, flush",
            100_000,
            batches_of(1000),
            HAS_WRITE_EVENTS and HAS_MAX_INFLIGHT,
        ),
        WritePath(
            "write_event_bytes, max_inflight_events=10000, flush",
            10_000,
            write_then_flush,
            HAS_MAX_INFLIGHT and HAS_FLUSH,
        ),
        WritePath(
            "write_event_bytes, max_inflight_events=1000, flush",
            1000,
            write_then_flush,
            HAS_MAX_INFLIGHT and HAS_FLUSH,
        ),
        WritePath("write_event_async futures", 0, write_futures, HAS_WRITE_ASYNC),
        WritePath("write_event_bytes, max_inflight_events=0", 0, write_acked, True),
    ],
    "write_1MiB": [
        WritePath(
            "write_event_bytes, max_inflight_events=64, flush",
            64,
            write_then_flush,
            HAS_MAX_INFLIGHT and HAS_FLUSH,
        ),
        WritePath(
            "write_events batches of 8, max_inflight_events=64, flush",
            64,
            batches_of(8),
            HAS_WRITE_EVENTS and HAS_MAX_INFLIGHT,
        ),
        WritePath("write_event_async futures", 0, write_futures, HAS_WRITE_ASYNC),
        WritePath("write_event_bytes, max_inflight_events=0", 0, write_acked, True),
    ],
}

WRITE_SIZES = {
    # case: (payload, events per repeat, unit)
    "write_100B_acked": (SMALL, 1000, "events_per_s"),
    "write_100B_pipelined": (SMALL, 200_000, "events_per_s"),
    "write_1MiB": (LARGE, 64, "mb_per_s"),
}

READ_SIZES = {
    # case: (event size, events, unit, option naming the stream)
    "read_100B": (100, 1_000_000, "events_per_s", "read_100b"),
    "read_100KB": (102_400, 10_000, "mb_per_s", "read_100kb"),
}

TXN_COUNT, TXN_EVENTS = 10, 100
STREAMS_CREATED = 20

CASES = [
    "write_100B_acked",
    "write_100B_pipelined",
    "write_1MiB",
    "read_100B",
    "read_100KB",
    "txn_100x100B",
    "create_stream",
]


class Repeat(NamedTuple):
    sample: float
    cpu_us_per_event: float


class Bench:
    """The manager, the scope and the names of one run."""

    def __init__(self, manager: Any, scope: str, options: argparse.Namespace) -> None:
        self.manager = manager
        self.scope = scope
        self.options = options
        self._prefix = f"{os.getpid()}x{uuid.uuid4().hex[:6]}n"
        self._counter = itertools.count()

    def unique(self, kind: str) -> str:
        return f"{kind}{self._prefix}{next(self._counter)}"

    def writer_id(self) -> int:
        return (os.getpid() << 32) + next(self._counter)

    def new_stream(self) -> str:
        stream = self.unique("bench")
        if not self.manager.create_stream(self.scope, stream, 1):
            raise RuntimeError(f"stream {self.scope}/{stream} exists already")
        return stream

    def drop_stream(self, stream: str) -> None:
        self.manager.seal_stream(self.scope, stream)
        self.manager.delete_stream(self.scope, stream)


def close(handle: Any) -> None:
    """Closes our package's handles; the PyO3 binding's are freed by dropping them."""
    if hasattr(handle, "close"):
        handle.close()


def write_repeat(bench: Bench, case: str, path: WritePath) -> Repeat:
    payload, count, unit = WRITE_SIZES[case]
    stream = bench.new_stream()
    try:
        if path.max_inflight:
            writer = bench.manager.create_writer(
                bench.scope, stream, max_inflight_events=path.max_inflight
            )
        else:
            writer = bench.manager.create_writer(bench.scope, stream)
        try:
            path.write(writer, payload, 1 if len(payload) >= MIB else 10)

            cpu_before, started = cpu_seconds(), time.perf_counter()
            path.write(writer, payload, count)
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds() - cpu_before
        finally:
            close(writer)
            del writer
    finally:
        bench.drop_stream(stream)

    if unit == "mb_per_s":
        sample = count * len(payload) / MIB / elapsed
    else:
        sample = count / elapsed
    return Repeat(sample, cpu / count * 1e6)


# Our package reads in batches through StreamReader.read; the 0.3.8 binding has no
# such call, so it iterates slices, its fastest path.
BATCH_READ = asyncio.iscoroutinefunction(getattr(READER_CLASS, "read", None))
READ_BATCH_EVENTS = 1000


async def read_all(reader: Any, events: int) -> Tuple[int, int]:
    """Reads until `events` events are counted; returns (events, bytes)."""
    count = 0
    checksum = 0
    while count < events:
        if BATCH_READ:
            batch = await reader.read(max_events=min(READ_BATCH_EVENTS, events - count))
            count += len(batch)
            checksum += sum(len(event.data()) for event in batch)
            continue
        segment_slice = await reader.get_segment_slice_async()
        for event in segment_slice:
            count += 1
            checksum += len(event.data())
            if count == events:
                break
        reader.release_segment(segment_slice)
    return count, checksum


def read_repeat(bench: Bench, case: str) -> Repeat:
    size, events, unit, option = READ_SIZES[case]
    stream = getattr(bench.options, option)
    group_name = bench.unique("rg")
    group = bench.manager.create_reader_group(group_name, bench.scope, stream)
    reader = group.create_reader(bench.unique("reader"))

    async def timed() -> Tuple[float, float, int]:
        cpu_before, started = cpu_seconds(), time.perf_counter()
        _, checksum = await asyncio.wait_for(
            read_all(reader, events), timeout=READ_DEADLINE_S
        )
        elapsed = time.perf_counter() - started
        return elapsed, cpu_seconds() - cpu_before, checksum

    try:
        try:
            elapsed, cpu, checksum = asyncio.run(timed())
        except asyncio.TimeoutError:
            raise RuntimeError(
                f"not all {events} events of {stream} read within {READ_DEADLINE_S} s"
            ) from None
        if checksum != events * size:
            raise RuntimeError(
                f"checksum {checksum}, expected {events * size}: is {stream} "
                f"{events} events of {size} B?"
            )
    finally:
        if hasattr(reader, "close"):
            reader.close()
        else:
            reader.reader_offline()
        bench.manager.delete_reader_group(group_name, bench.scope)

    if unit == "mb_per_s":
        sample = checksum / MIB / elapsed
    else:
        sample = events / elapsed
    return Repeat(sample, cpu / events * 1e6)


def run_transactions(txn_writer: Any, count: int, events: int) -> None:
    for _ in range(count):
        txn = txn_writer.begin_txn()
        for _ in range(events):
            txn.write_event_bytes(SMALL)
        txn.commit()


def txn_repeat(bench: Bench) -> Repeat:
    stream = bench.new_stream()
    try:
        txn_writer = bench.manager.create_transaction_writer(
            bench.scope, stream, bench.writer_id()
        )
        try:
            run_transactions(txn_writer, 1, 10)

            cpu_before, started = cpu_seconds(), time.perf_counter()
            run_transactions(txn_writer, TXN_COUNT, TXN_EVENTS)
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds() - cpu_before
        finally:
            close(txn_writer)
    finally:
        bench.drop_stream(stream)

    return Repeat(elapsed / TXN_COUNT * 1e3, cpu / (TXN_COUNT * TXN_EVENTS) * 1e6)


def create_stream_repeat(bench: Bench) -> Repeat:
    names = [bench.unique("bench") for _ in range(STREAMS_CREATED)]
    created: List[str] = []
    try:
        cpu_before, started = cpu_seconds(), time.perf_counter()
        for name in names:
            if bench.manager.create_stream(bench.scope, name, 1):
                created.append(name)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before
    finally:
        for name in created:
            bench.drop_stream(name)

    if len(created) != STREAMS_CREATED:
        raise RuntimeError(f"{STREAMS_CREATED - len(created)} streams existed already")
    return Repeat(elapsed / STREAMS_CREATED * 1e3, cpu / STREAMS_CREATED * 1e6)


def write_path(case: str) -> WritePath:
    for path in WRITE_PATHS[case]:
        if path.usable:
            return path
    raise RuntimeError(f"no usable write path for {case}")


def plan(case: str) -> Tuple[str, str, Callable[[Bench], Repeat]]:
    """The mode, the unit and one repeat of a case."""
    if case in WRITE_SIZES:
        path = write_path(case)
        return path.mode, WRITE_SIZES[case][2], lambda b: write_repeat(b, case, path)
    if case in READ_SIZES:
        mode = (
            f"StreamReader.read(max_events={READ_BATCH_EVENTS}) in asyncio, one reader"
            if BATCH_READ
            else "get_segment_slice_async in asyncio, one reader"
        )
        return mode, READ_SIZES[case][2], lambda b: read_repeat(b, case)
    if case == "txn_100x100B":
        mode = "begin_txn, 100 write_event_bytes, commit"
        return mode, "latency_ms", txn_repeat
    if case == "create_stream":
        return "create_stream, 1 segment each", "latency_ms", create_stream_repeat
    raise ValueError(f"unknown case {case}")


def run_case(
    bench: Bench,
    case: str,
    repeats: int,
    mode: str,
    unit: str,
    repeat: Callable[[Bench], Repeat],
) -> Optional[dict]:
    """Runs the repeats of one case; None (and a message) if one of them failed."""
    results: List[Repeat] = []
    for number in range(1, repeats + 1):
        faulthandler.dump_traceback_later(HARD_LIMIT_S, exit=True)
        try:
            result = repeat(bench)
        except Exception as error:  # a failure ends this case only
            log(f"{case}: repeat {number} failed: {type(error).__name__}: {error}")
            return None
        finally:
            faulthandler.cancel_dump_traceback_later()
        log(
            f"{case} [{mode}] repeat {number}/{repeats}: {result.sample:.1f} {unit}, "
            f"{result.cpu_us_per_event:.2f} us CPU/event"
        )
        results.append(result)

    return {
        "case": case,
        "client": bench.options.client,
        "mode": mode,
        "unit": unit,
        "samples": [round(r.sample, 3) for r in results],
        "client_cpu_us_per_event": [round(r.cpu_us_per_event, 3) for r in results],
    }


def parse_options(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("controller_uri")
    parser.add_argument("--client", required=True, help="the name to report")
    parser.add_argument("--scope", required=True, help="an existing scope")
    parser.add_argument("--cases", required=True, help="comma-separated cases")
    parser.add_argument("--repeats", required=True, type=int)
    parser.add_argument("--read-100b", help="1,000,000 events of 100 B in SCOPE")
    parser.add_argument("--read-100kb", help="10,000 events of 102,400 B in SCOPE")
    options = parser.parse_args(argv)

    options.cases = [case for case in options.cases.split(",") if case]
    unknown = [case for case in options.cases if case not in CASES]
    if unknown or not options.cases:
        parser.error(f"unknown cases {unknown}; known: {', '.join(CASES)}")
    if options.repeats < 1:
        parser.error("--repeats must be at least 1")
    for case in options.cases:
        if case in READ_SIZES and not getattr(options, READ_SIZES[case][3]):
            flag = "--" + READ_SIZES[case][3].replace("_", "-")
            parser.error(f"{case} needs {flag}")
    return options


def main() -> int:
    options = parse_options()
    log(
        f"{options.client}: pravega_client from {pravega_client.__file__} on "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"write_events={HAS_WRITE_EVENTS} write_event_async={HAS_WRITE_ASYNC} "
        f"max_inflight_events={HAS_MAX_INFLIGHT}"
    )

    manager = pravega_client.StreamManager(options.controller_uri)
    bench = Bench(manager, options.scope, options)
    failed = []
    for case in options.cases:
        mode, unit, repeat = plan(case)
        result = run_case(bench, case, options.repeats, mode, unit, repeat)
        if result is None:
            failed.append(case)
            continue
        print(json.dumps(result), flush=True)
    close(manager)

    if failed:
        log(f"{options.client}: failed cases: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
