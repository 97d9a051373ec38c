//! Stream administration: create with a policy, update, read back, tag, seal, delete.

use crate::args;
use crate::error::{FfiResult, PravegaError, PravegaStatus};
use crate::guard::guarded;
use crate::manager::PravegaManager;
use crate::strings::PravegaStringList;
use pravega_client_shared::{
    CToken, Retention, RetentionType, ScaleType, Scaling, Scope, StreamConfiguration,
};
use std::ffi::c_char;

/// How a stream's segment count changes: the values of `PravegaStreamPolicy.scaling`.
#[repr(i32)]
pub enum PravegaScaling {
    /// Always `min_segments` segments.
    Fixed = 0,
    /// Split or merge segments to keep each near `target_rate` KiB/s.
    ByDataRate = 1,
    /// Split or merge segments to keep each near `target_rate` events/s.
    ByEventRate = 2,
}

/// What a stream keeps: the values of `PravegaStreamPolicy.retention`.
#[repr(i32)]
pub enum PravegaRetention {
    /// Everything, until truncated by hand.
    Keep = 0,
    /// About `retention_param` milliseconds of data.
    ByTime = 1,
    /// About `retention_param` bytes of data.
    BySize = 2,
}

/// A stream's scaling and retention policy: passed by pointer and never kept, or filled
/// in by `pravega_manager_get_stream_policy`. A plain value owned by the caller.
///
/// The enum-like fields are plain integers so that any value a host passes can be
/// checked; an unknown one fails with `PRAVEGA_STATUS_INVALID_ARGUMENT`.
#[repr(C)]
pub struct PravegaStreamPolicy {
    /// A `PravegaScaling` value.
    pub scaling: i32,
    /// KiB/s or events/s per segment; at least 1 unless scaling is fixed.
    pub target_rate: i32,
    /// How many segments one segment splits into; at least 1 unless scaling is fixed.
    pub scale_factor: i32,
    /// The number of segments (fixed), or the minimum (scaling by rate); at least 1.
    pub min_segments: i32,
    /// A `PravegaRetention` value.
    pub retention: i32,
    /// Milliseconds or bytes, as `retention` says; at least 1 unless keeping all.
    pub retention_param: i64,
}

impl PravegaStreamPolicy {
    fn to_scaling_and_retention(&self) -> FfiResult<(Scaling, Retention)> {
        let scale_type = match self.scaling {
            0 => ScaleType::FixedNumSegments,
            1 => ScaleType::ByRateInKbytesPerSec,
            2 => ScaleType::ByRateInEventsPerSec,
            other => return Err(invalid(format!("unknown scaling type {other}"))),
        };
        if self.min_segments < 1 {
            return Err(invalid(format!(
                "the segment count must be at least 1, not {}",
                self.min_segments
            )));
        }
        let fixed = matches!(scale_type, ScaleType::FixedNumSegments);
        if !fixed && (self.target_rate < 1 || self.scale_factor < 1) {
            return Err(invalid(format!(
                "target rate and scale factor must be at least 1, not {} and {}",
                self.target_rate, self.scale_factor
            )));
        }

        let retention_type = match self.retention {
            0 => RetentionType::None,
            1 => RetentionType::Time,
            2 => RetentionType::Size,
            other => return Err(invalid(format!("unknown retention type {other}"))),
        };
        let keeps_all = matches!(retention_type, RetentionType::None);
        if !keeps_all && self.retention_param < 1 {
            return Err(invalid(format!(
                "the retention limit must be at least 1, not {}",
                self.retention_param
            )));
        }

        let scaling = Scaling {
            scale_type,
            target_rate: if fixed { 0 } else { self.target_rate },
            scale_factor: if fixed { 0 } else { self.scale_factor },
            min_num_segments: self.min_segments,
        };
        let retention = Retention {
            retention_type,
            retention_param: if keeps_all { 0 } else { self.retention_param },
        };
        Ok((scaling, retention))
    }

    fn from_configuration(configuration: &StreamConfiguration) -> Self {
        let scaling = &configuration.scaling;
        let retention = &configuration.retention;
        PravegaStreamPolicy {
            scaling: match scaling.scale_type {
                ScaleType::FixedNumSegments => PravegaScaling::Fixed as i32,
                ScaleType::ByRateInKbytesPerSec => PravegaScaling::ByDataRate as i32,
                ScaleType::ByRateInEventsPerSec => PravegaScaling::ByEventRate as i32,
            },
            target_rate: scaling.target_rate,
            scale_factor: scaling.scale_factor,
            min_segments: scaling.min_num_segments,
            retention: match retention.retention_type {
                RetentionType::None => PravegaRetention::Keep as i32,
                RetentionType::Time => PravegaRetention::ByTime as i32,
                RetentionType::Size => PravegaRetention::BySize as i32,
            },
            retention_param: retention.retention_param,
        }
    }
}

fn invalid(message: String) -> PravegaError {
    PravegaError::invalid_argument(message)
}

