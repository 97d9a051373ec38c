"""StreamManager: the entry point, holding one connection to a Pravega cluster."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import _logging
from ._ffi import encode_name, ffi, invoke, lib, string_list
from ._handle import NativeHandle
from ._interrupt import interruptible
from .byte_stream import ByteStream
from .exceptions import InvalidArgumentError
from .policies import RetryPolicy, StreamRetentionPolicy, StreamScalingPolicy
from .stream_reader import (
    StreamCuts,
    StreamReaderGroup,
    StreamReaderGroupConfig,
    native_group_config,
)
from .stream_writer import StreamWriter
from .transaction import StreamTxnWriter

logger = logging.getLogger("pravega_client")


class StreamManager(NativeHandle):
    """A client for one Pravega cluster, and the factory of writers and readers.

    The four positional arguments mean what they mean in the ``pravega`` 0.3.8
    package. The keyword-only ones make environment variables unnecessary:

    - ``username`` with ``password``, or ``token``: credentials for basic auth. Giving
      them turns ``auth_enabled`` on. Without them, ``auth_enabled=True`` takes them
      from the Rust client's environment variables: ``pravega_client_auth_method``
      set to ``Basic``, with ``pravega_client_auth_username`` and
      ``pravega_client_auth_password`` or with ``pravega_client_auth_token``. With
      ``auth_enabled`` false, as by default, those variables are ignored.
    - ``trust_cert``: the CA certificate for TLS, as a PEM file path or PEM text.
      Without it ``pravega_client_tls_cert_path`` still applies.
    - ``timeout``: the limit in seconds for each blocking controller call (30).
    - ``retry``: a :class:`RetryPolicy` for failed requests.

    Every method blocks the calling thread (never the GIL) until the controller
    answers, the retries give up, or ``timeout`` passes. Failures raise subclasses of
    :class:`PravegaError` that are also ``ValueError``, as in 0.3.8.

    Writers, reader groups and readers made here share the manager's runtime and
    keep working after the manager is closed.
    """

    def __init__(
        self,
        controller_uri: str,
        auth_enabled: bool = False,
        tls_enabled: bool = False,
        disable_cert_verification: bool = False,
        *,
        username: Optional[str] = None,
        password: Optional[str] = None,
        token: Optional[str] = None,
        trust_cert: Optional[str] = None,
        timeout: Optional[float] = None,
        retry: Optional[RetryPolicy] = None,
    ) -> None:
        # Applies a log level set just before, and restarts the log pump in a child
        # process made by fork, which does not inherit the thread.
        _logging.start()
        self._uri = controller_uri
        uri = encode_name("controller_uri", controller_uri)
        settings = _settings(
            auth_enabled,
            tls_enabled,
            disable_cert_verification,
            username=username,
            password=password,
            token=token,
            trust_cert=trust_cert,
            timeout=timeout,
            retry=retry,
        )

        config_box = ffi.new("PravegaConfig **")
        invoke(lib.pravega_config_new, config_box)
        config = config_box[0]
        try:
            for key, value in settings.items():
                invoke(lib.pravega_config_set, config, key.encode(), value)
            manager_box = ffi.new("PravegaManager **")
            invoke(lib.pravega_manager_new, uri, config, manager_box)
        finally:
            lib.pravega_config_free(config)
        super().__init__(manager_box[0], lib.pravega_manager_free)
        if disable_cert_verification:
            logger.warning(
                "TLS certificate verification is disabled for %s", controller_uri
            )

    def _bool_call(self, function: Any, *args: Any) -> bool:
        result = ffi.new("bool *")
        self._invoke(function, *args, result)
        return bool(result[0])

    # Scopes

    @interruptible
    def create_scope(self, scope_name: str) -> bool:
        """Creates a scope; returns False when it already existed.

        Blocks on the controller. Raises :class:`InvalidArgumentError` for a name
        the server would refuse, and :class:`ControllerError` or
        :class:`PravegaConnectionError` when the request fails.
        """
        scope = encode_name("scope_name", scope_name)
        return self._bool_call(lib.pravega_manager_create_scope, scope)

    @interruptible
    def delete_scope(self, scope_name: str) -> bool:
        """Deletes an empty scope; returns False when it did not exist.

        Blocks on the controller. Raises :class:`ControllerError` when the scope
        still holds streams or the request fails.
        """
        scope = encode_name("scope_name", scope_name)
        return self._bool_call(lib.pravega_manager_delete_scope, scope)

    @interruptible
    def list_scope(self) -> List[str]:
        """The names of every scope, across all pages of the controller's answer.

        Blocks on the controller. Raises :class:`ControllerError` or
        :class:`PravegaConnectionError` when the request fails.
        """
        box = ffi.new("PravegaStringList **")
        self._invoke(lib.pravega_manager_list_scopes, box)
        return string_list(box)

    # Streams

    @interruptible
    def create_stream(
        self, scope_name: str, stream_name: str, initial_segments: int
    ) -> bool:
        """Creates a stream with a fixed number of segments; returns False when it
        existed.

        Blocks on the controller. Raises :class:`InvalidArgumentError` for a bad
        name or segment count, :class:`NotFoundError` when the scope does not exist,
        and :class:`ControllerError` when the request fails.
        """
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        segments = _segment_count(initial_segments)
        return self._bool_call(
            lib.pravega_manager_create_stream, scope, stream, segments
        )

    @interruptible
    def create_stream_with_policy(
        self,
        scope_name: str,
        stream_name: str,
        scaling_policy: Optional[StreamScalingPolicy] = None,
        retention_policy: Optional[StreamRetentionPolicy] = None,
        tags: Optional[Sequence[str]] = None,
    ) -> bool:
        """Creates a stream with the given policies (fixed 1 segment, keep all by
        default) and tags; returns False when it already existed.

        Blocks on the controller. Raises :class:`InvalidArgumentError` for a bad
        name, policy or tag, and :class:`ControllerError` when the request fails.
        """
        return self._stream_policy_call(
            lib.pravega_manager_create_stream_with_policy,
            scope_name,
            stream_name,
            scaling_policy,
            retention_policy,
            tags,
        )

    @interruptible
    def update_stream_with_policy(
        self,
        scope_name: str,
        stream_name: str,
        scaling_policy: Optional[StreamScalingPolicy] = None,
        retention_policy: Optional[StreamRetentionPolicy] = None,
        tags: Optional[Sequence[str]] = None,
    ) -> bool:
        """Replaces a stream's policies and, unless ``tags`` is None, its tags.

        Blocks on the controller until the update is done. Raises
        :class:`InvalidArgumentError` for a bad policy or tag, and
        :class:`ControllerError` when the stream does not exist or the request fails.
        """
        return self._stream_policy_call(
            lib.pravega_manager_update_stream_with_policy,
            scope_name,
            stream_name,
            scaling_policy,
            retention_policy,
            tags,
        )

    @interruptible
    def get_stream_tags(self, scope_name: str, stream_name: str) -> List[str]:
        """The tags of a stream; [] when it has none.

        Blocks on the controller. Raises :class:`ControllerError` when the stream
        does not exist or the request fails.
        """
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        box = ffi.new("PravegaStringList **")
        self._invoke(lib.pravega_manager_get_stream_tags, scope, stream, box)
        return string_list(box)

    @interruptible
    def get_stream_policies(
        self, scope_name: str, stream_name: str
    ) -> Tuple[StreamScalingPolicy, StreamRetentionPolicy]:
        """The scaling and retention policies a stream has now.

        Blocks on the controller. Raises :class:`ControllerError` when the stream
        does not exist or the request fails.
        """
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        policy = ffi.new("PravegaStreamPolicy *")
        self._invoke(lib.pravega_manager_get_stream_policy, scope, stream, policy)
        return StreamScalingPolicy._read(policy), StreamRetentionPolicy._read(policy)

    def _stream_policy_call(
        self,
        function: Any,
        scope_name: str,
        stream_name: str,
        scaling_policy: Optional[StreamScalingPolicy],
        retention_policy: Optional[StreamRetentionPolicy],
        tags: Optional[Sequence[str]],
    ) -> bool:
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        scaling = _policy("scaling_policy", scaling_policy, StreamScalingPolicy)
        retention = _policy("retention_policy", retention_policy, StreamRetentionPolicy)
        policy = ffi.new("PravegaStreamPolicy *")
        scaling._fill(policy)
        retention._fill(policy)
        tag_array, tag_count, keep_alive = _tag_array(tags)

        result = self._bool_call(function, scope, stream, policy, tag_array, tag_count)
        del keep_alive  # the encoded tags had to live until the call returned
        return result

    @interruptible
    def list_stream(self, scope_name: str) -> List[str]:
        """The names of the streams in a scope; [] for an unknown or empty scope.

        Blocks on the controller. Raises :class:`ControllerError` or
        :class:`PravegaConnectionError` when the request fails.
        """
        scope = encode_name("scope_name", scope_name)
        box = ffi.new("PravegaStringList **")
        self._invoke(lib.pravega_manager_list_streams, scope, box)
        return string_list(box)

    @interruptible
    def seal_stream(self, scope_name: str, stream_name: str) -> bool:
        """Seals a stream so that it accepts no more writes; returns True.

        Events acknowledged before the seal stay readable. Blocks on the controller.
        Raises :class:`ControllerError` when the stream does not exist or the
        request fails.
        """
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        return self._bool_call(lib.pravega_manager_seal_stream, scope, stream)

    @interruptible
    def delete_stream(self, scope_name: str, stream_name: str) -> bool:
        """Deletes a sealed stream and its data; returns True.

        Blocks on the controller. Raises :class:`ControllerError` when the stream is
        not sealed, does not exist, or the request fails.
        """
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        return self._bool_call(lib.pravega_manager_delete_stream, scope, stream)

    # Writers and readers

    def create_writer(
        self, scope_name: str, stream_name: str, max_inflight_events: int = 0
    ) -> StreamWriter:
        """A writer for one stream; :class:`StreamWriter` explains the limit.

        Does not block: the writer connects on its first write. A stream or scope
        that does not exist is therefore reported by the first write or flush, with a
        :class:`PravegaIOError` that names it; the writer stays unusable after that,
        even once the stream is made. Raises :class:`InvalidArgumentError` for a bad
        name or limit.
        """
        max_inflight = _non_negative("max_inflight_events", max_inflight_events)
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        box = ffi.new("PravegaWriter **")
        self._invoke(lib.pravega_writer_new, scope, stream, box)
        return StreamWriter(box[0], f"{scope_name}/{stream_name}", max_inflight)

    @interruptible
    def create_transaction_writer(
        self, scope_name: str, stream_name: str, writer_id: int
    ) -> StreamTxnWriter:
        """A writer of transactions on one stream; ``writer_id`` names the writer.

        Blocks on the controller while it looks the stream up. Raises
        :class:`InvalidArgumentError` for a bad name or id.
        """
        if isinstance(writer_id, bool) or not isinstance(writer_id, int):
            raise InvalidArgumentError(
                f"writer_id must be int, not {type(writer_id).__name__}"
            )
        if not 0 <= writer_id < 2**64:
            raise InvalidArgumentError(
                f"writer_id must be in [0, 2**64), not {writer_id}"
            )
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        box = ffi.new("PravegaTxnWriter **")
        self._invoke(lib.pravega_txn_writer_new, scope, stream, writer_id, box)
        return StreamTxnWriter(box[0], f"{scope_name}/{stream_name}", writer_id)

    @interruptible
    def create_reader_group(
        self,
        reader_group_name: str,
        scope_name: str,
        stream_name: str,
        read_from_tail: bool = False,
        stream_cut: Optional[StreamCuts] = None,
    ) -> StreamReaderGroup:
        """Creates, or opens, a reader group over one stream.

        A new group starts at ``stream_cut`` when one is given, else at the tail of
        the stream when ``read_from_tail`` is true, else at its head. An existing
        group keeps its position.

        Blocks on the controller and the segment store that holds the group's
        state. Raises :class:`InvalidArgumentError` for a bad name or cut,
        :class:`NotFoundError` when the stream does not exist,
        :class:`UnsupportedError` when it is sealed and ``read_from_tail`` is true (a
        sealed stream has no tail), and :class:`ControllerError` when a request fails.
        """
        if stream_cut is not None and not isinstance(stream_cut, StreamCuts):
            raise InvalidArgumentError(
                f"stream_cut must be StreamCuts, not {type(stream_cut).__name__}"
            )
        config = native_group_config(
            scope_name, [stream_name], read_from_tail, stream_cut
        )
        return self._new_group(reader_group_name, scope_name, config)

    @interruptible
    def create_reader_group_with_config(
        self,
        reader_group_name: str,
        scope_name: str,
        rg_config: StreamReaderGroupConfig,
    ) -> StreamReaderGroup:
        """Creates, or opens, a reader group over the streams of ``rg_config``.

        Blocks and raises as :meth:`create_reader_group` does.
        """
        if not isinstance(rg_config, StreamReaderGroupConfig):
            kind = type(rg_config).__name__
            raise InvalidArgumentError(
                f"rg_config must be StreamReaderGroupConfig, not {kind}"
            )
        config = native_group_config(
            rg_config.scope_name, rg_config.stream_names, rg_config.read_from_tail
        )
        return self._new_group(reader_group_name, scope_name, config)

    def _new_group(self, name: str, scope_name: str, config: Any) -> StreamReaderGroup:
        try:
            scope = encode_name("scope_name", scope_name)
            group = encode_name("reader_group_name", name)
            box = ffi.new("PravegaReaderGroup **")
            self._invoke(lib.pravega_reader_group_new, scope, group, config, box)
        finally:
            lib.pravega_reader_group_config_free(config)
        return StreamReaderGroup(box[0], name, scope_name)

    @interruptible
    def create_byte_stream(self, scope_name: str, stream_name: str) -> ByteStream:
        """Opens a single-segment stream as a binary file; see :class:`ByteStream`.

        Blocks on the controller. Raises :class:`NotFoundError` when the stream does
        not exist.
        """
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        box = ffi.new("PravegaByteStream **")
        self._invoke(lib.pravega_byte_stream_new, scope, stream, box)
        return ByteStream(box[0], f"{scope_name}/{stream_name}")

    @interruptible
    def delete_reader_group(self, reader_group_name: str, scope_name: str) -> None:
        """Deletes a reader group on the server, with its recorded positions.

        Blocks on the controller. Raises :class:`ControllerError` when the request
        fails; deleting a group that does not exist succeeds.
        """
        scope = encode_name("scope_name", scope_name)
        name = encode_name("reader_group_name", reader_group_name)
        self._invoke(lib.pravega_manager_delete_reader_group, scope, name)

    def to_str(self) -> str:
        return f"StreamManager(controller_uri={self._uri!r}, closed={self.closed})"

    def __repr__(self) -> str:
        return self.to_str()


def _flag(value: bool) -> bytes:
    return b"true" if value else b"false"


def _settings(
    auth_enabled: bool,
    tls_enabled: bool,
    disable_cert_verification: bool,
    **options: Any,
) -> Dict[str, bytes]:
    """Turns the constructor's arguments into native configuration keys."""
    username, password, token = (
        options["username"],
        options["password"],
        options["token"],
    )
    settings: Dict[str, bytes] = {}
    for key, value in (
        ("auth.username", username),
        ("auth.password", password),
        ("auth.token", token),
        ("tls.trust_cert", options["trust_cert"]),
    ):
        if value is not None:
            settings[key] = encode_name(key.split(".")[1], value)
    has_credentials = username is not None or password is not None or token is not None
    settings["auth.enabled"] = _flag(bool(auth_enabled) or has_credentials)
    # The URI scheme decides TLS; only a True flag is passed, to be checked against it.
    if tls_enabled:
        settings["tls.enabled"] = b"true"
    if disable_cert_verification:
        settings["tls.disable_cert_verification"] = b"true"

    timeout = options["timeout"]
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise InvalidArgumentError(f"timeout must be a number, not {timeout!r}")
        if not 0 < timeout <= 86400:
            raise InvalidArgumentError(
                f"timeout must be in (0, 86400] seconds, not {timeout}"
            )
        settings["controller.timeout_ms"] = str(max(1, round(timeout * 1000))).encode()

    retry = options["retry"]
    if retry is not None:
        if not isinstance(retry, RetryPolicy):
            raise InvalidArgumentError(f"retry must be a RetryPolicy, not {retry!r}")
        settings.update(
            (key, value.encode()) for key, value in retry.settings().items()
        )
    return settings


