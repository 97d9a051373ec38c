"""Every Python example of the README runs, in order, against the real server, and so
do its command-line examples.

The TLS and auth examples need a server with TLS and passwords; tests/test_security.py
runs them against its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import unique_name
from readme_examples import examples, run_examples, substitute

DEFAULT_URI = "tcp://127.0.0.1:9090"
SECURE_SECTION = "TLS and auth"


def test_every_python_example_of_the_readme_runs(
    controller_uri: str, tmp_path: Path
) -> None:
    blocks = [
        block
        for block in examples()
        if block.language == "python" and block.section != SECURE_SECTION
    ]
    replacements = {
        f'"{DEFAULT_URI}"': f'"{controller_uri}"',
        '"examples"': f'"{unique_name("readme")}"',
    }

    output = run_examples(blocks, replacements, tmp_path, timeout=300)

    # What the comments in the examples promise.
    assert "b'hello'" in output and "b'world'" in output
    assert "['team-a']" in output
    assert "0 1000" in output and "b'0123456789'" in output
    assert "refused:" in output
    assert "events in the first batch" in output


def test_the_readme_has_examples_in_every_tutorial_section() -> None:
    sections = {block.section for block in examples() if block.language == "python"}
    for section in (
        "Quickstart",
        "StreamManager",
        "StreamWriter",
        "Transactions",
        "Reader groups and readers",
        "ByteStream",
        "asyncio",
        SECURE_SECTION,
        "Logging",
    ):
        assert section in sections, f"README section {section!r} has no example"


def test_the_readme_command_line_examples_run(
    controller_uri: str, tmp_path: Path
) -> None:
    (block,) = [
        block
        for block in examples()
        if block.language == "sh" and block.section == "Command line"
    ]
    script = substitute(
        block.code,
        {DEFAULT_URI: controller_uri, "examples": unique_name("readmecli")},
    )
    env = dict(os.environ)
    # pravega-cli lies beside the interpreter that runs the suite.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"

    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[:3] == ["1", "2", "3"]
    assert '"data": "1"' in lines[3]
    assert "team-a" in done.stdout
    assert done.stderr == ""
