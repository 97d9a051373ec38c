//! Reader groups, readers and segment slices.

use crate::args;
use crate::completion::{spawn_completing, Completion, PravegaCallback};
use crate::error::{PravegaError, PravegaStatus};
use crate::group_config::{no_positions, PravegaReaderGroupConfig, PravegaStreamCut};
use crate::guard::{guarded, panic_error};
use crate::manager::PravegaManager;
use crate::runtime::{free_in_runtime, refuse_runtime_thread, SharedRuntime};
use futures::FutureExt;
use pravega_client::event::reader::{Event, EventReaderError, SegmentSlice};
use pravega_client::event::reader_group_state::ReaderGroupStateError;
use pravega_client::event::{EventReader, ReaderGroup};
use pravega_client::sync::table::TableError;
use pravega_client_shared::Scope;
use std::ffi::CString;
use std::ffi::{c_char, c_void};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::Mutex as AsyncMutex;

// How long a freed slice waits for its reader before it is dropped instead of released.
// Longer than an acquire normally holds the reader (its wait for data is about 1 s).
const SLICE_RELEASE_WAIT: Duration = Duration::from_secs(3);

/// A named group of readers that share the segments of its streams.
///
/// Thread-safe. It may outlive its manager, and its readers may outlive it. Free it,
/// once, with `pravega_reader_group_free`; that does not delete the group on the server.
pub struct PravegaReaderGroup {
    group: Arc<ReaderGroup>,
    runtime: Arc<SharedRuntime>,
    timeout: Duration,
}

/// One reader of a group.
///
/// Thread-safe, but its calls are served one at a time: an acquire or release waits for
/// the one before it. It may outlive its group and manager, and its slices may outlive
/// it. Free it, once, with `pravega_reader_free`.
pub struct PravegaReader {
    // Shared with in-flight tasks, so that freeing the handle never frees a reader that
    // a task is still using: the task finds `None` instead.
    reader: Arc<AsyncMutex<Option<EventReader>>>,
    name: String,
    /// To see when the reader has really left the group.
    group: Arc<ReaderGroup>,
    runtime: Arc<SharedRuntime>,
    timeout: Duration,
}

/// Events of one segment, handed out by `pravega_reader_acquire_segment`.
///
/// Not thread-safe: use it from one thread at a time. Give it back with
/// `pravega_reader_release_segment`, or free it with `pravega_slice_free`, which returns
/// it to its reader at the position reached. It may outlive its reader; freeing it then
/// only frees its memory.
pub struct PravegaSlice {
    slice: SegmentSlice,
    /// The reader that handed the slice out: freeing the slice releases it there, and
    /// releasing it to another reader is refused. Weak, so a slice never keeps a freed
    /// reader alive.
    owner: Weak<AsyncMutex<Option<EventReader>>>,
    runtime: Handle,
    /// The slice's segment, "scope/stream/number.#epoch.N".
    segment: CString,
    /// The event last returned by `pravega_slice_next`; its bytes stay valid until the
    /// next call on this slice.
    current: Vec<u8>,
    /// The events last returned by `pravega_slice_next_batch`, kept for the same span.
    batch: EventBatch,
    /// Where the slice goes back to its reader, once `pravega_slice_unread` handed
    /// events back: the offset of the first of them. The slice yields nothing more.
    resume_at: Option<i64>,
}

impl PravegaSlice {
    /// The next event, or None once the slice is used up or was moved back.
    fn next_event(&mut self) -> Option<Event> {
        if self.resume_at.is_some() {
            return None;
        }
        self.slice.next()
    }
}

/// Gives `slice` back to `reader`: at the position reached, or at `resume_at`, the
/// position that `pravega_slice_unread` moved it back to.
async fn give_back(
    reader: &mut EventReader,
    slice: SegmentSlice,
    resume_at: Option<i64>,
) -> Result<(), EventReaderError> {
    match resume_at {
        // The crate then drops what it has buffered for the segment and fetches again
        // from `offset`; it asserts that offset lies within the slice, which holds by
        // construction: it is the offset of an event the slice returned.
        Some(offset) => reader.release_segment_at(slice, offset).await,
        None => reader.release_segment(slice).await,
    }
}