def _policy(argument: str, value: Any, kind: type) -> Any:
    if value is None:
        if kind is StreamScalingPolicy:
            return StreamScalingPolicy.fixed_scaling_policy(1)
        return StreamRetentionPolicy.none()
    if not isinstance(value, kind):
        raise InvalidArgumentError(
            f"{argument} must be {kind.__name__}, not {type(value).__name__}"
        )
    return value


def _tag_array(tags: Optional[Sequence[str]]) -> Tuple[Any, int, List[Any]]:
    """A ``const char *[]`` of the tags, its length, and the buffers it points into."""
    if tags is None:
        return ffi.NULL, 0, []
    if isinstance(tags, (str, bytes)) or not isinstance(tags, (list, tuple)):
        raise InvalidArgumentError(
            f"tags must be a list of str, not {type(tags).__name__}"
        )
    encoded = [
        ffi.new("char[]", encode_name(f"tags[{i}]", tag)) for i, tag in enumerate(tags)
    ]
    return ffi.new("char *[]", encoded), len(encoded), encoded


def _non_negative(argument: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"{argument} must be int, not {type(value).__name__}"
        )
    if value < 0:
        raise InvalidArgumentError(f"{argument} must not be negative, not {value}")
    # The native side counts in uint64_t; beyond that every later write would fail.
    if value >= 2**64:
        raise InvalidArgumentError(f"{argument} must be below 2**64, not {value}")
    return value


def _segment_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"initial_segments must be int, not {type(value).__name__}"
        )
    if not 1 <= value <= 2**31 - 1:
        raise InvalidArgumentError(f"initial_segments must be at least 1, not {value}")
    return value
