//! Asynchronous completion: the callback type, the one-shot `Completion` that every
//! asynchronous operation carries, and a completion queue that batches completions
//! for hosts that drain them from their own thread (the Python binding does).

use crate::args;
use crate::error::{FfiResult, PravegaError, PravegaStatus};
use crate::guard::{guarded, panic_error};
use crate::wake::WakeSignal;
use futures::FutureExt;
use std::ffi::c_void;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use tokio::runtime::Handle;

/// Called once when an asynchronous operation finishes.
///
/// `user_data` is the value given when the operation started, and `completion` tells
/// the outcome (see `PravegaCompletion`). The struct itself is valid only during the
/// call; the `error` and `result` it carries belong to the callback from then on.
///
/// Where it runs: as a rule on a runtime thread of the library, named "pravega-client".
/// Callbacks of different operations may run at the same time on different threads, so
/// whatever they share needs a lock. The exceptions: when a runtime stops with
/// operations still pending (its last handle was freed), those complete with
/// `PRAVEGA_STATUS_CANCELLED` on the thread that stops it, which may be the thread that
/// freed the handle. A call that returns a failure status never fires its callback.
///
/// What it may do: read and free `error` and `result`, start asynchronous operations,
/// call functions that do not block, and free handles. What it must not do: block, as a
/// blocked runtime thread holds up other operations; call a function documented as
/// "Blocks", which fails with `PRAVEGA_STATUS_WOULD_DEADLOCK` there; or unwind out of
/// the call (a C++ exception, a longjmp).
pub type PravegaCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, completion: *const PravegaCompletion)>;

/// Where one asynchronous operation reports its outcome.
///
/// It fires exactly once: explicitly through `succeed`/`fail`, or with `Cancelled` when it
/// is dropped unfired, for example when the runtime shuts down with the task pending.
pub(crate) struct Completion {
    callback: PravegaCallback,
    user_data: *mut c_void,
    tag: u64,
    fired: bool,
}

// SAFETY: the header requires `user_data` to be usable from any thread.
unsafe impl Send for Completion {}

impl Completion {
    pub(crate) fn new(callback: PravegaCallback, user_data: *mut c_void, tag: u64) -> Self {
        Completion {
            callback,
            user_data,
            tag,
            fired: false,
        }
    }

    /// A completion for operations whose callback is mandatory.
    pub(crate) fn required(
        callback: PravegaCallback,
        user_data: *mut c_void,
        tag: u64,
    ) -> FfiResult<Self> {
        if callback.is_none() {
            return Err(PravegaError::invalid_argument("callback must not be NULL"));
        }
        Ok(Self::new(callback, user_data, tag))
    }

    /// Drops the completion without firing it. For a call that fails after taking its
    /// callback: the call's own status reports the failure, and the header promises that
    /// a failed call never fires its callback.
    pub(crate) fn disarm(mut self) {
        self.fired = true;
    }

    pub(crate) fn succeed(mut self, result: *mut c_void) {
        self.fire(PravegaStatus::Ok, std::ptr::null_mut(), result);
    }

    pub(crate) fn fail(mut self, error: PravegaError) {
        let status = error.status;
        self.fire(status, error.into_raw(), std::ptr::null_mut());
    }

    pub(crate) fn finish(self, outcome: FfiResult<*mut c_void>) {
        match outcome {
            Ok(result) => self.succeed(result),
            Err(error) => self.fail(error),
        }
    }

