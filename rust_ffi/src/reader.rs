//! Reader groups, readers and segment slices.

use crate::args;
use crate::completion::{spawn_completing, Completion, PravegaCallback};
use crate::error::{PravegaError, PravegaStatus};
use crate::guard::guarded;
use crate::manager::{scoped_stream, PravegaManager};
use crate::runtime::SharedRuntime;
use pravega_client::event::reader::{EventReaderError, SegmentSlice};
use pravega_client::event::reader_group::ReaderGroupConfigBuilder;
use pravega_client::event::{EventReader, ReaderGroup};
use pravega_client_shared::Scope;
use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex as AsyncMutex;

/// A named group of readers that share the segments of its streams.
///
/// Thread-safe. It may outlive its manager. Free it, once, with
/// `pravega_reader_group_free`; that does not delete the group on the server.
pub struct PravegaReaderGroup {
    group: ReaderGroup,
    runtime: Arc<SharedRuntime>,
    timeout: Duration,
}

/// One reader of a group.
///
/// Thread-safe, but its calls are served one at a time. It may outlive its group and
/// manager. Free it, once, with `pravega_reader_free`.
pub struct PravegaReader {
    // Shared with in-flight tasks, so that freeing the handle never frees a reader that
    // a task is still using: the task finds `None` instead.
    reader: Arc<AsyncMutex<Option<EventReader>>>,
    runtime: Arc<SharedRuntime>,
    timeout: Duration,
}

/// Events of one segment, handed out by `pravega_reader_acquire_segment`.
///
/// Not thread-safe: use it from one thread at a time. Give it back with
/// `pravega_reader_release_segment`, or free it with `pravega_slice_free`, which returns
/// it to its reader at the position reached.
pub struct PravegaSlice {
    slice: SegmentSlice,
    /// The event last returned by `pravega_slice_next`; its bytes stay valid until the
    /// next call on this slice.
    current: Vec<u8>,
}

fn reader_error(what: &str, error: EventReaderError) -> PravegaError {
    let text = error.to_string();
    let status = if text.contains("offline") {
        PravegaStatus::Closed
    } else {
        PravegaStatus::IoError
    };
    PravegaError::new(status, format!("{what} failed: {text}"))
}

fn reader_closed() -> PravegaError {
    PravegaError::new(PravegaStatus::Closed, "the reader was freed or is offline")
}

/// Creates the reader group `name` in `scope` over `scope/stream`, or opens it when it
/// already exists. New groups start at the head of the stream, or at its tail when
/// `read_from_tail` is true. Blocks, up to the controller timeout. The caller frees
/// `*out` with `pravega_reader_group_free`.
#[no_mangle]
pub extern "C" fn pravega_reader_group_new(
    manager: *const PravegaManager,
    scope: *const c_char,
    name: *const c_char,
    stream: *const c_char,
    read_from_tail: bool,
    out: *mut *mut PravegaReaderGroup,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let scope = args::required_name("scope", scope)?;
        let name = args::required_name("name", name)?.to_string();
        let stream = scoped_stream(scope, args::required_name("stream", stream)?);
        args::out_ptr("out", out)?;

        // The crate panics when the stream is missing; check first for a precise error.
        let controller = manager.factory.controller_client();
        if !manager.call("check stream", controller.check_stream_exists(&stream))? {
            return Err(PravegaError::new(
                PravegaStatus::NotFound,
                format!("stream {stream} does not exist"),
            ));
        }

        let mut config = ReaderGroupConfigBuilder::default();
        if read_from_tail {
            config.read_from_tail_of_stream(stream);
        } else {
            config.read_from_head_of_stream(stream);
        }
        let config = config.build();
        let scope = Scope {
            name: scope.to_string(),
        };
        let group = manager.wait(
            "create reader group",
            manager
                .factory
                .create_reader_group_with_config(scope, name, config),
        )?;

        let group = PravegaReaderGroup {
            group,
            runtime: manager.runtime.clone(),
            timeout: manager.controller_timeout,
        };
        args::store(out, Box::into_raw(Box::new(group)));
        Ok(())
    })
}

