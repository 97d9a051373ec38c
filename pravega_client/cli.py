"""pravega-cli: scopes, streams, and events from the shell, in the spirit of kcat.

Installed as the ``pravega-cli`` script and runnable as ``python -m pravega_client``.
``pravega-cli --help`` lists the commands; docs/cli.md is the guide.

Conventions: a stream is always named ``SCOPE/STREAM``. Data goes to stdout and
nothing else does; progress, counts and errors go to stderr. A failure prints one line
``pravega-cli: error: ...`` and exits 1 (2 for a bad command line, 128 + the signal
number for Ctrl-C or SIGTERM); ``--debug`` adds the traceback and DEBUG logging.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import re
import signal
import stat
import sys
import time
import traceback
import uuid
from typing import (
    Any,
    BinaryIO,
    Callable,
    Dict,
    Iterator,
    List,
    NoReturn,
    Optional,
    Sequence,
    TextIO,
    Tuple,
)

from ._version import __version__
from .exceptions import NotFoundError, PravegaError, UnsupportedError
from .policies import StreamRetentionPolicy, StreamScalingPolicy
from .stream_manager import StreamManager
from .stream_reader import Event, StreamCuts, StreamReader, StreamReaderGroup
from .stream_writer import StreamWriter

PROG = "pravega-cli"
DEFAULT_CONTROLLER = "tcp://127.0.0.1:9090"

logger = logging.getLogger("pravega_client.cli")

# In a segment, an event is its payload behind an 8-byte header (type and length), so
# the next event starts this far past the payload's length.
_EVENT_HEADER_BYTES = 8
# The most events one read asks for: enough to amortise a call, few enough that
# output starts at once.
_READ_BATCH = 1000
# How long one read waits for its first event before the loop checks for a signal or
# the end; an idle reader's slice comes back empty after about a second anyway.
_READ_WAIT_S = 0.5
# The most events, and about the most bytes, that one native write call takes.
_WRITE_BATCH = 1000
_WRITE_BATCH_BYTES = 1 << 20
# The most input bytes taken by one read.
_INPUT_CHUNK = 256 * 1024
# How often the progress line is redrawn.
_PROGRESS_INTERVAL_S = 0.2


class CliError(Exception):
    """A failure reported as one line on stderr, with exit status 1."""


class UsageError(Exception):
    """A command line that does not parse; exit status 2."""


class Interrupted(Exception):
    """A signal (Ctrl-C or SIGTERM) stopped a command after it cleaned up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Parser(argparse.ArgumentParser):
    """Reports a bad command line as one line, as every other error is."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


# Parsing of argument values


def _stream_name(text: str) -> Tuple[str, str]:
    scope, slash, stream = text.partition("/")
    if not slash or not scope or not stream or "/" in stream:
        raise argparse.ArgumentTypeError(f"expected SCOPE/STREAM, not {text!r}")
    return scope, stream


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number, not {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, not {text!r}") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"expected (0, 86400] seconds, not {text}")
    return value


_SIZE = re.compile(r"(\d+)\s*([kmgt]?)(i?b)?", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def _size(text: str) -> int:
    """Bytes, with an optional K, M, G or T suffix (powers of 1024)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected a size such as 4096, 512K, 10M or 2G, not {text!r}"
        )
    value = int(match.group(1)) * _SIZE_FACTORS[match.group(2).lower()]
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a size of at least 1, not {text}")
    return value