/// Reads `tags`/`count`: NULL with 0 means "no tags given".
fn tag_list(tags: *const *const c_char, count: usize) -> FfiResult<Option<Vec<String>>> {
    if tags.is_null() {
        if count == 0 {
            return Ok(None);
        }
        return Err(invalid(format!("tags is NULL but tag_count is {count}")));
    }
    // SAFETY: the caller promises `count` readable pointers at `tags`.
    let pointers = unsafe { std::slice::from_raw_parts(tags, count) };
    let tags = pointers
        .iter()
        .enumerate()
        .map(|(index, &tag)| args::required_name(&format!("tags[{index}]"), tag).map(String::from))
        .collect::<FfiResult<Vec<_>>>()?;
    Ok(Some(tags))
}

/// Lists the streams of a scope, following pagination, including the server's internal
/// `_MARK` streams as the controller reports them. An unknown scope gives an empty list.
/// Blocks. The caller frees `*out` with `pravega_string_list_free`.
///
/// Fails with `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached, and
/// `PRAVEGA_STATUS_CONTROLLER_ERROR` when it fails the request.
#[no_mangle]
pub extern "C" fn pravega_manager_list_streams(
    manager: *const PravegaManager,
    scope: *const c_char,
    out: *mut *mut PravegaStringList,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let scope = Scope {
            name: args::required_name("scope", scope)?.to_string(),
        };
        args::out_ptr("out", out)?;

        let what = format!("list streams of scope {:?}", scope.name);
        let controller = manager.factory.controller_client();
        let mut names = Vec::new();
        let mut token = CToken::empty();
        while let Some((page, next)) =
            manager.call(&what, controller.list_streams(&scope, &token))?
        {
            names.extend(page.into_iter().map(|stream| stream.stream.name));
            token = next;
        }
        let list = PravegaStringList::from_strings(names);
        args::store(out, Box::into_raw(Box::new(list)));
        Ok(())
    })
}

/// Creates a stream with `initial_segments` fixed segments, no retention limit and no
/// tags. `*created` is false when it already existed. Blocks.
///
/// Fails with:
/// - `PRAVEGA_STATUS_INVALID_ARGUMENT` when `initial_segments` is less than 1.
/// - `PRAVEGA_STATUS_NOT_FOUND` when the scope does not exist, or the controller finds
///   the stream name invalid (it does not tell the two apart).
/// - `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached, and
///   `PRAVEGA_STATUS_CONTROLLER_ERROR` when it fails the request.
#[no_mangle]
pub extern "C" fn pravega_manager_create_stream(
    manager: *const PravegaManager,
    scope: *const c_char,
    stream: *const c_char,
    initial_segments: i32,
    created: *mut bool,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    let policy = PravegaStreamPolicy {
        scaling: PravegaScaling::Fixed as i32,
        target_rate: 0,
        scale_factor: 0,
        min_segments: initial_segments,
        retention: PravegaRetention::Keep as i32,
        retention_param: 0,
    };
    pravega_manager_create_stream_with_policy(
        manager,
        scope,
        stream,
        &policy,
        std::ptr::null(),
        0,
        created,
        error,
    )
}

/// Whether a policy call makes a new stream or changes an existing one.
#[derive(Clone, Copy)]
enum PolicyChange {
    Create,
    Update,
}

/// The shared body of the create- and update-with-policy calls.
#[allow(clippy::too_many_arguments)]
fn apply_policy(
    change: PolicyChange,
    manager: *const PravegaManager,
    scope: *const c_char,
    stream: *const c_char,
    policy: *const PravegaStreamPolicy,
    tags: *const *const c_char,
    tag_count: usize,
    done: *mut bool,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let stream = args::scoped_stream(scope, stream)?;
        let (scaling, retention) = args::handle("policy", policy)?.to_scaling_and_retention()?;
        let tags = tag_list(tags, tag_count)?;
        let (out_name, verb) = match change {
            PolicyChange::Create => ("created", "create"),
            PolicyChange::Update => ("updated", "update"),
        };
        args::out_ptr(out_name, done)?;

        let what = format!("{verb} stream {stream}");
        let configuration = StreamConfiguration {
            scoped_stream: stream,
            scaling,
            retention,
            tags,
        };
        let controller = manager.factory.controller_client();
        let result = match change {
            PolicyChange::Create => manager.call(&what, controller.create_stream(&configuration)),
            PolicyChange::Update => manager.call(&what, controller.update_stream(&configuration)),
        }?;
        args::store(done, result);
        Ok(())
    })
}

/// Creates a stream with `policy` and, unless `tags` is NULL, `tag_count` tags.
/// `*created` is false when it already existed (its policy is then left as it was).
/// Blocks.
///
/// Fails with:
/// - `PRAVEGA_STATUS_INVALID_ARGUMENT` when a policy field is out of range (see
///   `PravegaStreamPolicy`), a tag is NULL or empty, or `tags` is NULL but `tag_count`
///   is not 0.
/// - `PRAVEGA_STATUS_NOT_FOUND` when the scope does not exist, or the controller finds
///   the stream name invalid.
/// - `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached, and
///   `PRAVEGA_STATUS_CONTROLLER_ERROR` when it fails the request.
#[no_mangle]
pub extern "C" fn pravega_manager_create_stream_with_policy(
    manager: *const PravegaManager,
    scope: *const c_char,
    stream: *const c_char,
    policy: *const PravegaStreamPolicy,
    tags: *const *const c_char,
    tag_count: usize,
    created: *mut bool,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    let change = PolicyChange::Create;
    apply_policy(
        change, manager, scope, stream, policy, tags, tag_count, created, error,
    )
}

