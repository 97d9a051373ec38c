//! Reader group configurations and stream cuts.

use crate::args;
use crate::error::{FfiResult, PravegaError, PravegaStatus};
use crate::guard::guarded;
use pravega_client::event::reader_group::{
    ReaderGroupConfig, ReaderGroupConfigBuilder, StreamCutV1, StreamCutVersioned,
};
use pravega_client_shared::{ScopedSegment, ScopedStream, Segment};
use std::collections::HashMap;
use std::ffi::{c_char, CString};

/// Where a stream of a reader group starts.
#[derive(Clone)]
enum Start {
    Head,
    Tail,
    /// Segment number to offset.
    Cut(HashMap<i64, i64>),
}

/// The streams of a reader group and where each starts. Build it, pass it to
/// `pravega_reader_group_new`, then free it with `pravega_reader_group_config_free`.
///
/// Not thread-safe: use it from one thread at a time. It is copied by
/// `pravega_reader_group_new`, so it may be freed right after that call.
#[derive(Default)]
pub struct PravegaReaderGroupConfig {
    streams: Vec<(ScopedStream, Start)>,
}

impl PravegaReaderGroupConfig {
    pub(crate) fn streams(&self) -> impl Iterator<Item = &ScopedStream> {
        self.streams.iter().map(|(stream, _)| stream)
    }

    /// The streams that start at their tail.
    pub(crate) fn streams_from_tail(&self) -> impl Iterator<Item = &ScopedStream> {
        self.streams
            .iter()
            .filter(|(_, start)| matches!(start, Start::Tail))
            .map(|(stream, _)| stream)
    }

    pub(crate) fn to_crate_config(&self) -> FfiResult<ReaderGroupConfig> {
        if self.streams.is_empty() {
            return Err(PravegaError::invalid_argument(
                "a reader group needs at least one stream",
            ));
        }
        let mut builder = ReaderGroupConfigBuilder::default();
        for (stream, start) in &self.streams {
            match start {
                Start::Head => builder.read_from_head_of_stream(stream.clone()),
                Start::Tail => builder.read_from_tail_of_stream(stream.clone()),
                Start::Cut(positions) => {
                    let positions = positions
                        .iter()
                        .map(|(&number, &offset)| {
                            let segment = ScopedSegment {
                                scope: stream.scope.clone(),
                                stream: stream.stream.clone(),
                                segment: Segment {
                                    number,
                                    tx_id: None,
                                },
                            };
                            (segment, offset)
                        })
                        .collect();
                    let cut = StreamCutVersioned::V1(StreamCutV1::new(stream.clone(), positions));
                    builder.read_from_stream(stream.clone(), cut)
                }
            };
        }
        Ok(builder.build())
    }

    fn add(&mut self, stream: ScopedStream, start: Start) -> FfiResult<()> {
        if self.streams.iter().any(|(known, _)| *known == stream) {
            return Err(PravegaError::invalid_argument(format!(
                "stream {stream} is already in the configuration"
            )));
        }
        self.streams.push((stream, start));
        Ok(())
    }
}

fn config_mut<'a>(
    config: *mut PravegaReaderGroupConfig,
) -> FfiResult<&'a mut PravegaReaderGroupConfig> {
    // SAFETY: a non-NULL config comes from `pravega_reader_group_config_new` and is used
    // by one thread at a time, as documented.
    unsafe { config.as_mut() }
        .ok_or_else(|| PravegaError::invalid_argument("config must not be NULL"))
}

/// Makes an empty reader group configuration. The caller frees `*out` with
/// `pravega_reader_group_config_free`.
#[no_mangle]
pub extern "C" fn pravega_reader_group_config_new(
    out: *mut *mut PravegaReaderGroupConfig,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        args::out_ptr("out", out)?;
        args::store(
            out,
            Box::into_raw(Box::<PravegaReaderGroupConfig>::default()),
        );
        Ok(())
    })
}

/// Adds `scope/stream`, read from its head, or from its tail when `from_tail` is true.
/// Does not block; whether the stream exists is checked by `pravega_reader_group_new`.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` when the stream is in the configuration
/// already.
#[no_mangle]
pub extern "C" fn pravega_reader_group_config_add_stream(
    config: *mut PravegaReaderGroupConfig,
    scope: *const c_char,
    stream: *const c_char,
    from_tail: bool,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let config = config_mut(config)?;
        let stream = args::scoped_stream(scope, stream)?;
        config.add(stream, if from_tail { Start::Tail } else { Start::Head })
    })
}

