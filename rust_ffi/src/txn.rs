//! Transactional writers and transactions.

use crate::args;
use crate::completion::{spawn_completing, Completion, PravegaCallback};
use crate::error::{FfiResult, PravegaError, PravegaStatus};
use crate::guard::guarded;
use crate::manager::{controller_status, PravegaManager};
use crate::runtime::{free_in_runtime, SharedRuntime};
use crate::writer::check_event_size;
use pravega_client::client_factory::ClientFactoryAsync;
use pravega_client::event::transactional_writer::{
    TransactionError, TransactionalEventWriterError,
};
use pravega_client::event::{Transaction, TransactionalEventWriter};
use pravega_client_shared::{ScopedStream, Timestamp, TransactionStatus, TxId, WriterId};
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex as AsyncMutex;

/// Pass as the commit timestamp to commit without one.
pub const PRAVEGA_NO_TIMESTAMP: u64 = 0x8000_0000_0000_0000;

/// A transaction id, a 128-bit number split in two halves. A plain value, passed by
/// value.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PravegaTxnId {
    /// The upper 64 bits.
    pub high: u64,
    /// The lower 64 bits.
    pub low: u64,
}

impl From<TxId> for PravegaTxnId {
    fn from(id: TxId) -> Self {
        PravegaTxnId {
            high: (id.0 >> 64) as u64,
            low: id.0 as u64,
        }
    }
}

impl From<PravegaTxnId> for TxId {
    fn from(id: PravegaTxnId) -> Self {
        TxId((u128::from(id.high) << 64) | u128::from(id.low))
    }
}

/// The states of a transaction, as `pravega_txn_status` reports them.
#[repr(i32)]
pub enum PravegaTxnStatus {
    /// Takes writes, and may be committed or aborted.
    Open = 0,
    /// A commit was asked for and is under way.
    Committing = 1,
    /// Its events are part of the stream.
    Committed = 2,
    /// An abort was asked for and is under way.
    Aborting = 3,
    /// Its events were dropped.
    Aborted = 4,
}

/// Begins and reopens transactions on one stream.
///
/// Thread-safe. It may outlive its manager. Free it, once, with `pravega_txn_writer_free`;
/// its transactions stay usable.
pub struct PravegaTxnWriter {
    writer: Arc<AsyncMutex<TransactionalEventWriter>>,
    stream: ScopedStream,
    writer_id: WriterId,
    factory: ClientFactoryAsync,
    runtime: Arc<SharedRuntime>,
    timeout: Duration,
}

/// One transaction. Thread-safe. It may outlive its transactional writer and manager.
/// Free it, once, with `pravega_txn_free`; freeing an open transaction leaves it open on
/// the server until its lease runs out.
pub struct PravegaTransaction {
    id: TxId,
    /// Keeps the writer's pinger, which holds the transaction's lease, alive while the
    /// transaction is: freeing the writer handle first must not break its commit.
    _writer: Arc<AsyncMutex<TransactionalEventWriter>>,
    /// None when the transaction was reopened with `pravega_txn_writer_get_txn`: the
    /// crate then refuses writes, so commit and abort go to the controller directly.
    transaction: Option<Arc<AsyncMutex<Transaction>>>,
    closed: Arc<AtomicBool>,
    stream: ScopedStream,
    writer_id: WriterId,
    factory: ClientFactoryAsync,
    runtime: Arc<SharedRuntime>,
    timeout: Duration,
}

fn txn_error(what: &str, id: TxId, error: TransactionError) -> PravegaError {
    let status = match &error {
        TransactionError::TxnClosed { .. }
        | TransactionError::TxnCommitError { .. }
        | TransactionError::TxnAbortError { .. } => PravegaStatus::TxnFailed,
        TransactionError::TxnSegmentWriterError { .. } => PravegaStatus::IoError,
        TransactionError::TxnControllerError { source } => controller_status(source),
        TransactionError::TxnStreamWriterError { source } => txn_writer_status(source),
    };
    PravegaError::new(
        status,
        format!("{what} of transaction {:x} failed: {error}", id.0),
    )
}

fn txn_writer_status(error: &TransactionalEventWriterError) -> PravegaStatus {
    match error {
        TransactionalEventWriterError::TxnStreamControllerError { source } => {
            controller_status(source)
        }
        TransactionalEventWriterError::PingerError { .. } => PravegaStatus::ControllerError,
    }
}

fn closed_error(id: TxId) -> PravegaError {
    PravegaError::new(
        PravegaStatus::TxnFailed,
        format!("transaction {:x} is already committed or aborted", id.0),
    )
}