/// From this size on, an event that starts a batch ends it too, so that its buffer is
/// handed over without a copy.
const LARGE_EVENT_BYTES: usize = 64 * 1024;

/// Events read in one `pravega_slice_next_batch` call.
///
/// Payloads go back to back into one buffer, so that a host copies a batch out in one
/// piece instead of once per event.
#[derive(Default)]
struct EventBatch {
    data: Vec<u8>,
    lengths: Vec<usize>,
    offsets: Vec<i64>,
}

impl EventBatch {
    /// Moves up to `max_events` events out of `slice`, stopping once `max_bytes` of
    /// payload are held. An event is consumed from the slice only when it is taken
    /// into the batch, so the slice's position is exactly past the batch's last event.
    fn fill(&mut self, slice: &mut PravegaSlice, max_events: usize, max_bytes: usize) {
        self.clear();
        while self.lengths.len() < max_events && self.data.len() < max_bytes {
            let Some(event) = slice.next_event() else {
                break;
            };
            self.lengths.push(event.value.len());
            self.offsets.push(event.offset_in_segment);
            let large = event.value.len() >= LARGE_EVENT_BYTES;
            if self.data.is_empty() && (large || event.value.len() > self.data.capacity()) {
                // A first event that is large, or larger than the kept buffer, becomes
                // the batch's buffer rather than being copied. Smaller events go into
                // the buffer kept from the last batch: growing a fresh one for every
                // batch costs a chain of reallocations, and past glibc's mmap
                // threshold a page fault for every page, which was more than the
                // copies themselves.
                self.data = event.value;
                if large {
                    // A batch of its own: appending more would copy this one.
                    break;
                }
            } else {
                self.data.extend_from_slice(&event.value);
            }
        }
    }

    fn clear(&mut self) {
        self.data.clear();
        self.lengths.clear();
        self.offsets.clear();
    }

    fn view(&self) -> PravegaEventBatch {
        PravegaEventBatch {
            data: if self.data.is_empty() {
                std::ptr::null()
            } else {
                self.data.as_ptr()
            },
            data_len: self.data.len(),
            lengths: if self.lengths.is_empty() {
                std::ptr::null()
            } else {
                self.lengths.as_ptr()
            },
            offsets: if self.offsets.is_empty() {
                std::ptr::null()
            } else {
                self.offsets.as_ptr()
            },
            count: self.lengths.len(),
        }
    }
}

/// A view of the events returned by `pravega_slice_next_batch`.
///
/// Every pointer belongs to the slice and stays valid until the next call on that
/// slice, or its release or free. Event `i` is the `lengths[i]` bytes of `data` that
/// follow the events before it; its offset in its segment is `offsets[i]`. When `count`
/// is 0 the pointers are NULL and `data_len` is 0.
#[repr(C)]
pub struct PravegaEventBatch {
    /// The payloads of all `count` events, back to back, in order.
    pub data: *const u8,
    /// The total length of `data`: the sum of `lengths`.
    pub data_len: usize,
    /// `count` payload lengths.
    pub lengths: *const usize,
    /// `count` offsets, each the event's offset in its segment.
    pub offsets: *const i64,
    /// How many events the batch holds; 0 when the slice is used up.
    pub count: usize,
}

impl PravegaReader {
    fn owns(&self, slice: &PravegaSlice) -> bool {
        std::ptr::eq(Arc::as_ptr(&self.reader), slice.owner.as_ptr())
    }
}

/// The segment the slice reads, as "scope/stream/number.#epoch.N". Valid until the slice
/// is released or freed; "" when `slice` is NULL.
#[no_mangle]
pub extern "C" fn pravega_slice_segment(slice: *const PravegaSlice) -> *const c_char {
    args::handle("slice", slice).map_or(b"\0".as_ptr().cast(), |slice| slice.segment.as_ptr())
}

