//! Event writers: asynchronous writes with per-event completions, and flushes.

use crate::args;
use crate::completion::{Completion, PravegaCallback};
use crate::error::{FfiResult, PravegaError, PravegaStatus};
use crate::guard::{guarded, panic_error};
use crate::manager::PravegaManager;
use crate::runtime::{refuse_runtime_thread, SharedRuntime};
use pravega_client::client_factory::ClientFactoryAsync;
use pravega_client::error::Error as WriterError;
use pravega_client::event::EventWriter;
use pravega_client_shared::ScopedStream;
use std::ffi::{c_char, c_void};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The largest event the server accepts, in bytes.
pub const PRAVEGA_MAX_EVENT_SIZE: usize = 8_388_608;

/// Writes events to one stream.
///
/// Thread-safe: several threads may write through one writer; events written from one
/// thread with the same routing key keep their order. Its callbacks fire one at a time,
/// in write order. It may outlive its manager. Free it, once, with
/// `pravega_writer_free`.
pub struct PravegaWriter {
    // Declared first so it drops first: the runtime must still run while the crate's
    // writer shuts its background task down.
    writer: Mutex<EventWriter>,
    acks: Arc<AckTracker>,
    pending: mpsc::UnboundedSender<Pending>,
    runtime: Arc<SharedRuntime>,
    /// How long a write may wait for room in the crate's queue: the controller timeout.
    room_timeout: Duration,
}

type Answer = oneshot::Receiver<Result<(), WriterError>>;

/// What the acknowledgement task works through, in write order.
enum Pending {
    /// Events written by one call, reported through one completion when all are
    /// answered.
    Events {
        answers: Vec<Answer>,
        completion: Option<Completion>,
    },
    /// A flush: fires once every event queued before it has been answered.
    Flush(Completion),
}

/// Counts unacknowledged events and keeps the first failure until someone reports it.
struct AckTracker {
    state: Mutex<AckState>,
    changed: Condvar,
}

#[derive(Default)]
struct AckState {
    outstanding: u64,
    first_failure: Option<PravegaError>,
}

impl AckTracker {
    fn lock(&self) -> MutexGuard<'_, AckState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts `count` events as answered, remembering `failure` if none is kept yet.
    fn record(&self, count: u64, failure: Option<&PravegaError>) {
        let mut state = self.lock();
        state.outstanding -= count;
        if let Some(error) = failure {
            state.first_failure.get_or_insert_with(|| error.clone());
        }
        drop(state);
        self.changed.notify_all();
    }

    fn take_failure(&self) -> FfiResult<()> {
        match self.lock().first_failure.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Waits until at most `limit` events are unacknowledged, or until `deadline`.
    fn wait_until_at_most(&self, limit: u64, deadline: Option<Instant>) -> FfiResult<()> {
        let mut state = self.lock();
        while state.outstanding > limit {
            state = match deadline {
                None => self.changed.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(PravegaError::new(
                            PravegaStatus::Timeout,
                            format!("{} events are still unacknowledged", state.outstanding),
                        ));
                    }
                    self.changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
        Ok(())
    }
}

/// Awaits the server's answers in write order, and reports them.
///
/// One task per writer does this, instead of one task per event.
async fn deliver_acks(
    mut pending: mpsc::UnboundedReceiver<Pending>,
    acks: Arc<AckTracker>,
    mut diagnosis: StopDiagnosis,
) {
    while let Some(item) = pending.recv().await {
        match item {
            Pending::Events {
                answers,
                completion,
            } => {
                let count = answers.len() as u64;
                let had_callback = completion.is_some();
                let mut failure = None;
                for answer in answers {
                    if let Err(error) = settle(answer, &mut diagnosis).await {
                        failure.get_or_insert(error);
                    }
                }
                // Fire the callback before counting the events as done, so that a flush
                // returns only after the callbacks of the events it waited for have run.
                if let Some(completion) = completion {
                    completion.finish(match &failure {
                        Some(error) => Err(error.clone()),
                        None => Ok(std::ptr::null_mut()),
                    });
                }
                // A failure that a callback was told about is not kept for the next
                // call as well: every failure is reported exactly once.
                let unreported = if had_callback { None } else { failure.as_ref() };
                acks.record(count, unreported);
            }
            Pending::Flush(completion) => {
                completion.finish(acks.take_failure().map(|()| std::ptr::null_mut()));
            }
        }
    }
}

async fn settle(answer: Answer, diagnosis: &mut StopDiagnosis) -> Result<(), PravegaError> {
    match answer.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(PravegaError::new(
            PravegaStatus::IoError,
            format!("write failed: {error}"),
        )),
        Err(_) => Err(PravegaError::new(
            PravegaStatus::IoError,
            format!(
                "the writer stopped before the server acknowledged the event: {}",
                diagnosis.reason().await
            ),
        )),
    }
}

/// How long the acknowledgement task asks the controller why a writer stopped.
const DIAGNOSIS_TIMEOUT: Duration = Duration::from_secs(5);

/// Explains why the crate's writer stopped, which it does without saying why.
struct StopDiagnosis {
    factory: ClientFactoryAsync,
    stream: ScopedStream,
    reason: Option<String>,
}

impl StopDiagnosis {
    /// The reason, asked of the controller once and kept for every later event.
    ///
    /// The crate's writer stops (its task panics) when it cannot get the stream's
    /// segments, which nearly always means that the stream or its scope does not exist.
    async fn reason(&mut self) -> &str {
        if self.reason.is_none() {
            let asked = tokio::time::timeout(DIAGNOSIS_TIMEOUT, self.ask_controller()).await;
            self.reason = Some(asked.unwrap_or_else(|_| {
                format!(
                    "it could not get the segments of stream {}, and the controller \
                     did not say why within {} s",
                    self.stream,
                    DIAGNOSIS_TIMEOUT.as_secs()
                )
            }));
        }
        self.reason.as_deref().unwrap_or_default()
    }

