"""The side-by-side benchmark: every client against one local server, in one run.

Usage: python benchmarks/run.py [--repeats N] [--clients a,b] [--cases x,y]

Steps: start a standalone server (or use PRAVEGA_CONTROLLER_URI), pre-fill the two
streams the read cases read, warm the server up, run each client's runner
(benchmarks/RUNNERS.md) in two rounds, the second in the opposite order, then
write benchmarks/results/latest.json, latest.md and latest.png. Runners' stderr goes
to benchmarks/results/logs/, which is not committed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SERVER = ROOT / "server" / "pravega-standalone"
CARGO_TARGET = Path(
    os.environ.get(
        "CARGO_TARGET_DIR",
        Path.home() / ".cache" / "pravega-client-py" / "cargo-target",
    )
)

CASES = [
    "write_100B_acked",
    "write_100B_pipelined",
    "write_1MiB",
    "read_100B",
    "read_100KB",
    "txn_100x100B",
    "create_stream",
]
READ_100B = ("read100b", 1_000_000, 100)
READ_100KB = ("read100kb", 10_000, 102_400)
RUNNER_TIMEOUT_S = 600


def python_runner(interpreter: str) -> List[str]:
    return [str(ROOT / interpreter), str(ROOT / "benchmarks" / "python_runner.py")]


CLIENTS: Dict[str, List[str]] = {
    "rust-native": [str(CARGO_TARGET / "release" / "pravega-bench-native")],
    "c-abi": [str(ROOT / "build" / "c" / "bin" / "c_abi_bench")],
    "pravega_client-cpython": python_runner(".venv/bin/python"),
    "pravega_client-pypy": python_runner(".venv-pypy/bin/python"),
    "pravega-0.3.8": python_runner(".venv-pyo3/bin/python"),
}
BASELINES = ("pravega-0.3.8", "rust-native")


# ---- the server ----


def free_ports(count: int) -> List[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class Server:
    """A standalone server on free ports, with a heap big enough for the read data."""

    def __init__(self) -> None:
        self.state_dir = tempfile.mkdtemp(prefix="pravega-bench-")
        ports = free_ports(5)
        self.env = dict(os.environ)
        self.env.update(
            PRAVEGA_STATE_DIR=self.state_dir,
            PRAVEGA_CONTROLLER_PORT=str(ports[0]),
            PRAVEGA_SEGMENTSTORE_PORT=str(ports[1]),
            PRAVEGA_ZK_PORT=str(ports[2]),
            PRAVEGA_REST_PORT=str(ports[3]),
            PRAVEGA_ADMIN_PORT=str(ports[4]),
        )
        # The in-memory server keeps every byte on its heap: the read streams alone
        # hold about 1.1 GB.
        self.env.setdefault("PRAVEGA_HEAP", "8g")

    def start(self) -> str:
        started = subprocess.run(
            [str(SERVER), "start"], env=self.env, capture_output=True, text=True
        )
        if started.returncode != 0:
            sys.exit("the server did not start:\n" + started.stderr[-3000:])
        return started.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run([str(SERVER), "stop"], env=self.env, capture_output=True)
        shutil.rmtree(self.state_dir, ignore_errors=True)


def server_cpu_seconds(server: Optional[Server]) -> Optional[float]:
    """The server's CPU time so far, to show when it, not a client, is the limit."""
    if server is None:
        return None
    pid_file = Path(server.state_dir) / "pravega.pid"
    try:
        fields = (Path("/proc") / pid_file.read_text().strip() / "stat").read_text()
    except OSError:
        return None
    after_name = fields.rsplit(")", 1)[1].split()
    ticks = int(after_name[11]) + int(after_name[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


# ---- running the clients ----


def prefill(uri: str, scope: str) -> None:
    """Writes the read cases' streams once, with the fastest writer we have."""
    native = CLIENTS["rust-native"][0]
    for stream, count, size in (READ_100B, READ_100KB):
        started = time.monotonic()
        subprocess.run(
            [native, "prefill", uri, scope, stream, str(count), str(size)], check=True
        )
        print(
            f"pre-filled {scope}/{stream}: {count} events of {size} B "
            f"in {time.monotonic() - started:.1f} s",
            flush=True,
        )


def run_client(
    client: str,
    uri: str,
    scope: str,
    cases: List[str],
    repeats: int,
    log_name: Optional[str] = None,
) -> Iterator[dict]:
    command = CLIENTS[client] + [
        uri,
        "--client",
        client,
        "--scope",
        scope,
        "--cases",
        ",".join(cases),
        "--repeats",
        str(repeats),
        "--read-100b",
        READ_100B[0],
        "--read-100kb",
        READ_100KB[0],
    ]
    log_path = RESULTS / "logs" / f"{log_name or client}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log:
        try:
            finished = subprocess.run(
                command,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                timeout=RUNNER_TIMEOUT_S,
                cwd=tempfile.gettempdir(),  # the source tree must not shadow packages
            )
        except subprocess.TimeoutExpired as timeout:
            print(f"{client}: timed out after {RUNNER_TIMEOUT_S} s", flush=True)
            output = timeout.stdout or ""
            if isinstance(output, bytes):
                output = output.decode()
            returncode = None
        else:
            output, returncode = finished.stdout, finished.returncode
    if returncode not in (0, None):
        print(f"{client}: exited with {returncode}; see {log_path}", flush=True)
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("{"):
            yield json.loads(line)


def warm_up(uri: str, scope: str, cases: List[str]) -> None:
    """One unrecorded pass of every case by the native runner.

    A fresh server's JVM compiles its hot paths during the first minute of load, so
    the client measured first would otherwise be measured against a slower server.
    """
    started = time.monotonic()
    for _ in run_client("rust-native", uri, scope, cases, 1, log_name="warm-up"):
        pass
    print(f"warmed the server up in {time.monotonic() - started:.0f} s", flush=True)


def rounds(clients: List[str], repeats: int) -> List[tuple]:
    """Two rounds, the second in the opposite client order, splitting the repeats:
    whatever drifts during the run (the server's heap, its compiler, the machine's
    other load) then weighs on every client alike."""
    first = (repeats + 1) // 2
    plan = [(clients, first)]
    if repeats > first:
        plan.append((list(reversed(clients)), repeats - first))
    return plan


def merge(raws: Dict[tuple, dict], raw: dict) -> None:
    """Adds one runner's report of a case to what the earlier rounds reported."""
    key = (raw["client"], raw["case"])
    if key not in raws:
        raws[key] = raw
        return
    kept = raws[key]
    kept["samples"] = kept["samples"] + raw["samples"]
    kept["client_cpu_us_per_event"] = (
        kept["client_cpu_us_per_event"] + raw["client_cpu_us_per_event"]
    )


# ---- results ----


def summarise(raw: dict) -> dict:
    samples = raw["samples"]
    median = statistics.median(samples)
    unit = raw["unit"]
    return {
        "case": raw["case"],
        "client": raw["client"],
        "mode": raw.get("mode"),
        "events_per_s": median if unit == "events_per_s" else None,
        "mb_per_s": median if unit == "mb_per_s" else None,
        "latency_ms": median if unit == "latency_ms" else None,
        "client_cpu_us_per_event": statistics.median(raw["client_cpu_us_per_event"]),
        "repeats": len(samples),
        "min": min(samples),
        "median": median,
        "max": max(samples),
        "unit": unit,
    }


def machine() -> dict:
    def first_line(command: List[str]) -> Optional[str]:
        try:
            return subprocess.run(
                command, capture_output=True, text=True, check=True
            ).stdout.splitlines()[0]
        except (OSError, subprocess.CalledProcessError, IndexError):
            return None

    model = None
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        memory_kib = int(meminfo.readline().split()[1])
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "commit": first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory_kib / 2**20, 1),
        "kernel": platform.release(),
        "server": "Pravega 0.13.0 standalone, in-memory, on the same machine",
    }


