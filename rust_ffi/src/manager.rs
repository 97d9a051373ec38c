//! The manager: one connection to a Pravega cluster, its runtime, and the admin calls.

use crate::args;
use crate::config::PravegaConfig;
use crate::error::{FfiResult, PravegaError, PravegaStatus};
use crate::guard::guarded;
use crate::runtime::SharedRuntime;
use crate::strings::PravegaStringList;
use pravega_client::client_factory::ClientFactoryAsync;
use pravega_client_retry::retry_result::RetryError;
use pravega_client_shared::{CToken, PravegaNodeUri, Scope, ScopedStream, Stream};
use pravega_controller_client::{ControllerClient, ControllerError};
use std::ffi::c_char;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A client for one Pravega cluster.
///
/// It owns a tokio runtime and a connection pool. Every object made from it (writers,
/// reader groups and readers, transactional writers and transactions, byte streams)
/// shares that runtime and keeps it alive: they go on working after the manager is
/// freed, and the runtime stops when the last of them is freed.
///
/// Thread-safe: any thread may call any function on it at the same time. Free it, once,
/// with `pravega_manager_free`.
pub struct PravegaManager {
    pub(crate) runtime: Arc<SharedRuntime>,
    pub(crate) factory: ClientFactoryAsync,
    pub(crate) controller_timeout: Duration,
}

impl PravegaManager {
    fn controller(&self) -> &dyn ControllerClient {
        self.factory.controller_client()
    }

    /// Runs one controller call to completion, within the configured time limit.
    pub(crate) fn call<T, F>(&self, what: &str, future: F) -> FfiResult<T>
    where
        F: Future<Output = Result<T, RetryError<ControllerError>>>,
    {
        let outcome = self
            .runtime
            .block_on_timeout(self.controller_timeout, what, future)?;
        let uri = &self.factory.config().controller_uri;
        outcome.map_err(|e| controller_error(what, uri, &e.error))
    }

    /// Runs a blocking step that is not a single controller call, with the same limit.
    pub(crate) fn wait<T, F: Future<Output = T>>(&self, what: &str, future: F) -> FfiResult<T> {
        self.runtime
            .block_on_timeout(self.controller_timeout, what, future)
    }
}

/// The status for a controller failure: `Unavailable` when the controller could not be
/// reached, `AuthFailed` when it refused the credentials, `NotFound` when it said the
/// object does not exist, `ControllerError` else.
pub(crate) fn controller_status(error: &ControllerError) -> PravegaStatus {
    match error {
        ControllerError::ConnectionError { .. } => PravegaStatus::Unavailable,
        // The crate keeps only the text of the gRPC status, so the code is matched there.
        ControllerError::OperationError { error_msg, .. }
            if error_msg.contains("Unauthenticated") || error_msg.contains("PermissionDenied") =>
        {
            PravegaStatus::AuthFailed
        }
        ControllerError::OperationError { error_msg, .. }
            if error_msg.contains("Not Found") || error_msg.contains("NotFound") =>
        {
            PravegaStatus::NotFound
        }
        _ => PravegaStatus::ControllerError,
    }
}

fn controller_error(what: &str, uri: &PravegaNodeUri, error: &ControllerError) -> PravegaError {
    let status = controller_status(error);
    if status == PravegaStatus::Unavailable {
        // The TLS library below reports a certificate it does not trust as a bare
        // "transport error", so name that cause for TLS users.
        let hint = if uri.starts_with("tls://") || uri.starts_with("ssl://") {
            " (over TLS this is also how a server certificate that the trust \
             certificate does not cover shows)"
        } else {
            ""
        };
        let text = format!(
            "{what} failed: cannot reach the controller at {}{hint}: {error}",
            **uri
        );
        return PravegaError::new(status, text);
    }
    PravegaError::new(status, format!("{what} failed: {error}"))
}

pub(crate) fn scoped_stream(scope: &str, stream: &str) -> ScopedStream {
    ScopedStream {
        scope: Scope {
            name: scope.to_string(),
        },
        stream: Stream {
            name: stream.to_string(),
        },
    }
}