    async fn ask_controller(&self) -> String {
        let controller = self.factory.controller_client();
        let stream = &self.stream;
        if let Ok(false) = controller.check_scope_exists(&stream.scope).await {
            return format!("scope {} does not exist", stream.scope);
        }
        match controller.check_stream_exists(stream).await {
            Ok(false) => format!("stream {stream} does not exist"),
            Ok(true) => format!("it could not get the segments of stream {stream}"),
            Err(error) => format!(
                "it could not get the segments of stream {stream}: {}",
                error.error
            ),
        }
    }
}

fn deadline_after(timeout_ms: i64) -> Option<Instant> {
    u64::try_from(timeout_ms)
        .ok()
        .map(|ms| Instant::now() + Duration::from_millis(ms))
}

/// Makes a writer for `scope/stream`. Does not block: the writer looks up the stream's
/// segments in the background, starting now, so this call does not report a stream that
/// does not exist; the first write does. On success `*out` receives a writer that the
/// caller frees with `pravega_writer_free`.
#[no_mangle]
pub extern "C" fn pravega_writer_new(
    manager: *const PravegaManager,
    scope: *const c_char,
    stream: *const c_char,
    out: *mut *mut PravegaWriter,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let stream = args::scoped_stream(scope, stream)?;
        args::out_ptr("out", out)?;

        let runtime = manager.runtime.clone();
        let writer = {
            let _context = runtime.handle().enter();
            manager.factory.create_event_writer(stream.clone())
        };
        let acks = Arc::new(AckTracker {
            state: Mutex::default(),
            changed: Condvar::new(),
        });
        let (pending, pending_rx) = mpsc::unbounded_channel();
        let diagnosis = StopDiagnosis {
            factory: manager.factory.clone(),
            stream,
            reason: None,
        };
        runtime
            .handle()
            .spawn(deliver_acks(pending_rx, acks.clone(), diagnosis));

        let writer = PravegaWriter {
            writer: Mutex::new(writer),
            acks,
            pending,
            runtime,
            room_timeout: manager.controller_timeout,
        };
        args::store(out, Box::into_raw(Box::new(writer)));
        Ok(())
    })
}