fn reader_error(what: &str, error: EventReaderError) -> PravegaError {
    let text = error.to_string();
    // The crate says "offline" in some messages and "ReaderAlreadyOfflineError" in
    // others (a reader whose group was lost, as in a server restart).
    let status = if text.to_ascii_lowercase().contains("offline") {
        PravegaStatus::Closed
    } else {
        PravegaStatus::IoError
    };
    PravegaError::new(status, format!("{what} failed: {text}"))
}

/// The crate's panic message when the reader group's state cannot be fetched.
const STATE_FETCH_PANIC: &str = "Fetch updates failed after all retries";

/// The error for a panic inside the crate's acquire: `Unavailable` for the one it
/// raises when the segment store cannot be reached, a bug report for any other.
fn acquire_panic_error(payload: &(dyn std::any::Any + Send)) -> PravegaError {
    let known = payload.downcast_ref::<&str>().copied() == Some(STATE_FETCH_PANIC)
        || payload.downcast_ref::<String>().map(String::as_str) == Some(STATE_FETCH_PANIC);
    if !known {
        return panic_error(payload);
    }
    PravegaError::new(
        PravegaStatus::Unavailable,
        "acquire segment failed: the reader group's state could not be fetched from the \
         segment store after all retries",
    )
}

fn reader_closed() -> PravegaError {
    PravegaError::new(PravegaStatus::Closed, "the reader was freed or is offline")
}

/// Creates the reader group `name` in `scope` over the streams of `config`, or opens
/// it when it already exists (then the group keeps its own streams and positions, but
/// `config` is still checked). `config` is copied, not kept. Blocks. The caller frees
/// `*out` with `pravega_reader_group_free`.
///
/// Fails with:
/// - `PRAVEGA_STATUS_INVALID_ARGUMENT` when `config` holds no stream.
/// - `PRAVEGA_STATUS_NOT_FOUND` when one of its streams does not exist.
/// - `PRAVEGA_STATUS_UNSUPPORTED` when a stream that starts at its tail is sealed.
/// - `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached, and
///   `PRAVEGA_STATUS_CONTROLLER_ERROR` when it fails the request.
#[no_mangle]
pub extern "C" fn pravega_reader_group_new(
    manager: *const PravegaManager,
    scope: *const c_char,
    name: *const c_char,
    config: *const PravegaReaderGroupConfig,
    out: *mut *mut PravegaReaderGroup,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let scope = Scope {
            name: args::required_name("scope", scope)?.to_string(),
        };
        let name = args::required_name("name", name)?.to_string();
        let config = args::handle("config", config)?;
        args::out_ptr("out", out)?;
        let crate_config = config.to_crate_config()?;

        // The crate panics when a stream is missing; check first for a precise error.
        let controller = manager.factory.controller_client();
        for stream in config.streams() {
            if !manager.call("check stream", controller.check_stream_exists(stream))? {
                return Err(PravegaError::new(
                    PravegaStatus::NotFound,
                    format!("stream {stream} does not exist"),
                ));
            }
        }
        // A sealed stream has no current segments, so no tail; the crate panics there.
        for stream in config.streams_from_tail() {
            let current = manager.call(
                "get current segments",
                controller.get_current_segments(stream),
            )?;
            if current.key_segment_map.is_empty() {
                return Err(PravegaError::new(
                    PravegaStatus::Unsupported,
                    format!("stream {stream} is sealed: it has no tail to start reading at"),
                ));
            }
        }

        let what = format!("create reader group {name:?}");
        let factory = &manager.factory;
        let group = manager.wait(
            &what,
            factory.create_reader_group_with_config(scope, name, crate_config),
        )?;
        let group = PravegaReaderGroup {
            group: Arc::new(group),
            runtime: manager.runtime.clone(),
            timeout: manager.controller_timeout,
        };
        args::store(out, Box::into_raw(Box::new(group)));
        Ok(())
    })
}