_DURATION = re.compile(r"(\d+)\s*(ms|s|m|h|d)", re.IGNORECASE)
_DURATION_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def _duration_ms(text: str) -> int:
    """Milliseconds from a number with a unit: ms, s, m, h or d."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected a duration with a unit (ms, s, m, h, d) such as 7d, not {text!r}"
        )
    value = int(match.group(1)) * _DURATION_MS[match.group(2).lower()]
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a duration above 0, not {text}")
    return value


def _stream_cut(text: str) -> Dict[int, int]:
    positions: Dict[int, int] = {}
    for part in text.split(","):
        segment, colon, offset = part.strip().partition(":")
        try:
            if not colon:
                raise ValueError(part)
            positions[int(segment)] = int(offset)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected SEGMENT:OFFSET[,SEGMENT:OFFSET...], not {text!r}"
            ) from None
    return positions


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\"}


def _separator(text: str) -> bytes:
    """The text with the escapes \\n, \\t, \\r, \\0 and \\\\ turned into their bytes."""
    out: List[str] = []
    chars = iter(text)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        escaped = next(chars, "")
        if escaped not in _ESCAPES:
            raise argparse.ArgumentTypeError(
                f"unknown escape \\{escaped} in {text!r}: "
                "use \\n, \\t, \\r, \\0 or \\\\"
            )
        out.append(_ESCAPES[escaped])
    return "".join(out).encode("utf-8")


def _delimiter(text: str) -> bytes:
    value = _separator(text)
    if not value:
        raise argparse.ArgumentTypeError("the delimiter must not be empty")
    return value


# The command line


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Manage Pravega scopes and streams, and write and read events.",
        epilog="Options of the connection may also follow the command. "
        "docs/cli.md has examples.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    _add_common_options(parser, top=True)
    leaves: List[argparse.ArgumentParser] = []

    def command(
        commands: Any,
        name: str,
        summary: str,
        handler: Optional[Callable[[argparse.Namespace], int]] = None,
        epilog: Optional[str] = None,
    ) -> argparse.ArgumentParser:
        made = _command(commands, name, summary, handler, epilog)
        if handler is not None:
            leaves.append(made)
        return made

    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    scope = command(commands, "scope", "create, list and delete scopes")
    scope_commands = scope.add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    create = command(scope_commands, "create", "create a scope", _scope_create)
    create.add_argument("scope", metavar="SCOPE", help="the scope's name")
    create.add_argument(
        "--if-not-exists", action="store_true", help="succeed if it already exists"
    )
    listing = command(scope_commands, "list", "list the scopes", _scope_list)
    listing.add_argument(
        "--all", action="store_true", help="include internal scopes (named _...)"
    )
    delete = command(scope_commands, "delete", "delete an empty scope", _scope_delete)
    delete.add_argument("scope", metavar="SCOPE", help="the scope's name")
    delete.add_argument(
        "--if-exists", action="store_true", help="succeed if it does not exist"
    )

    stream = command(commands, "stream", "create, inspect, seal and delete streams")
    stream_commands = stream.add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    create = command(
        stream_commands, "create", "create a stream", _stream_create, _CREATE_EPILOG
    )
    create.add_argument(
        "stream", metavar="SCOPE/STREAM", type=_stream_name, help=_STREAM_HELP
    )
    _add_policy_options(create)
    listing = command(stream_commands, "list", "list a scope's streams", _stream_list)
    listing.add_argument("scope", metavar="SCOPE", help="the scope's name")
    listing.add_argument(
        "--all",
        action="store_true",
        help="include internal streams (named _..., e.g. reader group state)",
    )
    info = command(
        stream_commands, "info", "show a stream's policies and tags", _stream_info
    )
    info.add_argument(
        "stream", metavar="SCOPE/STREAM", type=_stream_name, help=_STREAM_HELP
    )
    info.add_argument(
        "--json", action="store_true", help="print one JSON object instead of text"
    )
    seal = command(
        stream_commands, "seal", "seal a stream: it takes no more writes", _stream_seal
    )
    seal.add_argument(
        "stream", metavar="SCOPE/STREAM", type=_stream_name, help=_STREAM_HELP
    )
    delete = command(
        stream_commands,
        "delete",
        "seal (if needed) and delete a stream",
        _stream_delete,
    )
    delete.add_argument(
        "stream", metavar="SCOPE/STREAM", type=_stream_name, help=_STREAM_HELP
    )
    delete.add_argument(
        "--if-exists", action="store_true", help="succeed if it does not exist"
    )

    write = command(
        commands, "write", "write events from stdin or a file", _write, _WRITE_EPILOG
    )
    _add_write_options(write)
    read = command(
        commands, "read", "read events to stdout", _read_command, _READ_EPILOG
    )
    _add_read_options(read)

    # Last, so that each command's usage line starts with its own arguments.
    for leaf in leaves:
        _add_common_options(leaf, top=False)
    return parser


_STREAM_HELP = "the stream, as SCOPE/STREAM"


def _command(
    commands: Any,
    name: str,
    summary: str,
    handler: Optional[Callable[[argparse.Namespace], int]] = None,
    epilog: Optional[str] = None,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if handler is not None:
        parser.set_defaults(handler=handler)
    return parser


def _add_common_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """The connection options, on the top parser and again on every command.

    On the commands their defaults are suppressed, so that an option given before
    the command is not reset by the command's own parser.
    """

    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("connection")
    controller = os.environ.get("PRAVEGA_CONTROLLER") or DEFAULT_CONTROLLER
    group.add_argument(
        "--controller",
        metavar="URI",
        default=default(controller),
        help="tcp://HOST:PORT or tls://HOST:PORT "
        f"(default: $PRAVEGA_CONTROLLER, else {DEFAULT_CONTROLLER})",
    )
    group.add_argument(
        "--tls-cert",
        metavar="PATH",
        default=default(None),
        help="CA certificate (PEM) to trust for a tls:// controller",
    )
    group.add_argument(
        "--no-cert-verification",
        action="store_true",
        default=default(False),
        help="do not check the server's TLS certificate (insecure)",
    )
    group.add_argument(
        "--user", metavar="NAME", default=default(None), help="user for basic auth"
    )
    group.add_argument(
        "--password",
        metavar="PASSWORD",
        default=default(None),
        help="password for --user (default: $PRAVEGA_PASSWORD, which keeps it out "
        "of the process list)",
    )
    group.add_argument(
        "--token",
        metavar="TOKEN",
        default=default(None),
        help="bearer token instead of --user (default: $PRAVEGA_TOKEN)",
    )
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_seconds,
        default=default(None),
        help="limit for each controller call (default: 30)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="log at DEBUG to stderr and print tracebacks",
    )


_CREATE_EPILOG = """\
examples:
  pravega-cli stream create demo/events --segments 4
  pravega-cli stream create demo/clicks --scale-by-event-rate 1000 --segments 2
  pravega-cli stream create demo/logs --retention-time 7d --tag team-a --tag logs