impl PravegaTransaction {
    fn check_open(&self) -> FfiResult<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed_error(self.id));
        }
        Ok(())
    }

    /// Commits (with `timestamp`) or aborts, marking the transaction closed first so
    /// that a second attempt fails with `TxnFailed` whatever the outcome.
    fn finish(&self, commit: Option<u64>) -> impl std::future::Future<Output = FfiResult<()>> {
        let id = self.id;
        let transaction = self.transaction.clone();
        let closed = self.closed.clone();
        let stream = self.stream.clone();
        let writer_id = self.writer_id;
        let factory = self.factory.clone();
        // The crate's writer owns the pinger that a commit or abort deregisters the
        // transaction from; freeing the handles mid-way must not drop it under them.
        let writer = self._writer.clone();
        async move {
            let _writer = writer;
            if closed.swap(true, Ordering::AcqRel) {
                return Err(closed_error(id));
            }
            let what = if commit.is_some() { "commit" } else { "abort" };
            match (transaction, commit) {
                (Some(transaction), Some(timestamp)) => {
                    let mut transaction = transaction.lock().await;
                    transaction.commit(Timestamp(timestamp)).await
                }
                (Some(transaction), None) => transaction.lock().await.abort().await,
                (None, Some(timestamp)) => {
                    let controller = factory.controller_client();
                    let done =
                        controller.commit_transaction(&stream, id, writer_id, Timestamp(timestamp));
                    done.await
                        .map_err(|e| TransactionError::TxnControllerError { source: e.error })
                }
                (None, None) => {
                    let done = factory.controller_client().abort_transaction(&stream, id);
                    done.await
                        .map_err(|e| TransactionError::TxnControllerError { source: e.error })
                }
            }
            .map_err(|e| txn_error(what, id, e))
        }
    }
}

/// Makes a transactional writer for `scope/stream` with the given writer id. Blocks.
/// The caller frees `*out` with `pravega_txn_writer_free`.
///
/// It has no failure codes of its own: a stream that does not exist is reported by
/// `pravega_txn_writer_begin`.
#[no_mangle]
pub extern "C" fn pravega_txn_writer_new(
    manager: *const PravegaManager,
    scope: *const c_char,
    stream: *const c_char,
    writer_id: u64,
    out: *mut *mut PravegaTxnWriter,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let stream = args::scoped_stream(scope, stream)?;
        args::out_ptr("out", out)?;

        let writer_id = WriterId(u128::from(writer_id));
        let factory = manager.factory.clone();
        let writer = manager.wait(
            "create transactional writer",
            factory.create_transactional_event_writer(stream.clone(), writer_id),
        )?;
        let writer = PravegaTxnWriter {
            writer: Arc::new(AsyncMutex::new(writer)),
            stream,
            writer_id,
            factory,
            runtime: manager.runtime.clone(),
            timeout: manager.controller_timeout,
        };
        args::store(out, Box::into_raw(Box::new(writer)));
        Ok(())
    })
}

/// Frees a transactional writer. NULL is ignored; freeing twice is undefined behaviour.
/// Its transactions stay usable, and keep their leases alive.
#[no_mangle]
pub extern "C" fn pravega_txn_writer_free(writer: *mut PravegaTxnWriter) {
    free_in_runtime(writer, |writer| writer.runtime.clone());
}

fn new_transaction(
    writer: &PravegaTxnWriter,
    id: TxId,
    transaction: Option<Transaction>,
    closed: bool,
) -> *mut PravegaTransaction {
    let transaction = PravegaTransaction {
        id,
        _writer: writer.writer.clone(),
        transaction: transaction.map(|t| Arc::new(AsyncMutex::new(t))),
        closed: Arc::new(AtomicBool::new(closed)),
        stream: writer.stream.clone(),
        writer_id: writer.writer_id,
        factory: writer.factory.clone(),
        runtime: writer.runtime.clone(),
        timeout: writer.timeout,
    };
    Box::into_raw(Box::new(transaction))
}

/// Begins a transaction. Blocks. The caller frees `*out` with `pravega_txn_free`.
///
/// Fails with `PRAVEGA_STATUS_CONTROLLER_ERROR` when the controller cannot open one
/// (the stream does not exist, or the controller fails), and
/// `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached.
#[no_mangle]
pub extern "C" fn pravega_txn_writer_begin(
    writer: *const PravegaTxnWriter,
    out: *mut *mut PravegaTransaction,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let writer = args::handle("writer", writer)?;
        args::out_ptr("out", out)?;

        let begun =
            writer
                .runtime
                .block_on_timeout(writer.timeout, "begin transaction", async {
                    writer.writer.lock().await.begin().await
                })?;
        let transaction = begun.map_err(|e| {
            let text = format!("begin transaction on {} failed: {e}", writer.stream);
            PravegaError::new(txn_writer_status(&e), text)
        })?;
        args::store(
            out,
            new_transaction(writer, transaction.txn_id(), Some(transaction), false),
        );
        Ok(())
    })
}