/// The group's current position in its first stream; the others are not covered. Blocks.
/// The caller frees `*out` with `pravega_stream_cut_free`.
///
/// Fails with `PRAVEGA_STATUS_NOT_FOUND` when the group has no positions yet.
#[no_mangle]
pub extern "C" fn pravega_reader_group_get_stream_cut(
    group: *const PravegaReaderGroup,
    out: *mut *mut PravegaStreamCut,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let group = args::handle("group", group)?;
        args::out_ptr("out", out)?;

        // The crate panics rather than report a group without positions.
        let cut = group
            .runtime
            .block_on_timeout(group.timeout, "get stream cut", async {
                AssertUnwindSafe(group.group.get_streamcut())
                    .catch_unwind()
                    .await
            })?;
        let cut = cut.map_err(|_| no_positions())?;
        let cut = PravegaStreamCut::new(&cut.scoped_stream, cut.segment_offset_map);
        args::store(out, Box::into_raw(Box::new(cut)));
        Ok(())
    })
}

/// Frees a reader group handle. NULL is ignored; freeing twice is undefined behaviour.
/// The group stays on the server, and its readers stay usable.
#[no_mangle]
pub extern "C" fn pravega_reader_group_free(group: *mut PravegaReaderGroup) {
    free_in_runtime(group, |group| group.runtime.clone());
}

/// Adds the reader `name` to the group and brings it online. Blocks. The caller frees
/// `*out` with `pravega_reader_free`.
///
/// Fails with `PRAVEGA_STATUS_ALREADY_EXISTS` when a reader of that name is online in
/// the group, in this process or another.
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
            Ok(group.group.create_reader(name.clone()).await)
        })??;

        let reader = PravegaReader {
            reader: Arc::new(AsyncMutex::new(Some(reader))),
            name,
            group: group.group.clone(),
            runtime: runtime.clone(),
            timeout: group.timeout,
        };
        args::store(out, Box::into_raw(Box::new(reader)));
        Ok(())
    })
}

/// Asks for the next slice of events, without blocking. It may be called from a
/// callback, for example to ask for the next slice.
///
/// `callback` is required. On success its `result` is a `PravegaSlice *`, which the
/// callback then owns and hands back with `pravega_reader_release_segment` or
/// `pravega_slice_free`; or NULL when no data arrived within about a second (ask
/// again). Acquires on one reader are served one at a time, in order.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` when `callback` is NULL; it then never
/// fires. The callback's status is `PRAVEGA_STATUS_CLOSED` when the reader is offline
/// or was freed, `PRAVEGA_STATUS_IO_ERROR` when reading from the server failed, and
/// `PRAVEGA_STATUS_UNAVAILABLE` when the reader group's state could not be fetched from
/// the segment store after all retries (the server is down).
///
/// There is no time limit of its own: while the segment store accepts connections but
/// does not answer, the callback fires only once it answers again.
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
        let owner = Arc::downgrade(&reader.reader);
        let runtime = reader.runtime.handle().clone();
        spawn_completing(reader.runtime.handle(), completion, async move {
            let mut guard = shared.lock().await;
            let reader = guard.as_mut().ok_or_else(reader_closed)?;
            // The crate panics when it cannot fetch the group's state from the segment
            // store after all retries, as when the server is down. That is an outage,
            // not a bug, and the caller is told so.
            let slice = AssertUnwindSafe(reader.acquire_segment())
                .catch_unwind()
                .await
                .map_err(|payload| acquire_panic_error(payload.as_ref()))?
                .map_err(|e| reader_error("acquire segment", e))?;
            Ok(match slice {
                Some(slice) => {
                    let segment = CString::new(slice.meta.scoped_segment.replace('\0', ""))
                        .expect("NUL bytes were removed");
                    let slice = PravegaSlice {
                        slice,
                        owner,
                        runtime,
                        segment,
                        current: Vec::new(),
                        batch: EventBatch::default(),
                        resume_at: None,
                    };
                    Box::into_raw(Box::new(slice)) as *mut c_void
                }
                None => std::ptr::null_mut(),
            })
        });
        Ok(())
    })
}