    fn fire(&mut self, status: PravegaStatus, error: *mut PravegaError, result: *mut c_void) {
        self.fired = true;
        let completion = PravegaCompletion {
            tag: self.tag,
            status,
            error,
            result,
        };
        match self.callback {
            // SAFETY: the host gave this function pointer for exactly this call.
            Some(callback) => unsafe { callback(self.user_data, &completion) },
            None => crate::error::pravega_error_free(error),
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if !self.fired {
            let error = PravegaError::new(
                PravegaStatus::Cancelled,
                "the operation was cancelled before it completed",
            );
            let status = error.status;
            self.fire(status, error.into_raw(), std::ptr::null_mut());
        }
    }
}

/// Spawns `work` on `runtime` and reports its outcome through `completion`.
///
/// A panic inside `work` is caught and reported as `Internal`, so a completion always
/// arrives. If the runtime drops the task unfinished, `Completion`'s drop reports
/// `Cancelled`.
pub(crate) fn spawn_completing<F>(runtime: &Handle, completion: Completion, work: F)
where
    F: Future<Output = FfiResult<*mut c_void>> + Send + 'static,
{
    // Raw result pointers are not Send; carry the address instead.
    let work = async move { work.await.map(|pointer| pointer as usize) };
    runtime.spawn(async move {
        let outcome = AssertUnwindSafe(work).catch_unwind().await;
        let outcome = match outcome {
            Ok(result) => result,
            Err(payload) => Err(panic_error(payload.as_ref())),
        };
        if outcome.is_err() && runtime_is_stopping().await {
            // A shutdown tears down the connections under a pending operation, which may
            // then fail, or panic, before its task is dropped. What happened to it is
            // that it was cancelled, and that is what the caller is told.
            completion.fail(PravegaError::new(
                PravegaStatus::Cancelled,
                "the runtime shut down before the operation completed",
            ));
            return;
        }
        completion.finish(outcome.map(|address| address as *mut c_void));
    });
}

/// Whether the runtime this task runs on is shutting down. It closes its task list before
/// it tears down any task, and a task spawned after that is cancelled at once.
async fn runtime_is_stopping() -> bool {
    matches!(tokio::spawn(async {}).await, Err(error) if error.is_cancelled())
}

/// The outcome of one asynchronous operation, as given to a `PravegaCallback` or
/// drained from a `PravegaCompletionQueue`.
///
/// Whoever receives it, the callback or the thread that drains the queue, owns `error`
/// and `result`. It is a plain value and may be copied.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PravegaCompletion {
    /// The tag given when the operation started.
    pub tag: u64,
    /// `PRAVEGA_STATUS_OK` on success.
    pub status: PravegaStatus,
    /// NULL on success; otherwise an error to free with `pravega_error_free`.
    pub error: *mut PravegaError,
    /// The operation's result, as each function describes, with how to free it; NULL
    /// when it has none or failed.
    pub result: *mut c_void,
}

// SAFETY: the pointers are owned, transferred values; nothing else refers to them.
unsafe impl Send for PravegaCompletion {}

/// A thread-safe queue of completions with a file descriptor that becomes readable when
/// the queue turns non-empty.
///
/// Pass `pravega_completion_queue_push` as the callback and the queue as `user_data`.
/// Completions are then queued instead of calling into the host from a library thread,
/// and the host wakes once per batch: the descriptor gets one byte when the queue goes
/// from empty to non-empty, not one per completion.
///
/// The queue must outlive every operation that was given it as `user_data`: free it,
/// once, with `pravega_completion_queue_free` only after all of them have completed.
pub struct PravegaCompletionQueue {
    state: Mutex<QueueState>,
    wake: WakeSignal,
}

struct QueueState {
    entries: Vec<PravegaCompletion>,
    wake_pending: bool,
}

impl PravegaCompletionQueue {
    fn new() -> std::io::Result<Self> {
        Ok(PravegaCompletionQueue {
            state: Mutex::new(QueueState {
                entries: Vec::new(),
                wake_pending: false,
            }),
            wake: WakeSignal::new()?,
        })
    }

    fn push(&self, entry: PravegaCompletion) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.entries.push(entry);
        if !state.wake_pending {
            state.wake_pending = true;
            if let Err(error) = self.wake.raise() {
                tracing::warn!("completion queue wake-up failed: {error}");
            }
        }
    }

    fn drain_into(&self, out: &mut [PravegaCompletion]) -> usize {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = out.len().min(state.entries.len());
        for (slot, entry) in out.iter_mut().zip(state.entries.drain(..count)) {
            *slot = entry;
        }
        if state.entries.is_empty() && state.wake_pending {
            // Clear the wake-up while holding the lock, so that a push racing with this
            // drain either lands in this batch or writes a fresh byte.
            self.wake.clear();
            state.wake_pending = false;
        }
        count
    }
}

impl Drop for PravegaCompletionQueue {
    fn drop(&mut self) {
        // Free what nobody drained, so that an abandoned queue leaks nothing of ours.
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for entry in state.entries.drain(..) {
            crate::error::pravega_error_free(entry.error);
            if !entry.result.is_null() {
                tracing::warn!("a queued result was never drained; it is leaked");
            }
        }
    }
}