/// Frees a reader group handle. NULL is ignored; freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn pravega_reader_group_free(group: *mut PravegaReaderGroup) {
    let _ = guarded(std::ptr::null_mut(), || {
        if !group.is_null() {
            // SAFETY: made by `pravega_reader_group_new`, freed once.
            let group = unsafe { Box::from_raw(group) };
            let runtime = group.runtime.clone();
            let _context = runtime.handle().enter();
            drop(group);
        }
        Ok(())
    });
}

/// Adds the reader `name` to the group and brings it online. Fails with
/// `PRAVEGA_STATUS_ALREADY_EXISTS` when a reader of that name is online. Blocks. The
/// caller frees `*out` with `pravega_reader_free`.
#[no_mangle]
pub extern "C" fn pravega_reader_group_create_reader(
    group: *const PravegaReaderGroup,
    name: *const c_char,
    out: *mut *mut PravegaReader,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let group = args::handle("group", group)?;
        let name = args::required_name("name", name)?.to_string();
        args::out_ptr("out", out)?;

        let runtime = &group.runtime;
        let reader = runtime.block_on_timeout(group.timeout, "create reader", async {
            // The crate panics on a duplicate name; check first so the caller gets a
            // precise error.
            let online = group.group.list_readers().await;
            if online.iter().any(|reader| reader.name == name) {
                return Err(PravegaError::new(
                    PravegaStatus::AlreadyExists,
                    format!(
                        "reader {name:?} is already online in group {:?}",
                        group.group.name
                    ),
                ));
            }
            Ok(group.group.create_reader(name).await)
        })??;

        let reader = PravegaReader {
            reader: Arc::new(AsyncMutex::new(Some(reader))),
            runtime: runtime.clone(),
            timeout: group.timeout,
        };
        args::store(out, Box::into_raw(Box::new(reader)));
        Ok(())
    })
}

/// Asks for the next slice of events, without blocking.
///
/// `callback` is required. It receives a `PravegaSlice *` as `result`, which the callback
/// then owns, or NULL when no data arrived within about a second.
#[no_mangle]
pub extern "C" fn pravega_reader_acquire_segment(
    reader: *const PravegaReader,
    callback: PravegaCallback,
    user_data: *mut c_void,
    tag: u64,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let reader = args::handle("reader", reader)?;
        let completion = Completion::required(callback, user_data, tag)?;

        let shared = reader.reader.clone();
        spawn_completing(reader.runtime.handle(), completion, async move {
            let mut guard = shared.lock().await;
            let reader = guard.as_mut().ok_or_else(reader_closed)?;
            let slice = reader
                .acquire_segment()
                .await
                .map_err(|e| reader_error("acquire segment", e))?;
            Ok(match slice {
                Some(slice) => Box::into_raw(Box::new(PravegaSlice {
                    slice,
                    current: Vec::new(),
                })) as *mut c_void,
                None => std::ptr::null_mut(),
            })
        });
        Ok(())
    })
}

/// Gives a slice back to its reader. Unread events of a partly read slice are delivered
/// again. Takes ownership of `slice` whether or not it succeeds. Blocks briefly.
#[no_mangle]
pub extern "C" fn pravega_reader_release_segment(
    reader: *const PravegaReader,
    slice: *mut PravegaSlice,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        if slice.is_null() {
            return Err(PravegaError::invalid_argument("slice must not be NULL"));
        }
        // SAFETY: made by `pravega_reader_acquire_segment`; ownership moves here.
        let slice = unsafe { Box::from_raw(slice) };
        let reader = args::handle("reader", reader)?;

        reader
            .runtime
            .block_on_timeout(reader.timeout, "release segment", async {
                let mut guard = reader.reader.lock().await;
                let reader = guard.as_mut().ok_or_else(reader_closed)?;
                reader
                    .release_segment(slice.slice)
                    .await
                    .map_err(|e| reader_error("release segment", e))
            })?
    })
}

/// Takes the reader offline, so that its segments go to the other readers of the group.
/// Calling it again does nothing. Blocks.
#[no_mangle]
pub extern "C" fn pravega_reader_offline(
    reader: *const PravegaReader,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let reader = args::handle("reader", reader)?;
        reader
            .runtime
            .block_on_timeout(reader.timeout, "reader offline", async {
                let mut guard = reader.reader.lock().await;
                match guard.as_mut() {
                    Some(reader) => reader
                        .reader_offline()
                        .await
                        .map_err(|e| reader_error("reader offline", e)),
                    None => Ok(()),
                }
            })?
    })
}

