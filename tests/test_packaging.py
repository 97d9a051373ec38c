"""The wheel that `pip wheel .` builds installs in a fresh venv and works there.

Runs on whichever interpreter runs the suite, so `make test` checks a CPython wheel and
a PyPy wheel. The fresh venv has nothing from the build tree: only the wheel and what
its metadata asks pip for.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Dict, List

import pytest

import pravega_client
from conftest import ROOT, unique_name

# The cargo target directory the Makefile uses, so that a run outside make still
# builds warm instead of compiling the crate and its dependencies from scratch.
DEFAULT_CARGO_TARGET = Path.home() / ".cache" / "pravega-client-py" / "cargo-target"

ROUND_TRIP = """
import asyncio, sys
import pravega_client

uri, scope, version = sys.argv[1:4]
assert pravega_client.__version__ == version, pravega_client.__version__
assert pravega_client.native_version == version, pravega_client.native_version
with pravega_client.StreamManager(uri) as manager:
    assert manager.create_scope(scope)
    assert manager.create_stream(scope, "packaged", 1)
    with manager.create_writer(scope, "packaged") as writer:
        writer.write_event("from the wheel", routing_key="k")
    group = manager.create_reader_group("group", scope, "packaged")
    reader = group.create_reader("reader")

    async def first_event():
        while True:
            segment_slice = await reader.get_segment_slice_async()
            events = [event.data() for event in segment_slice]
            reader.release_segment(segment_slice)
            if events:
                return events[0]

    print(asyncio.run(asyncio.wait_for(first_event(), 60)).decode())
    reader.reader_offline()
"""


def build_environment() -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", str(DEFAULT_CARGO_TARGET))
    env.pop("LD_PRELOAD", None)  # `make test-asan` preloads ASan; cargo must not
    return env


def run(command: List[str], cwd: Path, timeout: float) -> str:
    done = subprocess.run(
        command,
        cwd=cwd,
        env=build_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (
        f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheels")
    # No build isolation: the build requirements are in the test venv already, and an
    # isolated build would fetch them again for every run.
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        cwd=out,
        timeout=900,
    )
    (built,) = out.glob("pravega_client-*.whl")
    return built


def test_the_wheel_carries_the_extension_types_and_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())

    assert any(n.startswith("pravega_client/_native.") for n in names), names
    for name in ("py.typed", "_native.pyi", "__init__.py"):
        assert f"pravega_client/{name}" in names
    assert not any(n.startswith(("tests/", "rust_ffi/", "benchmarks/")) for n in names)
    assert any(n.endswith(".dist-info/LICENSE") for n in names), names

    assert metadata["Name"].replace("-", "_") == "pravega_client"
    assert metadata["Version"] == pravega_client.__version__
    assert metadata["Requires-Python"] == ">=3.9"
    assert metadata["License"] == "Apache-2.0"
    classifiers = metadata.get_all("Classifier")
    assert "Programming Language :: Python :: Implementation :: PyPy" in classifiers
    assert "Programming Language :: Python :: 3.9" in classifiers


def test_the_wheel_installs_in_a_fresh_venv_and_round_trips_an_event(
    wheel: Path, tmp_path: Path, controller_uri: str
) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, timeout=300)
    python = str(venv / "bin" / "python")
    run(
        [python, "-m", "pip", "install", "--quiet", str(wheel)],
        cwd=tmp_path,
        timeout=600,
    )

    script = tmp_path / "round_trip.py"
    script.write_text(ROUND_TRIP)
    scope = unique_name("wheel")
    output = run(
        [python, str(script), controller_uri, scope, pravega_client.__version__],
        cwd=tmp_path,
        timeout=180,
    )
    assert output.strip().splitlines()[-1] == "from the wheel"


def test_a_source_tree_without_the_extension_says_so_on_import(tmp_path: Path) -> None:
    # Python run in a clone's top directory finds the source directory before the
    # installed package; the import must say why it cannot work, not just fail.
    shutil.copytree(
        ROOT / "pravega_client",
        tmp_path / "pravega_client",
        ignore=shutil.ignore_patterns("*.so", "__pycache__"),
    )

    result = subprocess.run(
        [sys.executable, "-c", "import pravega_client"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "ImportError: the compiled part of pravega_client" in result.stderr
    assert "looks like a source tree" in result.stderr