/// Gives a slice back to its reader, at the position reached: unread events of a partly
/// read slice are delivered again. Takes ownership of `slice` whether or not it
/// succeeds. Blocks, though usually briefly.
///
/// Fails with:
/// - `PRAVEGA_STATUS_INVALID_ARGUMENT` when `reader` is NULL or the slice came from
///   another reader.
/// - `PRAVEGA_STATUS_WOULD_DEADLOCK` when called inside a callback.
/// - `PRAVEGA_STATUS_CLOSED` when the reader is offline or was freed.
/// - `PRAVEGA_STATUS_IO_ERROR` when the reader could not take the slice back.
///
/// When the call is refused (a NULL or wrong reader, or inside a callback), the slice
/// is released to the reader it came from in the background, as `pravega_slice_free`
/// does, so its unread events are not stranded.
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
        // A refused slice goes back through `pravega_slice_free`, which releases it to the
        // reader that handed it out. Merely dropping it would strand its unread events
        // until new data arrives for its segment.
        let checked = args::handle("reader", reader).and_then(|reader| {
            if !reader.owns(&slice) {
                return Err(PravegaError::invalid_argument(
                    "the slice belongs to another reader; it was returned to that reader",
                ));
            }
            refuse_runtime_thread()?;
            Ok(reader)
        });
        let reader = match checked {
            Ok(reader) => reader,
            Err(error) => {
                pravega_slice_free(Box::into_raw(slice));
                return Err(error);
            }
        };

        reader
            .runtime
            .block_on_timeout(reader.timeout, "release segment", async {
                let mut guard = reader.reader.lock().await;
                let reader = guard.as_mut().ok_or_else(reader_closed)?;
                let slice = *slice;
                give_back(reader, slice.slice, slice.resume_at)
                    .await
                    .map_err(|e| reader_error("release segment", e))
            })?
    })
}

/// Drops the crate's reader, which takes it offline with its real positions.
///
/// The crate's own `reader_offline` is not used: it leaves the reader in a state whose
/// later drop takes offline any *new* reader of the same name. Dropping is the one path
/// that goes offline exactly once. It runs inside the runtime, as the crate expects.
async fn retire(shared: &AsyncMutex<Option<EventReader>>) -> bool {
    // In-flight acquires hold the mutex; once they are done the reader is ours.
    let taken = shared.lock().await.take();
    let was_online = taken.is_some();
    drop(taken);
    was_online
}

/// Waits until `name` is no longer online in `group`.
async fn wait_until_offline(group: &ReaderGroup, name: &str) {
    while group
        .list_readers()
        .await
        .iter()
        .any(|reader| reader.name == name)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Takes the reader offline, so that its segments go to the other readers of the group,
/// and waits until the group shows it gone. Unreleased slices are delivered again to
/// other readers. Later calls on the reader fail with `PRAVEGA_STATUS_CLOSED`; calling
/// this again does nothing. Blocks. It has no failure codes of its own. The handle
/// must still be freed with `pravega_reader_free`.
#[no_mangle]
pub extern "C" fn pravega_reader_offline(
    reader: *const PravegaReader,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let reader = args::handle("reader", reader)?;
        let what = format!("take reader {:?} offline", reader.name);
        reader
            .runtime
            .block_on_timeout(reader.timeout, &what, async {
                if retire(&reader.reader).await {
                    wait_until_offline(&reader.group, &reader.name).await;
                }
            })
    })
}