/// Makes a completion queue. The caller frees `*out` with
/// `pravega_completion_queue_free`.
///
/// Fails with `PRAVEGA_STATUS_INTERNAL` when its wake-up socket pair cannot be made (for
/// example when the process is out of file descriptors).
#[no_mangle]
pub extern "C" fn pravega_completion_queue_new(
    out: *mut *mut PravegaCompletionQueue,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        args::out_ptr("out", out)?;
        let queue = PravegaCompletionQueue::new().map_err(|e| {
            PravegaError::new(
                PravegaStatus::Internal,
                format!("cannot make wake-up socket: {e}"),
            )
        })?;
        args::store(out, Box::into_raw(Box::new(queue)));
        Ok(())
    })
}

/// The descriptor that becomes readable when completions are waiting; watch it for input
/// with poll, epoll or select.
///
/// It belongs to the queue: do not close it, and do not read it yourself (draining does).
/// It is valid until the queue is freed. Returns -1 when `queue` is NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn pravega_completion_queue_fd(queue: *const PravegaCompletionQueue) -> i32 {
    match args::handle("queue", queue) {
        Ok(queue) => queue.wake.fd(),
        Err(_) => -1,
    }
}

/// A `PravegaCallback` that appends a copy of `completion` to the queue given as
/// `user_data`, which must be a live queue.
///
/// Thread-safe, and it only takes the queue's lock briefly. Ownership of `error` and
/// `result` moves into the queue. Hosts pass it to asynchronous functions; they seldom
/// call it themselves. With a NULL `user_data` the completion is dropped and logged:
/// its error is freed, but a non-NULL `result` leaks, so never start an operation with
/// a NULL queue.
#[no_mangle]
pub unsafe extern "C" fn pravega_completion_queue_push(
    user_data: *mut c_void,
    completion: *const PravegaCompletion,
) {
    let queue = user_data as *const PravegaCompletionQueue;
    // SAFETY: the library passes a valid completion for the duration of the call.
    let entry = match unsafe { completion.as_ref() } {
        Some(completion) => *completion,
        None => return,
    };
    // A panic must not unwind into the caller, which may be C. There is nobody to tell
    // about it, so the entry is lost, but the process survives.
    let pushed =
        std::panic::catch_unwind(AssertUnwindSafe(|| match args::handle("queue", queue) {
            Ok(queue) => queue.push(entry),
            Err(_) => {
                // Nobody can receive the error, so free it here. The result's type is
                // known only to the operation, so it cannot be freed here.
                crate::error::pravega_error_free(entry.error);
                tracing::error!("completion pushed to a NULL queue; dropped");
            }
        }));
    if pushed.is_err() {
        tracing::error!("completion queue push panicked; a completion was lost");
    }
}

/// Moves up to `capacity` queued completions into `out`, oldest first, and stores how
/// many were moved in `*count`.
///
/// The caller owns the `error` and `result` of each completion moved. When this empties
/// the queue it also clears the wake-up descriptor, so drain until `*count` is less
/// than `capacity` before waiting on the descriptor again. Does not block. Thread-safe;
/// one thread at a time should drain a queue, so that completions stay in order.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` when `out` is NULL and `capacity` > 0.
#[no_mangle]
pub extern "C" fn pravega_completion_queue_drain(
    queue: *const PravegaCompletionQueue,
    out: *mut PravegaCompletion,
    capacity: usize,
    count: *mut usize,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let queue = args::handle("queue", queue)?;
        args::out_ptr("count", count)?;
        if out.is_null() && capacity > 0 {
            return Err(PravegaError::invalid_argument(
                "out is NULL but capacity is not 0",
            ));
        }
        // SAFETY: the caller promises `capacity` writable entries at `out`.
        let slots = if capacity == 0 {
            &mut [][..]
        } else {
            unsafe { std::slice::from_raw_parts_mut(out, capacity) }
        };
        args::store(count, queue.drain_into(slots));
        Ok(())
    })
}

