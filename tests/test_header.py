"""The committed C header is what cbindgen makes from rust_ffi now, and the cffi
declarations come from it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import tool_environment

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
        env=tool_environment(),
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


def test_package_crate_and_module_versions_agree() -> None:
    import pravega_client

    pyproject = (ROOT / "pyproject.toml").read_text()
    cargo = (ROOT / "rust_ffi" / "Cargo.toml").read_text()
    declared = {
        "pyproject.toml": re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1),
        "Cargo.toml": re.search(r'^version = "([^"]+)"', cargo, re.M).group(1),
        "pravega_client": pravega_client.__version__,
        "native library": pravega_client.native_version,
    }

    assert len(set(declared.values())) == 1, declared


def test_import_refuses_a_native_library_of_another_abi() -> None:
    from pravega_client._ffi import check_native_library

    with pytest.raises(ImportError, match="ABI version 2.*ABI version 1"):
        check_native_library(2, 1, "0.1.0", "0.1.0")


def test_import_refuses_a_native_library_of_another_version() -> None:
    from pravega_client._ffi import check_native_library

    with pytest.raises(ImportError, match="version 0.0.9.*version 0.1.0"):
        check_native_library(1, 1, "0.0.9", "0.1.0")


def test_loaded_library_matches_the_header() -> None:
    from pravega_client._native import lib

    assert lib.pravega_abi_version() == lib.PRAVEGA_ABI_VERSION == 1
