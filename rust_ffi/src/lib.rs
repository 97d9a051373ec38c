//! A flat C ABI over the `pravega-client` crate.
//!
//! Conventions, shared by every exported function:
//! - Names are `pravega_<object>_<verb>`; objects are opaque `Pravega<Object>` handles made
//!   by a `_new` (or a factory call) and destroyed by `_free`.
//! - Functions return a `PravegaStatus`. When the last argument `error` is not NULL it is
//!   set to NULL on success, or to an owned `PravegaError` on failure.
//! - Asynchronous functions take `(callback, user_data, tag)` and report through the
//!   callback, exactly once, with the error in the callback's own arguments.
//! - Every body runs under `guard::guarded`, so a panic becomes `PRAVEGA_STATUS_INTERNAL`
//!   and never unwinds into the caller.

mod args;
mod byte_stream;
mod completion;
mod config;
mod error;
mod group_config;
mod guard;
mod logging;
mod manager;
mod reader;
mod runtime;
mod stream;
mod strings;
mod txn;
mod wake;
mod writer;

pub use byte_stream::*;
pub use completion::*;
pub use config::*;
pub use error::*;
pub use group_config::*;
pub use logging::*;
pub use manager::*;
pub use reader::*;
pub use stream::*;
pub use strings::*;
pub use txn::*;
pub use writer::*;

use std::ffi::c_char;

/// The ABI version this header describes. It grows whenever a function, type or
/// constant changes in a way that breaks programs built against an older header.
///
/// A host built against this header checks at start-up that
/// `pravega_abi_version() == PRAVEGA_ABI_VERSION`, and refuses to go on otherwise: the
/// shared library it loaded is not the one it was compiled for.
pub const PRAVEGA_ABI_VERSION: u32 = 1;

/// The version of this library, as a static NUL-terminated string such as "0.1.0".
/// Never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn pravega_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version of the loaded library; compare it with `PRAVEGA_ABI_VERSION`.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn pravega_abi_version() -> u32 {
    PRAVEGA_ABI_VERSION
}
