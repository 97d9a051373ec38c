"""Stream policies: how a stream scales, and how much data it retains."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Tuple

from ._ffi import lib
from .exceptions import InvalidArgumentError


def _count(argument: str, value: Any, minimum: int, maximum: int = 2**31 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"{argument} must be int, not {type(value).__name__}"
        )
    if not minimum <= value <= maximum:
        raise InvalidArgumentError(
            f"{argument} must be between {minimum} and {maximum}, not {value}"
        )
    return value


# The native side counts retry delays in u64 milliseconds.
_MAX_DELAY_SECONDS = 2**64 / 1000


def _delay_ms(argument: str, seconds: Any) -> int:
    """A delay in whole milliseconds (at least 1); NaN, infinities and non-numbers
    are refused here, where round() would raise ValueError or OverflowError."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise InvalidArgumentError(
            f"retry {argument} must be a number, not {type(seconds).__name__}"
        )
    if not 0 < seconds < _MAX_DELAY_SECONDS:
        raise InvalidArgumentError(
            f"retry {argument} must be a positive number of seconds below "
            f"{_MAX_DELAY_SECONDS:.0f}, not {seconds}"
        )
    return max(1, round(seconds * 1000))


_SCALING_KINDS = {
    lib.PRAVEGA_SCALING_FIXED: "fixed",
    lib.PRAVEGA_SCALING_BY_EVENT_RATE: "by_event_rate",
    lib.PRAVEGA_SCALING_BY_DATA_RATE: "by_data_rate",
}
_RETENTION_KINDS = {
    lib.PRAVEGA_RETENTION_KEEP: "none",
    lib.PRAVEGA_RETENTION_BY_SIZE: "by_size",
    lib.PRAVEGA_RETENTION_BY_TIME: "by_time",
}


class StreamScalingPolicy:
    """How many segments a stream has, and whether that follows its load.

    Build one with :meth:`fixed_scaling_policy`,
    :meth:`auto_scaling_policy_by_data_rate` or
    :meth:`auto_scaling_policy_by_event_rate`.
    """

    __slots__ = ("_kind", "_target_rate", "_scale_factor", "_min_segments")

    def __init__(self, kind: int, target_rate: int, scale_factor: int, segments: int):
        self._kind = kind
        self._target_rate = target_rate
        self._scale_factor = scale_factor
        self._min_segments = segments

    @staticmethod
    def fixed_scaling_policy(initial_segments: int) -> StreamScalingPolicy:
        """Always ``initial_segments`` segments."""
        segments = _count("initial_segments", initial_segments, 1)
        return StreamScalingPolicy(lib.PRAVEGA_SCALING_FIXED, 0, 0, segments)

    @staticmethod
    def auto_scaling_policy_by_data_rate(
        target_rate_kbytes_per_sec: int, scale_factor: int, initial_segments: int
    ) -> StreamScalingPolicy:
        """Splits and merges segments to keep each near the target KiB/s."""
        return StreamScalingPolicy(
            lib.PRAVEGA_SCALING_BY_DATA_RATE,
            _count("target_rate_kbytes_per_sec", target_rate_kbytes_per_sec, 1),
            _count("scale_factor", scale_factor, 1),
            _count("initial_segments", initial_segments, 1),
        )

    @staticmethod
    def auto_scaling_policy_by_event_rate(
        target_events_per_sec: int, scale_factor: int, initial_segments: int
    ) -> StreamScalingPolicy:
        """Splits and merges segments to keep each near the target events/s."""
        return StreamScalingPolicy(
            lib.PRAVEGA_SCALING_BY_EVENT_RATE,
            _count("target_events_per_sec", target_events_per_sec, 1),
            _count("scale_factor", scale_factor, 1),
            _count("initial_segments", initial_segments, 1),
        )

    @property
    def kind(self) -> str:
        """``"fixed"``, ``"by_event_rate"`` or ``"by_data_rate"``."""
        return _SCALING_KINDS.get(self._kind, "unknown")

    @property
    def target_rate(self) -> int:
        """Events/s or KiB/s per segment that scaling aims at; 0 when fixed."""
        return self._target_rate

    @property
    def scale_factor(self) -> int:
        """How many segments a hot segment splits into; 0 when fixed."""
        return self._scale_factor

    @property
    def min_segments(self) -> int:
        """The segment count when fixed, the least when scaling."""
        return self._min_segments

    def _fill(self, policy: Any) -> None:
        policy.scaling = self._kind
        policy.target_rate = self._target_rate
        policy.scale_factor = self._scale_factor
        policy.min_segments = self._min_segments

    @staticmethod
    def _read(policy: Any) -> StreamScalingPolicy:
        return StreamScalingPolicy(
            policy.scaling, policy.target_rate, policy.scale_factor, policy.min_segments
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StreamScalingPolicy):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> Tuple[object, ...]:
        return (self._kind, self._target_rate, self._scale_factor, self._min_segments)

    def to_str(self) -> str:
        if self._kind == lib.PRAVEGA_SCALING_FIXED:
            return f"StreamScalingPolicy.fixed_scaling_policy({self._min_segments})"
        name = (
            "auto_scaling_policy_by_data_rate"
            if self._kind == lib.PRAVEGA_SCALING_BY_DATA_RATE
            else "auto_scaling_policy_by_event_rate"
        )
        return (
            f"StreamScalingPolicy.{name}({self._target_rate}, {self._scale_factor}, "
            f"{self._min_segments})"
        )

    def __repr__(self) -> str:
        return self.to_str()


