"""Transactions: invisible until commit, contiguous after it, gone after abort."""

from __future__ import annotations

import asyncio

import pytest

import pravega_client
from conftest import new_reader, read_available, read_events, unique_name

KEYS = ["k0", "k1", "k2", "k3", "k4", "k5"]


@pytest.fixture
def multi_segment_stream(manager: pravega_client.StreamManager, scope: str) -> str:
    name = unique_name("txnstream")
    assert manager.create_stream(scope, name, 3)
    return name


def test_events_are_invisible_until_commit_then_appear_contiguously(
    manager: pravega_client.StreamManager, scope: str, multi_segment_stream: str
) -> None:
    stream = multi_segment_stream
    writer = manager.create_writer(scope, stream, max_inflight_events=100)
    txn_writer = manager.create_transaction_writer(scope, stream, 1)
    reader = new_reader(manager, scope, stream)

    for key in KEYS:
        writer.write_event(f"{key}:before", routing_key=key)
    transaction = txn_writer.begin_txn()
    for key in KEYS:
        for i in range(20):
            transaction.write_event(f"{key}:txn:{i}", routing_key=key)
        writer.write_event(f"{key}:during", routing_key=key)
    writer.flush()

    seen = read_available(reader, slices=6)
    assert not [e for e in seen if b":txn:" in e.data()], "uncommitted events were read"

    transaction.commit()
    for key in KEYS:
        writer.write_event(f"{key}:after", routing_key=key)
    writer.flush()
    seen += read_events(reader, 3 * len(KEYS) + 20 * len(KEYS) - len(seen))

    for key in KEYS:
        sequence = [
            e.data().decode() for e in seen if e.data().startswith(key.encode())
        ]
        txn_part = [f"{key}:txn:{i}" for i in range(20)]
        start = sequence.index(txn_part[0])
        # Commit returns once the controller accepted it; the merge follows, so "after"
        # may land on either side of the block, but never inside it.
        assert sequence[start : start + 20] == txn_part
        assert sequence[:2] == [f"{key}:before", f"{key}:during"]
        assert sorted(sequence) == sorted(
            [f"{key}:before", f"{key}:during", f"{key}:after", *txn_part]
        )


def test_aborted_events_never_appear(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    txn_writer = manager.create_transaction_writer(scope, stream, 2)
    writer = manager.create_writer(scope, stream)
    transaction = txn_writer.begin_txn()
    transaction.write_event("aborted")
    transaction.abort()
    writer.write_event("marker")

    events = read_events(new_reader(manager, scope, stream), 1)
    events += read_available(new_reader(manager, scope, stream), slices=2)

    assert b"aborted" not in [e.data() for e in events]
    assert b"marker" in [e.data() for e in events]


@pytest.mark.parametrize("finish", ["commit", "abort"])
def test_closed_transaction_raises_txn_failed_with_its_id(
    manager: pravega_client.StreamManager, scope: str, stream: str, finish: str
) -> None:
    transaction = manager.create_transaction_writer(scope, stream, 3).begin_txn()
    transaction.write_event("one")
    getattr(transaction, finish)()
    txn_id = transaction.get_txn_id()

    assert not transaction.is_open()
    for attempt in (
        lambda: transaction.write_event("late"),
        lambda: transaction.write_event_bytes(b"late"),
        transaction.commit,
        lambda: transaction.commit_timestamp(5),
        transaction.abort,
    ):
        with pytest.raises(pravega_client.TxnFailedException) as raised:
            attempt()
        assert raised.value.args == (txn_id,)


def test_commit_with_timestamp_makes_events_visible(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    transaction = manager.create_transaction_writer(scope, stream, 4).begin_txn()
    assert transaction.is_open()
    transaction.write_event_bytes(b"stamped")
    transaction.commit_timestamp(1_700_000_000_000)

    events = read_events(new_reader(manager, scope, stream), 1)
    assert [e.data() for e in events] == [b"stamped"]


def test_async_commit_and_abort(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    txn_writer = manager.create_transaction_writer(scope, stream, 5)
    committed = txn_writer.begin_txn()
    aborted = txn_writer.begin_txn()
    committed.write_event("async commit")
    aborted.write_event("async abort")

    async def finish() -> None:
        await asyncio.gather(committed.commit_async(), aborted.abort_async())
        with pytest.raises(pravega_client.TxnFailedException) as raised:
            await committed.commit_async()
        assert raised.value.args == (committed.get_txn_id(),)

    asyncio.run(finish())
    events = read_events(new_reader(manager, scope, stream), 1)
    assert [e.data() for e in events] == [b"async commit"]


def test_reopened_transaction_reports_state_and_aborts(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    txn_writer = manager.create_transaction_writer(scope, stream, 6)
    original = txn_writer.begin_txn()

    reopened = txn_writer.get_txn(original.get_txn_id())
    assert reopened.get_txn_id() == original.get_txn_id()
    assert reopened.is_open()
    with pytest.raises(pravega_client.UnsupportedError):
        reopened.write_event("not through a reopened handle")
    reopened.abort()

    assert not original.is_open()


@pytest.mark.parametrize("writer_id", [-1, "7", 1.5, None, 2**64])
def test_bad_writer_id_is_rejected(
    manager: pravega_client.StreamManager, scope: str, stream: str, writer_id
) -> None:
    with pytest.raises(pravega_client.InvalidArgumentError, match="writer_id"):
        manager.create_transaction_writer(scope, stream, writer_id)


def test_bad_transaction_writes_leave_it_usable(
    manager: pravega_client.StreamManager, scope: str, stream: str
) -> None:
    transaction = manager.create_transaction_writer(scope, stream, 8).begin_txn()

    with pytest.raises(pravega_client.InvalidArgumentError):
        transaction.write_event(b"bytes to the str method")
    with pytest.raises(pravega_client.InvalidArgumentError):
        transaction.write_event("ok", routing_key=3)
    with pytest.raises(pravega_client.InvalidArgumentError, match="empty"):
        transaction.write_event_bytes(b"")
    transaction.write_event("fine")
    transaction.commit()
