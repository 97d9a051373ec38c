"""First write benchmark: 100-byte events per second for each write mode.

Usage: python benchmarks/write_throughput.py CONTROLLER_URI [--events N] [--repeats R]
       [--mode WORDS]   # only the modes whose name contains WORDS, e.g. "in flight"

Each mode writes to a fresh stream and stops the clock only after everything is
acknowledged. It prints one JSON object per mode with min/median/max events/s and the
client process's CPU time per event. The server shares the machine, so throughput alone
hides the client's cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import statistics
import time
import uuid
from typing import Callable, Dict, List

import pravega_client

PAYLOAD = b"x" * 100


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def acked(writer: pravega_client.StreamWriter, count: int) -> None:
    for _ in range(count):
        writer.write_event_bytes(PAYLOAD)


def in_flight(writer: pravega_client.StreamWriter, count: int) -> None:
    for _ in range(count):
        writer.write_event_bytes(PAYLOAD)
    writer.flush()


def asyncio_futures(writer: pravega_client.StreamWriter, count: int) -> None:
    async def run() -> None:
        futures = [writer.write_event_async(PAYLOAD) for _ in range(count)]
        await asyncio.gather(*futures)

    asyncio.run(run())


def batched(writer: pravega_client.StreamWriter, count: int) -> None:
    batch = [PAYLOAD] * 1000
    for _ in range(count // len(batch)):
        writer.write_events(batch)
    writer.flush()


MODES: Dict[str, tuple] = {
    # mode: (max_inflight_events, function, events as a share of --events)
    "acked (max_inflight_events=0)": (0, acked, 0.02),
    "in flight (max_inflight_events=1000)": (1000, in_flight, 1.0),
    "asyncio (write_event_async)": (0, asyncio_futures, 1.0),
    "batched (write_events of 1000)": (1_000_000, batched, 1.0),
}


def measure(
    manager: pravega_client.StreamManager,
    scope: str,
    inflight: int,
    function: Callable,
    count: int,
) -> tuple:
    stream = f"bench{uuid.uuid4().hex[:8]}"
    manager.create_stream(scope, stream, 1)
    writer = manager.create_writer(scope, stream, max_inflight_events=inflight)
    function(writer, 100)  # connect and warm up outside the clock

    cpu_before, started = cpu_seconds(), time.perf_counter()
    function(writer, count)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    writer.close()
    return count / elapsed, cpu / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("controller_uri")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mode", default="", help="run only modes containing this")
    options = parser.parse_args()

    manager = pravega_client.StreamManager(options.controller_uri)
    scope = f"bench{uuid.uuid4().hex[:8]}"
    manager.create_scope(scope)
    for mode, (inflight, function, share) in MODES.items():
        if options.mode not in mode:
            continue
        count = max(1000, int(options.events * share))
        rates: List[float] = []
        cpus: List[float] = []
        for _ in range(options.repeats):
            rate, cpu = measure(manager, scope, inflight, function, count)
            rates.append(rate)
            cpus.append(cpu)
        print(
            json.dumps(
                {
                    "case": "write_100B",
                    "client": "pravega_client",
                    "python": f"{platform.python_implementation()} "
                    f"{platform.python_version()}",
                    "mode": mode,
                    "events": count,
                    "events_per_s": {
                        "min": round(min(rates)),
                        "median": round(statistics.median(rates)),
                        "max": round(max(rates)),
                    },
                    "client_cpu_us_per_event": round(statistics.median(cpus), 2),
                }
            ),
            flush=True,
        )
    manager.close()


if __name__ == "__main__":
    main()
