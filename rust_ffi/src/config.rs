//! Client settings, given as string keys and values so that the C ABI never changes
//! shape when a setting is added.

use crate::args;
use crate::error::{FfiResult, PravegaError, PravegaStatus};
use crate::guard::guarded;
use pravega_client_config::credentials::Credentials;
use pravega_client_config::{ClientConfig, ClientConfigBuilder};
use pravega_client_retry::retry_policy::RetryWithBackoff;
use std::ffi::c_char;
use std::time::Duration;

/// The environment variable through which the Rust client finds a trust certificate.
const TLS_CERT_PATH_ENV: &str = "pravega_client_tls_cert_path";

/// How many idle connections to each segment store a manager keeps for reuse. The
/// crate's default keeps every connection it ever opened: each reader that goes away
/// while its fetch task waits at the tail of a segment leaves one more behind.
const IDLE_CONNECTIONS_PER_ENDPOINT: u32 = 16;

/// Settings for a manager. Build one with `pravega_config_new` and `pravega_config_set`,
/// pass it to `pravega_manager_new`, then free it with `pravega_config_free`.
///
/// Not thread-safe: set it from one thread at a time. A manager copies what it needs,
/// so the config may be freed right after `pravega_manager_new`.
#[derive(Clone, Default)]
pub struct PravegaConfig {
    auth_enabled: Option<bool>,
    username: Option<String>,
    password: Option<String>,
    token: Option<String>,
    tls_enabled: Option<bool>,
    disable_cert_verification: bool,
    trust_cert: Option<String>,
    controller_timeout: Option<Duration>,
    retry: RetrySettings,
}

/// How long a blocking controller call may take when no timeout was set.
pub(crate) const DEFAULT_CONTROLLER_TIMEOUT: Duration = Duration::from_secs(30);

/// Back-off for failed requests, to the controller and to segment stores.
///
/// The crate's own default retries without end, so an unreachable controller only
/// fails after ~60 s. These defaults give up after 8 tries, ~7 s in all (10 ms, 40 ms,
/// 160 ms, 640 ms, then 2 s), which is long enough to ride out a connection reset and
/// short enough that a wrong address is reported promptly.
#[derive(Clone)]
struct RetrySettings {
    initial_delay: Duration,
    backoff_coefficient: u32,
    max_delay: Duration,
    /// `None` retries without end.
    max_attempts: Option<usize>,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            initial_delay: Duration::from_millis(10),
            backoff_coefficient: 4,
            max_delay: Duration::from_secs(2),
            max_attempts: Some(8),
        }
    }
}

impl RetrySettings {
    fn policy(&self) -> RetryWithBackoff {
        let policy = RetryWithBackoff::default_setting()
            .initial_delay(self.initial_delay)
            .backoff_coefficient(self.backoff_coefficient)
            .max_delay(self.max_delay);
        match self.max_attempts {
            Some(attempts) => policy.max_attempt(attempts),
            None => policy,
        }
    }
}

impl PravegaConfig {
    fn set(&mut self, key: &str, value: &str) -> FfiResult<()> {
        match key {
            "auth.enabled" => self.auth_enabled = Some(parse_bool(key, value)?),
            "auth.username" => self.username = Some(value.to_string()),
            "auth.password" => self.password = Some(value.to_string()),
            "auth.token" => self.token = Some(value.to_string()),
            "tls.enabled" => self.tls_enabled = Some(parse_bool(key, value)?),
            "tls.disable_cert_verification" => {
                self.disable_cert_verification = parse_bool(key, value)?
            }
            "tls.trust_cert" => self.trust_cert = Some(read_pem(value)?),
            "controller.timeout_ms" => {
                let millis = parse_positive(key, value)?;
                self.controller_timeout = Some(Duration::from_millis(millis));
            }
            "retry.initial_delay_ms" => {
                self.retry.initial_delay = Duration::from_millis(parse_positive(key, value)?)
            }
            "retry.backoff_coefficient" => {
                let coefficient = parse_positive(key, value)?;
                self.retry.backoff_coefficient = u32::try_from(coefficient).map_err(|_| {
                    PravegaError::invalid_argument(format!("{key} is too large: {value}"))
                })?;
            }
            "retry.max_delay_ms" => {
                self.retry.max_delay = Duration::from_millis(parse_positive(key, value)?)
            }
            "retry.max_attempts" => {
                // 0 means no limit, as the crate's own default.
                let attempts = parse_count(key, value)?;
                self.retry.max_attempts = (attempts > 0).then_some(attempts);
            }
            _ => {
                return Err(PravegaError::invalid_argument(format!(
                    "unknown configuration key {key:?}"
                )))
            }
        }
        Ok(())
    }

    pub(crate) fn controller_timeout(&self) -> Duration {
        self.controller_timeout
            .unwrap_or(DEFAULT_CONTROLLER_TIMEOUT)
    }