impl PravegaWriter {
    /// Hands `events` to the crate's writer and their answers to the acknowledgement
    /// task, reporting all of them through `completion`.
    fn write<'a>(
        &self,
        routing_key: Option<&str>,
        events: impl ExactSizeIterator<Item = &'a [u8]>,
        completion: Option<Completion>,
    ) -> FfiResult<()> {
        if let Err(failure) = self.acks.take_failure() {
            if let Some(completion) = completion {
                completion.disarm();
            }
            return Err(failure);
        }

        let total = events.len();
        let mut answers = Vec::with_capacity(total);
        let mut event_writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.acks.lock().outstanding += total as u64;
        let handed_over = catch_unwind(AssertUnwindSafe(|| {
            for event in events {
                // The crate's write only waits for room in its 16 MiB queue; the answer
                // comes later through the receiver.
                let answer = match routing_key {
                    Some(key) => self.wait_for_room(
                        event_writer.write_event_by_routing_key(key.to_string(), event.to_vec()),
                    ),
                    None => self.wait_for_room(event_writer.write_event(event.to_vec())),
                }?;
                answers.push(answer);
            }
            Ok(())
        }));
        drop(event_writer);

        if let Ok(Err(timed_out)) = handed_over {
            // The event that found no room was not written, nor were those after it;
            // those before it were, and are still answered.
            if let Some(completion) = completion {
                completion.disarm();
            }
            self.acks.record((total - answers.len()) as u64, None);
            if !answers.is_empty() {
                self.queue(Pending::Events {
                    answers,
                    completion: None,
                })?;
            }
            return Err(timed_out);
        }
        if let Err(payload) = handed_over {
            // The crate panics on some failures (a scope that does not exist). The call
            // then fails, so its callback must not fire; events never handed over are
            // not outstanding; those handed over before the panic are still answered.
            if let Some(completion) = completion {
                completion.disarm();
            }
            self.acks.record((total - answers.len()) as u64, None);
            if !answers.is_empty() {
                self.queue(Pending::Events {
                    answers,
                    completion: None,
                })?;
            }
            return Err(panic_error(payload.as_ref()));
        }

        self.queue(Pending::Events {
            answers,
            completion,
        })
    }

    /// Runs the crate's write until it has queued the event, for at most `room_timeout`.
    ///
    /// The write waits only while the queue is full, which lasts as long as the segment
    /// store takes no appends. Dropping it then is safe: the crate queues an event
    /// whole or not at all.
    fn wait_for_room<F: Future>(&self, write: F) -> FfiResult<F::Output> {
        let mut write = std::pin::pin!(write);
        // Nearly always ready at once; only then is a timer worth its cost.
        let waker = futures::task::noop_waker();
        if let Poll::Ready(answer) = write.as_mut().poll(&mut Context::from_waker(&waker)) {
            return Ok(answer);
        }
        // The timer needs the runtime's context; polling the write needs no runtime.
        let _context = self.runtime.handle().enter();
        futures::executor::block_on(tokio::time::timeout(self.room_timeout, write)).map_err(|_| {
            PravegaError::new(
                PravegaStatus::Timeout,
                format!(
                    "the write found no room in the writer's 16 MiB queue within {} ms: the \
                     segment store takes no appends; the event was not written",
                    self.room_timeout.as_millis()
                ),
            )
        })
    }

    fn queue(&self, item: Pending) -> FfiResult<()> {
        if let Err(lost) = self.pending.send(item) {
            // The acknowledgement task is gone only if the runtime stopped. The status
            // returned reports that, so the item's completion must not fire as well, and
            // nothing is kept for a later call to report again.
            match lost.0 {
                Pending::Events {
                    answers,
                    completion,
                } => {
                    self.acks.record(answers.len() as u64, None);
                    if let Some(completion) = completion {
                        completion.disarm();
                    }
                }
                Pending::Flush(completion) => completion.disarm(),
            }
            return Err(PravegaError::new(
                PravegaStatus::Closed,
                "the writer's runtime has stopped",
            ));
        }
        Ok(())
    }
}

/// Checks one event's size: not empty, and at most `PRAVEGA_MAX_EVENT_SIZE`.
pub(crate) fn check_event_size(index: Option<usize>, len: usize) -> FfiResult<()> {
    if len != 0 && len <= PRAVEGA_MAX_EVENT_SIZE {
        return Ok(());
    }
    // Named only on failure: formatting the name for every event cost about a tenth
    // of a pipelined write's instructions.
    let which = index.map_or("event".to_string(), |index| format!("event {index}"));
    if len == 0 {
        // The crate's reader stops at an empty event and never reads past it, so a
        // stream holding one would be stuck for every reader of this client.
        return Err(PravegaError::invalid_argument(format!(
            "{which} is empty; empty events are not supported"
        )));
    }
    Err(PravegaError::invalid_argument(format!(
        "{which} of {len} bytes is larger than the {PRAVEGA_MAX_EVENT_SIZE}-byte limit"
    )))
}

