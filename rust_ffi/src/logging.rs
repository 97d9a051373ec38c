//! Log records of this library and of the crates below it, queued for the host.
//!
//! Nothing is recorded, and nothing printed, until the host sets a level with
//! `pravega_log_set_level`. From then on `tracing` events and `log` records at or above
//! that level are queued, and the host drains them from a thread of its own, woken
//! through a descriptor once per batch. A library thread never calls into the host to
//! log.

use crate::error::{redact_credentials, PravegaError, PravegaStatus};
use crate::guard::guarded;
use crate::wake::WakeSignal;
use std::collections::VecDeque;
use std::ffi::{c_char, CString};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record as SpanValues};
use tracing_core::subscriber::{Interest, Subscriber};
use tracing_core::{Event, Level, LevelFilter, Metadata};

/// How much a record matters, as in most logging systems. A level also names the least
/// important records that are kept: `PRAVEGA_LOG_LEVEL_WARN` keeps warnings and errors.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PravegaLogLevel {
    /// Keep nothing. The default.
    Off = 0,
    /// Failures the library could not report through a call's status.
    Error = 1,
    /// Something went wrong and was recovered from, such as a lost connection.
    Warn = 2,
    /// Milestones: connections made, segments acquired and released.
    Info = 3,
    /// Details for finding a fault; costly on hot paths.
    Debug = 4,
    /// Everything, down to single appends.
    Trace = 5,
}

/// One log record, as `pravega_log_drain` hands it over.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PravegaLogRecord {
    pub level: PravegaLogLevel,
    /// Where it comes from: the Rust module path, such as
    /// "pravega_client::segment::reactor". NUL-terminated UTF-8.
    pub target: *const c_char,
    /// The text, with the record's fields appended as `name=value`. NUL-terminated
    /// UTF-8; credentials in gRPC headers are replaced by "<redacted>".
    pub message: *const c_char,
}

/// At most this many records wait for the host; later ones are counted, not kept, so
/// that a host that stops draining costs bounded memory.
const QUEUE_LIMIT: usize = 10_000;

struct QueuedRecord {
    level: PravegaLogLevel,
    target: CString,
    message: CString,
}

struct LogQueue {
    state: Mutex<LogState>,
    wake: WakeSignal,
    dropped: AtomicU64,
}

#[derive(Default)]
struct LogState {
    records: VecDeque<QueuedRecord>,
    wake_pending: bool,
    /// The records of the last drain, kept alive for the pointers handed out.
    handed_out: Vec<QueuedRecord>,
}

/// The level as an i32, read on every callsite hit: kept apart from the queue's lock.
static LEVEL: AtomicI32 = AtomicI32::new(PravegaLogLevel::Off as i32);
static QUEUE: OnceLock<Result<LogQueue, String>> = OnceLock::new();

fn current_level() -> PravegaLogLevel {
    match LEVEL.load(Ordering::Relaxed) {
        1 => PravegaLogLevel::Error,
        2 => PravegaLogLevel::Warn,
        3 => PravegaLogLevel::Info,
        4 => PravegaLogLevel::Debug,
        5 => PravegaLogLevel::Trace,
        _ => PravegaLogLevel::Off,
    }
}

fn from_tracing(level: &Level) -> PravegaLogLevel {
    match *level {
        Level::ERROR => PravegaLogLevel::Error,
        Level::WARN => PravegaLogLevel::Warn,
        Level::INFO => PravegaLogLevel::Info,
        Level::DEBUG => PravegaLogLevel::Debug,
        Level::TRACE => PravegaLogLevel::Trace,
    }
}

fn from_log(level: log::Level) -> PravegaLogLevel {
    match level {
        log::Level::Error => PravegaLogLevel::Error,
        log::Level::Warn => PravegaLogLevel::Warn,
        log::Level::Info => PravegaLogLevel::Info,
        log::Level::Debug => PravegaLogLevel::Debug,
        log::Level::Trace => PravegaLogLevel::Trace,
    }
}

fn keeps(level: PravegaLogLevel) -> bool {
    level != PravegaLogLevel::Off && level <= current_level()
}

impl LogQueue {
    fn lock(&self) -> MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, level: PravegaLogLevel, target: &str, message: &str) {
        // Interior NULs would cut the strings short for C readers.
        let clean = |text: &str| CString::new(text.replace('\0', "\\0")).unwrap_or_default();
        let record = QueuedRecord {
            level,
            target: clean(target),
            message: clean(&redact_credentials(message)),
        };
        let mut state = self.lock();
        if state.records.len() >= QUEUE_LIMIT {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        state.records.push_back(record);
        if !state.wake_pending {
            state.wake_pending = true;
            // Nowhere to report a failure: logging it would come back here.
            let _ = self.wake.raise();
        }
    }

    fn drain_into(&self, out: &mut [PravegaLogRecord]) -> usize {
        let mut state = self.lock();
        let state = &mut *state;
        state.handed_out.clear();
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            state.handed_out.push(QueuedRecord {
                level: PravegaLogLevel::Warn,
                target: CString::new("pravega_client_ffi::logging").unwrap_or_default(),
                message: CString::new(format!(
                    "{dropped} log records were dropped: more than {QUEUE_LIMIT} waited"
                ))
                .unwrap_or_default(),
            });
        }
        while state.handed_out.len() < out.len() {
            match state.records.pop_front() {
                Some(record) => state.handed_out.push(record),
                None => break,
            }
        }
        for (slot, record) in out.iter_mut().zip(&state.handed_out) {
            *slot = PravegaLogRecord {
                level: record.level,
                target: record.target.as_ptr(),
                message: record.message.as_ptr(),
            };
        }
        if state.records.is_empty() && state.wake_pending {
            self.wake.clear();
            state.wake_pending = false;
        }
        state.handed_out.len().min(out.len())
    }
}