    /// Builds the crate's config. Settings not given here fall back to the crate's own
    /// defaults, which read the `pravega_client_*` environment variables.
    pub(crate) fn to_client_config(&self, controller_uri: &str) -> FfiResult<ClientConfig> {
        let uri = controller_uri.trim();
        let is_tls_uri = uri.starts_with("tls://") || uri.starts_with("ssl://");
        if !(uri.starts_with("tcp://") || is_tls_uri) {
            return Err(PravegaError::invalid_argument(format!(
                "controller URI {uri:?} must start with tcp:// or tls://"
            )));
        }
        check_endpoints(uri)?;
        if is_tls_uri {
            check_tls_host_names(uri)?;
        }
        let tls_enabled = self.tls_enabled.unwrap_or(is_tls_uri);
        if tls_enabled != is_tls_uri {
            return Err(PravegaError::invalid_argument(format!(
                "tls_enabled={tls_enabled} does not match the scheme of {uri:?}"
            )));
        }

        let uri = upper_case_addresses(uri);
        let mut builder = ClientConfigBuilder::default();
        builder
            .controller_uri(uri.as_str())
            .retry_policy(self.retry.policy())
            .is_tls_enabled(tls_enabled)
            .disable_cert_verification(self.disable_cert_verification)
            .max_connections_in_pool(IDLE_CONNECTIONS_PER_ENDPOINT);
        if let Some(credentials) = self.credentials()? {
            builder.credentials(credentials);
        }
        if let Some(enabled) = self.auth_enabled {
            builder.is_auth_enabled(enabled);
        }
        match &self.trust_cert {
            Some(pem) => {
                builder.trustcerts(vec![pem.clone()]);
            }
            // The crate would otherwise look for ./certs and panic when it is missing.
            None if std::env::var_os(TLS_CERT_PATH_ENV).is_none() => {
                builder.trustcerts(vec![]);
            }
            None => {}
        }

        builder.build().map_err(|e| {
            PravegaError::invalid_argument(format!("invalid client configuration: {e}"))
        })
    }

    fn credentials(&self) -> FfiResult<Option<Credentials>> {
        match (&self.username, &self.password, &self.token) {
            (None, None, None) => Ok(None),
            (None, None, Some(token)) => Ok(Some(Credentials::basic_with_token(token.clone()))),
            (Some(user), Some(password), None) => {
                Ok(Some(Credentials::basic(user.clone(), password.clone())))
            }
            (_, _, Some(_)) => Err(PravegaError::invalid_argument(
                "give either auth.token or auth.username with auth.password, not both",
            )),
            _ => Err(PravegaError::invalid_argument(
                "auth.username and auth.password must be given together",
            )),
        }
    }
}

/// Checks `scheme://host:port[,host:port...]` before the crate sees it.
///
/// The crate reads the first endpoint with a pattern of its own, and panics on a URI that
/// the pattern does not match or whose port overflows a u16. So every endpoint is held to
/// that pattern here: a host of ASCII letters, digits, '-' and '.', or an IPv6 address in
/// brackets, then a decimal port from 1 to 65535.
fn check_endpoints(uri: &str) -> FfiResult<()> {
    let endpoints = uri.split_once("://").map_or("", |(_, rest)| rest);
    for endpoint in endpoints.split(',') {
        let (host, port) = endpoint.rsplit_once(':').unwrap_or((endpoint, ""));
        let port_ok = !port.is_empty()
            && port.bytes().all(|byte| byte.is_ascii_digit())
            && port.parse::<u16>().map_or(false, |port| port != 0);
        if !port_ok || !is_endpoint_host(host) {
            return Err(PravegaError::invalid_argument(format!(
                "controller URI {uri:?} must name host:port, with a host of ASCII letters, \
                 digits, '-' and '.' or an IPv6 address in brackets, and a port from 1 to \
                 65535"
            )));
        }
    }
    Ok(())
}

fn is_endpoint_host(host: &str) -> bool {
    if let Some(address) = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
    {
        return !address.is_empty()
            && address
                .bytes()
                .all(|byte| byte.is_ascii_hexdigit() || byte == b':' || byte == b'.');
    }
    !host.is_empty()
        && host
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.')
}

