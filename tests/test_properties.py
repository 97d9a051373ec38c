"""Hostile input through every public method, driven by Hypothesis.

The property: a call either succeeds or raises an ``Exception`` subclass, and the
specific one the code promises where it promises one (``InvalidArgumentError`` for a
bad argument, ``ClosedError`` after close, ``TxnFailedException`` after commit). No
call may crash the process, hang, or raise a ``BaseException`` that is not an
``Exception``. Hangs are caught by a faulthandler watchdog that is re-armed before
every call and ends the process with a traceback; crashes from C-level misuse are
caught by running the most dangerous sequences in a child interpreter.
"""

from __future__ import annotations

import asyncio
import faulthandler
import math
import os
import subprocess
import sys
from collections import Counter
from typing import Any, Callable, Iterator, Optional, Tuple, Type, Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pravega_client
from conftest import unique_name
from pravega_client import (
    ClosedError,
    InvalidArgumentError,
    PravegaError,
    RetryPolicy,
    StreamCuts,
    StreamReaderGroupConfig,
    StreamRetentionPolicy,
    StreamScalingPolicy,
    TxnFailedException,
)

# The longest any single call may take before the watchdog ends the process. Every
# server call below is bounded by a manager timeout of a few seconds, so reaching
# this means a hang, not a slow server.
CALL_DEADLINE_S = 60.0
# Controller calls with hostile arguments may time out instead of failing at once;
# this keeps each such call short.
QUICK_TIMEOUT_S = 3.0
# Examples per test: enough to reach the odd corners, few enough that the module
# stays near a minute against a real server on each interpreter.
FEW = 12
SOME = 30
MANY = 150

SERVER_SETTINGS = settings(
    max_examples=SOME,
    deadline=30_000,  # ms; a real server on 2 shared cores is sometimes slow
    derandomize=False,
    database=None,  # no .hypothesis directory in the work tree
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one scope/stream for all examples
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
LOCAL_SETTINGS = settings(SERVER_SETTINGS, max_examples=MANY, deadline=5_000)

EXAMPLES: Counter = Counter()
_watchdog_fd: Optional[int] = None


# The watchdog and the example count


@pytest.fixture(autouse=True)
def watchdog(capsys: pytest.CaptureFixture) -> Iterator[None]:
    """Arms faulthandler on the terminal's stderr for the test's duration.

    Output capture points descriptor 2 at a temporary file, so the traceback of a
    hang would vanish with the process; a copy taken while capture is off reaches the
    terminal.
    """
    global _watchdog_fd
    with capsys.disabled():
        _watchdog_fd = os.dup(2)
    rearm()
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        os.close(_watchdog_fd)
        _watchdog_fd = None


def rearm() -> None:
    """Gives the next call CALL_DEADLINE_S before the process is ended as hung."""
    if _watchdog_fd is not None:
        faulthandler.dump_traceback_later(CALL_DEADLINE_S, exit=True, file=_watchdog_fd)


@pytest.fixture(scope="module", autouse=True)
def report_example_count(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    detail = ", ".join(f"{name} {count}" for name, count in sorted(EXAMPLES.items()))
    line = (
        f"hypothesis examples run on {sys.implementation.name}: "
        f"{sum(EXAMPLES.values())} ({detail})"
    )
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        # The reporter writes to the captured stdout while a fixture runs.
        with capture.global_and_fixture_disabled():
            reporter.ensure_newline()
            reporter.write_line(line)


def count_example(name: str) -> None:
    EXAMPLES[name] += 1
    rearm()


# Calling under the property


class Booby(Exception):
    """Raised by the hostile object's conversions; callers may let it through."""


class Hostile:
    """An object whose every conversion fails, as user objects sometimes do."""

    def __bool__(self) -> bool:
        raise Booby("__bool__")

    def __index__(self) -> int:
        raise Booby("__index__")

    def __len__(self) -> int:
        raise Booby("__len__")

    def __iter__(self) -> Iterator[Any]:
        raise Booby("__iter__")

    def __str__(self) -> str:
        raise Booby("__str__")

    def __repr__(self) -> str:
        return "Hostile()"


Outcome = Tuple[Any, Optional[Exception]]


def attempt(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
    """Calls ``function`` under the watchdog: (result, None) or (None, error).

    A BaseException that is not an Exception is turned into a test failure here, so
    that Hypothesis shrinks it rather than pytest stopping the session.
    """
    rearm()
    try:
        return function(*args, **kwargs), None
    except Exception as error:
        return None, error
    except BaseException as error:
        raise AssertionError(
            f"{function!r} raised {type(error).__name__}, not an Exception"
        ) from error


Expected = Union[Type[BaseException], Tuple[Type[BaseException], ...]]


def settles(outcome: Outcome, allowed: Expected = PravegaError) -> Any:
    """Succeeded, or raised one of ``allowed`` (or the hostile object's own)."""
    result, error = outcome
    if error is not None and not isinstance(error, (Booby,) + _tuple(allowed)):
        raise AssertionError(f"unexpected {type(error).__name__}: {error}") from error
    return result


def refused(outcome: Outcome, expected: Expected = InvalidArgumentError) -> None:
    """Raised ``expected`` (or the hostile object's own exception)."""
    _, error = outcome
    assert error is not None, f"accepted, but {expected} was expected"
    if not isinstance(error, (Booby,) + _tuple(expected)):
        raise AssertionError(f"{type(error).__name__}: {error}") from error


def succeeded(outcome: Outcome) -> Any:
    result, error = outcome
    if error is not None:
        raise AssertionError(f"{type(error).__name__}: {error}") from error
    return result


def _tuple(allowed: Expected) -> Tuple[Type[BaseException], ...]:
    return allowed if isinstance(allowed, tuple) else (allowed,)


# Strategies

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(st.characters(), SURROGATES, st.just("\0")), max_size=20).map(
        "".join
    ),
    st.sampled_from([256, 10_000, 1_000_000]).map(lambda size: "n" * size),
    st.just(""),
)
HASHABLE_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(max_size=8),
    st.builds(object),
    st.builds(Hostile),
)
JUNK = st.one_of(HASHABLE_JUNK, st.lists(st.integers(), max_size=3))
NAMES = st.one_of(HOSTILE_TEXT, JUNK)
# Each segment costs the server memory and threads, so valid counts stay small;
# 2**31 - 1 segments are valid for this client but would stall the shared server.
SEGMENT_COUNTS = st.one_of(
    st.integers(1, 2),
    st.integers(max_value=0),
    st.integers(min_value=2**31),
    JUNK,
)
PAYLOADS = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=300).map(bytearray),
    st.binary(max_size=300).map(memoryview),
    st.binary(min_size=2, max_size=300).map(lambda raw: memoryview(raw)[::2]),
    st.text(max_size=100),
    st.just(b"x" * (8 * 1024 * 1024 + 1)),  # refused before it is sent
    JUNK,
)
ROUTING_KEYS = st.one_of(st.none(), HOSTILE_TEXT, JUNK)
ANY_INT = st.one_of(st.integers(), st.integers(-(2**130), 2**130))


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def local_name_error(value: Any) -> bool:
    """Whether the client must refuse ``value`` as a name without asking the server."""
    if not isinstance(value, str):
        return True
    return "\0" in value or has_surrogate(value)