/// The queue, made and hooked into `tracing` and `log` on first use.
fn queue() -> Result<&'static LogQueue, PravegaError> {
    let made = QUEUE.get_or_init(|| {
        let queue = LogQueue {
            state: Mutex::default(),
            wake: WakeSignal::new().map_err(|e| format!("cannot make wake-up socket: {e}"))?,
            dropped: AtomicU64::new(0),
        };
        // Either may already be taken by a host that embeds Rust code of its own; the
        // other still works, so neither refusal is fatal.
        let _ = tracing::subscriber::set_global_default(QueueSubscriber);
        if log::set_logger(&LOG_BRIDGE).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
        Ok(queue)
    });
    made.as_ref()
        .map_err(|message| PravegaError::new(PravegaStatus::Internal, message))
}

fn push(level: PravegaLogLevel, target: &str, message: &str) {
    if let Some(Ok(queue)) = QUEUE.get() {
        queue.push(level, target, message);
    }
}

/// Feeds `tracing` events into the queue. Spans are not kept: their fields would cost
/// an allocation on every instrumented future of the crate's hot paths.
struct QueueSubscriber;

impl Subscriber for QueueSubscriber {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && keeps(from_tracing(metadata.level()))
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Lets `tracing` skip disabled levels before calling `enabled`; refreshed by
        // `rebuild_interest_cache` whenever the level changes.
        Some(match current_level() {
            PravegaLogLevel::Off => LevelFilter::OFF,
            PravegaLogLevel::Error => LevelFilter::ERROR,
            PravegaLogLevel::Warn => LevelFilter::WARN,
            PravegaLogLevel::Info => LevelFilter::INFO,
            PravegaLogLevel::Debug => LevelFilter::DEBUG,
            PravegaLogLevel::Trace => LevelFilter::TRACE,
        })
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &SpanValues<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        let mut text = MessageText::default();
        event.record(&mut text);
        push(from_tracing(metadata.level()), metadata.target(), &text.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// An event's message first, then its other fields as `name=value`.
#[derive(Default)]
struct MessageText(String);

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let fields = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value:?}");
            if !fields.is_empty() {
                let _ = write!(self.0, " {fields}");
            }
        } else {
            let separator = if self.0.is_empty() { "" } else { " " };
            let _ = write!(self.0, "{separator}{}={value:?}", field.name());
        }
    }
}

/// Feeds `log` records into the queue.
struct LogBridge;

static LOG_BRIDGE: LogBridge = LogBridge;

impl log::Log for LogBridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        keeps(from_log(metadata.level()))
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            push(
                from_log(record.level()),
                record.target(),
                &record.args().to_string(),
            );
        }
    }

    fn flush(&self) {}
}

/// Sets the least important level that is queued; `PRAVEGA_LOG_LEVEL_OFF` stops
/// logging. The first call that is not OFF hooks the library into `tracing` and `log`
/// (if the process has no other subscriber or logger yet), so a host that never calls
/// this gets no records and no output at all. Thread-safe; may be called at any time,
/// also inside a callback.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` for a level outside 0..=5, and with
/// `PRAVEGA_STATUS_INTERNAL` when the wake-up descriptor cannot be made.
#[no_mangle]
pub extern "C" fn pravega_log_set_level(
    level: i32,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        if !(PravegaLogLevel::Off as i32..=PravegaLogLevel::Trace as i32).contains(&level) {
            return Err(PravegaError::invalid_argument(format!(
                "level must be from 0 (off) to 5 (trace), not {level}"
            )));
        }
        if level != PravegaLogLevel::Off as i32 {
            queue()?;
        }
        if LEVEL.swap(level, Ordering::Relaxed) != level {
            tracing_core::callsite::rebuild_interest_cache();
        }
        Ok(())
    })
}

/// The level set last with `pravega_log_set_level`. Thread-safe.
#[no_mangle]
pub extern "C" fn pravega_log_level() -> PravegaLogLevel {
    current_level()
}

/// The descriptor that becomes readable when records wait, or -1 before the first
/// `pravega_log_set_level` that was not OFF. Poll it for input; do not read or close it.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn pravega_log_fd() -> i32 {
    match QUEUE.get() {
        Some(Ok(queue)) => queue.wake.fd(),
        _ => -1,
    }
}

/// Moves up to `capacity` waiting records into `out`, oldest first, and returns how
/// many. When records had to be dropped because too many waited, the first record says
/// how many. The strings of the records belong to the library and stay valid until the
/// next call of this function. When this empties the queue it also clears the
/// descriptor, so drain until fewer than `capacity` come back before waiting on it
/// again. Does not block.
///
/// Thread-safe, but one thread should drain, since a call invalidates the strings of
/// the one before. Returns 0 when `out` is NULL.
#[no_mangle]
pub extern "C" fn pravega_log_drain(out: *mut PravegaLogRecord, capacity: usize) -> usize {
    let mut count = 0;
    let _ = guarded(std::ptr::null_mut(), || {
        if out.is_null() || capacity == 0 {
            return Ok(());
        }
        if let Some(Ok(queue)) = QUEUE.get() {
            // SAFETY: the caller promises `capacity` writable records at `out`.
            let slots = unsafe { std::slice::from_raw_parts_mut(out, capacity) };
            count = queue.drain_into(slots);
        }
        Ok(())
    });
    count
}
