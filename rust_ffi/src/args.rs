//! Checks for the raw arguments that arrive from C, done before anything is used.
//!
//! Each helper names the argument in its error, so that a host sees which one was wrong.

use crate::error::{FfiResult, PravegaError};
use std::ffi::{c_char, CStr};

/// Borrows a required NUL-terminated UTF-8 string.
pub(crate) fn required_str<'a>(name: &str, value: *const c_char) -> FfiResult<&'a str> {
    if value.is_null() {
        return Err(PravegaError::invalid_argument(format!(
            "{name} must not be NULL"
        )));
    }
    // SAFETY: the caller promises a NUL-terminated string that outlives this call.
    let bytes = unsafe { CStr::from_ptr(value) };
    bytes
        .to_str()
        .map_err(|_| PravegaError::invalid_argument(format!("{name} is not valid UTF-8")))
}

/// Borrows an optional string: NULL means absent.
pub(crate) fn optional_str<'a>(name: &str, value: *const c_char) -> FfiResult<Option<&'a str>> {
    if value.is_null() {
        Ok(None)
    } else {
        required_str(name, value).map(Some)
    }
}

/// Borrows a required, non-empty name such as a scope or stream name.
pub(crate) fn required_name<'a>(name: &str, value: *const c_char) -> FfiResult<&'a str> {
    let text = required_str(name, value)?;
    if text.is_empty() {
        return Err(PravegaError::invalid_argument(format!(
            "{name} must not be empty"
        )));
    }
    Ok(text)
}

/// Reads a required scope and stream name pair into a `ScopedStream`.
pub(crate) fn scoped_stream(
    scope: *const c_char,
    stream: *const c_char,
) -> FfiResult<pravega_client_shared::ScopedStream> {
    let scope = required_name("scope", scope)?;
    let stream = required_name("stream", stream)?;
    Ok(crate::manager::scoped_stream(scope, stream))
}

/// Borrows a byte buffer given as pointer and length. NULL is allowed only with length 0.
pub(crate) fn bytes<'a>(name: &str, data: *const u8, len: usize) -> FfiResult<&'a [u8]> {
    if data.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(PravegaError::invalid_argument(format!(
            "{name} is NULL but its length is {len}"
        )));
    }
    if len > isize::MAX as usize {
        return Err(PravegaError::invalid_argument(format!(
            "{name} length {len} is too large"
        )));
    }
    // SAFETY: the caller promises `len` readable bytes at `data` for the call's duration.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// Borrows an array of `count` items. NULL is allowed only with count 0.
pub(crate) fn items<'a, T>(name: &str, items: *const T, count: usize) -> FfiResult<&'a [T]> {
    if items.is_null() {
        if count == 0 {
            return Ok(&[]);
        }
        return Err(PravegaError::invalid_argument(format!(
            "{name} is NULL but its count is {count}"
        )));
    }
    if count
        .checked_mul(std::mem::size_of::<T>())
        .map_or(true, |size| size > isize::MAX as usize)
    {
        return Err(PravegaError::invalid_argument(format!(
            "{name} count {count} is too large"
        )));
    }
    // SAFETY: the caller promises `count` readable items at `items` for the call.
    Ok(unsafe { std::slice::from_raw_parts(items, count) })
}

/// Borrows the object behind a required handle.
pub(crate) fn handle<'a, T>(name: &str, value: *const T) -> FfiResult<&'a T> {
    // SAFETY: a non-NULL handle must come from this library and not yet be freed; using
    // a freed handle is documented as undefined behaviour.
    unsafe { value.as_ref() }
        .ok_or_else(|| PravegaError::invalid_argument(format!("{name} must not be NULL")))
}

/// Checks that an out-pointer is present before any work is done.
pub(crate) fn out_ptr<T>(name: &str, out: *mut T) -> FfiResult<()> {
    if out.is_null() {
        return Err(PravegaError::invalid_argument(format!(
            "{name} must not be NULL"
        )));
    }
    Ok(())
}

/// Stores `value` through an out-pointer already checked by `out_ptr`.
pub(crate) fn store<T>(out: *mut T, value: T) {
    // SAFETY: `out` was checked for NULL by `out_ptr` and points to writable storage.
    unsafe { out.write(value) };
}
