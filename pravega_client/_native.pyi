# Types for the cffi extension that build_ffi.py generates. Its functions and constants
# are the C header's, so they stay untyped here; the modules that call them give every
# public name a precise type.
from typing import Any

ffi: Any
lib: Any