"""


def _add_policy_options(parser: argparse.ArgumentParser) -> None:
    scaling = parser.add_argument_group(
        "scaling (fixed segments unless a --scale-by option is given)"
    )
    scaling.add_argument(
        "--segments",
        metavar="N",
        type=_positive_int,
        default=1,
        help="number of segments; with auto-scaling the initial and least (default 1)",
    )
    by_rate = scaling.add_mutually_exclusive_group()
    by_rate.add_argument(
        "--scale-by-event-rate",
        metavar="EVENTS_PER_S",
        type=_positive_int,
        help="split a segment above this many events/s, merge well below it",
    )
    by_rate.add_argument(
        "--scale-by-byte-rate",
        metavar="SIZE_PER_S",
        type=_size,
        help="split a segment above this many bytes/s (e.g. 512K, 2M; "
        "kept in whole KiB/s)",
    )
    scaling.add_argument(
        "--scale-factor",
        metavar="N",
        type=_positive_int,
        default=2,
        help="how many segments a hot segment splits into (default 2)",
    )
    retention = parser.add_argument_group("retention (default: keep everything)")
    by_limit = retention.add_mutually_exclusive_group()
    by_limit.add_argument(
        "--retention-size",
        metavar="SIZE",
        type=_size,
        help="keep about this much data, e.g. 10G (K, M, G, T are powers of 1024)",
    )
    by_limit.add_argument(
        "--retention-time",
        metavar="DURATION",
        type=_duration_ms,
        help="keep about this long, e.g. 500ms, 90s, 30m, 12h, 7d",
    )
    parser.add_argument(
        "--tag",
        metavar="TAG",
        action="append",
        dest="tags",
        help="a tag for the stream; repeat for several",
    )


_WRITE_EPILOG = """\
formats:
  lines            one event per line, without its newline (empty lines are skipped:
                   Pravega events cannot be empty)
  length-prefixed  records of a 4-byte big-endian length, then that many bytes
  whole            the whole input as one event (at most 8 MiB)

routing keys: events with the same key keep their order. Without a key, events
spread over the segments in no particular order.

Progress (events/s) is shown on stderr only when stderr is a terminal; the count
written is reported there too, or with --verbose. Events are sent pipelined and
flushed at the end: exit status 0 means the server has acknowledged every one.

examples:
  seq 1 100000 | pravega-cli write demo/events --key numbers
  pravega-cli write demo/orders --file orders.csv --key-field 2 --delimiter ,
  pravega-cli write demo/images --format whole --file cat.png
"""


def _add_write_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "stream", metavar="SCOPE/STREAM", type=_stream_name, help=_STREAM_HELP
    )
    parser.add_argument(
        "--file", metavar="PATH", help="read this file instead of stdin"
    )
    parser.add_argument(
        "--format",
        choices=("lines", "length-prefixed", "whole"),
        default="lines",
        help="how the input splits into events (default: lines)",
    )
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument(
        "-k", "--key", metavar="KEY", help="the routing key of every event"
    )
    keys.add_argument(
        "--key-field",
        metavar="N",
        type=_positive_int,
        help="route each line by its Nth field (from 1); the event is the whole line",
    )
    parser.add_argument(
        "--delimiter",
        metavar="D",
        type=_delimiter,
        default=b"\t",
        help="field delimiter for --key-field (default: tab; \\t and the like work)",
    )
    parser.add_argument(
        "--max-inflight",
        metavar="N",
        type=_positive_int,
        default=1000,
        help="events sent but not yet acknowledged, at most (default 1000)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="report the count on stderr even when it is not a terminal",
    )


_READ_EPILOG = """\
where reading starts:
  --from head      the oldest event still in the stream (default)
  --from tail      only events written after the read starts (useful with --follow)
  --from-cut CUT   a stream cut: SEGMENT:OFFSET pairs separated by commas, as printed
                   by `stream info` (tail) or by `read --verbose` (where it stopped)

where it stops: at the stream's tail as it was when the read started (that is,
every event written before then has been printed), after --count events, or on
Ctrl-C. With --follow it keeps waiting for new events instead. A sealed stream has
no tail to take; there the read stops once no event arrived for --idle seconds.

