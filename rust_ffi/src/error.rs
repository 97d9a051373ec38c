//! Status codes and the owned error object that crosses the C boundary.

use std::ffi::{c_char, CString};
use std::fmt::Display;

/// The outcome of a call or of an asynchronous completion.
///
/// Every function that can fail returns one of these. `PRAVEGA_STATUS_OK` is zero, and
/// every failure is non-zero. New codes may be added at the end; hosts should treat an
/// unknown code as a generic failure. The error's message says more, for people: do not
/// parse it.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PravegaStatus {
    /// The call succeeded.
    Ok = 0,
    /// An argument was NULL, not valid UTF-8, empty, out of range or otherwise malformed,
    /// or does not fit the object (an event too large, a slice of another reader).
    InvalidArgument = 1,
    /// The object can no longer be used: a reader that went offline or was freed, or a
    /// writer whose acknowledgements stopped after an internal failure.
    Closed = 2,
    /// The controller refused or failed the request, for example to delete a stream that
    /// is not sealed or a scope that still holds streams.
    ControllerError = 3,
    /// Reading from or writing to a segment store failed, or the server refused a write.
    IoError = 4,
    /// A blocking call did not finish within its limit: the controller timeout, or the
    /// timeout given to a flush.
    Timeout = 5,
    /// The object named (scope, stream, transaction, ...) does not exist, or a reader
    /// group has no positions yet.
    NotFound = 6,
    /// The object named already exists: a reader of that name is already online.
    AlreadyExists = 7,
    /// A transaction was committed or aborted already, so it cannot be used again.
    TxnFailed = 8,
    /// A blocking function was called on a library thread, for example from inside a
    /// callback. It could deadlock, so it was refused.
    WouldDeadlock = 9,
    /// An asynchronous operation ended before it completed: its runtime stopped, or the
    /// writer call that took its callback failed.
    Cancelled = 10,
    /// A bug in this library or in the client crate below it: a panic was caught.
    Internal = 11,
    /// The controller could not be reached (connection refused, unknown host, ...), even
    /// after the configured retries.
    Unavailable = 12,
    /// The operation is not supported in this situation; the message says why.
    Unsupported = 13,
    /// The controller refused the credentials: a wrong user or password, an unknown
    /// user, a missing or expired token, or a server with auth on and a client with
    /// none. Retrying with the same settings does not help.
    AuthFailed = 14,
}

/// A failure: a status code and a human-readable message.
///
/// Ownership: whoever receives a `PravegaError *` owns it and frees it, exactly once,
/// with `pravega_error_free`. It is immutable, so it may be read from any thread.
#[derive(Clone)]
pub struct PravegaError {
    pub(crate) status: PravegaStatus,
    pub(crate) message: CString,
}

impl PravegaError {
    pub(crate) fn new(status: PravegaStatus, message: impl Display) -> Self {
        // A message with an interior NUL would be cut short by C readers; replace it so
        // the whole text survives.
        let text = redact_credentials(&message.to_string()).replace('\0', "\\0");
        PravegaError {
            status,
            message: CString::new(text).expect("NUL bytes were replaced"),
        }
    }

    pub(crate) fn invalid_argument(message: impl Display) -> Self {
        Self::new(PravegaStatus::InvalidArgument, message)
    }

    pub(crate) fn into_raw(self) -> *mut PravegaError {
        Box::into_raw(Box::new(self))
    }
}

impl std::fmt::Debug for PravegaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.status, self.message.to_string_lossy())
    }
}

pub(crate) type FfiResult<T> = Result<T, PravegaError>;

/// `text` with the value of every `"authorization": "..."` header replaced.
///
/// The controller's gRPC errors carry the call's metadata, and the crate copies it into
/// its messages: a refused login would otherwise hand the caller's own Basic token
/// (base64 of user:password) to every log line and exception that shows the error.
pub(crate) fn redact_credentials(text: &str) -> String {
    const HEADER: &str = "\"authorization\"";
    let lower = text.to_ascii_lowercase(); // same byte offsets: ASCII case only
    let mut redacted = String::with_capacity(text.len());
    let mut done = 0;
    let mut search_from = 0;
    while let Some(found) = lower[search_from..].find(HEADER) {
        let after_name = search_from + found + HEADER.len();
        // The value is the next quoted string after the colon.
        let Some(open) = text[after_name..].find('"').map(|i| after_name + i + 1) else {
            break;
        };
        let Some(close) = text[open..].find('"').map(|i| open + i) else {
            break;
        };
        redacted.push_str(&text[done..open]);
        redacted.push_str("<redacted>");
        done = close;
        search_from = close;
    }
    redacted.push_str(&text[done..]);
    redacted
}

/// The status code of `error`, or `PRAVEGA_STATUS_INVALID_ARGUMENT` when it is NULL.
///
/// Thread-safe. Does not take ownership.
#[no_mangle]
pub extern "C" fn pravega_error_status(error: *const PravegaError) -> PravegaStatus {
    // SAFETY: a non-NULL pointer must come from this library and not yet be freed.
    match unsafe { error.as_ref() } {
        Some(error) => error.status,
        None => PravegaStatus::InvalidArgument,
    }
}

/// The message of `error` as a NUL-terminated UTF-8 string, or "" when it is NULL.
///
/// The string belongs to `error`: it stays valid until `pravega_error_free(error)` and
/// must not be freed by the caller. Thread-safe.
#[no_mangle]
pub extern "C" fn pravega_error_message(error: *const PravegaError) -> *const c_char {
    // SAFETY: as in `pravega_error_status`.
    match unsafe { error.as_ref() } {
        Some(error) => error.message.as_ptr(),
        None => b"\0".as_ptr().cast(),
    }
}

/// Frees an error. NULL is ignored. Freeing the same error twice is undefined behaviour.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn pravega_error_free(error: *mut PravegaError) {
    if !error.is_null() {
        // SAFETY: the pointer was made by `PravegaError::into_raw` and is freed once.
        drop(unsafe { Box::from_raw(error) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_grpc_metadata_are_redacted() {
        let raw = r#"status: Unauthenticated, metadata: MetadataMap { headers: {"content-type": "application/grpc", "Authorization": "Basic dXNlcjpzZWNyZXQ=", "authorization": "Bearer tok"} }"#;
        let error = PravegaError::new(PravegaStatus::AuthFailed, raw);
        let message = error.message.to_str().unwrap();
        assert!(!message.contains("dXNlcjpzZWNyZXQ="), "{message}");
        assert!(!message.contains("tok\""), "{message}");
        assert!(
            message.contains(r#""Authorization": "<redacted>""#),
            "{message}"
        );
        assert!(message.contains(r#""content-type": "application/grpc""#));
    }

    #[test]
    fn messages_without_credentials_are_unchanged() {
        for text in [
            "plain",
            "",
            "\"authorization\" without a value",
            "a\"authorization\": \"x",
        ] {
            assert_eq!(redact_credentials(text), text);
        }
    }
}
