"""The committed C header is what cbindgen makes from rust_ffi now, and the cffi
declarations come from it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ROOT / "include" / "pravega_client.h"


def test_committed_header_is_not_stale(tmp_path: Path) -> None:
    fresh = tmp_path / "pravega_client.h"
    subprocess.run(
        [
            "cbindgen",
            "--quiet",
            "--config",
            "cbindgen.toml",
            "--crate",
            "pravega_client_ffi",
            "--output",
            str(fresh),
        ],
        cwd=ROOT / "rust_ffi",
        check=True,
    )

    assert fresh.read_text() == HEADER.read_text(), (
        "include/pravega_client.h is stale: run `make header` and commit it"
    )


def test_every_header_function_is_in_the_extension() -> None:
    sys.path.insert(0, str(ROOT))
    try:
        from build_ffi import cdef_from_header
    finally:
        sys.path.pop(0)
    from pravega_client._native import lib

    code = [
        line
        for line in cdef_from_header(HEADER.read_text()).splitlines()
        if not line.lstrip().startswith("//")
    ]
    declared = set(re.findall(r"\b(pravega_\w+)\(", "\n".join(code)))

    assert declared, "no functions found in the header"
    assert sorted(name for name in declared if not hasattr(lib, name)) == []
