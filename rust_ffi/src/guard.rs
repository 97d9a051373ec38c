//! The one guard that every exported function body runs under.
//!
//! It catches panics, so that nothing unwinds into C, and it turns an `Err` into a status
//! code plus an owned `PravegaError` for the caller.

use crate::error::{FfiResult, PravegaError, PravegaStatus};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

static QUIET_PANICS: Once = Once::new();

/// Panics of the crate that this library reports with an error of its own that says what
/// went wrong: the file they happen in and how their message starts. They are logged at
/// DEBUG; any other panic is a bug, and is logged at ERROR.
const EXPLAINED_PANICS: &[(&str, &str)] = &[
    // A writer that cannot get its stream's segments: `writer::StopDiagnosis` says why.
    ("src/segment/selector.rs", "retry failed"),
    // A reader group state that cannot be fetched: `PRAVEGA_STATUS_UNAVAILABLE`.
    (
        "src/event/reader_group_state.rs",
        "Fetch updates failed after all retries",
    ),
];

fn is_explained(info: &std::panic::PanicHookInfo<'_>) -> bool {
    let file = info.location().map_or("", |location| location.file());
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or_default();
    EXPLAINED_PANICS
        .iter()
        .any(|(suffix, prefix)| file.ends_with(suffix) && message.starts_with(prefix))
}

/// Replaces the default panic hook, which prints to stderr, with one that logs.
///
/// This library links its own copy of std, so the hook covers only panics inside it,
/// never the host's. Every caught panic still reaches the caller as an error.
fn install_panic_hook() {
    QUIET_PANICS.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            if is_explained(info) {
                tracing::debug!(target: "pravega_client_ffi::panic", "caught panic: {info}");
            } else {
                tracing::error!(target: "pravega_client_ffi::panic", "caught panic: {info}");
            }
        }));
    });
}

/// Runs `body`, reporting its failure through `error_out` when that is not NULL.
///
/// `*error_out` is set to NULL first, so that callers may test it after any call.
pub(crate) fn guarded<F>(error_out: *mut *mut PravegaError, body: F) -> PravegaStatus
where
    F: FnOnce() -> FfiResult<()>,
{
    install_panic_hook();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::pravega_error_free;
    use std::ffi::CStr;

    fn message(error: *mut PravegaError) -> String {
        // SAFETY: the error was just produced by `guarded`.
        let text = unsafe { CStr::from_ptr((*error).message.as_ptr()) };
        text.to_string_lossy().into_owned()
    }

    #[test]
    fn a_panic_becomes_an_internal_error_with_its_message() {
        let mut error = std::ptr::null_mut();
        let status = guarded(&mut error, || panic!("boom {}", 7));

        assert_eq!(status, PravegaStatus::Internal);
        assert_eq!(
            message(error),
            "internal error in the Pravega client: boom 7"
        );
        pravega_error_free(error);
    }

    #[test]
    fn success_clears_the_error_slot() {
        let mut error = 0x1 as *mut PravegaError;
        let status = guarded(&mut error, || Ok(()));

        assert_eq!(status, PravegaStatus::Ok);
        assert!(error.is_null());
    }

    #[test]
    fn a_null_error_slot_still_reports_the_status() {
        let status = guarded(std::ptr::null_mut(), || {
            Err(PravegaError::invalid_argument("bad"))
        });

        assert_eq!(status, PravegaStatus::InvalidArgument);
    }
}