/// Connects a manager to the controller at `controller_uri` (`tcp://host:port` or
/// `tls://host:port`).
///
/// `config` may be NULL for defaults; it is copied, not kept. Does not block: no network
/// call is made here, so a wrong address shows up on the first call that needs the
/// controller. On success `*out` receives a manager that the caller frees with
/// `pravega_manager_free`.
///
/// Fails with:
/// - `PRAVEGA_STATUS_INVALID_ARGUMENT` when the URI is not `tcp://` or `tls://` followed
///   by `host:port` (several joined by commas; a host is a name of ASCII letters, digits,
///   '-' and '.', or an IPv6 address in brackets, and a port is from 1 to 65535),
///   `tls.enabled` disagrees with the scheme, or the credentials are incomplete or given
///   twice (a username without a password, or both a username and a token).
/// - `PRAVEGA_STATUS_INTERNAL` when the runtime's threads cannot be started.
#[no_mangle]
pub extern "C" fn pravega_manager_new(
    controller_uri: *const c_char,
    config: *const PravegaConfig,
    out: *mut *mut PravegaManager,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let uri = args::required_name("controller_uri", controller_uri)?;
        args::out_ptr("out", out)?;
        // SAFETY: a non-NULL config comes from `pravega_config_new`.
        let config = unsafe { config.as_ref() }.cloned().unwrap_or_default();

        let client_config = config.to_client_config(uri)?;
        let runtime = SharedRuntime::new()?;
        let factory = {
            // The controller client starts background work on the runtime it is given.
            let _context = runtime.handle().enter();
            ClientFactoryAsync::new(client_config, runtime.handle().clone())
        };

        let manager = PravegaManager {
            runtime,
            factory,
            controller_timeout: config.controller_timeout(),
        };
        args::store(out, Box::into_raw(Box::new(manager)));
        Ok(())
    })
}

/// Frees a manager. NULL is ignored; freeing twice is undefined behaviour.
///
/// Objects made from the manager stay usable. When nothing else holds the runtime, this
/// stops it, waiting up to 5 s for its threads (inside a callback it leaves that to a
/// thread of its own and returns at once); operations still pending then complete with
/// `PRAVEGA_STATUS_CANCELLED`. Safe to call from any thread, including from inside a
/// callback.
#[no_mangle]
pub extern "C" fn pravega_manager_free(manager: *mut PravegaManager) {
    let _ = guarded(std::ptr::null_mut(), || {
        if !manager.is_null() {
            // SAFETY: made by `pravega_manager_new`, freed once.
            drop(unsafe { Box::from_raw(manager) });
        }
        Ok(())
    });
}

/// Creates a scope. `*created` is false when it already existed. Blocks.
///
/// Fails with `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached, and
/// `PRAVEGA_STATUS_CONTROLLER_ERROR` when it refuses (for example an invalid name).
#[no_mangle]
pub extern "C" fn pravega_manager_create_scope(
    manager: *const PravegaManager,
    scope: *const c_char,
    created: *mut bool,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let scope = Scope {
            name: args::required_name("scope", scope)?.to_string(),
        };
        args::out_ptr("created", created)?;

        let what = format!("create scope {:?}", scope.name);
        let result = manager.call(&what, manager.controller().create_scope(&scope))?;
        args::store(created, result);
        Ok(())
    })
}

/// Deletes an empty scope. `*deleted` is false when it did not exist. Blocks.
///
/// Fails with `PRAVEGA_STATUS_CONTROLLER_ERROR` when the scope still holds streams, and
/// `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached.
#[no_mangle]
pub extern "C" fn pravega_manager_delete_scope(
    manager: *const PravegaManager,
    scope: *const c_char,
    deleted: *mut bool,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        let scope = Scope {
            name: args::required_name("scope", scope)?.to_string(),
        };
        args::out_ptr("deleted", deleted)?;

        let what = format!("delete scope {:?}", scope.name);
        let result = manager.call(&what, manager.controller().delete_scope(&scope))?;
        args::store(deleted, result);
        Ok(())
    })
}

/// Lists every scope, following the controller's pagination. Blocks.
///
/// On success `*out` receives a list that the caller frees with
/// `pravega_string_list_free`.
///
/// Fails with `PRAVEGA_STATUS_UNAVAILABLE` when the controller cannot be reached, and
/// `PRAVEGA_STATUS_CONTROLLER_ERROR` when it fails the request.
#[no_mangle]
pub extern "C" fn pravega_manager_list_scopes(
    manager: *const PravegaManager,
    out: *mut *mut PravegaStringList,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        let manager = args::handle("manager", manager)?;
        args::out_ptr("out", out)?;

        let mut names = Vec::new();
        let mut token = CToken::empty();
        while let Some((page, next)) =
            manager.call("list scopes", manager.controller().list_scopes(&token))?
        {
            names.extend(page.into_iter().map(|scope| scope.name));
            token = next;
        }
        args::store(
            out,
            Box::into_raw(Box::new(PravegaStringList::from_strings(names))),
        );
        Ok(())
    })
}
