"""StreamManager: the entry point, holding one connection to a Pravega cluster."""

from __future__ import annotations

from typing import Any, List, Optional

from ._ffi import encode_name, ffi, invoke, lib, string_list
from ._handle import NativeHandle
from .exceptions import InvalidArgumentError
from .stream_reader import StreamReaderGroup
from .stream_writer import StreamWriter


class StreamManager(NativeHandle):
    """A client for one Pravega cluster, and the factory of writers and readers.

    Every method blocks the calling thread (never the GIL) until the controller
    answers, or until the controller timeout (30 s by default) passes. Controller
    failures raise :class:`ControllerError`, a ``ValueError``.

    Writers and readers made here share the manager's runtime and keep working after
    the manager is closed.
    """

    def __init__(
        self,
        controller_uri: str,
        auth_enabled: bool = False,
        tls_enabled: bool = False,
        disable_cert_verification: bool = False,
    ) -> None:
        self._uri = controller_uri
        uri = encode_name("controller_uri", controller_uri)
        settings = {"auth.enabled": auth_enabled}
        if tls_enabled:
            settings["tls.enabled"] = True
        if disable_cert_verification:
            settings["tls.disable_cert_verification"] = True

        config_box = ffi.new("PravegaConfig **")
        invoke(lib.pravega_config_new, config_box)
        config = config_box[0]
        try:
            for key, value in settings.items():
                invoke(lib.pravega_config_set, config, key.encode(), _flag(value))
            manager_box = ffi.new("PravegaManager **")
            invoke(lib.pravega_manager_new, uri, config, manager_box)
        finally:
            lib.pravega_config_free(config)
        super().__init__(manager_box[0], lib.pravega_manager_free)

    def _bool_call(self, function: Any, *args: Any) -> bool:
        result = ffi.new("bool *")
        self._invoke(function, *args, result)
        return bool(result[0])

    # Scopes

    def create_scope(self, scope_name: str) -> bool:
        """Creates a scope; False when it already existed."""
        scope = encode_name("scope_name", scope_name)
        return self._bool_call(lib.pravega_manager_create_scope, scope)

    def delete_scope(self, scope_name: str) -> bool:
        """Deletes an empty scope; False when it did not exist."""
        scope = encode_name("scope_name", scope_name)
        return self._bool_call(lib.pravega_manager_delete_scope, scope)

    def list_scope(self) -> List[str]:
        """The names of every scope, across all pages of the controller's answer."""
        box = ffi.new("PravegaStringList **")
        self._invoke(lib.pravega_manager_list_scopes, box)
        return string_list(box)

    # Streams

    def create_stream(
        self, scope_name: str, stream_name: str, initial_segments: int
    ) -> bool:
        """Creates a stream with a fixed number of segments; False when it existed."""
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        segments = _segment_count(initial_segments)
        return self._bool_call(
            lib.pravega_manager_create_stream, scope, stream, segments
        )

    def list_stream(self, scope_name: str) -> List[str]:
        """The names of the streams in a scope; [] for an unknown or empty scope."""
        scope = encode_name("scope_name", scope_name)
        box = ffi.new("PravegaStringList **")
        self._invoke(lib.pravega_manager_list_streams, scope, box)
        return string_list(box)

    def seal_stream(self, scope_name: str, stream_name: str) -> bool:
        """Seals a stream so that it accepts no more writes."""
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        return self._bool_call(lib.pravega_manager_seal_stream, scope, stream)

    def delete_stream(self, scope_name: str, stream_name: str) -> bool:
        """Deletes a sealed stream."""
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        return self._bool_call(lib.pravega_manager_delete_stream, scope, stream)

    # Writers and readers

    def create_writer(
        self, scope_name: str, stream_name: str, max_inflight_events: int = 0
    ) -> StreamWriter:
        """A writer for one stream; :class:`StreamWriter` explains the limit."""
        max_inflight = _non_negative("max_inflight_events", max_inflight_events)
        scope = encode_name("scope_name", scope_name)
        stream = encode_name("stream_name", stream_name)
        box = ffi.new("PravegaWriter **")
        self._invoke(lib.pravega_writer_new, scope, stream, box)
        return StreamWriter(box[0], f"{scope_name}/{stream_name}", max_inflight)

    def create_reader_group(
        self,
        reader_group_name: str,
        scope_name: str,
        stream_name: str,
        read_from_tail: bool = False,
        stream_cut: Optional[Any] = None,
    ) -> StreamReaderGroup:
        """Creates, or opens, a reader group over one stream.

        A new group starts at the head of the stream, or at its tail when
        ``read_from_tail`` is true.
        """
        if stream_cut is not None:
            # FIXME: starting a group at a stream cut is not wired to the native layer
            # yet (issue 5); until then it raises rather than silently ignoring the cut.
            raise NotImplementedError("stream_cut is not supported yet")
        scope = encode_name("scope_name", scope_name)
        group = encode_name("reader_group_name", reader_group_name)
        stream = encode_name("stream_name", stream_name)
        box = ffi.new("PravegaReaderGroup **")
        self._invoke(
            lib.pravega_reader_group_new,
            scope,
            group,
            stream,
            bool(read_from_tail),
            box,
        )
        return StreamReaderGroup(box[0], reader_group_name, scope_name)

    def delete_reader_group(self, reader_group_name: str, scope_name: str) -> None:
        """Deletes a reader group on the server."""
        scope = encode_name("scope_name", scope_name)
        name = encode_name("reader_group_name", reader_group_name)
        self._invoke(lib.pravega_manager_delete_reader_group, scope, name)

    def to_str(self) -> str:
        return f"StreamManager(controller_uri={self._uri!r}, closed={self.closed})"

    def __repr__(self) -> str:
        return self.to_str()


def _flag(value: bool) -> bytes:
    return b"true" if value else b"false"


def _non_negative(argument: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"{argument} must be int, not {type(value).__name__}"
        )
    if value < 0:
        raise InvalidArgumentError(f"{argument} must not be negative, not {value}")
    return value


def _segment_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"initial_segments must be int, not {type(value).__name__}"
        )
    if not 1 <= value <= 2**31 - 1:
        raise InvalidArgumentError(f"initial_segments must be at least 1, not {value}")
    return value