def check_name_call(outcome: Outcome, *names: Any) -> Any:
    """The contract of a call that takes names: InvalidArgumentError for a name that
    is not UTF-8 text without NUL, else success or a PravegaError from the server."""
    if any(local_name_error(name) for name in names):
        refused(outcome)
        return None
    return settles(outcome)


def is_payload(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray, memoryview))


def payload_size(value: Any) -> int:
    return memoryview(value).nbytes


# Policies and retry: no server involved


@LOCAL_SETTINGS
@given(
    kind=st.sampled_from(["fixed", "data_rate", "event_rate", "by_size", "by_time"]),
    values=st.lists(st.one_of(ANY_INT, JUNK), min_size=3, max_size=3),
)
def test_policy_constructors_take_counts_in_range_and_refuse_the_rest(
    kind: str, values: list
) -> None:
    count_example("policies")
    rate, factor, segments = values
    build = {
        "fixed": lambda: StreamScalingPolicy.fixed_scaling_policy(segments),
        "data_rate": lambda: StreamScalingPolicy.auto_scaling_policy_by_data_rate(
            rate, factor, segments
        ),
        "event_rate": lambda: StreamScalingPolicy.auto_scaling_policy_by_event_rate(
            rate, factor, segments
        ),
        "by_size": lambda: StreamRetentionPolicy.by_size(rate),
        "by_time": lambda: StreamRetentionPolicy.by_time(rate),
    }[kind]
    in_range = {
        "fixed": [(segments, 2**31 - 1)],
        "data_rate": [(rate, 2**31 - 1), (factor, 2**31 - 1), (segments, 2**31 - 1)],
        "event_rate": [(rate, 2**31 - 1), (factor, 2**31 - 1), (segments, 2**31 - 1)],
        "by_size": [(rate, 2**63 - 1)],
        "by_time": [(rate, 2**63 - 1)],
    }[kind]

    outcome = attempt(build)

    valid = all(
        type(value) is int and 1 <= value <= maximum for value, maximum in in_range
    )
    if valid:
        assert succeeded(outcome) == build()
    else:
        refused(outcome)


DELAYS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10**20), JUNK
)


