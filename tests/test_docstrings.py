"""Every public class and method is documented, and every call that can wait for the
server says what it blocks on and what it raises."""

from __future__ import annotations

import inspect
import re
from typing import Iterator, Tuple

import pytest

import pravega_client

# Classes whose methods talk to the server: their docstrings must say whether and on
# what they block, and what they raise.
SERVER_FACING = (
    pravega_client.StreamManager,
    pravega_client.StreamWriter,
    pravega_client.StreamTxnWriter,
    pravega_client.StreamTransaction,
    pravega_client.StreamReaderGroup,
    pravega_client.StreamReader,
    pravega_client.ByteStream,
)
# Methods of those classes that only format or answer from memory.
LOCAL_ONLY = {"to_str", "readable", "writable", "seekable"}

BLOCKING = re.compile(
    r"\b([Bb]locks|[Dd]oes\s+not\s+block|[Ww]ithout\s+blocking|[Ww]aits)\b"
)
RAISING = re.compile(r"\b([Rr]aises?|fails\s+with|[Nn]ever\s+raises)\b")


def public_methods(cls: type) -> Iterator[Tuple[str, object]]:
    for name, member in vars(cls).items():
        if name.startswith("_") or not callable(member):
            continue
        yield name, member


def documented_classes() -> Iterator[type]:
    for name in pravega_client.__all__:
        member = getattr(pravega_client, name)
        if inspect.isclass(member):
            yield member


@pytest.mark.parametrize("cls", list(documented_classes()), ids=lambda c: c.__name__)
def test_every_public_class_and_method_has_a_docstring(cls: type) -> None:
    assert (cls.__doc__ or "").strip(), f"{cls.__name__} has no docstring"
    undocumented = [
        name
        for name, method in public_methods(cls)
        if name != "to_str" and not (inspect.getdoc(method) or "").strip()
    ]
    assert not undocumented, f"{cls.__name__}: no docstring on {undocumented}"


@pytest.mark.parametrize("cls", SERVER_FACING, ids=lambda c: c.__name__)
def test_server_calls_say_what_they_block_on_and_raise(cls: type) -> None:
    missing = []
    for name, method in public_methods(cls):
        if name in LOCAL_ONLY:
            continue
        doc = inspect.getdoc(method) or ""
        if not BLOCKING.search(doc):
            missing.append(f"{name} (blocking)")
        if not RAISING.search(doc):
            missing.append(f"{name} (raises)")
    assert not missing, f"{cls.__name__}: docstrings do not say {missing}"