/// Adds `scope/stream`, read from a stream cut: `count` pairs of segment number
/// (`segments[i]`) and byte offset (`offsets[i]`), as `pravega_stream_cut_get` gives.
/// A segment id is not negative, and its low 32 bits (the segment number) are at most
/// `INT32_MAX`; the high 32 bits are the epoch.
/// Both arrays are read during the call only. Does not block.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` when `count` is 0, an array is NULL, an
/// offset is negative, a segment id is not one, or the stream is in the configuration
/// already.
#[no_mangle]
pub extern "C" fn pravega_reader_group_config_add_stream_at(
    config: *mut PravegaReaderGroupConfig,
    scope: *const c_char,
    stream: *const c_char,
    segments: *const i64,
    offsets: *const i64,
    count: usize,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let config = config_mut(config)?;
        let stream = args::scoped_stream(scope, stream)?;
        let segments = args::items("segments", segments, count)?;
        let offsets = args::items("offsets", offsets, count)?;
        if count == 0 {
            return Err(PravegaError::invalid_argument(
                "a stream cut needs at least one segment",
            ));
        }
        if let Some(offset) = offsets.iter().find(|&&offset| offset < 0) {
            return Err(PravegaError::invalid_argument(format!(
                "stream cut offsets must not be negative, not {offset}"
            )));
        }
        // A segment id keeps the segment number in its low 32 bits, as a signed int,
        // and the epoch in the high ones; the crate asserts on a negative number later,
        // inside a reader, where the caller could no longer tell what was wrong.
        if let Some(id) = segments
            .iter()
            .find(|&&id| id < 0 || (id as u64 & 0xFFFF_FFFF) > i32::MAX as u64)
        {
            return Err(PravegaError::invalid_argument(format!(
                "stream cut segment id {id} is not a segment id: its low 32 bits, the \
                 segment number, must be from 0 to {}",
                i32::MAX
            )));
        }
        let positions = segments
            .iter()
            .copied()
            .zip(offsets.iter().copied())
            .collect();
        config.add(stream, Start::Cut(positions))
    })
}

/// Frees a configuration. NULL is ignored; freeing twice is undefined behaviour. Reader
/// groups made with it are not affected.
#[no_mangle]
pub extern "C" fn pravega_reader_group_config_free(config: *mut PravegaReaderGroupConfig) {
    if !config.is_null() {
        // SAFETY: made by `pravega_reader_group_config_new`, freed once.
        drop(unsafe { Box::from_raw(config) });
    }
}

/// The position of a reader group in one stream: an offset for each segment, as
/// `pravega_reader_group_get_stream_cut` gives it.
///
/// Immutable and thread-safe. It depends on no other object. Free it, once, with
/// `pravega_stream_cut_free`.
pub struct PravegaStreamCut {
    stream: CString,
    positions: Vec<(i64, i64)>,
}

impl PravegaStreamCut {
    pub(crate) fn new(stream: &ScopedStream, positions: HashMap<i64, i64>) -> Self {
        let mut positions: Vec<(i64, i64)> = positions.into_iter().collect();
        positions.sort_unstable();
        let name = stream.to_string().replace('\0', "");
        PravegaStreamCut {
            stream: CString::new(name).expect("NUL bytes were removed"),
            positions,
        }
    }
}

/// The stream the cut belongs to, as "scope/stream". Valid until the cut is freed.
/// "" when `cut` is NULL.
#[no_mangle]
pub extern "C" fn pravega_stream_cut_stream(cut: *const PravegaStreamCut) -> *const c_char {
    args::handle("cut", cut).map_or(b"\0".as_ptr().cast(), |cut| cut.stream.as_ptr())
}

/// The number of segments in the cut; 0 when `cut` is NULL. Use it as the bound for
/// `pravega_stream_cut_get`.
#[no_mangle]
pub extern "C" fn pravega_stream_cut_len(cut: *const PravegaStreamCut) -> usize {
    args::handle("cut", cut).map_or(0, |cut| cut.positions.len())
}

/// Stores the `index`th segment number and offset of the cut, in segment order.
/// Returns false, storing nothing, when `cut`, `segment` or `offset` is NULL, or `index`
/// is out of range.
#[no_mangle]
pub extern "C" fn pravega_stream_cut_get(
    cut: *const PravegaStreamCut,
    index: usize,
    segment: *mut i64,
    offset: *mut i64,
) -> bool {
    let Some(&(number, position)) = args::handle("cut", cut)
        .ok()
        .and_then(|cut| cut.positions.get(index))
    else {
        return false;
    };
    if segment.is_null() || offset.is_null() {
        return false;
    }
    args::store(segment, number);
    args::store(offset, position);
    true
}

/// Frees a stream cut. NULL is ignored; freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn pravega_stream_cut_free(cut: *mut PravegaStreamCut) {
    if !cut.is_null() {
        // SAFETY: made by this library, freed once.
        drop(unsafe { Box::from_raw(cut) });
    }
}

pub(crate) fn no_positions() -> PravegaError {
    PravegaError::new(
        PravegaStatus::NotFound,
        "the reader group has no positions yet",
    )
}