/// Frees a reader. NULL is ignored; freeing twice is undefined behaviour.
///
/// Does not block, so it is safe inside a callback: the reader goes offline in the
/// background, after any acquire in flight has completed, and the runtime stays up until
/// then. Call `pravega_reader_offline` first to wait for that.
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
            group,
            name,
            runtime,
            timeout,
        } = *reader;

        let keep_alive = runtime.clone();
        runtime.handle().spawn(async move {
            if retire(&shared).await {
                let gone = tokio::time::timeout(timeout, wait_until_offline(&group, &name));
                if gone.await.is_err() {
                    tracing::warn!("a freed reader did not go offline in time");
                }
            }
            drop(group);
            drop(keep_alive);
        });
        Ok(())
    });
}

/// Moves to the next event of `slice`. Does not block, so it may be called from a
/// callback.
///
/// On success `*found` tells whether there was one. When it is true, `*data`/`*len` is
/// the payload, which belongs to the slice and stays valid until the next call on this
/// slice or its release or free; `*offset` is the event's offset in its segment. When it
/// is false the slice is used up: `*data` is NULL, `*len` 0 and `*offset` -1.
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

        match slice.next_event() {
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

/// Moves past up to `max_events` events of `slice` and returns them in `*out`. Does not
/// block, so it may be called from a callback.
///
/// The batch stops early once it holds `max_bytes` of payload or more (pass `SIZE_MAX`
/// for no limit); it always holds at least one event while the slice has any, however
/// large. An event of 64 KiB or more that comes first is a batch of its own, handed
/// over without a copy. Events in a batch count as read: a release gives the slice back after the
/// batch's last event, so ask for no more than you will consume. A `count` of 0 means
/// the slice is used up. The views in `*out` are valid as `PravegaEventBatch` states.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` when `slice` or `out` is NULL, or
/// `max_events` or `max_bytes` is 0; `*out` is then untouched.
#[no_mangle]
pub extern "C" fn pravega_slice_next_batch(
    slice: *mut PravegaSlice,
    max_events: usize,
    max_bytes: usize,
    out: *mut PravegaEventBatch,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        // SAFETY: a non-NULL slice is live and used by one thread at a time.
        let slice = unsafe { slice.as_mut() }
            .ok_or_else(|| PravegaError::invalid_argument("slice must not be NULL"))?;
        args::out_ptr("out", out)?;
        if max_events == 0 {
            return Err(PravegaError::invalid_argument(
                "max_events must be at least 1",
            ));
        }
        if max_bytes == 0 {
            return Err(PravegaError::invalid_argument(
                "max_bytes must be at least 1",
            ));
        }

        let mut batch = std::mem::take(&mut slice.batch);
        batch.fill(slice, max_events, max_bytes);
        slice.batch = batch;
        args::store(out, slice.batch.view());
        Ok(())
    })
}

/// Hands back the last `count` events of the batch that `pravega_slice_next_batch`
/// returned last: they count as unread, and are delivered again once the slice is
/// given back with `pravega_reader_release_segment` or `pravega_slice_free`. A host that
/// takes events in batches but hands them on one at a time calls this before giving
/// the slice back, so that it never loses the events it took but did not hand on.
/// Does not block.
///
/// After it hands back one event or more, the slice yields no more events and the
/// views of the last batch are no longer valid. A `count` of 0 does nothing.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` when `slice` is NULL or `count` is more
/// than the last batch holds; nothing changes then.
#[no_mangle]
pub extern "C" fn pravega_slice_unread(
    slice: *mut PravegaSlice,
    count: usize,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        // SAFETY: a non-NULL slice is live and used by one thread at a time.
        let slice = unsafe { slice.as_mut() }
            .ok_or_else(|| PravegaError::invalid_argument("slice must not be NULL"))?;
        let held = slice.batch.offsets.len();
        if count > held {
            return Err(PravegaError::invalid_argument(format!(
                "count is {count}, but the last batch holds {held} events"
            )));
        }
        if count == 0 {
            return Ok(());
        }

        slice.resume_at = Some(slice.batch.offsets[held - count]);
        slice.batch.clear();
        Ok(())
    })
}