@LOCAL_SETTINGS
@given(
    initial_delay=DELAYS,
    max_delay=DELAYS,
    backoff=st.one_of(ANY_INT, JUNK),
    max_attempts=st.one_of(ANY_INT, JUNK),
)
def test_retry_policy_settings_take_positive_numbers_and_refuse_the_rest(
    initial_delay: Any, max_delay: Any, backoff: Any, max_attempts: Any
) -> None:
    count_example("retry")
    policy = RetryPolicy(initial_delay, backoff, max_delay, max_attempts)

    outcome = attempt(policy.settings)

    def delay_ok(value: Any) -> bool:
        number = type(value) in (int, float)
        return number and 0 < value < 2**64 / 1000 and round(value * 1000) < 2**64

    valid = (
        delay_ok(initial_delay)
        and delay_ok(max_delay)
        and type(backoff) is int
        and 1 <= backoff <= 2**31 - 1
        and (max_attempts is None or type(max_attempts) is int)
        and 0 <= (max_attempts or 0) <= 2**31 - 1
    )
    if valid:
        succeeded(outcome)
    else:
        # Huge but finite delays pass this check and are refused natively, by
        # StreamManager, with the same exception.
        settles(outcome, InvalidArgumentError)


# StreamManager constructor


@pytest.fixture
def quick(controller_uri: str) -> Iterator[pravega_client.StreamManager]:
    """A manager whose controller calls give up after QUICK_TIMEOUT_S."""
    with pravega_client.StreamManager(
        controller_uri, timeout=QUICK_TIMEOUT_S
    ) as stream_manager:
        yield stream_manager


@settings(SERVER_SETTINGS, max_examples=SOME)
@given(
    uri=st.one_of(
        st.just("live"),
        st.just("tcp://127.0.0.1:1"),
        st.just("tls://localhost:1"),
        st.builds("tcp://{}".format, HOSTILE_TEXT),
        NAMES,
    ),
    flags=st.lists(st.one_of(st.booleans(), JUNK), min_size=3, max_size=3),
    secrets=st.lists(st.one_of(st.none(), HOSTILE_TEXT, JUNK), min_size=4, max_size=4),
    timeout=st.one_of(
        st.floats(0.05, 2.0),
        st.floats(),
        st.integers(),
        JUNK,
    ),
    retry=st.one_of(
        st.none(),
        st.builds(RetryPolicy, max_attempts=st.integers(0, 2)),
        JUNK,
    ),
)
def test_manager_constructor_refuses_bad_arguments_and_bounds_every_call(
    controller_uri: str,
    uri: Any,
    flags: list,
    secrets: list,
    timeout: Any,
    retry: Any,
) -> None:
    count_example("manager_constructor")
    if uri == "live":
        uri = controller_uri
    username, password, token, trust_cert = secrets
    auth_enabled, tls_enabled, disable_cert_verification = flags

    outcome = attempt(
        pravega_client.StreamManager,
        uri,
        auth_enabled,
        tls_enabled,
        disable_cert_verification,
        username=username,
        password=password,
        token=token,
        trust_cert=trust_cert,
        timeout=timeout,
        retry=retry,
    )

    manager = settles(outcome, InvalidArgumentError)
    if manager is None:
        return
    try:
        # Only a bounded call: an unbounded one against a dead URI waits for the
        # retries, which is correct but slow.
        if type(timeout) in (int, float) and timeout <= 2.0:
            settles(attempt(manager.list_scope))
    finally:
        manager.close()
    refused(attempt(manager.list_scope), ClosedError)


# Admin calls


@SERVER_SETTINGS
@given(name=NAMES)
def test_scope_calls_refuse_bad_names_and_survive_any_other(
    quick: pravega_client.StreamManager, name: Any
) -> None:
    count_example("scopes")

    created = check_name_call(attempt(quick.create_scope, name), name)
    check_name_call(attempt(quick.list_stream, name), name)
    deleted = check_name_call(attempt(quick.delete_scope, name), name)

    if created:
        assert deleted, "a scope this example created could not be deleted"


SCALING = st.one_of(
    st.none(),
    st.builds(StreamScalingPolicy.fixed_scaling_policy, st.integers(1, 2)),
    st.builds(
        StreamScalingPolicy.auto_scaling_policy_by_event_rate,
        st.integers(1, 2**31 - 1),
        st.integers(1, 2**31 - 1),
        st.integers(1, 2),
    ),
    JUNK,
)
RETENTION = st.one_of(
    st.none(),
    st.builds(StreamRetentionPolicy.none),
    st.builds(StreamRetentionPolicy.by_size, st.integers(1, 2**63 - 1)),
    st.builds(StreamRetentionPolicy.by_time, st.integers(1, 2**63 - 1)),
    JUNK,
)
TAGS = st.one_of(st.none(), st.lists(NAMES, max_size=3), NAMES)