def speed_ratio(run: dict, baseline: Optional[dict]) -> Optional[float]:
    """How many times faster `run` is than `baseline`: above 1 is better."""
    if baseline is None or not baseline["median"] or not run["median"]:
        return None
    if run["unit"] == "latency_ms":
        return baseline["median"] / run["median"]
    return run["median"] / baseline["median"]


def median_of(runs: List[dict], case: str, client: str, field: str = "median"):
    for run in runs:
        if run["case"] == case and run["client"] == client:
            return run[field]
    return None


def target_checks(runs: List[dict]) -> List[tuple]:
    """The issue's targets, each as (what, needed, measured, met), for our clients."""
    checks = []

    def compare(
        what: str,
        ours: Optional[float],
        bound: Optional[float],
        factor: float,
        at_least: bool,
    ) -> None:
        if ours is None or bound is None:
            checks.append((what, "–", "not measured", None))
            return
        needed = bound * factor
        met = ours >= needed if at_least else ours <= needed
        sign = "≥" if at_least else "≤"
        checks.append((what, f"{sign} {needed:,.2f}", f"{ours:,.2f}", met))

    cpu = "client_cpu_us_per_event"
    for ours in ("pravega_client-cpython", "pravega_client-pypy"):

        def m(case: str, client: str = ours, field: str = "median"):
            return median_of(runs, case, client, field)

        pipe, acked = "write_100B_pipelined", "write_100B_acked"
        compare(
            f"{ours} {pipe} events/s ≥ 0.9× rust-native",
            m(pipe),
            m(pipe, "rust-native"),
            0.9,
            True,
        )
        compare(
            f"{ours} {pipe} CPU/event ≤ 1.5× rust-native",
            m(pipe, field=cpu),
            m(pipe, "rust-native", cpu),
            1.5,
            False,
        )
        compare(
            f"{ours} {pipe} CPU/event ≤ 1/3 pravega-0.3.8",
            m(pipe, field=cpu),
            m(pipe, "pravega-0.3.8", cpu),
            1 / 3,
            False,
        )
        compare(
            f"{ours} {acked} events/s ≥ 1.2× pravega-0.3.8",
            m(acked),
            m(acked, "pravega-0.3.8"),
            1.2,
            True,
        )
        compare(
            f"{ours} write_1MiB MiB/s ≥ 0.9× rust-native",
            m("write_1MiB"),
            m("write_1MiB", "rust-native"),
            0.9,
            True,
        )
        compare(
            f"{ours} read_100B events/s ≥ 0.9× rust-native",
            m("read_100B"),
            m("read_100B", "rust-native"),
            0.9,
            True,
        )
        compare(
            f"{ours} read_100B events/s ≥ 3× pravega-0.3.8",
            m("read_100B"),
            m("read_100B", "pravega-0.3.8"),
            3,
            True,
        )
        compare(
            f"{ours} read_100B CPU/event ≤ 1/3 pravega-0.3.8",
            m("read_100B", field=cpu),
            m("read_100B", "pravega-0.3.8", cpu),
            1 / 3,
            False,
        )
        compare(
            f"{ours} read_100KB MiB/s ≥ 0.9× rust-native",
            m("read_100KB"),
            m("read_100KB", "rust-native"),
            0.9,
            True,
        )
    for case in ("write_100B_pipelined", "read_100B"):
        compare(
            f"pravega_client-pypy {case} events/s ≥ CPython's",
            median_of(runs, case, "pravega_client-pypy"),
            median_of(runs, case, "pravega_client-cpython"),
            1.0,
            True,
        )
    compare(
        "c-abi write_100B_pipelined events/s ≥ 0.95× rust-native",
        median_of(runs, "write_100B_pipelined", "c-abi"),
        median_of(runs, "write_100B_pipelined", "rust-native"),
        0.95,
        True,
    )
    return checks