class StreamRetentionPolicy:
    """How much data a stream keeps: everything, about N bytes, or about N ms."""

    __slots__ = ("_kind", "_limit")

    def __init__(self, kind: int, limit: int) -> None:
        self._kind = kind
        self._limit = limit

    @staticmethod
    def none() -> StreamRetentionPolicy:
        """Keeps everything until the stream is truncated."""
        return StreamRetentionPolicy(lib.PRAVEGA_RETENTION_KEEP, 0)

    @staticmethod
    def by_size(size_in_bytes: int) -> StreamRetentionPolicy:
        """Keeps about the newest ``size_in_bytes`` bytes."""
        limit = _count("size_in_bytes", size_in_bytes, 1, 2**63 - 1)
        return StreamRetentionPolicy(lib.PRAVEGA_RETENTION_BY_SIZE, limit)

    @staticmethod
    def by_time(time_in_millis: int) -> StreamRetentionPolicy:
        """Keeps about the newest ``time_in_millis`` milliseconds of data."""
        limit = _count("time_in_millis", time_in_millis, 1, 2**63 - 1)
        return StreamRetentionPolicy(lib.PRAVEGA_RETENTION_BY_TIME, limit)

    @property
    def kind(self) -> str:
        """``"none"``, ``"by_size"`` or ``"by_time"``."""
        return _RETENTION_KINDS.get(self._kind, "unknown")

    @property
    def limit(self) -> int:
        """Bytes (by size) or milliseconds (by time) kept; 0 when keeping all."""
        return self._limit

    def _fill(self, policy: Any) -> None:
        policy.retention = self._kind
        policy.retention_param = self._limit

    @staticmethod
    def _read(policy: Any) -> StreamRetentionPolicy:
        return StreamRetentionPolicy(policy.retention, policy.retention_param)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StreamRetentionPolicy):
            return NotImplemented
        return (self._kind, self._limit) == (other._kind, other._limit)

    def __hash__(self) -> int:
        return hash((self._kind, self._limit))

    def to_str(self) -> str:
        if self._kind == lib.PRAVEGA_RETENTION_BY_SIZE:
            return f"StreamRetentionPolicy.by_size({self._limit})"
        if self._kind == lib.PRAVEGA_RETENTION_BY_TIME:
            return f"StreamRetentionPolicy.by_time({self._limit})"
        return "StreamRetentionPolicy.none()"

    def __repr__(self) -> str:
        return self.to_str()


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off for failed requests to the controller and the segment stores.

    Delays grow from ``initial_delay`` by ``backoff`` up to ``max_delay`` (seconds);
    after ``max_attempts`` tries the request fails (``None``: never give up). The
    default gives up after about 7 s, so that an unreachable server is reported
    promptly.
    """

    initial_delay: float = 0.01
    backoff: int = 4
    max_delay: float = 2.0
    max_attempts: int | None = 8

    def settings(self) -> Dict[str, str]:
        """The native configuration keys for this policy."""
        initial_ms = _delay_ms("initial_delay", self.initial_delay)
        max_ms = _delay_ms("max_delay", self.max_delay)
        if isinstance(self.backoff, bool) or not isinstance(self.backoff, int):
            raise InvalidArgumentError("retry backoff must be int")
        attempts = 0 if self.max_attempts is None else self.max_attempts
        return {
            "retry.initial_delay_ms": str(initial_ms),
            "retry.backoff_coefficient": str(_count("backoff", self.backoff, 1)),
            "retry.max_delay_ms": str(max_ms),
            "retry.max_attempts": str(_count("max_attempts", attempts, 0)),
        }
