//! The one guard that every exported function body runs under.
//!
//! It catches panics, so that nothing unwinds into C, and it turns an `Err` into a status
//! code plus an owned `PravegaError` for the caller.

use crate::error::{FfiResult, PravegaError, PravegaStatus};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `body`, reporting its failure through `error_out` when that is not NULL.
///
/// `*error_out` is set to NULL first, so that callers may test it after any call.
pub(crate) fn guarded<F>(error_out: *mut *mut PravegaError, body: F) -> PravegaStatus
where
    F: FnOnce() -> FfiResult<()>,
{
    if !error_out.is_null() {
        // SAFETY: the caller passes either NULL or a pointer to writable storage.
        unsafe { *error_out = std::ptr::null_mut() };
    }

    // The closures capture raw pointers and handles that are not UnwindSafe. After a
    // panic we only report it; no state that the panic may have broken is reused here.
    let outcome = catch_unwind(AssertUnwindSafe(body));
    let error = match outcome {
        Ok(Ok(())) => return PravegaStatus::Ok,
        Ok(Err(error)) => error,
        Err(payload) => panic_error(payload.as_ref()),
    };

    let status = error.status;
    if !error_out.is_null() {
        // SAFETY: as above.
        unsafe { *error_out = error.into_raw() };
    }
    status
}

/// Turns a caught panic payload into an `Internal` error that keeps the panic message.
pub(crate) fn panic_error(payload: &(dyn Any + Send)) -> PravegaError {
    let detail = if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic payload".to_string()
    };
    PravegaError::new(
        PravegaStatus::Internal,
        format!("internal error in the Pravega client: {detail}"),
    )
}
