"""Builds the Rust library with setuptools-rust, then the cffi extension that links it.

The order matters: setuptools-rust normally builds Rust after the other extensions, but
``pravega_client._native`` links the Rust staticlib, so it must exist first.
"""

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools_rust import Binding, RustExtension
from setuptools_rust.build import build_rust


class build_rust_staticlib(build_rust):
    """Builds the crate's staticlib and cdylib but installs neither.

    The staticlib is linked into the cffi extension; the cdylib is for C hosts and is
    built by ``make`` for them. Nothing Rust-built needs to sit beside the Python code.
    """

    def install_extension(self, *args, **kwargs):  # noqa: D102
        pass


class build_ext_rust_first(build_ext):
    def run(self):
        self.run_command("build_rust")
        super().run()


setup(
    rust_extensions=[
        RustExtension(
            "pravega_client._rust",
            path="rust_ffi/Cargo.toml",
            binding=Binding.NoBinding,
            debug=False,
            # One cargo invocation makes both library kinds; see build_rust_staticlib.
            args=["--crate-type", "staticlib,cdylib"],
        )
    ],
    cffi_modules=["build_ffi.py:ffibuilder"],
    cmdclass={"build_rust": build_rust_staticlib, "build_ext": build_ext_rust_first},
    zip_safe=False,
)