/// Frees a reader. NULL is ignored; freeing twice is undefined behaviour.
///
/// Does not block: the reader goes offline in the background, within the controller
/// timeout, and the runtime stays up until then. Call `pravega_reader_offline` first to
/// wait for that and see its errors.
#[no_mangle]
pub extern "C" fn pravega_reader_free(reader: *mut PravegaReader) {
    let _ = guarded(std::ptr::null_mut(), || {
        if reader.is_null() {
            return Ok(());
        }
        // SAFETY: made by `pravega_reader_group_create_reader`, freed once.
        let reader = unsafe { Box::from_raw(reader) };
        let PravegaReader {
            reader: shared,
            runtime,
            timeout,
        } = *reader;

        let keep_alive = runtime.clone();
        runtime.handle().spawn(async move {
            // In-flight acquires hold the mutex; once they are done the reader is ours.
            let taken = shared.lock().await.take();
            if let Some(mut event_reader) = taken {
                match tokio::time::timeout(timeout, event_reader.reader_offline()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!("a freed reader could not go offline: {e}"),
                    Err(_) => tracing::warn!("a freed reader did not go offline in time"),
                }
                // Dropped inside the runtime, where the crate's own clean-up expects to run.
                drop(event_reader);
            }
            drop(keep_alive);
        });
        Ok(())
    });
}

/// Moves to the next event of `slice`.
///
/// On success `*found` tells whether there was one. When it is true, `*data`/`*len` is
/// the payload (valid until the next call on this slice or its release) and `*offset` is
/// the event's offset in its segment.
#[no_mangle]
pub extern "C" fn pravega_slice_next(
    slice: *mut PravegaSlice,
    data: *mut *const u8,
    len: *mut usize,
    offset: *mut i64,
    found: *mut bool,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        // SAFETY: a non-NULL slice is live and used by one thread at a time.
        let slice = unsafe { slice.as_mut() }
            .ok_or_else(|| PravegaError::invalid_argument("slice must not be NULL"))?;
        for (name, missing) in [
            ("data", data.is_null()),
            ("len", len.is_null()),
            ("offset", offset.is_null()),
            ("found", found.is_null()),
        ] {
            if missing {
                return Err(PravegaError::invalid_argument(format!(
                    "{name} must not be NULL"
                )));
            }
        }

        match slice.slice.next() {
            Some(event) => {
                slice.current = event.value;
                args::store(data, slice.current.as_ptr());
                args::store(len, slice.current.len());
                args::store(offset, event.offset_in_segment);
                args::store(found, true);
            }
            None => {
                slice.current = Vec::new();
                args::store(data, std::ptr::null());
                args::store(len, 0);
                args::store(offset, -1);
                args::store(found, false);
            }
        }
        Ok(())
    })
}

/// Frees a slice, returning it to its reader at the position reached. NULL is ignored.
#[no_mangle]
pub extern "C" fn pravega_slice_free(slice: *mut PravegaSlice) {
    let _ = guarded(std::ptr::null_mut(), || {
        if !slice.is_null() {
            // SAFETY: made by `pravega_reader_acquire_segment`, freed once.
            drop(unsafe { Box::from_raw(slice) });
        }
        Ok(())
    });
}

/// Deletes the reader group `name` of `scope` on the server. Blocks.
#[no_mangle]
pub extern "C" fn pravega_manager_delete_reader_group(
    manager: *const PravegaManager,
    scope: *const c_char,
    name: *const c_char,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let scope = Scope {
            name: args::required_name("scope", scope)?.to_string(),
        };
        let name = args::required_name("name", name)?.to_string();

        manager
            .wait(
                "delete reader group",
                manager.factory.delete_reader_group(scope, name),
            )?
            .map_err(|e| {
                let message = format!("delete reader group failed: {e}");
                PravegaError::new(PravegaStatus::ControllerError, message)
            })
    })
}