/// Frees a slice, releasing it to its reader at the position reached, in the background:
/// its unread events are delivered again. NULL is ignored; freeing twice is undefined
/// behaviour. Does not block, so it is safe inside a callback.
///
/// The background release waits up to 3 s for the reader to finish the call it is
/// serving. If the reader stays busy longer, the slice is dropped instead, and its
/// unread events are delivered again only once new data reaches its segment.
#[no_mangle]
pub extern "C" fn pravega_slice_free(slice: *mut PravegaSlice) {
    let _ = guarded(std::ptr::null_mut(), || {
        if slice.is_null() {
            return Ok(());
        }
        // SAFETY: made by `pravega_reader_acquire_segment`, freed once.
        let PravegaSlice {
            slice,
            owner,
            runtime,
            resume_at,
            ..
        } = *unsafe { Box::from_raw(slice) };
        // A slice that is merely dropped gets its data back to the reader only when new
        // data arrives for its segment; releasing it makes the unread events available
        // at once.
        if let Some(reader) = owner.upgrade() {
            runtime.spawn(async move {
                // An acquire may hold the reader while the crate waits for this very slice
                // to come back, which it would do forever. If the reader stays busy, drop
                // the slice instead: that returns it through the crate's own channel, the
                // one such an acquire is waiting on.
                let Ok(mut guard) = tokio::time::timeout(SLICE_RELEASE_WAIT, reader.lock()).await
                else {
                    if resume_at.is_some() {
                        // FIXME: the crate takes a dropped slice back at the position it
                        // reached, so events handed back with `pravega_slice_unread` are
                        // skipped. It bites only a slice freed, not released, while an
                        // acquire on its reader waits more than SLICE_RELEASE_WAIT.
                        tracing::warn!(
                            "the reader stayed busy; a freed slice was dropped, and the \
                             events handed back from it will not be delivered again"
                        );
                    } else {
                        tracing::debug!("the reader stayed busy; a freed slice was dropped");
                    }
                    drop(slice);
                    return;
                };
                if let Some(reader) = guard.as_mut() {
                    if let Err(e) = give_back(reader, slice, resume_at).await {
                        tracing::debug!("releasing a freed slice failed: {e}");
                    }
                }
            });
        }
        Ok(())
    });
}

/// Deletes the reader group `name` of `scope` on the server. A group that does not exist
/// is not an error. Blocks.
///
/// Fails with `PRAVEGA_STATUS_UNAVAILABLE` when the server cannot be reached, and
/// `PRAVEGA_STATUS_CONTROLLER_ERROR` when the deletion fails otherwise.
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
                let status = match e {
                    TableError::ConnectionError { .. } => PravegaStatus::Unavailable,
                    _ => PravegaStatus::ControllerError,
                };
                let message = format!("delete reader group failed: {e}");
                PravegaError::new(status, message)
            })
    })
}

/// Takes the reader `name` of the group offline, handing its segments to the others; for
/// a reader whose process died. A reader already offline, or unknown to the group, is
/// left as it is. Blocks.
///
/// Fails with `PRAVEGA_STATUS_IO_ERROR` when the group's shared state cannot be updated.
#[no_mangle]
pub extern "C" fn pravega_reader_group_reader_offline(
    group: *const PravegaReaderGroup,
    name: *const c_char,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let group = args::handle("group", group)?;
        let name = args::required_name("name", name)?.to_string();

        let what = format!("take reader {name:?} offline");
        let outcome = group
            .runtime
            .block_on_timeout(group.timeout, &what, async {
                group.group.reader_offline(name.clone(), None).await
            })?;
        match outcome {
            Ok(()) | Err(ReaderGroupStateError::ReaderAlreadyOfflineError { .. }) => Ok(()),
            Err(e) => Err(PravegaError::new(
                PravegaStatus::IoError,
                format!("{what} failed: {e}"),
            )),
        }
    })
}
