//! Byte streams: a single-segment stream read and written as a sequence of bytes.

use crate::args;
use crate::error::{FfiResult, PravegaError, PravegaStatus};
use crate::guard::guarded;
use crate::manager::PravegaManager;
use crate::runtime::{free_in_runtime, SharedRuntime};
use futures::FutureExt;
use pravega_client::byte::{ByteReader, ByteWriter};
use std::ffi::c_char;
use std::future::Future;
use std::io::SeekFrom;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex as AsyncMutex;

/// The most one write call takes: the protocol's limit for one append.
pub const PRAVEGA_MAX_BYTE_WRITE: usize = 8_388_608;

/// A stream with exactly one segment, used as a sequence of bytes.
///
/// Writes append at the tail. Reads and seeks move a read position of their own. All
/// calls block. Thread-safe, one call at a time: a call waits for the one before it. It
/// may outlive its manager. Free it, once, with `pravega_byte_stream_free`.
pub struct PravegaByteStream {
    writer: AsyncMutex<ByteWriter>,
    reader: AsyncMutex<ByteReader>,
    runtime: Arc<SharedRuntime>,
    timeout: Duration,
}

fn io_error(what: &str, error: impl std::fmt::Display) -> PravegaError {
    PravegaError::new(PravegaStatus::IoError, format!("{what} failed: {error}"))
}

impl PravegaByteStream {
    fn run<T>(&self, what: &str, work: impl Future<Output = FfiResult<T>>) -> FfiResult<T> {
        self.runtime.block_on_timeout(self.timeout, what, work)?
    }
}

/// The crate asserts or panics where it should return errors; keep those as errors.
async fn no_panic<T>(what: &str, work: impl Future<Output = T>) -> FfiResult<T> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|payload| {
            io_error(
                what,
                crate::guard::panic_error(payload.as_ref())
                    .message
                    .to_string_lossy(),
            )
        })
}

/// Opens `scope/stream` as a byte stream; writes go to its current tail. The stream
/// must exist and have exactly one segment. Blocks. The caller frees `*out` with
/// `pravega_byte_stream_free`.
///
/// Fails with:
/// - `PRAVEGA_STATUS_INVALID_ARGUMENT` when the stream has no current segment, or more
///   than one.
/// - `PRAVEGA_STATUS_NOT_FOUND`, `PRAVEGA_STATUS_UNAVAILABLE` or
///   `PRAVEGA_STATUS_CONTROLLER_ERROR` when the controller cannot list its segments.
/// - `PRAVEGA_STATUS_IO_ERROR` when the segment cannot be opened.
#[no_mangle]
pub extern "C" fn pravega_byte_stream_new(
    manager: *const PravegaManager,
    scope: *const c_char,
    stream: *const c_char,
    out: *mut *mut PravegaByteStream,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let stream = args::scoped_stream(scope, stream)?;
        args::out_ptr("out", out)?;

        // The crate asserts on a multi-segment stream; check first for a clear error.
        let controller = manager.factory.controller_client();
        let what = format!("open byte stream {stream}");
        let segments = manager.call(&what, controller.get_current_segments(&stream))?;
        let count = segments.key_segment_map.len();
        if count != 1 {
            return Err(PravegaError::invalid_argument(format!(
                "{what}: a byte stream needs exactly one segment, and it has {count}"
            )));
        }

        let factory = manager.factory.clone();
        let (writer, reader) = manager.wait(
            &what,
            no_panic(&what, async {
                let mut writer = factory.create_byte_writer(stream.clone()).await;
                // Append after the data already there, not at offset 0.
                writer.seek_to_tail().await;
                let reader = factory.create_byte_reader(stream.clone()).await;
                (writer, reader)
            }),
        )??;
        let byte_stream = PravegaByteStream {
            writer: AsyncMutex::new(writer),
            reader: AsyncMutex::new(reader),
            runtime: manager.runtime.clone(),
            timeout: manager.controller_timeout,
        };
        args::store(out, Box::into_raw(Box::new(byte_stream)));
        Ok(())
    })
}

/// Appends up to `PRAVEGA_MAX_BYTE_WRITE` bytes of `data` at the tail and stores how
/// many in `*written`: fewer than `len` only when `len` is larger than that. The bytes
/// are durable after `pravega_byte_stream_flush`. With `len` 0 it stores 0 at once.
/// Blocks.
///
/// Fails with `PRAVEGA_STATUS_IO_ERROR` when an earlier write was found to have failed.
#[no_mangle]
pub extern "C" fn pravega_byte_stream_write(
    stream: *const PravegaByteStream,
    data: *const c_char,
    len: usize,
    written: *mut usize,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let stream = args::handle("stream", stream)?;
        let data = args::bytes("data", data.cast(), len)?;
        args::out_ptr("written", written)?;
        if data.is_empty() {
            args::store(written, 0);
            return Ok(());
        }
        let count = stream.run("write", async {
            let mut writer = stream.writer.lock().await;
            writer.write(data).await.map_err(|e| io_error("write", e))
        })?;
        args::store(written, count);
        Ok(())
    })
}

/// Waits until every byte written is durable. Blocks.
///
/// Fails with `PRAVEGA_STATUS_IO_ERROR` when some of them could not be written.
#[no_mangle]
pub extern "C" fn pravega_byte_stream_flush(
    stream: *const PravegaByteStream,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let stream = args::handle("stream", stream)?;
        stream.run("flush", async {
            stream
                .writer
                .lock()
                .await
                .flush()
                .await
                .map_err(|e| io_error("flush", e))
        })
    })
}