@SERVER_SETTINGS
@given(
    scope_name=st.one_of(st.just("valid"), NAMES),
    stream_name=NAMES,
    segments=SEGMENT_COUNTS,
    scaling=SCALING,
    retention=RETENTION,
    tags=TAGS,
)
def test_stream_calls_refuse_bad_arguments_and_survive_any_other(
    quick: pravega_client.StreamManager,
    scope: str,
    scope_name: Any,
    stream_name: Any,
    segments: Any,
    scaling: Any,
    retention: Any,
    tags: Any,
) -> None:
    count_example("streams")
    if scope_name == "valid":
        scope_name = scope
    names = (scope_name, stream_name)

    outcome = attempt(quick.create_stream, scope_name, stream_name, segments)
    if type(segments) is not int or not 1 <= segments <= 2**31 - 1:
        refused(outcome)
    else:
        check_name_call(outcome, *names)

    for call in (
        quick.get_stream_tags,
        quick.get_stream_policies,
        quick.seal_stream,
        quick.delete_stream,
    ):
        check_name_call(attempt(call, scope_name, stream_name), *names)
    check_name_call(attempt(quick.delete_reader_group, stream_name, scope_name), *names)
    for call in (quick.create_stream_with_policy, quick.update_stream_with_policy):
        settles(attempt(call, scope_name, stream_name, scaling, retention, tags))


# Writers