/// Frees a queue. Completions still in it are freed too. NULL is ignored.
///
/// No operation that was given this queue may still be running: its completion would
/// be pushed into freed memory. Freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn pravega_completion_queue_free(queue: *mut PravegaCompletionQueue) {
    let _ = guarded(std::ptr::null_mut(), || {
        if !queue.is_null() {
            // SAFETY: made by `pravega_completion_queue_new`, freed once.
            drop(unsafe { Box::from_raw(queue) });
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_queue() -> *mut PravegaCompletionQueue {
        let mut queue = std::ptr::null_mut();
        assert_eq!(
            pravega_completion_queue_new(&mut queue, std::ptr::null_mut()),
            PravegaStatus::Ok
        );
        queue
    }

    fn drain(queue: *mut PravegaCompletionQueue, capacity: usize) -> Vec<u64> {
        let mut slots: Vec<PravegaCompletion> = (0..capacity)
            .map(|_| PravegaCompletion {
                tag: 0,
                status: PravegaStatus::Ok,
                error: std::ptr::null_mut(),
                result: std::ptr::null_mut(),
            })
            .collect();
        let mut count = 0;
        let status = pravega_completion_queue_drain(
            queue,
            slots.as_mut_ptr(),
            capacity,
            &mut count,
            std::ptr::null_mut(),
        );
        assert_eq!(status, PravegaStatus::Ok);
        slots.truncate(count);
        slots
            .iter()
            .for_each(|slot| crate::error::pravega_error_free(slot.error));
        slots.iter().map(|slot| slot.tag).collect()
    }

    /// How many wake-up bytes wait on the queue's descriptor, read without consuming.
    fn wake_bytes(queue: *mut PravegaCompletionQueue) -> usize {
        extern "C" {
            fn recv(fd: i32, buf: *mut u8, len: usize, flags: i32) -> isize;
        }
        const MSG_PEEK: i32 = 2;
        const MSG_DONTWAIT: i32 = 0x40;
        let mut buffer = [0u8; 64];
        // SAFETY: the queue is live for the test's duration, and the buffer is writable.
        let peeked = unsafe {
            let fd = (*queue).wake.fd();
            recv(
                fd,
                buffer.as_mut_ptr(),
                buffer.len(),
                MSG_PEEK | MSG_DONTWAIT,
            )
        };
        peeked.max(0) as usize
    }

    #[test]
    fn many_pushes_wake_the_host_once_and_drain_in_order() {
        let queue = new_queue();
        for tag in 1..=1000u64 {
            let completion =
                Completion::new(Some(pravega_completion_queue_push), queue.cast(), tag);
            completion.succeed(std::ptr::null_mut());
        }

        assert_eq!(wake_bytes(queue), 1);
        let mut tags = drain(queue, 256);
        while tags.len() < 1000 {
            let more = drain(queue, 256);
            assert!(!more.is_empty());
            tags.extend(more);
        }
        assert_eq!(tags, (1..=1000).collect::<Vec<_>>());
        assert_eq!(wake_bytes(queue), 0);
        pravega_completion_queue_free(queue);
    }

    #[test]
    fn a_dropped_completion_reports_cancelled() {
        let queue = new_queue();
        drop(Completion::new(
            Some(pravega_completion_queue_push),
            queue.cast(),
            42,
        ));

        let mut slot = PravegaCompletion {
            tag: 0,
            status: PravegaStatus::Ok,
            error: std::ptr::null_mut(),
            result: std::ptr::null_mut(),
        };
        let mut count = 0;
        pravega_completion_queue_drain(queue, &mut slot, 1, &mut count, std::ptr::null_mut());
        assert_eq!(
            (count, slot.tag, slot.status),
            (1, 42, PravegaStatus::Cancelled)
        );
        crate::error::pravega_error_free(slot.error);
        pravega_completion_queue_free(queue);
    }

    #[test]
    fn a_panicking_task_still_completes() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let queue = new_queue();
        let completion = Completion::new(Some(pravega_completion_queue_push), queue.cast(), 7);
        spawn_completing(runtime.handle(), completion, async {
            panic!("task blew up")
        });

        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut slot = PravegaCompletion {
            tag: 0,
            status: PravegaStatus::Ok,
            error: std::ptr::null_mut(),
            result: std::ptr::null_mut(),
        };
        let mut count = 0;
        while count == 0 && std::time::Instant::now() < deadline {
            pravega_completion_queue_drain(queue, &mut slot, 1, &mut count, std::ptr::null_mut());
        }
        assert_eq!(
            (count, slot.tag, slot.status),
            (1, 7, PravegaStatus::Internal)
        );
        crate::error::pravega_error_free(slot.error);
        pravega_completion_queue_free(queue);
    }
}