/// Queues one event for writing and returns without waiting for the server.
///
/// - `routing_key` may be NULL for a random key; otherwise it must be UTF-8. Events with
///   the same key keep their order.
/// - `data`/`len` is the payload, any bytes (it is `char *` so that hosts can pass their
///   byte strings without a cast), copied before the call returns. It must not be empty
///   and may be at most `PRAVEGA_MAX_EVENT_SIZE` bytes.
/// - `callback` may be NULL. When given, it fires once the server has acknowledged the
///   event (`result` is NULL) or the write failed (`PRAVEGA_STATUS_IO_ERROR`).
///
/// Every failure is reported once. A failed event written with a callback is reported
/// to that callback only. The first failure of an event written without one is kept by
/// the writer until a call reports it: the next write, flush, wait, or flush_async
/// callback. A write that finds one returns it, and its own event is not written.
///
/// Waits only while 16 MiB of events are already queued, until the server has taken
/// some, and for at most the manager's controller timeout. That wait is not refused
/// inside a callback, but there it holds up a runtime thread, so a callback should not
/// write much.
///
/// Fails with:
/// - `PRAVEGA_STATUS_TIMEOUT` when the queue stayed full for the controller timeout (the
///   segment store takes no appends); the event was not written.
/// - `PRAVEGA_STATUS_INVALID_ARGUMENT` when the payload is empty or larger than
///   `PRAVEGA_MAX_EVENT_SIZE`, or `data` is NULL but `len` is not 0.
/// - The status of an earlier event's failure not yet reported, usually
///   `PRAVEGA_STATUS_IO_ERROR`.
/// - `PRAVEGA_STATUS_CLOSED` when the writer can no longer deliver acknowledgements,
///   which happens only after an internal failure.
///
/// When the call fails, its callback never fires: the status is the only report.
#[no_mangle]
pub extern "C" fn pravega_writer_write(
    writer: *const PravegaWriter,
    routing_key: *const c_char,
    data: *const c_char,
    len: usize,
    callback: PravegaCallback,
    user_data: *mut c_void,
    tag: u64,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let writer = args::handle("writer", writer)?;
        let routing_key = args::optional_str("routing_key", routing_key)?;
        let payload = args::bytes("data", data.cast(), len)?;
        check_event_size(None, len)?;
        let completion = callback
            .is_some()
            .then(|| Completion::new(callback, user_data, tag));

        writer.write(routing_key, std::iter::once(payload), completion)
    })
}

/// Queues `count` events, all with `routing_key`, in one call; see `pravega_writer_write`.
///
/// The payloads lie back to back in `data` (`data_len` bytes in all); `lengths[i]` is
/// the size of event `i`. The lengths must add up to `data_len`. `callback`, if given,
/// fires once, when every event of the batch has been answered: with the first failure
/// among them, or with success. With `count` 0 nothing is written and the callback
/// fires with success.
///
/// Fails as `pravega_writer_write` does, and with `PRAVEGA_STATUS_INVALID_ARGUMENT`
/// when any event is empty or too large, `lengths` is NULL but `count` is not 0, or the
/// lengths do not add up to `data_len`.
#[no_mangle]
pub extern "C" fn pravega_writer_write_batch(
    writer: *const PravegaWriter,
    routing_key: *const c_char,
    data: *const c_char,
    data_len: usize,
    lengths: *const usize,
    count: usize,
    callback: PravegaCallback,
    user_data: *mut c_void,
    tag: u64,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let writer = args::handle("writer", writer)?;
        let routing_key = args::optional_str("routing_key", routing_key)?;
        let payloads = args::bytes("data", data.cast(), data_len)?;
        let lengths = args::items("lengths", lengths, count)?;
        let mut total: usize = 0;
        for (index, &len) in lengths.iter().enumerate() {
            check_event_size(Some(index), len)?;
            total = total.saturating_add(len);
        }
        if total != data_len {
            return Err(PravegaError::invalid_argument(format!(
                "the lengths add up to {total} bytes but data_len is {data_len}"
            )));
        }
        let completion = callback
            .is_some()
            .then(|| Completion::new(callback, user_data, tag));

        let mut rest = payloads;
        let events = lengths.iter().map(|&len| {
            let (event, tail) = rest.split_at(len);
            rest = tail;
            event
        });
        writer.write(routing_key, events, completion)
    })
}