def markdown(runs: List[dict], info: dict) -> str:
    units = {"events_per_s": "events/s", "mb_per_s": "MiB/s", "latency_ms": "ms"}
    lines = [
        "# Benchmark results",
        "",
        f"{info['date']}, commit {info['commit']}; {info['cpus']} cores "
        f"({info['cpu_model']}), {info['memory_gib']} GiB; {info['server']}.",
        "The server was warmed up first, and each client ran in two rounds, the "
        "second in the opposite order. "
        "Each figure is the median of the repeats, with min and max. A ratio is how "
        "many times faster than that client (above 1 is better; for latency it is "
        "the inverse ratio of the latencies).",
        "",
    ]
    for case in CASES:
        case_runs = [run for run in runs if run["case"] == case]
        if not case_runs:
            continue
        by_client = {run["client"]: run for run in case_runs}
        unit = units[case_runs[0]["unit"]]
        lines += [
            f"## {case}",
            "",
            f"| client | mode | median {unit} | min – max | client CPU µs/event "
            "| × pravega-0.3.8 | × rust-native |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for client in CLIENTS:
            run = by_client.get(client)
            if run is None:
                continue
            ratios = [speed_ratio(run, by_client.get(b)) for b in BASELINES]
            ratio_text = ["–" if r is None else f"{r:.2f}" for r in ratios]
            lines.append(
                f"| {client} | {run['mode']} | {run['median']:,.1f} | "
                f"{run['min']:,.1f} – {run['max']:,.1f} | "
                f"{run['client_cpu_us_per_event']:,.2f} | "
                f"{ratio_text[0]} | {ratio_text[1]} |"
            )
        lines.append("")
    lines += ["## Targets", "", "| target | needed | measured | met |"]
    lines.append("| --- | --- | --- | --- |")
    for what, needed, measured, met in target_checks(runs):
        verdict = "–" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {what} | {needed} | {measured} | {verdict} |")
    lines.append("")
    if info.get("server_cpu_s_per_client"):
        lines += ["## Server CPU during each client's run", ""]
        lines += ["| client | server CPU s | wall s |", "| --- | --- | --- |"]
        for client, (cpu, wall) in info["server_cpu_s_per_client"].items():
            lines.append(f"| {client} | {cpu:.1f} | {wall:.1f} |")
        lines.append("")
    return "\n".join(lines)


def chart(runs: List[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = [case for case in CASES if any(run["case"] == case for run in runs)]
    clients = [c for c in CLIENTS if any(run["client"] == c for run in runs)]
    figure, axes = plt.subplots(1, len(cases), figsize=(3.2 * len(cases), 4.2))
    if len(cases) == 1:
        axes = [axes]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, case in zip(axes, cases):
        by_client = {run["client"]: run for run in runs if run["case"] == case}
        for index, client in enumerate(clients):
            run = by_client.get(client)
            if run is None:
                continue
            axis.bar(
                index,
                run["median"],
                yerr=[[run["median"] - run["min"]], [run["max"] - run["median"]]],
                color=colours[index % len(colours)],
                label=client,
                capsize=3,
            )
        unit = next(iter(by_client.values()))["unit"].replace("_", " ")
        axis.set_title(case, fontsize=9)
        axis.set_ylabel(unit, fontsize=8)
        axis.set_xticks([])
        axis.tick_params(labelsize=7)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(clients), fontsize=8)
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    figure.savefig(path, dpi=110)


# ---- main ----


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--cases", default=",".join(CASES))
    options = parser.parse_args()
    clients = options.clients.split(",")
    cases = options.cases.split(",")
    unknown = sorted(set(clients) - set(CLIENTS)) + sorted(set(cases) - set(CASES))
    if unknown:
        sys.exit(f"unknown clients or cases: {', '.join(unknown)}")

    started = time.monotonic()
    shutil.rmtree(RESULTS / "logs", ignore_errors=True)
    external = os.environ.get("PRAVEGA_CONTROLLER_URI")
    server = None if external else Server()
    uri = external or server.start()
    print(f"server at {uri}", flush=True)
    info = machine()
    runs: List[dict] = []
    try:
        import pravega_client

        scope = f"bench{uuid.uuid4().hex[:8]}"
        with pravega_client.StreamManager(uri) as manager:
            manager.create_scope(scope)
        if {"read_100B", "read_100KB"} & set(cases):
            prefill(uri, scope)
        warm_up(uri, scope, cases)
        raws: Dict[tuple, dict] = {}
        server_cpu: Dict[str, list] = {}
        for order, repeats in rounds(clients, options.repeats):
            for client in order:
                cpu_before, wall_before = server_cpu_seconds(server), time.monotonic()
                for raw in run_client(client, uri, scope, cases, repeats):
                    merge(raws, raw)
                    print(
                        f"{client:24} {raw['case']:22} round of {repeats}: median "
                        f"{statistics.median(raw['samples']):>12,.1f} {raw['unit']}",
                        flush=True,
                    )
                cpu_after = server_cpu_seconds(server)
                if cpu_before is not None and cpu_after is not None:
                    spent = server_cpu.setdefault(client, [0.0, 0.0])
                    spent[0] += cpu_after - cpu_before
                    spent[1] += time.monotonic() - wall_before
        runs.extend(summarise(raw) for raw in raws.values())
        for run in runs:
            print(
                f"{run['client']:24} {run['case']:22} median {run['median']:>12,.1f} "
                f"{run['unit']:13} cpu {run['client_cpu_us_per_event']:8.2f} "
                f"µs/event  ({run['mode']})",
                flush=True,
            )
        info["server_cpu_s_per_client"] = server_cpu
    finally:
        if server is not None:
            server.stop()

    info["duration_s"] = round(time.monotonic() - started)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(
        json.dumps({"runs": runs, "machine": info}, indent=1) + "\n"
    )
    (RESULTS / "latest.md").write_text(markdown(runs, info))
    chart(runs, RESULTS / "latest.png")
    print(f"wrote {RESULTS}/latest.{{json,md,png}} in {info['duration_s']} s")


if __name__ == "__main__":
    main()