/// Reopens the transaction `id` of this writer's stream. Blocks.
///
/// The result can report its status, commit and abort, but not write: the Rust client
/// cannot write to a transaction it did not begin (`PRAVEGA_STATUS_UNSUPPORTED`). A
/// transaction that is no longer open is returned closed. The caller frees `*out` with
/// `pravega_txn_free`.
///
/// Fails with `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached, and
/// `PRAVEGA_STATUS_NOT_FOUND` when it does not report the transaction's state for any
/// other reason (it answers an unknown id with a generic failure).
#[no_mangle]
pub extern "C" fn pravega_txn_writer_get_txn(
    writer: *const PravegaTxnWriter,
    id: PravegaTxnId,
    out: *mut *mut PravegaTransaction,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let writer = args::handle("writer", writer)?;
        args::out_ptr("out", out)?;

        let id = TxId::from(id);
        let controller = writer.factory.controller_client();
        let what = format!("get transaction {:x}", id.0);
        let status = writer
            .runtime
            .block_on_timeout(
                writer.timeout,
                &what,
                controller.check_transaction_status(&writer.stream, id),
            )?
            .map_err(|e| {
                // The controller answers an unknown id with a generic failure, so any
                // failure but an unreachable controller means "not found" here.
                let status = match controller_status(&e.error) {
                    PravegaStatus::Unavailable => PravegaStatus::Unavailable,
                    _ => PravegaStatus::NotFound,
                };
                let text = format!("{what} on {} failed: {}", writer.stream, e.error);
                PravegaError::new(status, text)
            })?;
        let closed = status != TransactionStatus::Open;
        args::store(out, new_transaction(writer, id, None, closed));
        Ok(())
    })
}

/// The id of `transaction`; all zero when it is NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn pravega_txn_id(transaction: *const PravegaTransaction) -> PravegaTxnId {
    args::handle("transaction", transaction)
        .map_or(PravegaTxnId { high: 0, low: 0 }, |transaction| {
            transaction.id.into()
        })
}

/// Writes one event into the transaction; see `pravega_writer_write` for the arguments.
///
/// Returns once the event is queued; a write failure surfaces at a later write or at
/// commit. Waits only while the transaction's queue is full, or while a commit or abort
/// of it is under way; that wait is not refused inside a callback.
///
/// Fails with:
/// - `PRAVEGA_STATUS_INVALID_ARGUMENT` when the payload is empty or larger than
///   `PRAVEGA_MAX_EVENT_SIZE`, or `data` is NULL but `len` is not 0.
/// - `PRAVEGA_STATUS_TXN_FAILED` after a commit or abort.
/// - `PRAVEGA_STATUS_UNSUPPORTED` for a transaction from `pravega_txn_writer_get_txn`.
/// - `PRAVEGA_STATUS_IO_ERROR` when an earlier event of it could not be written.
#[no_mangle]
pub extern "C" fn pravega_txn_write(
    transaction: *const PravegaTransaction,
    routing_key: *const c_char,
    data: *const c_char,
    len: usize,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let txn = args::handle("transaction", transaction)?;
        let routing_key = args::optional_str("routing_key", routing_key)?.map(String::from);
        let payload = args::bytes("data", data.cast(), len)?;
        check_event_size(None, len)?;
        txn.check_open()?;
        let Some(shared) = &txn.transaction else {
            return Err(PravegaError::new(
                PravegaStatus::Unsupported,
                "writing to a transaction reopened by id is not supported",
            ));
        };

        // Only waits for room in the crate's queue, so it needs no runtime.
        futures::executor::block_on(async {
            let mut transaction = shared.lock().await;
            transaction.write_event(routing_key, payload.to_vec()).await
        })
        .map_err(|e| txn_error("write", txn.id, e))
    })
}