formats:
  raw              each payload as it is, followed by --separator (default newline)
  jsonl            one JSON object per line: "segment" (the segment id used by
                   stream cuts), "offset" (the event's byte offset in the segment),
                   and "data" with the payload as text when it is UTF-8, otherwise
                   "data_base64" with the payload in base64 (never both)
  length-prefixed  a 4-byte big-endian length before each payload, as `write`
                   reads it back

Reading uses a reader group of its own (named pravega-cli-...) that is deleted when
the read ends, also on Ctrl-C (exit status 130) and when the output pipe closes.

examples:
  pravega-cli read demo/events --count 10
  pravega-cli read demo/events --from tail --follow --format jsonl
  pravega-cli read demo/a --format length-prefixed | pravega-cli write demo/b \\
      --format length-prefixed
"""


def _add_read_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "stream", metavar="SCOPE/STREAM", type=_stream_name, help=_STREAM_HELP
    )
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--from",
        dest="start",
        choices=("head", "tail"),
        default="head",
        help="start at the oldest event or at the end (default: head)",
    )
    start.add_argument(
        "--from-cut",
        metavar="CUT",
        type=_stream_cut,
        help="start at a stream cut: SEGMENT:OFFSET[,SEGMENT:OFFSET...]",
    )
    parser.add_argument(
        "-f",
        "--follow",
        action="store_true",
        help="keep waiting for new events instead of stopping at the tail",
    )
    parser.add_argument(
        "-n",
        "--count",
        metavar="N",
        type=_positive_int,
        help="stop after N events",
    )
    parser.add_argument(
        "--format",
        choices=("raw", "jsonl", "length-prefixed"),
        default="raw",
        help="output format (default: raw)",
    )
    parser.add_argument(
        "--separator",
        metavar="SEP",
        type=_separator,
        default=b"\n",
        help="written after each raw payload (default: \\n; \\0, \\t and '' work)",
    )
    parser.add_argument(
        "--idle",
        metavar="SECONDS",
        type=_seconds,
        default=3.0,
        help="for a sealed stream only: stop after this long without events "
        "(default 3)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="report the count and the stream cut where reading stopped on stderr",
    )


# Entry points


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs one command line and returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        _error_line(str(error))
        return 2
    debug = bool(args.debug)
    _configure_logging(debug)

    try:
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        return 128 + signal.SIGINT
    except Interrupted as interruption:
        return 128 + interruption.signum
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): nothing to report. Point
        # stdout at /dev/null so that the flush at exit does not fail again.
        _silence_stdout()
        return 0
    except UsageError as error:
        _error_line(str(error))
        return 2
    except Exception as error:
        if debug:
            traceback.print_exc()
        _error_line(_describe(error))
        return 1


def run() -> None:
    """The console script: exits with main()'s status."""
    sys.exit(main())


def _configure_logging(debug: bool) -> None:
    if not debug:
        # The package logs to a NullHandler; nothing reaches the terminal.
        return
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("pravega_client").setLevel(logging.DEBUG)


def _describe(error: BaseException) -> str:
    if isinstance(error, (CliError, PravegaError)):
        text = str(error)
    elif isinstance(error, OSError) and error.strerror and error.filename:
        text = f"{error.filename}: {error.strerror}"
    else:
        text = f"{type(error).__name__}: {error}"
    # One line, whatever the server put in its message.
    return " ".join(text.split())


def _error_line(message: str) -> None:
    try:
        sys.stderr.write(f"{PROG}: error: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _connect(args: argparse.Namespace) -> StreamManager:
    user: Optional[str] = args.user
    password: Optional[str] = args.password
    token: Optional[str] = args.token or os.environ.get("PRAVEGA_TOKEN") or None
    if password is not None and user is None:
        raise UsageError("--password needs --user")
    if user is not None:
        if password is None:
            password = os.environ.get("PRAVEGA_PASSWORD")
        if password is None:
            raise UsageError("--user needs --password or $PRAVEGA_PASSWORD")
        if token is not None:
            raise UsageError("give --user or --token, not both")
    trust_cert: Optional[str] = args.tls_cert
    if trust_cert is not None and not os.path.isfile(trust_cert):
        raise CliError(f"--tls-cert {trust_cert}: no such file")
    return StreamManager(
        args.controller,
        disable_cert_verification=bool(args.no_cert_verification),
        username=user,
        password=password,
        token=token,
        trust_cert=trust_cert,
        timeout=args.timeout,
    )


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _print_lines(lines: Sequence[str]) -> None:
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


# scope


def _scope_create(args: argparse.Namespace) -> int:
    with _connect(args) as manager:
        created = manager.create_scope(args.scope)
    if not created and not args.if_not_exists:
        raise CliError(f"scope {args.scope} already exists")
    return 0


def _scope_list(args: argparse.Namespace) -> int:
    with _connect(args) as manager:
        scopes = manager.list_scope()
    _print_lines(sorted(name for name in scopes if args.all or _public(name)))
    return 0


def _scope_delete(args: argparse.Namespace) -> int:
    with _connect(args) as manager:
        deleted = manager.delete_scope(args.scope)
    if not deleted and not args.if_exists:
        raise CliError(f"scope {args.scope} does not exist")
    return 0


def _public(name: str) -> bool:
    # Pravega keeps its own state in scopes and streams whose names start with "_".
    return not name.startswith("_")


# stream


def _stream_create(args: argparse.Namespace) -> int:
    scope, stream = args.stream
    scaling = _scaling_policy(args)
    retention = _retention_policy(args)
    with _connect(args) as manager:
        created = manager.create_stream_with_policy(
            scope, stream, scaling, retention, args.tags or []
        )
    if not created:
        raise CliError(f"stream {scope}/{stream} already exists")
    return 0


def _scaling_policy(args: argparse.Namespace) -> StreamScalingPolicy:
    if args.scale_by_event_rate is not None:
        return StreamScalingPolicy.auto_scaling_policy_by_event_rate(
            args.scale_by_event_rate, args.scale_factor, args.segments
        )
    if args.scale_by_byte_rate is not None:
        kib_per_s = max(1, args.scale_by_byte_rate // 1024)
        return StreamScalingPolicy.auto_scaling_policy_by_data_rate(
            kib_per_s, args.scale_factor, args.segments
        )
    return StreamScalingPolicy.fixed_scaling_policy(args.segments)


def _retention_policy(args: argparse.Namespace) -> StreamRetentionPolicy:
    if args.retention_size is not None:
        return StreamRetentionPolicy.by_size(args.retention_size)
    if args.retention_time is not None:
        return StreamRetentionPolicy.by_time(args.retention_time)
    return StreamRetentionPolicy.none()


def _stream_list(args: argparse.Namespace) -> int:
    with _connect(args) as manager:
        streams = manager.list_stream(args.scope)
    _print_lines(sorted(name for name in streams if args.all or _public(name)))
    return 0


def _stream_info(args: argparse.Namespace) -> int:
    scope, stream = args.stream
    with _connect(args) as manager:
        scaling, retention = _policies(manager, scope, stream)
        tags = manager.get_stream_tags(scope, stream)
        tail = _tail_cut(manager, scope, stream)

    if args.json:
        info: Dict[str, Any] = {
            "stream": f"{scope}/{stream}",
            "scaling": _scaling_fields(scaling),
            "retention": _retention_fields(retention),
            "tags": tags,
            "sealed": tail is None,
            "tail": None if tail is None else _format_cut(tail),
        }
        _print_lines([json.dumps(info)])
        return 0
    _print_lines(
        [
            f"stream:    {scope}/{stream}",
            f"scaling:   {_describe_scaling(scaling)}",
            f"retention: {_describe_retention(retention)}",
            f"tags:      {', '.join(tags) if tags else '(none)'}",
            f"tail cut:  {'(sealed)' if tail is None else _format_cut(tail)}",
        ]
    )
    return 0


def _policies(
    manager: StreamManager, scope: str, stream: str
) -> Tuple[StreamScalingPolicy, StreamRetentionPolicy]:
    """The stream's policies; also the check that it exists, with a short message."""
    try:
        return manager.get_stream_policies(scope, stream)
    except NotFoundError:
        raise CliError(f"stream {scope}/{stream} does not exist") from None


def _scaling_fields(policy: StreamScalingPolicy) -> Dict[str, Any]:
    kind = {
        "fixed": "fixed",
        "by_event_rate": "event-rate",
        "by_data_rate": "byte-rate",
    }.get(policy.kind, "unknown")
    fields: Dict[str, Any] = {"type": kind, "segments": policy.min_segments}
    if kind == "event-rate":
        fields["target_events_per_s"] = policy.target_rate
        fields["scale_factor"] = policy.scale_factor
    elif kind == "byte-rate":
        fields["target_kib_per_s"] = policy.target_rate
        fields["scale_factor"] = policy.scale_factor
    return fields


def _describe_scaling(policy: StreamScalingPolicy) -> str:
    fields = _scaling_fields(policy)
    if fields["type"] == "fixed":
        return f"fixed, {fields['segments']} segment(s)"
    if fields["type"] == "event-rate":
        target = f"{fields['target_events_per_s']} events/s"
    elif fields["type"] == "byte-rate":
        target = f"{fields['target_kib_per_s']} KiB/s"
    else:
        return policy.to_str()
    return (
        f"by {fields['type']}, {target} per segment, scale factor "
        f"{fields['scale_factor']}, at least {fields['segments']} segment(s)"
    )


def _retention_fields(policy: StreamRetentionPolicy) -> Dict[str, Any]:
    if policy.kind == "by_size":
        return {"type": "size", "bytes": policy.limit}
    if policy.kind == "by_time":
        return {"type": "time", "milliseconds": policy.limit}
    return {"type": "none"}


def _describe_retention(policy: StreamRetentionPolicy) -> str:
    fields = _retention_fields(policy)
    if fields["type"] == "size":
        return f"by size, about {fields['bytes']} bytes"
    if fields["type"] == "time":
        return f"by time, about {fields['milliseconds']} ms"
    return "none (keeps everything)"


def _format_cut(positions: Dict[int, int]) -> str:
    pairs = sorted(positions.items())
    return ",".join(f"{segment}:{offset}" for segment, offset in pairs)


def _temporary_group_name() -> str:
    return f"pravega-cli-{uuid.uuid4().hex[:16]}"


def _tail_cut(
    manager: StreamManager, scope: str, stream: str
) -> Optional[Dict[int, int]]:
    """The stream's tail now, segment id to offset; None for a sealed stream.

    Taken as the starting position of a reader group made at the tail, which is then
    deleted again.
    """
    name = _temporary_group_name()
    try:
        group = manager.create_reader_group(name, scope, stream, read_from_tail=True)
    except NotFoundError:
        raise CliError(f"stream {scope}/{stream} does not exist") from None
    except UnsupportedError as error:
        # A sealed stream has no current segments to start at, so there is no tail.
        logger.debug("no tail for %s/%s: %s", scope, stream, error)
        return None
    try:
        with group:
            return group.get_streamcut().get_segment_offset_map()
    finally:
        _delete_group(manager, name, scope)


def _delete_group(manager: StreamManager, name: str, scope: str) -> None:
    try:
        manager.delete_reader_group(name, scope)
    except PravegaError as error:
        logger.warning("could not delete reader group %s/%s: %s", scope, name, error)


def _stream_seal(args: argparse.Namespace) -> int:
    scope, stream = args.stream
    with _connect(args) as manager:
        try:
            manager.seal_stream(scope, stream)
        except NotFoundError:
            raise CliError(f"stream {scope}/{stream} does not exist") from None
    return 0


def _stream_delete(args: argparse.Namespace) -> int:
    scope, stream = args.stream
    with _connect(args) as manager:
        try:
            # Pravega deletes only sealed streams; sealing twice is harmless.
            manager.seal_stream(scope, stream)
        except NotFoundError:
            if args.if_exists:
                return 0
            raise CliError(f"stream {scope}/{stream} does not exist") from None
        deleted = manager.delete_stream(scope, stream)
    if not deleted and not args.if_exists:
        raise CliError(f"stream {scope}/{stream} does not exist")
    return 0


# write


def _write(args: argparse.Namespace) -> int:
    scope, stream = args.stream
    if args.key_field is not None and args.format != "lines":
        raise UsageError("--key-field works only with --format lines")
    source = _open_input(args.file)
    try:
        with _connect(args) as manager:
            _policies(manager, scope, stream)
            writer = manager.create_writer(scope, stream, args.max_inflight)
        return _write_events(args, writer, source, f"{scope}/{stream}")
    finally:
        if source is not sys.stdin.buffer:
            source.close()


def _open_input(path: Optional[str]) -> BinaryIO:
    if path is None or path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb", buffering=1 << 20)
    except OSError as error:
        raise CliError(f"--file {path}: {error.strerror}") from None


Record = Tuple[bytes, Optional[str]]


def _write_events(
    args: argparse.Namespace, writer: StreamWriter, source: BinaryIO, name: str
) -> int:
    progress = _Progress(sys.stderr, _input_size(source))
    fixed_key: Optional[str] = args.key
    count = 0
    outcome = "failed"
    try:
        for records in _record_runs(args, source):
            count += _send_run(writer, records, fixed_key)
            progress.update(count, source)
        writer.flush()
        outcome = "done"
    except KeyboardInterrupt:
        outcome = "interrupted"
        raise
    except PravegaError as error:
        raise CliError(
            f"writing to {name} failed with {count} event(s) sent: {error}"
        ) from None
    finally:
        # After a failure or Ctrl-C, what was sent before still gets delivered.
        try:
            writer.close()
        except PravegaError as error:
            logger.debug("closing the writer of %s: %s", name, error)
        progress.finish(count, outcome)
    if args.verbose or progress.enabled:
        _say(f"{count} event(s) written to {name}")
    return 0


def _send_run(
    writer: StreamWriter, records: List[Record], fixed_key: Optional[str]
) -> int:
    """Sends the records of one input read; each stretch of events with one key
    goes out as one native call. Returns how many were sent."""
    batch: List[bytes] = []
    batch_key: Optional[str] = None
    batch_bytes = 0
    for payload, key in records:
        if key is None:
            key = fixed_key
        if batch and (
            key != batch_key
            or len(batch) >= _WRITE_BATCH
            or batch_bytes >= _WRITE_BATCH_BYTES
        ):
            _send(writer, batch, batch_key)
            batch, batch_bytes = [], 0
        batch_key = key
        batch.append(payload)
        batch_bytes += len(payload)
    if batch:
        _send(writer, batch, batch_key)
    return len(records)


def _send(writer: StreamWriter, batch: List[bytes], key: Optional[str]) -> None:
    if len(batch) == 1:
        writer.write_event_bytes(batch[0], key)
    else:
        writer.write_events(batch, key)


def _record_runs(args: argparse.Namespace, source: BinaryIO) -> Iterator[List[Record]]:
    """The input's events, as (payload, routing key or None), one list per read.

    Each list holds what one read of the input brought, and is sent before the next
    read, which may wait: events from a slow producer (``tail -f | pravega-cli
    write``) go out at once rather than when a batch fills. A malformed record
    raises after the list of the good ones before it.
    """
    if args.format == "whole":
        data = source.read()
        if data:
            yield [(data, None)]
        return
    chunks = _chunks(source)
    if args.format == "length-prefixed":
        yield from _length_prefixed(chunks)
        return
    yield from _lines(chunks, args.key_field, args.delimiter)


def _chunks(source: BinaryIO) -> Iterator[bytes]:
    """What the input has, read by read: a read waits only when nothing is there."""
    read: Callable[[int], bytes] = getattr(source, "read1", source.read)
    while True:
        chunk = read(_INPUT_CHUNK)
        if not chunk:
            return
        yield chunk


def _lines(
    chunks: Iterator[bytes], field: Optional[int], delimiter: bytes
) -> Iterator[List[Record]]:
    number = 0
    # The start of a line that continues in the next chunk, in pieces: joining only
    # once its end arrives keeps a long line from being copied again for each chunk.
    partial: List[bytes] = []
    for chunk in chunks:
        if b"\n" not in chunk:
            partial.append(chunk)
            continue
        if partial:
            partial.append(chunk)
            chunk = b"".join(partial)
        lines = chunk.split(b"\n")
        last = lines.pop()
        partial = [last] if last else []
        records, error = _line_records(lines, number, field, delimiter)
        number += len(lines)
        yield records
        if error is not None:
            raise error
    if partial:
        records, error = _line_records([b"".join(partial)], number, field, delimiter)
        yield records
        if error is not None:
            raise error


def _line_records(
    lines: List[bytes], first: int, field: Optional[int], delimiter: bytes
) -> Tuple[List[Record], Optional[CliError]]:
    """The events of ``lines``, which follow line number ``first``; stops at a bad
    line and returns its error with the events before it."""
    if field is None:
        return [(line, None) for line in lines if line], None
    records: List[Record] = []
    for number, line in enumerate(lines, first + 1):
        if not line:
            continue
        fields = line.split(delimiter, field)
        if len(fields) < field:
            return records, CliError(f"line {number} has no field {field}")
        try:
            records.append((line, fields[field - 1].decode("utf-8")))
        except UnicodeDecodeError:
            return records, CliError(f"line {number}: the key field is not UTF-8")
    return records, None


def _length_prefixed(chunks: Iterator[bytes]) -> Iterator[List[Record]]:
    buffer = bytearray()
    number = 0
    for chunk in chunks:
        buffer += chunk
        records: List[Record] = []
        position = 0
        error: Optional[CliError] = None
        while len(buffer) - position >= 4:
            length = int.from_bytes(buffer[position : position + 4], "big")
            if length == 0:
                error = CliError(
                    f"record {number + 1} is empty; Pravega events cannot be"
                )
                break
            if len(buffer) - position - 4 < length:
                break
            start = position + 4
            records.append((bytes(buffer[start : start + length]), None))
            position = start + length
            number += 1
        del buffer[:position]
        yield records
        if error is not None:
            raise error
    if len(buffer) >= 4:
        length = int.from_bytes(buffer[:4], "big")
        raise CliError(
            f"record {number + 1}: the input ends after {len(buffer) - 4} of its "
            f"{length} bytes"
        )
    if buffer:
        raise CliError(f"record {number + 1}: the input ends inside its length")


def _input_size(source: BinaryIO) -> Optional[int]:
    """The size of a regular file, for a percentage; None for a pipe or terminal."""
    try:
        status = os.fstat(source.fileno())
    except (OSError, ValueError):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


class _Progress:
    """A one-line progress display on stderr, drawn only when stderr is a terminal."""

    def __init__(self, stream: TextIO, total_bytes: Optional[int]) -> None:
        self._stream = stream
        self.enabled = _is_terminal(stream)
        self._total = total_bytes
        self._start = self._last_time = time.monotonic()
        self._last_count = 0

    def update(self, count: int, source: BinaryIO) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_time < _PROGRESS_INTERVAL_S:
            return
        rate = (count - self._last_count) / (now - self._last_time)
        self._last_time, self._last_count = now, count
        self._draw(count, rate, _position(source))

    def finish(self, count: int, outcome: str) -> None:
        """Draws the final count with the average rate, and ends the line."""
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self._start, 1e-9)
        self._draw(count, count / elapsed, None)
        self._stream.write("\n" if outcome == "done" else f" ({outcome})\n")
        self._stream.flush()

    def _draw(self, count: int, rate: float, position: Optional[int]) -> None:
        bar = ""
        if self._total and position is not None:
            fraction = min(1.0, position / self._total)
            filled = int(fraction * 20)
            bar = f"[{'#' * filled}{'.' * (20 - filled)}] {fraction:4.0%}  "
        self._stream.write(f"\r{bar}{count:,} events  {rate:,.0f} events/s\x1b[K")
        self._stream.flush()


def _position(source: BinaryIO) -> Optional[int]:
    try:
        return source.tell()
    except (OSError, ValueError):
        return None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False


# read


def _read_command(args: argparse.Namespace) -> int:
    scope, stream = args.stream
    name = _temporary_group_name()
    with _connect(args) as manager:
        _policies(manager, scope, stream)
        # The end is fixed before the group exists, so that everything written before
        # the read started is read, and a busy stream cannot keep it going for ever.
        tail = None if args.follow else _tail_cut(manager, scope, stream)
        group = _start_group(manager, args, name, scope, stream)
        try:
            with group:
                start = group.get_streamcut().get_segment_offset_map()
                reader = group.create_reader("reader")
                try:
                    count = _run_reader(args, reader, _End(tail, start))
                finally:
                    reader.close()
                if args.verbose:
                    stop = group.get_streamcut().get_segment_offset_map()
                    _say(f"{count} event(s) read; stopped at cut {_format_cut(stop)}")
        finally:
            _delete_group(manager, name, scope)
    return 0


def _start_group(
    manager: StreamManager,
    args: argparse.Namespace,
    name: str,
    scope: str,
    stream: str,
) -> StreamReaderGroup:
    if args.from_cut is not None:
        cut = StreamCuts(f"{scope}/{stream}", args.from_cut)
        return manager.create_reader_group(name, scope, stream, stream_cut=cut)
    if args.start == "head":
        return manager.create_reader_group(name, scope, stream)
    try:
        return manager.create_reader_group(name, scope, stream, read_from_tail=True)
    except UnsupportedError:
        # As in _tail_cut: a sealed stream has no tail.
        raise CliError(f"stream {scope}/{stream} is sealed: it has no tail") from None


class _End:
    """Tells when a read has reached the tail taken at its start.

    The tail is one offset per segment; a segment is done once an event ending at or
    past that offset was read, or if the read started there or does not read it.
    Events of segments that came later (after a scale) are past the tail anyway, and
    those of earlier segments come before the tail's own. Without a tail (a sealed
    stream, or --follow) the read never ends this way.
    """

    def __init__(self, tail: Optional[Dict[int, int]], start: Dict[int, int]) -> None:
        self.known = tail is not None
        # Only the segments the group starts in count: a cut that names some of the
        # stream's segments reads those alone, and would never reach the others.
        self._left = {
            segment: offset
            for segment, offset in (tail or {}).items()
            if segment in start and start[segment] < offset
        }
        self._ids: Dict[str, int] = {}

    def reached(self) -> bool:
        return self.known and not self._left

    def advance(self, events: List[Event]) -> None:
        if not self._left:
            return
        for event in events:
            segment = self.segment_id(event)
            target = self._left.get(segment)
            if target is None:
                continue
            if event.offset() + _EVENT_HEADER_BYTES + len(event.data()) >= target:
                del self._left[segment]

    def segment_id(self, event: Event) -> int:
        """The id stream cuts use: the segment number, plus its epoch times 2**32."""
        name = event.segment()
        known = self._ids.get(name)
        if known is None:
            number, _, epoch = name.rsplit("/", 1)[-1].partition(".#epoch.")
            known = (int(epoch or 0) << 32) + int(number)
            self._ids[name] = known
        return known


def _run_reader(args: argparse.Namespace, reader: StreamReader, end: _End) -> int:
    sink = _Sink(args.format, args.separator, end)
    return asyncio.run(_pump(args, reader, end, sink))


async def _pump(
    args: argparse.Namespace, reader: StreamReader, end: _End, sink: "_Sink"
) -> int:
    """Reads and prints events until the end, the count, or a signal."""
    loop = asyncio.get_running_loop()
    signals: List[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, signals.append, signum)
    limit: Optional[int] = args.count
    idle_limit = None if end.known or args.follow else float(args.idle)
    count = 0
    last_event = loop.time()

    # A read in progress is never cancelled: its slice would come back only later,
    # and the reader could not go offline cleanly meanwhile. It returns within about
    # a second when no data comes, and the loop then sees the signal.
    while not signals:
        if not args.follow and end.reached():
            break
        wanted = _READ_BATCH if limit is None else min(_READ_BATCH, limit - count)
        if wanted <= 0:
            break
        events = await reader.read(max_events=wanted, timeout=_READ_WAIT_S)
        if events:
            sink.write(events)
            end.advance(events)
            count += len(events)
            last_event = loop.time()
        elif idle_limit is not None and loop.time() - last_event >= idle_limit:
            break
    if signals:
        raise Interrupted(signals[0])
    return count


_JSON_TEXT = json.JSONEncoder(ensure_ascii=False)


class _Sink:
    """Writes events to stdout in the chosen format, one flush per batch."""

    def __init__(self, kind: str, separator: bytes, end: _End) -> None:
        self._out = sys.stdout.buffer
        self._separator = separator
        self._end = end
        self.write: Callable[[List[Event]], None] = {
            "raw": self._raw,
            "jsonl": self._jsonl,
            "length-prefixed": self._length_prefixed,
        }[kind]

    def _emit(self, chunks: List[bytes]) -> None:
        self._out.write(b"".join(chunks))
        self._out.flush()

    def _raw(self, events: List[Event]) -> None:
        separator = self._separator
        chunks: List[bytes] = []
        for event in events:
            chunks.append(event.data())
            chunks.append(separator)
        self._emit(chunks)

    def _length_prefixed(self, events: List[Event]) -> None:
        chunks: List[bytes] = []
        for event in events:
            data = event.data()
            chunks.append(len(data).to_bytes(4, "big"))
            chunks.append(data)
        self._emit(chunks)

    def _jsonl(self, events: List[Event]) -> None:
        # Only the payload needs JSON escaping; the numbers are written as they are.
        encode = _JSON_TEXT.encode
        chunks: List[bytes] = []
        for event in events:
            data = event.data()
            try:
                field = '"data": ' + encode(data.decode("utf-8"))
            except UnicodeDecodeError:
                text = base64.b64encode(data).decode("ascii")
                field = f'"data_base64": "{text}"'
            segment = self._end.segment_id(event)
            line = f'{{"segment": {segment}, "offset": {event.offset()}, {field}}}\n'
            chunks.append(line.encode("utf-8"))
        self._emit(chunks)
