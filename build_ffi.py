"""cffi builder for ``pravega_client._native`` (out-of-line API mode).

The cdef is derived from ``include/pravega_client.h`` at build time, so the Python
declarations and the C header cannot drift apart. The extension links the Rust staticlib
that setuptools-rust builds just before this module is compiled.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parent
HEADER = ROOT / "include" / "pravega_client.h"
CRATE_MANIFEST = ROOT / "rust_ffi" / "Cargo.toml"
STATICLIB_NAME = "libpravega_client.a"

# What a Rust staticlib needs from the system on Linux
# (`rustc --print native-static-libs`).
SYSTEM_LIBRARIES = ["gcc_s", "util", "rt", "pthread", "m", "dl", "c"]

_DEFINE_INTEGER = re.compile(r"#define\s+(\w+)\s+(-?\d+)[uUlL]*\s*$")


def cdef_from_header(text: str) -> str:
    """Turns the C header into something cffi's cdef accepts.

    cffi has no preprocessor. This keeps integer ``#define``s, drops blocks meant only
    for C++ compilers, and drops every other directive.
    """
    kept = []
    skipping = []  # one flag per open #if block: True while its body is skipped
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#ifdef __cplusplus"):
            skipping.append(True)
        elif stripped.startswith("#if"):
            skipping.append(False)
        elif stripped.startswith("#endif"):
            skipping.pop()
        elif any(skipping):
            continue
        elif _DEFINE_INTEGER.match(stripped):
            # cffi wants plain digits: drop C suffixes such as `ull`.
            kept.append(_DEFINE_INTEGER.sub(r"#define \1 \2", stripped))
        elif not stripped.startswith("#"):
            kept.append(line)
    return "\n".join(kept)


def cargo_target_dir() -> Path:
    """Where cargo puts its build outputs; honours CARGO_TARGET_DIR like cargo does."""
    output = subprocess.run(
        [
            os.environ.get("CARGO", "cargo"),
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
            str(CRATE_MANIFEST),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Path(json.loads(output)["target_directory"])


def staticlib_path() -> Path:
    profile = os.environ.get("PRAVEGA_CARGO_PROFILE", "release")
    return cargo_target_dir() / profile / STATICLIB_NAME


STATICLIB = staticlib_path()

ffibuilder = FFI()
ffibuilder.cdef(cdef_from_header(HEADER.read_text()))
ffibuilder.set_source(
    "pravega_client._native",
    '#include "pravega_client.h"',
    include_dirs=[str(HEADER.parent)],
    extra_objects=[str(STATICLIB)],
    # Relink whenever the Rust library changes; setuptools only watches sources and
    # `depends`, not `extra_objects`.
    depends=[str(STATICLIB), str(HEADER)],
    libraries=SYSTEM_LIBRARIES,
    # Keep the Rust symbols private to the extension.
    extra_link_args=["-Wl,--exclude-libs,ALL"],
)

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--print-cdef":
        print(cdef_from_header(HEADER.read_text()))
    else:
        ffibuilder.compile(verbose=True)