/// Asks for a flush without blocking: `callback` (required) fires once every event
/// queued before this call has been answered, with the first failure not yet reported
/// (see `pravega_writer_write`), or with success. `result` is NULL. It may be called
/// from a callback.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` when `callback` is NULL, and
/// `PRAVEGA_STATUS_CLOSED` as `pravega_writer_write` does; the callback then never
/// fires.
#[no_mangle]
pub extern "C" fn pravega_writer_flush_async(
    writer: *const PravegaWriter,
    callback: PravegaCallback,
    user_data: *mut c_void,
    tag: u64,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let writer = args::handle("writer", writer)?;
        let completion = Completion::required(callback, user_data, tag)?;
        writer.queue(Pending::Flush(completion))
    })
}

/// Waits until every queued event has been answered, then returns the first failure not
/// yet reported (see `pravega_writer_write`), and forgets it. When it returns, the
/// callbacks of the events it waited for have run.
///
/// Blocks, for up to `timeout_ms` milliseconds rather than the controller timeout; a
/// negative `timeout_ms` waits as long as it takes.
///
/// Fails with `PRAVEGA_STATUS_TIMEOUT` when `timeout_ms` passed first (the events stay
/// queued), and with the status of the failure it reports, usually
/// `PRAVEGA_STATUS_IO_ERROR`.
#[no_mangle]
pub extern "C" fn pravega_writer_flush(
    writer: *const PravegaWriter,
    timeout_ms: i64,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    pravega_writer_wait_outstanding(writer, 0, timeout_ms, error)
}

/// Waits until at most `max_outstanding` events are unanswered, then returns the first
/// failure not yet reported, as `pravega_writer_flush` does; with 0 it is a flush. A
/// host that writes without callbacks can call it to bound how much it has in flight.
///
/// Blocks, for up to `timeout_ms` milliseconds as `pravega_writer_flush` does, and fails
/// as it does.
#[no_mangle]
pub extern "C" fn pravega_writer_wait_outstanding(
    writer: *const PravegaWriter,
    max_outstanding: u64,
    timeout_ms: i64,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let writer = args::handle("writer", writer)?;
        refuse_runtime_thread()?;

        writer
            .acks
            .wait_until_at_most(max_outstanding, deadline_after(timeout_ms))?;
        writer.acks.take_failure()
    })
}

/// The number of events written but not yet answered by the server. 0 when `writer` is
/// NULL. Does not block; thread-safe.
#[no_mangle]
pub extern "C" fn pravega_writer_outstanding(writer: *const PravegaWriter) -> u64 {
    args::handle("writer", writer).map_or(0, |writer| writer.acks.lock().outstanding)
}

/// Frees a writer. NULL is ignored; freeing twice is undefined behaviour.
///
/// Does not block, so it is safe inside a callback. Events not yet acknowledged are still
/// delivered in the background, and their callbacks fire; a failure not yet reported is
/// logged. The runtime stays up until that is done. Call `pravega_writer_flush` first to
/// wait for the events and get their failures yourself.
#[no_mangle]
pub extern "C" fn pravega_writer_free(writer: *mut PravegaWriter) {
    let _ = guarded(std::ptr::null_mut(), || {
        if writer.is_null() {
            return Ok(());
        }
        // SAFETY: made by `pravega_writer_new`, freed once.
        let writer = unsafe { Box::from_raw(writer) };
        let PravegaWriter {
            writer: event_writer,
            acks,
            pending,
            runtime,
            ..
        } = *writer;
        // Closing the channel lets the acknowledgement task end after the last answer.
        drop(pending);
        let event_writer = event_writer.into_inner().unwrap_or_else(|p| p.into_inner());

        // The crate's writer stops its background task as soon as it is dropped, even
        // with events in flight, so drain it first. The task keeps the runtime alive
        // until then; its last reference is dropped inside the runtime, which
        // `SharedRuntime` handles.
        let keep_alive = runtime.clone();
        runtime.handle().spawn(async move {
            let mut event_writer = event_writer;
            let drained = event_writer.flush().await;
            drop(event_writer);
            if let Err(unreported) = acks.take_failure() {
                tracing::warn!("a writer freed with events in flight lost some: {unreported:?}");
            } else if let Err(error) = drained {
                tracing::warn!("a writer freed with events in flight lost some: {error}");
            }
            drop(keep_alive);
        });
        Ok(())
    });
}
