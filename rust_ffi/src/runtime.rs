//! The tokio runtime that a manager owns, shared with every object made from it.
//!
//! Handles given to C (manager, writer, reader group, reader) each hold an
//! `Arc<SharedRuntime>`, so the runtime lives until the last of them is freed. Tasks
//! spawned on the runtime hold only a `Handle`, never this `Arc`: a task that kept the
//! runtime alive would keep itself alive.

use crate::error::{FfiResult, PravegaError, PravegaStatus};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::{Handle, Runtime};

/// How long a shutdown waits for runtime threads before leaving them behind.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub(crate) struct SharedRuntime {
    runtime: Option<Runtime>,
}

impl SharedRuntime {
    pub(crate) fn new() -> FfiResult<Arc<Self>> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("pravega-client")
            .build()
            .map_err(|e| {
                PravegaError::new(
                    PravegaStatus::Internal,
                    format!("cannot start runtime: {e}"),
                )
            })?;
        Ok(Arc::new(SharedRuntime {
            runtime: Some(runtime),
        }))
    }

    pub(crate) fn handle(&self) -> &Handle {
        self.runtime.as_ref().expect("present until drop").handle()
    }

    /// Runs `future` to completion on the calling thread, which must not be a runtime
    /// thread: blocking one of those could deadlock the tasks this call waits for.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> FfiResult<F::Output> {
        refuse_runtime_thread()?;
        Ok(self.handle().block_on(future))
    }

    /// Like `block_on`, but gives up with `Timeout` after `limit`.
    pub(crate) fn block_on_timeout<F: Future>(
        &self,
        limit: Duration,
        what: &str,
        future: F,
    ) -> FfiResult<F::Output> {
        // `Handle::block_on` enters the runtime's context, which the timer needs.
        self.block_on(async { tokio::time::timeout(limit, future).await })?
            .map_err(|_| {
                PravegaError::new(
                    PravegaStatus::Timeout,
                    format!("{what} did not finish within {} ms", limit.as_millis()),
                )
            })
    }
}

/// Frees a handle made with `Box::into_raw` inside its runtime's context, where the
/// crate's destructors expect to run. NULL is ignored.
///
/// The caller guarantees that `handle` came from this library and is freed once.
pub(crate) fn free_in_runtime<T>(
    handle: *mut T,
    runtime_of: impl FnOnce(&T) -> Arc<SharedRuntime>,
) {
    let _ = crate::guard::guarded(std::ptr::null_mut(), || {
        if !handle.is_null() {
            // SAFETY: per this function's contract.
            let boxed = unsafe { Box::from_raw(handle) };
            let runtime = runtime_of(&boxed);
            let _context = runtime.handle().enter();
            drop(boxed);
        }
        Ok(())
    });
}

/// Fails with `WouldDeadlock` when called from a thread that belongs to a tokio runtime.
pub(crate) fn refuse_runtime_thread() -> FfiResult<()> {
    if Handle::try_current().is_ok() {
        return Err(PravegaError::new(
            PravegaStatus::WouldDeadlock,
            "a blocking call was made on a Pravega runtime thread (inside a callback?)",
        ));
    }
    Ok(())
}

impl Drop for SharedRuntime {
    fn drop(&mut self) {
        let runtime = match self.runtime.take() {
            Some(runtime) => runtime,
            None => return,
        };
        if Handle::try_current().is_ok() {
            // Dropping a runtime from inside a runtime panics. This happens when the last
            // handle is freed inside a completion callback; hand the shutdown to a
            // thread of its own instead.
            let spawned = std::thread::Builder::new()
                .name("pravega-shutdown".into())
                .spawn(move || runtime.shutdown_timeout(SHUTDOWN_GRACE));
            if let Err(error) = spawned {
                // No thread could be made. Leaking the runtime is the only safe choice
                // left: tearing it down here would panic.
                tracing::warn!("could not start a shutdown thread, leaking runtime: {error}");
            }
        } else {
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
        }
    }
}