/// The crate's pattern takes only upper-case hex digits in an IPv6 address; the case of
/// a hex digit means nothing, so lower-case ones are raised rather than refused.
fn upper_case_addresses(uri: &str) -> String {
    let mut in_brackets = false;
    uri.chars()
        .map(|c| {
            match c {
                '[' => in_brackets = true,
                ']' => in_brackets = false,
                _ => {}
            }
            if in_brackets {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// TLS endpoints must be host names. The crate's TLS library (rustls 0.19) cannot check
/// a certificate against an IP address: it refuses the connection, and the caller would
/// see only "cannot reach the controller" after every retry.
fn check_tls_host_names(uri: &str) -> FfiResult<()> {
    let endpoints = uri.split_once("://").map_or("", |(_, rest)| rest);
    for endpoint in endpoints.split(',') {
        let host = endpoint.rsplit_once(':').map_or(endpoint, |(host, _)| host);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if bare.parse::<std::net::IpAddr>().is_ok() {
            return Err(PravegaError::invalid_argument(format!(
                "controller URI {uri:?} names the IP address {host}, but TLS needs a host \
                 name that the server's certificate lists, such as tls://localhost:9090"
            )));
        }
    }
    Ok(())
}

fn parse_bool(key: &str, value: &str) -> FfiResult<bool> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(PravegaError::invalid_argument(format!(
            "{key} must be true or false, not {value:?}"
        ))),
    }
}

fn parse_positive(key: &str, value: &str) -> FfiResult<u64> {
    match value.parse::<u64>() {
        Ok(number) if number > 0 => Ok(number),
        _ => Err(PravegaError::invalid_argument(format!(
            "{key} must be a positive integer, not {value:?}"
        ))),
    }
}

fn parse_count(key: &str, value: &str) -> FfiResult<usize> {
    value.parse::<usize>().map_err(|_| {
        PravegaError::invalid_argument(format!(
            "{key} must be a non-negative integer, not {value:?}"
        ))
    })
}

/// Accepts PEM text as it is, or reads it from the file that `value` names.
fn read_pem(value: &str) -> FfiResult<String> {
    if value.contains("-----BEGIN") {
        return Ok(value.to_string());
    }
    std::fs::read_to_string(value).map_err(|e| {
        PravegaError::new(
            PravegaStatus::InvalidArgument,
            format!("cannot read trust certificate {value:?}: {e}"),
        )
    })
}

/// Makes an empty config, every setting at its default. The caller frees `*out` with
/// `pravega_config_free`.
#[no_mangle]
pub extern "C" fn pravega_config_new(
    out: *mut *mut PravegaConfig,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        args::out_ptr("out", out)?;
        args::store(out, Box::into_raw(Box::<PravegaConfig>::default()));
        Ok(())
    })
}

/// Sets one setting. Keys:
///
/// - `auth.enabled`: `true` or `false`.
/// - `auth.username`, `auth.password`: basic credentials, given together.
/// - `auth.token`: a ready-made basic token, instead of username and password.
/// - `tls.enabled`: must agree with the URI scheme (`tls://` means TLS).
/// - `tls.disable_cert_verification`: `true` or `false`.
/// - `tls.trust_cert`: PEM text, or the path of a PEM file, read now.
/// - `controller.timeout_ms`: limit for each blocking controller call (default 30000).
/// - `retry.initial_delay_ms` (10), `retry.backoff_coefficient` (4), `retry.max_delay_ms`
///   (2000), `retry.max_attempts` (8; 0 for no limit): back-off for failed requests to
///   the controller and the segment stores.
///
/// Neither string is kept after the call. Does not block. Whether the settings fit
/// together (TLS and the URI scheme, credentials in pairs) is checked by
/// `pravega_manager_new`.
///
/// Fails with `PRAVEGA_STATUS_INVALID_ARGUMENT` for an unknown key, a malformed value,
/// or a `tls.trust_cert` file that cannot be read; the config is then unchanged.
#[no_mangle]
pub extern "C" fn pravega_config_set(
    config: *mut PravegaConfig,
    key: *const c_char,
    value: *const c_char,
    error: *mut *mut PravegaError,
) -> PravegaStatus {
    guarded(error, || {
        // SAFETY: a non-NULL config comes from `pravega_config_new` and is used by one
        // thread at a time, as documented.
        let config = unsafe { config.as_mut() }
            .ok_or_else(|| PravegaError::invalid_argument("config must not be NULL"))?;
        let key = args::required_str("key", key)?;
        let value = args::required_str("value", value)?;
        config.set(key, value)
    })
}

/// Frees a config. NULL is ignored; freeing twice is undefined behaviour. Managers made
/// with it are not affected.
#[no_mangle]
pub extern "C" fn pravega_config_free(config: *mut PravegaConfig) {
    if !config.is_null() {
        // SAFETY: made by `pravega_config_new`, freed once.
        drop(unsafe { Box::from_raw(config) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(uri: &str) -> PravegaStatus {
        match PravegaConfig::default().to_client_config(uri) {
            Ok(_) => PravegaStatus::Ok,
            Err(error) => error.status,
        }
    }

    #[test]
    fn hosts_and_ports_the_crate_would_panic_on_are_refused() {
        // Found by tests/fuzz: each of these reached the crate and made it panic.
        for uri in [
            "tcp://a:99999x:1",
            "tcp://_:9090",
            "tcp://\u{e9}:9090",
            "tcp://a::1",
            "tcp://a:+9090",
            "tcp://a:9090,_:9090",
            "tcp://[]:9090",
        ] {
            assert_eq!(status_of(uri), PravegaStatus::InvalidArgument, "{uri}");
        }
    }

    #[test]
    fn well_formed_endpoints_are_accepted() {
        for uri in [
            "tcp://127.0.0.1:9090",
            "tcp://localhost:9090,other-host.example:9091",
            "tcp://[::1]:9090",
            "tcp://[fe80::1]:65535",
            "tls://localhost:9090",
        ] {
            assert_eq!(status_of(uri), PravegaStatus::Ok, "{uri}");
        }
    }

    #[test]
    fn lower_case_ipv6_digits_are_raised_for_the_crate() {
        assert_eq!(
            upper_case_addresses("tcp://[fe80::a]:9090,host:1"),
            "tcp://[FE80::A]:9090,host:1"
        );
    }
}
