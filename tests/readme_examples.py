"""The README's code examples, taken out of it so that tests can run them.

The examples are written for a reader: they use the default controller address and
fixed names. A run replaces those literals (see ``substitute``) so that it talks to the
test server and cannot collide with an earlier run; the code itself is run as written.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Sequence

README = Path(__file__).resolve().parent.parent / "README.md"

_FENCE = re.compile(r"^```(\w*)\s*$")
_HEADING = re.compile(r"^## (.+?)\s*$")


@dataclass(frozen=True)
class Example:
    section: str  # the "## " heading the block sits under
    language: str  # the fence's info string: python, sh, ...
    line: int  # of the opening fence, 1-based
    code: str


def examples(path: Path = README) -> List[Example]:
    """Every fenced code block of the README, in order."""
    found: List[Example] = []
    section = ""
    language = None
    start = 0
    lines: List[str] = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        fence = _FENCE.match(text)
        if language is None:
            heading = _HEADING.match(text)
            if heading:
                section = heading.group(1)
            elif fence:
                language, start, lines = fence.group(1), number, []
        elif fence and not fence.group(1):
            found.append(Example(section, language, start, "\n".join(lines) + "\n"))
            language = None
        else:
            lines.append(text)
    assert language is None, f"README.md: the block at line {start} is not closed"
    return found


def python_examples(sections: Iterable[str]) -> List[Example]:
    wanted = set(sections)
    return [e for e in examples() if e.language == "python" and e.section in wanted]


def substitute(code: str, replacements: Dict[str, str]) -> str:
    """Replaces each literal, longest first, so that one that contains another (a
    password that starts with the user name) is replaced whole."""
    for literal in sorted(replacements, key=len, reverse=True):
        code = code.replace(literal, replacements[literal])
    return code


def program(blocks: Sequence[Example], replacements: Dict[str, str]) -> str:
    """One script of the blocks in order, sharing one namespace as a reader's session
    would, each announced on stderr so that a failure names its block."""
    parts = ["import sys\n"]
    for block in blocks:
        where = f"README.md line {block.line} ({block.section})"
        parts.append(f"print({where!r}, file=sys.stderr, flush=True)\n")
        parts.append(substitute(block.code, replacements))
    return "\n".join(parts)


def run_examples(
    blocks: Sequence[Example],
    replacements: Dict[str, str],
    cwd: Path,
    timeout: float,
) -> str:
    """Runs the blocks in a child interpreter in ``cwd``; returns its stdout."""
    assert blocks, "no README examples were found"
    script = cwd / "readme_examples.py"
    script.write_text(program(blocks, replacements))
    env = dict(os.environ)
    env.setdefault("PYTHONFAULTHANDLER", "1")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (
        "a README example failed; the last line below names it\n"
        f"{done.stderr[-5000:]}\nstdout:\n{done.stdout[-2000:]}"
    )
    return done.stdout