@pytest.fixture
def writer(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> Iterator[pravega_client.StreamWriter]:
    stream_writer = manager.create_writer(scope, stream, max_inflight_events=100)
    yield stream_writer
    stream_writer.close()


def check_write(outcome: Outcome, payload: Any, routing_key: Any) -> None:
    """The writer's contract for one event and its routing key."""
    if routing_key is not None and local_name_error(routing_key):
        refused(outcome, (InvalidArgumentError, UnicodeEncodeError))
    elif not is_payload(payload):
        refused(outcome)
    elif not 1 <= payload_size(payload) <= 8 * 1024 * 1024:
        refused(outcome)
    else:
        succeeded(outcome)


@settings(SERVER_SETTINGS, max_examples=SOME)
@given(
    scope_name=NAMES,
    max_inflight=st.one_of(ANY_INT, JUNK),
    payload=PAYLOADS,
    text=st.one_of(st.text(max_size=50), HOSTILE_TEXT, JUNK),
    routing_key=ROUTING_KEYS,
    batch=st.one_of(st.lists(PAYLOADS, max_size=4), st.text(max_size=5), JUNK),
)
def test_writer_refuses_bad_events_and_keys_and_writes_the_rest(
    quick: pravega_client.StreamManager,
    writer: pravega_client.StreamWriter,
    scope: str,
    scope_name: Any,
    max_inflight: Any,
    payload: Any,
    text: Any,
    routing_key: Any,
    batch: Any,
) -> None:
    count_example("writer")

    outcome = attempt(quick.create_writer, scope_name, "missing", max_inflight)
    if type(max_inflight) is not int or not 0 <= max_inflight < 2**64:
        refused(outcome)
    else:
        other = check_name_call(outcome, scope_name)
        if other is not None:
            # A stream that does not exist fails the first write, not the creation.
            settles(attempt(other.write_event, "x"))
            settles(attempt(other.close))

    check_write(
        attempt(writer.write_event_bytes, payload, routing_key), payload, routing_key
    )
    if isinstance(text, str) and not has_surrogate(text):
        check_write(
            attempt(writer.write_event, text, routing_key),
            memoryview(text.encode()),
            routing_key,
        )
    elif isinstance(text, str):
        refused(attempt(writer.write_event, text, routing_key), ValueError)
    else:
        refused(attempt(writer.write_event, text, routing_key))
    settles(attempt(writer.write_events, batch, routing_key), (PravegaError, TypeError))
    succeeded(attempt(writer.flush))


@settings(SERVER_SETTINGS, max_examples=FEW)
@given(payloads=st.lists(PAYLOADS, min_size=1, max_size=4), routing_key=ROUTING_KEYS)
def test_async_writes_settle_every_future(
    writer: pravega_client.StreamWriter, payloads: list, routing_key: Any
) -> None:
    count_example("writer_async")

    async def write_all() -> list:
        results = []
        for payload in payloads:
            try:
                future = writer.write_event_async(payload, routing_key)
            except Exception as error:
                results.append(error)
                continue
            results.append(future)
        settled = await asyncio.gather(
            *[r for r in results if isinstance(r, asyncio.Future)],
            writer.flush_async(),
            return_exceptions=True,
        )
        return [r for r in results if isinstance(r, Exception)] + settled

    outcomes = succeeded(attempt(asyncio.run, asyncio.wait_for(write_all(), 30)))

    for result in outcomes:
        if isinstance(result, BaseException):
            assert isinstance(result, (PravegaError, Booby)), repr(result)


# Transactions


@pytest.fixture
def txn_writer(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> Iterator[pravega_client.StreamTxnWriter]:
    with manager.create_transaction_writer(scope, stream, 7) as writer:
        yield writer


@pytest.fixture
def impatient_txn_writer(
    controller_uri: str, scope: str, stream: str
) -> Iterator[pravega_client.StreamTxnWriter]:
    """A transactional writer whose lookups of unknown ids give up in 0.5 s."""
    with pravega_client.StreamManager(controller_uri, timeout=0.5) as manager:
        with manager.create_transaction_writer(scope, stream, 8) as writer:
            yield writer


def finish(txn: pravega_client.StreamTransaction, how: str, timestamp: Any) -> Any:
    if how == "commit":
        return attempt(txn.commit)
    if how == "abort":
        return attempt(txn.abort)
    if how == "commit_timestamp":
        return attempt(txn.commit_timestamp, timestamp)

    async def finish_async() -> None:
        # The future must belong to the loop that awaits it, so start it inside.
        start = txn.commit_async if how == "commit_async" else txn.abort_async
        await asyncio.wait_for(start(), 30)

    return attempt(asyncio.run, finish_async())


@settings(SERVER_SETTINGS, max_examples=SOME)
@given(
    writer_id=st.one_of(ANY_INT, JUNK),
    stream_name=NAMES,
    events=st.lists(st.tuples(PAYLOADS, ROUTING_KEYS), max_size=3),
    how=st.sampled_from(
        ["commit", "abort", "commit_timestamp", "commit_async", "abort_async"]
    ),
    timestamp=st.one_of(ANY_INT, JUNK),
    then=st.sampled_from(["commit", "abort", "write"]),
)
def test_transactions_refuse_bad_input_and_refuse_use_after_the_end(
    quick: pravega_client.StreamManager,
    txn_writer: pravega_client.StreamTxnWriter,
    scope: str,
    writer_id: Any,
    stream_name: Any,
    events: list,
    how: str,
    timestamp: Any,
    then: str,
) -> None:
    count_example("transactions")

    outcome = attempt(quick.create_transaction_writer, scope, stream_name, writer_id)
    if type(writer_id) is not int or not 0 <= writer_id < 2**64:
        refused(outcome)
    else:
        other = check_name_call(outcome, stream_name)
        if other is not None:
            other.close()

    txn = succeeded(attempt(txn_writer.begin_txn))
    with txn:
        for payload, routing_key in events:
            check_write(
                attempt(txn.write_event_bytes, payload, routing_key),
                payload,
                routing_key,
            )
        ended = finish(txn, how, timestamp)
        bad_timestamp = type(timestamp) is not int or not 0 <= timestamp < 2**63
        if how == "commit_timestamp" and bad_timestamp:
            refused(ended)
            succeeded(attempt(txn.abort))
        else:
            succeeded(ended)

        later = {"commit": txn.commit, "abort": txn.abort}.get(then)
        if later is None:
            refused(attempt(txn.write_event, "late"), TxnFailedException)
        else:
            refused(attempt(later), TxnFailedException)
        assert not succeeded(attempt(txn.is_open))
    refused(attempt(txn.commit), ClosedError)


@settings(SERVER_SETTINGS, max_examples=FEW)
@given(
    txn_id=st.one_of(
        st.just("own"),
        st.integers(0, 2**128 - 1),
        st.integers(min_value=2**128),
        st.integers(max_value=-1),
        JUNK,
    )
)
def test_get_txn_refuses_ids_that_are_not_128_bit_and_settles_unknown_ones(
    impatient_txn_writer: pravega_client.StreamTxnWriter, txn_id: Any
) -> None:
    count_example("get_txn")
    if txn_id == "own":
        with impatient_txn_writer.begin_txn() as txn:
            txn_id = txn.get_txn_id()

    outcome = attempt(impatient_txn_writer.get_txn, txn_id)

    if type(txn_id) is not int or not 0 <= txn_id < 2**128:
        refused(outcome)
        return
    reopened = settles(outcome)
    if reopened is not None:
        with reopened:
            settles(attempt(reopened.is_open))
            settles(attempt(reopened.abort), (PravegaError, TxnFailedException))


# Reader groups and readers

SEGMENT_IDS = st.integers(0, 2**63 - 1)
STREAM_CUTS = st.one_of(
    st.none(),
    st.builds(
        StreamCuts,
        HOSTILE_TEXT,
        st.dictionaries(
            st.one_of(SEGMENT_IDS, ANY_INT, HASHABLE_JUNK),
            st.one_of(ANY_INT, JUNK),
            max_size=3,
        ),
    ),
    JUNK,
)


def cut_error(cut: Any) -> bool:
    """Whether the client must refuse ``cut`` before asking the server."""
    if cut is None:
        return False
    if not isinstance(cut, StreamCuts):
        return True
    positions = cut.get_segment_offset_map()
    return (
        not positions
        or any(
            type(value) is not int or not 0 <= value < 2**63
            for pair in positions.items()
            for value in pair
        )
        # The low 32 bits of a segment id are the segment number, a signed int.
        or any(segment & 0xFFFFFFFF >= 2**31 for segment in positions)
    )


@pytest.fixture
def group(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> pravega_client.StreamReaderGroup:
    return manager.create_reader_group(unique_name("group"), scope, stream)


@SERVER_SETTINGS
@given(
    group_name=st.one_of(st.just("fresh"), NAMES),
    stream_name=st.one_of(st.just("valid"), NAMES),
    read_from_tail=st.one_of(st.booleans(), JUNK),
    cut=STREAM_CUTS,
    config_streams=st.lists(NAMES, max_size=2),
    reader_name=NAMES,
)
def test_reader_groups_refuse_bad_arguments_and_survive_any_other(
    quick: pravega_client.StreamManager,
    group: pravega_client.StreamReaderGroup,
    scope: str,
    stream: str,
    group_name: Any,
    stream_name: Any,
    read_from_tail: Any,
    cut: Any,
    config_streams: list,
    reader_name: Any,
) -> None:
    count_example("reader_groups")
    if group_name == "fresh":
        group_name = unique_name("group")
    if stream_name == "valid":
        stream_name = stream

    outcome = attempt(
        quick.create_reader_group, group_name, scope, stream_name, read_from_tail, cut
    )
    if local_name_error(group_name) or local_name_error(stream_name) or cut_error(cut):
        refused(outcome)
    else:
        settles(outcome)

    outcome = attempt(StreamReaderGroupConfig, read_from_tail, scope, *config_streams)
    if not config_streams or any(local_name_error(name) for name in config_streams):
        refused(outcome)
    config = settles(outcome, InvalidArgumentError)
    if config is not None:
        settles(
            attempt(
                quick.create_reader_group_with_config,
                unique_name("group"),
                scope,
                config,
            )
        )
    refused(attempt(quick.create_reader_group_with_config, "g", scope, cut))

    reader = check_name_call(attempt(group.create_reader, reader_name), reader_name)
    if reader is not None:
        refused(attempt(group.create_reader, reader_name), PravegaError)
        succeeded(attempt(reader.close))
    check_name_call(attempt(group.reader_offline, reader_name), reader_name)
    settles(attempt(group.get_streamcut))


@pytest.fixture
def reader(
    group: pravega_client.StreamReaderGroup,
) -> Iterator[pravega_client.StreamReader]:
    stream_reader = group.create_reader("reader")
    yield stream_reader
    stream_reader.close()


def _not_a_long_wait(value: Any) -> bool:
    """Leaves out the valid timeouts that may wait for data for long."""
    if value is None:
        return False
    number = type(value) in (int, float)
    return not number or math.isnan(value) or value <= 0.5


@SERVER_SETTINGS
@given(
    take=st.integers(0, 5),
    give_back=st.one_of(st.sampled_from(["slice", "twice", "other"]), JUNK),
    max_events=st.one_of(st.integers(1, 10), ANY_INT, JUNK),
    # None and long timeouts are valid but wait for data, which may not come soon
    # after a stranger reader joined the group and left it again.
    timeout=st.one_of(
        st.floats(-1.0, 0.5),
        st.just(math.nan),
        st.just(-math.inf),
        JUNK.filter(_not_a_long_wait),
    ),
)
def test_reader_refuses_bad_arguments_and_foreign_slices(
    writer: pravega_client.StreamWriter,
    group: pravega_client.StreamReaderGroup,
    reader: pravega_client.StreamReader,
    take: int,
    give_back: Any,
    max_events: Any,
    timeout: Any,
) -> None:
    count_example("reader")
    # Fresh data each time: a slice request on an empty stream costs about 1 s.
    writer.write_events([b"a", b"b", b"c"])
    writer.flush()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def run(awaitable: Any) -> Any:
        return loop.run_until_complete(asyncio.wait_for(awaitable, 20))

    async def acquire() -> pravega_client.Slice:
        return await reader.get_segment_slice_async()

    try:
        segment_slice = succeeded(attempt(run, acquire()))
        for _ in zip(range(take), segment_slice):
            pass
        if give_back == "other":
            stranger = group.create_reader(unique_name("stranger"))
            refused(attempt(stranger.release_segment, segment_slice))
            stranger.close()
        elif give_back not in ("slice", "twice"):
            refused(attempt(reader.release_segment, give_back))
        succeeded(attempt(reader.release_segment, segment_slice))
        succeeded(attempt(reader.release_segment, segment_slice))  # a no-op
        assert list(segment_slice) == []

        outcome = attempt(run, reader.read(max_events, timeout))
        bad_count = type(max_events) is not int or max_events < 1
        bad_timeout = (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or math.isnan(timeout)
        )
        if bad_count or bad_timeout:
            refused(outcome)
        else:
            events = succeeded(outcome)
            assert len(events) <= max_events
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_stream_cut_with_a_negative_segment_number_is_refused(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    # Segment ids carry the segment number in their low 32 bits, as a signed int.
    cut = StreamCuts(f"{scope}/{stream}", {2**31: 0})

    def group_and_reader() -> None:
        group = manager.create_reader_group(
            unique_name("group"), scope, stream, stream_cut=cut
        )
        group.create_reader("reader").close()

    with pytest.raises(InvalidArgumentError, match="segment number"):
        group_and_reader()


def test_writer_for_a_missing_scope_fails_with_an_exception(
    manager: pravega_client.StreamManager,
) -> None:
    # pravega-client 0.3.7 stops the writer with a panic in its own task; the library
    # asks the controller why, and says so.
    scope = unique_name("noscope")
    writer = manager.create_writer(scope, "stream")

    with pytest.raises(PravegaError, match=f"scope {scope} does not exist"):
        writer.write_event("x")
    writer.close()


# ByteStream

WHENCES = st.one_of(st.sampled_from([0, 1, 2]), ANY_INT, JUNK)
OFFSETS = st.one_of(st.integers(-40, 400), ANY_INT, JUNK)
BYTE_PAYLOADS = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=300).map(bytearray),
    st.binary(min_size=2, max_size=300).map(lambda raw: memoryview(raw)[::2]),
    st.text(max_size=10),
    JUNK,
)
BYTE_OPS = st.one_of(
    st.tuples(st.just("write"), BYTE_PAYLOADS),
    st.tuples(st.just("read"), st.integers(-1, 1 << 16)),
    st.tuples(st.just("readinto"), st.one_of(st.integers(0, 64), JUNK)),
    st.tuples(st.just("seek"), st.tuples(OFFSETS, WHENCES)),
    st.tuples(st.just("truncate"), st.one_of(st.none(), OFFSETS)),
    st.tuples(st.just("tell"), st.none()),
    st.tuples(st.just("flush"), st.none()),
)


@pytest.fixture
def byte_stream(
    manager: pravega_client.StreamManager, scope: str
) -> Iterator[pravega_client.ByteStream]:
    name = unique_name("bytes")
    manager.create_stream(scope, name, 1)
    with manager.create_byte_stream(scope, name) as stream:
        yield stream


@SERVER_SETTINGS
@given(stream_name=NAMES, ops=st.lists(BYTE_OPS, min_size=1, max_size=8))
def test_byte_stream_refuses_bad_offsets_and_types_and_keeps_its_bounds(
    quick: pravega_client.StreamManager,
    byte_stream: pravega_client.ByteStream,
    scope: str,
    stream_name: Any,
    ops: list,
) -> None:
    count_example("byte_stream")

    other = check_name_call(
        attempt(quick.create_byte_stream, scope, stream_name), stream_name
    )
    if other is not None:
        other.close()

    for name, argument in ops:
        head, tail = (
            byte_stream.current_head_offset(),
            byte_stream.current_tail_offset(),
        )
        position = byte_stream.tell()
        if name == "write":
            outcome = attempt(byte_stream.write, argument)
            if is_payload(argument):
                written = min(payload_size(argument), 8 * 1024 * 1024)
                assert succeeded(outcome) == written
            else:
                refused(outcome, (InvalidArgumentError, TypeError))
        elif name == "read":
            data = succeeded(attempt(byte_stream.read, argument))
            assert len(data) <= (tail - position if argument < 0 else argument)
        elif name == "readinto":
            small = type(argument) is int and 0 <= argument <= 64
            target = bytearray(argument) if small else argument
            settles(
                attempt(byte_stream.readinto, target),
                (PravegaError, TypeError, BufferError),
            )
        elif name == "seek":
            offset, whence = argument
            outcome = attempt(byte_stream.seek, offset, whence)
            bases = {0: 0, 1: position, 2: tail}
            base = bases.get(whence) if type(whence) is int else None
            if type(offset) is int and base is not None:
                if head <= base + offset <= tail:
                    assert succeeded(outcome) == base + offset == byte_stream.tell()
                else:
                    refused(outcome)
            else:
                refused(outcome)
        elif name == "truncate":
            outcome = attempt(byte_stream.truncate, argument)
            offset = position if argument is None else argument
            if type(offset) is int and head <= offset <= tail:
                assert succeeded(outcome) == offset
            elif type(offset) is not int or offset < 0 or offset > tail:
                refused(outcome)
            else:
                settles(outcome)
        elif name == "tell":
            assert head <= succeeded(attempt(byte_stream.tell)) <= tail
        else:
            succeeded(attempt(byte_stream.flush))


# C-level misuse, in a child interpreter so that a crash fails one test


MISUSE_SCRIPT = r'''
"""Random sequences of lifecycle misuse; exits 0 only if every call returned or
raised an Exception."""
import asyncio
import faulthandler
import gc
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pravega_client as pc

URI, SCOPE, STREAM, EXAMPLES, DEADLINE = sys.argv[1:6]
MANAGER = pc.StreamManager(URI, timeout=3)
LOOP = asyncio.new_event_loop()
asyncio.set_event_loop(LOOP)
RUNS = 0


def run(awaitable):
    async def bounded():
        return await asyncio.wait_for(awaitable, 5)

    return LOOP.run_until_complete(bounded())


class World:
    """The objects one example plays with; every action may find them closed."""

    def __init__(self, number):
        self.manager = pc.StreamManager(URI, timeout=3)
        self.writer = self.manager.create_writer(SCOPE, STREAM, 100)
        self.writer.write_events([b"event"] * 5)
        self.group = MANAGER.create_reader_group(f"g{number}x{id(self)}", SCOPE, STREAM)
        self.reader = self.group.create_reader("r1")
        self.other = self.group.create_reader("r2")
        self.slice = None
        self.txn_writer = self.manager.create_transaction_writer(SCOPE, STREAM, 1)
        self.txn = None
        self.bytes = MANAGER.create_byte_stream(SCOPE, STREAM + "-bytes")

    def manager_close(self):
        self.manager.close()

    def manager_new_writer(self):
        self.manager.create_writer(SCOPE, STREAM).close()

    def writer_write(self):
        self.writer.write_event_bytes(b"w")

    def writer_write_async(self):
        run(self.writer.write_event_async(b"a"))

    def writer_flush(self):
        self.writer.flush()

    def writer_close(self):
        self.writer.close()

    def writer_drop(self):
        self.writer = None
        gc.collect()

    def acquire(self):
        self.slice = run(self.reader.get_segment_slice_async())

    def slice_next(self):
        next(iter(self.slice))

    def slice_list(self):
        list(self.slice)

    def release(self):
        self.reader.release_segment(self.slice)

    def release_to_other(self):
        self.other.release_segment(self.slice)

    def slice_drop(self):
        self.slice = None
        gc.collect()

    def read(self):
        run(self.reader.read(3, timeout=0.2))

    def reader_offline(self):
        self.reader.reader_offline()

    def reader_close(self):
        self.reader.close()

    def reader_drop(self):
        self.reader = None
        gc.collect()

    def group_offline(self):
        self.group.reader_offline("r1")

    def group_drop(self):
        self.group = None
        gc.collect()

    def txn_begin(self):
        self.txn = self.txn_writer.begin_txn()

    def txn_write(self):
        self.txn.write_event("t")

    def txn_commit(self):
        self.txn.commit()

    def txn_abort(self):
        self.txn.abort()

    def txn_close(self):
        self.txn.close()

    def txn_reopen(self):
        self.txn = self.txn_writer.get_txn(self.txn.get_txn_id())

    def txn_writer_close(self):
        self.txn_writer.close()

    def bytes_write(self):
        self.bytes.write(b"bytes")

    def bytes_read(self):
        self.bytes.read(3)

    def bytes_seek_far(self):
        self.bytes.seek(2**63 - 1)

    def bytes_seek_back(self):
        self.bytes.seek(-(2**63))

    def bytes_seek_end(self):
        self.bytes.seek(-1, 2)

    def bytes_truncate_far(self):
        self.bytes.truncate(2**63 - 1)

    def bytes_close(self):
        self.bytes.close()

    def bytes_drop(self):
        self.bytes = None
        gc.collect()

    def drop_everything(self):
        for name in list(vars(self)):
            setattr(self, name, None)
        gc.collect()


ACTIONS = [name for name in vars(World) if not name.startswith("_")]


@settings(
    max_examples=int(EXAMPLES),
    deadline=None,
    database=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)
@given(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=12))
def misuse(actions):
    global RUNS
    RUNS += 1
    faulthandler.dump_traceback_later(float(DEADLINE), exit=True)
    world = World(RUNS)
    for action in actions + ["drop_everything"]:
        faulthandler.dump_traceback_later(float(DEADLINE), exit=True)
        try:
            getattr(world, action)()
        except Exception:
            pass  # the property is only that nothing worse happens


misuse()
faulthandler.cancel_dump_traceback_later()
MANAGER.close()
print(f"examples {RUNS}")
'''


def test_lifecycle_misuse_never_crashes_the_interpreter(
    manager: pravega_client.StreamManager,
    scope: str,
    stream: str,
    controller_uri: str,
    tmp_path: Any,
) -> None:
    manager.create_stream(scope, f"{stream}-bytes", 1)
    script = tmp_path / "misuse.py"
    script.write_text(MISUSE_SCRIPT)

    # cwd=tmp_path, so that the source tree does not shadow the installed package.
    child = subprocess.run(
        [sys.executable, str(script), controller_uri, scope, stream, "40", "60"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert "Fatal Python error" not in child.stderr, child.stderr[-4000:]
    assert "panicked" not in child.stderr, child.stderr[-4000:]
    assert child.returncode == 0, child.stderr[-4000:]
    runs = int(child.stdout.split("examples ")[-1])
    EXAMPLES["misuse_child"] += runs
    assert runs >= 1
