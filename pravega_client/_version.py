"""The package version. pyproject.toml and rust_ffi/Cargo.toml carry the same number;
tests/test_header.py checks that the three agree."""

__version__ = "0.1.0"