/// Replaces the policy of an existing stream and, unless `tags` is NULL, its tags.
/// `*updated` is true on success. Blocks.
///
/// Fails with:
/// - `PRAVEGA_STATUS_INVALID_ARGUMENT` for the policy and tags, as
///   `pravega_manager_create_stream_with_policy` says.
/// - `PRAVEGA_STATUS_NOT_FOUND` when the stream or its scope does not exist.
/// - `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached, and
///   `PRAVEGA_STATUS_CONTROLLER_ERROR` when it fails the request.
#[no_mangle]
pub extern "C" fn pravega_manager_update_stream_with_policy(
    manager: *const PravegaManager,
    scope: *const c_char,
    stream: *const c_char,
    policy: *const PravegaStreamPolicy,
    tags: *const *const c_char,
    tag_count: usize,
    updated: *mut bool,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    let change = PolicyChange::Update;
    apply_policy(
        change, manager, scope, stream, policy, tags, tag_count, updated, error,
    )
}

/// Reads the policy of a stream into `*policy`, which the caller provides. Blocks.
///
/// Fails with `PRAVEGA_STATUS_NOT_FOUND` when the stream does not exist,
/// `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached, and
/// `PRAVEGA_STATUS_CONTROLLER_ERROR` when it fails the request.
#[no_mangle]
pub extern "C" fn pravega_manager_get_stream_policy(
    manager: *const PravegaManager,
    scope: *const c_char,
    stream: *const c_char,
    policy: *mut PravegaStreamPolicy,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let stream = args::scoped_stream(scope, stream)?;
        args::out_ptr("policy", policy)?;

        let what = format!("get the policy of stream {stream}");
        let controller = manager.factory.controller_client();
        let configuration = manager.call(&what, controller.get_stream_configuration(&stream))?;
        args::store(
            policy,
            PravegaStreamPolicy::from_configuration(&configuration),
        );
        Ok(())
    })
}

/// Lists the tags of a stream; a stream without tags gives an empty list. Blocks. The
/// caller frees `*out` with `pravega_string_list_free`.
///
/// Fails with `PRAVEGA_STATUS_NOT_FOUND` when the stream does not exist,
/// `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached, and
/// `PRAVEGA_STATUS_CONTROLLER_ERROR` when it fails the request.
#[no_mangle]
pub extern "C" fn pravega_manager_get_stream_tags(
    manager: *const PravegaManager,
    scope: *const c_char,
    stream: *const c_char,
    out: *mut *mut PravegaStringList,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let stream = args::scoped_stream(scope, stream)?;
        args::out_ptr("out", out)?;

        let what = format!("get the tags of stream {stream}");
        let controller = manager.factory.controller_client();
        let tags = manager.call(&what, controller.get_stream_tags(&stream))?;
        let list = PravegaStringList::from_strings(tags.unwrap_or_default());
        args::store(out, Box::into_raw(Box::new(list)));
        Ok(())
    })
}

/// Seals a stream, so that it takes no more writes. `*sealed` is true on success.
/// Blocks.
///
/// Fails with `PRAVEGA_STATUS_NOT_FOUND` when the stream or its scope does not exist,
/// `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached, and
/// `PRAVEGA_STATUS_CONTROLLER_ERROR` when it fails the request.
#[no_mangle]
pub extern "C" fn pravega_manager_seal_stream(
    manager: *const PravegaManager,
    scope: *const c_char,
    stream: *const c_char,
    sealed: *mut bool,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let stream = args::scoped_stream(scope, stream)?;
        args::out_ptr("sealed", sealed)?;

        let what = format!("seal stream {stream}");
        let controller = manager.factory.controller_client();
        args::store(
            sealed,
            manager.call(&what, controller.seal_stream(&stream))?,
        );
        Ok(())
    })
}

/// Deletes a sealed stream. `*deleted` is false when it did not exist. Blocks.
///
/// Fails with `PRAVEGA_STATUS_CONTROLLER_ERROR` when the stream is not sealed or the
/// controller fails the request, and `PRAVEGA_STATUS_UNAVAILABLE` when the controller
/// cannot be reached.
#[no_mangle]
pub extern "C" fn pravega_manager_delete_stream(
    manager: *const PravegaManager,
    scope: *const c_char,
    stream: *const c_char,
    deleted: *mut bool,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let stream = args::scoped_stream(scope, stream)?;
        args::out_ptr("deleted", deleted)?;

        let what = format!("delete stream {stream}");
        let controller = manager.factory.controller_client();
        args::store(
            deleted,
            manager.call(&what, controller.delete_stream(&stream))?,
        );
        Ok(())
    })
}