/// Reads the transaction's state from the controller into `*status`, a
/// `PravegaTxnStatus` value. Blocks.
///
/// Fails with `PRAVEGA_STATUS_CONTROLLER_ERROR` when the controller fails the request,
/// and `PRAVEGA_STATUS_UNAVAILABLE` when it cannot be reached.
#[no_mangle]
pub extern "C" fn pravega_txn_status(
    transaction: *const PravegaTransaction,
    status: *mut i32,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let txn = args::handle("transaction", transaction)?;
        args::out_ptr("status", status)?;

        let controller = txn.factory.controller_client();
        let what = format!("check transaction {:x}", txn.id.0);
        let state = txn
            .runtime
            .block_on_timeout(
                txn.timeout,
                &what,
                controller.check_transaction_status(&txn.stream, txn.id),
            )?
            .map_err(|e| {
                PravegaError::new(
                    controller_status(&e.error),
                    format!("{what} failed: {}", e.error),
                )
            })?;
        args::store(status, state as i32);
        Ok(())
    })
}

/// Commits the transaction, waiting for its events first. `timestamp` is
/// `PRAVEGA_NO_TIMESTAMP` or the event time to record. Blocks.
///
/// The transaction counts as finished once the commit has started: a second commit or
/// abort fails with `PRAVEGA_STATUS_TXN_FAILED`, even when this one failed or timed out.
/// Ask `pravega_txn_status` what became of it then.
///
/// Fails with:
/// - `PRAVEGA_STATUS_TXN_FAILED` when it was committed or aborted already, or was
///   reopened after it had closed.
/// - `PRAVEGA_STATUS_IO_ERROR` when one of its events could not be written.
/// - `PRAVEGA_STATUS_CONTROLLER_ERROR` when the controller fails the commit, and
///   `PRAVEGA_STATUS_UNAVAILABLE` when it cannot be reached.
#[no_mangle]
pub extern "C" fn pravega_txn_commit(
    transaction: *const PravegaTransaction,
    timestamp: u64,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let txn = args::handle("transaction", transaction)?;
        txn.runtime
            .block_on_timeout(txn.timeout, "commit", txn.finish(Some(timestamp)))?
    })
}

/// Aborts the transaction; its events are never seen. Blocks. Like a commit, it marks
/// the transaction finished once it has started.
///
/// Fails with `PRAVEGA_STATUS_TXN_FAILED` when it was committed or aborted already,
/// `PRAVEGA_STATUS_CONTROLLER_ERROR` when the controller fails the abort, and
/// `PRAVEGA_STATUS_UNAVAILABLE` when it cannot be reached.
#[no_mangle]
pub extern "C" fn pravega_txn_abort(
    transaction: *const PravegaTransaction,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let txn = args::handle("transaction", transaction)?;
        txn.runtime
            .block_on_timeout(txn.timeout, "abort", txn.finish(None))?
    })
}

/// `pravega_txn_commit` without blocking and without a time limit: `callback`
/// (required) fires when it is done, with a NULL `result` and the statuses that
/// `pravega_txn_commit` lists. It may be called from a callback.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` when `callback` is NULL; it then never
/// fires. The callback gets `PRAVEGA_STATUS_CANCELLED` when the runtime stops first,
/// as when this transaction was the last object of its manager and is freed.
#[no_mangle]
pub extern "C" fn pravega_txn_commit_async(
    transaction: *const PravegaTransaction,
    timestamp: u64,
    callback: PravegaCallback,
    user_data: *mut c_void,
    tag: u64,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let txn = args::handle("transaction", transaction)?;
        let completion = Completion::required(callback, user_data, tag)?;
        let work = txn.finish(Some(timestamp));
        spawn_completing(txn.runtime.handle(), completion, async move {
            work.await.map(|()| std::ptr::null_mut())
        });
        Ok(())
    })
}

/// `pravega_txn_abort` without blocking and without a time limit: `callback` (required)
/// fires when it is done, with a NULL `result` and the statuses that `pravega_txn_abort`
/// lists. It may be called from a callback.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` when `callback` is NULL; it then never
/// fires. The callback gets `PRAVEGA_STATUS_CANCELLED` when the runtime stops first.
#[no_mangle]
pub extern "C" fn pravega_txn_abort_async(
    transaction: *const PravegaTransaction,
    callback: PravegaCallback,
    user_data: *mut c_void,
    tag: u64,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let txn = args::handle("transaction", transaction)?;
        let completion = Completion::required(callback, user_data, tag)?;
        let work = txn.finish(None);
        spawn_completing(txn.runtime.handle(), completion, async move {
            work.await.map(|()| std::ptr::null_mut())
        });
        Ok(())
    })
}

/// Frees a transaction handle. NULL is ignored; freeing twice is undefined behaviour.
/// An open transaction stays open on the server until its lease runs out; a commit or
/// abort started with the asynchronous calls goes on.
#[no_mangle]
pub extern "C" fn pravega_txn_free(transaction: *mut PravegaTransaction) {
    free_in_runtime(transaction, |transaction| transaction.runtime.clone());
}