/// Reads up to `len` bytes at the read position into `buf`, storing the count in
/// `*read`, and moves the position past them. At the tail it stores 0 at once rather
/// than wait for more data. Blocks.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` when `buf` is NULL but `len` is not 0,
/// and `PRAVEGA_STATUS_IO_ERROR` when reading fails, for example because the data at
/// the position was truncated away. Bytes already fetched ahead before a truncation
/// (up to about 512 KiB) are still returned; the failure comes when reading goes past
/// them.
#[no_mangle]
pub extern "C" fn pravega_byte_stream_read(
    stream: *const PravegaByteStream,
    buf: *mut c_char,
    len: usize,
    read: *mut usize,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let stream = args::handle("stream", stream)?;
        if buf.is_null() && len > 0 {
            return Err(PravegaError::invalid_argument(format!(
                "buf is NULL but len is {len}"
            )));
        }
        args::out_ptr("read", read)?;
        if len == 0 {
            args::store(read, 0);
            return Ok(());
        }
        // SAFETY: the caller promises `len` writable bytes at `buf`.
        let target = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };

        let count = stream.run("read", async {
            let mut reader = stream.reader.lock().await;
            if reader.available() == 0 {
                let tail = reader
                    .current_tail()
                    .await
                    .map_err(|e| io_error("read", e))?;
                if reader.current_offset() >= tail {
                    return Ok(0);
                }
            }
            reader.read(target).await.map_err(|e| io_error("read", e))
        })?;
        args::store(read, count);
        Ok(())
    })
}

/// Moves the read position: `whence` 0 from the start, 1 from the current position, 2
/// from the tail. Stores the new position in `*position`. Blocks.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` when `whence` is not 0, 1 or 2, or the
/// new position would lie before the head or past the tail; and
/// `PRAVEGA_STATUS_IO_ERROR` when the head or tail cannot be read.
#[no_mangle]
pub extern "C" fn pravega_byte_stream_seek(
    stream: *const PravegaByteStream,
    offset: i64,
    whence: i32,
    position: *mut u64,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let stream = args::handle("stream", stream)?;
        args::out_ptr("position", position)?;
        if !(0..=2).contains(&whence) {
            return Err(PravegaError::invalid_argument(format!(
                "whence must be 0, 1 or 2, not {whence}"
            )));
        }

        let target = stream.run("seek", async {
            let mut reader = stream.reader.lock().await;
            let head = reader
                .current_head()
                .await
                .map_err(|e| io_error("seek", e))? as i64;
            let tail = reader
                .current_tail()
                .await
                .map_err(|e| io_error("seek", e))? as i64;
            let base = match whence {
                0 => 0,
                1 => reader.current_offset() as i64,
                _ => tail,
            };
            let target = base.checked_add(offset).unwrap_or(i64::MIN);
            if target < head || target > tail {
                return Err(PravegaError::invalid_argument(format!(
                    "cannot seek to {target}: the stream holds offsets {head} to {tail}"
                )));
            }
            reader
                .seek(SeekFrom::Start(target as u64))
                .await
                .map_err(|e| io_error("seek", e))
        })?;
        args::store(position, target);
        Ok(())
    })
}

/// The read position. 0 when `stream` is NULL. Makes no network call, but waits while
/// another call on the stream is running; that wait is not refused inside a callback.
#[no_mangle]
pub extern "C" fn pravega_byte_stream_tell(stream: *const PravegaByteStream) -> u64 {
    args::handle("stream", stream).map_or(0, |stream| {
        futures::executor::block_on(stream.reader.lock()).current_offset()
    })
}

/// Stores the offsets of the first (`head`) and past the last (`tail`) byte held now.
/// Blocks.
///
/// Fails with `PRAVEGA_STATUS_IO_ERROR` when the segment store cannot tell them.
#[no_mangle]
pub extern "C" fn pravega_byte_stream_bounds(
    stream: *const PravegaByteStream,
    head: *mut u64,
    tail: *mut u64,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let stream = args::handle("stream", stream)?;
        args::out_ptr("head", head)?;
        args::out_ptr("tail", tail)?;
        let (first, end) = stream.run("get offsets", async {
            let reader = stream.reader.lock().await;
            let first = reader
                .current_head()
                .await
                .map_err(|e| io_error("get head", e))?;
            let end = reader
                .current_tail()
                .await
                .map_err(|e| io_error("get tail", e))?;
            Ok((first, end))
        })?;
        args::store(head, first);
        args::store(tail, end);
        Ok(())
    })
}

/// Drops the data before `offset`, which must not be past the tail. Blocks.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` when `offset` is negative or past the
/// tail, and `PRAVEGA_STATUS_IO_ERROR` when the segment store refuses.
#[no_mangle]
pub extern "C" fn pravega_byte_stream_truncate(
    stream: *const PravegaByteStream,
    offset: i64,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let stream = args::handle("stream", stream)?;
        if offset < 0 {
            return Err(PravegaError::invalid_argument(format!(
                "truncate offset must not be negative, not {offset}"
            )));
        }
        stream.run("truncate", async {
            let tail = stream.reader.lock().await.current_tail().await;
            let tail = tail.map_err(|e| io_error("truncate", e))? as i64;
            if offset > tail {
                return Err(PravegaError::invalid_argument(format!(
                    "cannot truncate at {offset}: the tail is {tail}"
                )));
            }
            let writer = stream.writer.lock().await;
            writer
                .truncate_data_before(offset)
                .await
                .map_err(|e| io_error("truncate", e))
        })
    })
}

/// Frees a byte stream without flushing it: call `pravega_byte_stream_flush` first to
/// keep what was written. NULL is ignored; freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn pravega_byte_stream_free(stream: *mut PravegaByteStream) {
    free_in_runtime(stream, |stream| stream.runtime.clone());
}
