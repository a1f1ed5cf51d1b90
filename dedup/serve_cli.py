"""The ``dedup serve`` command: run the HTTP service (`dedup.service`) with uvicorn."""
from __future__ import annotations

import argparse
import ipaddress
import json
import math
import os
import signal
import sys
from pathlib import Path
from typing import Any

from .archive.index import DEFAULT_LOCATION
from .config import Config, load_config
from .options import int_in
from .readers.errors import InputError, printable
from .readers.limits import read_file

SETTINGS_ENV = "DEDUP_SERVE_SETTINGS"  # how `--workers N` hands the settings to each worker process
TOKEN_ENV = "DEDUP_TOKEN"


class ServeError(Exception):
    """A reason `dedup serve` cannot start (exit 2), in one line."""


MAX_WORKERS = 64
MAX_BODY_BYTES = 1 << 30  # 1 GiB: the whole body is held in memory
MAX_CONNECTIONS = 65_536  # per server process; each holds a socket (a file descriptor)
MAX_QUEUE = 100_000  # waiting checks, each holding its request body
MAX_LARGE_CHECK = MAX_BODY_BYTES  # characters: no request has more than its body's bytes


def add_serve_parser(sub: Any, add_config_options: Any) -> argparse.ArgumentParser:
    serve = sub.add_parser(
        "serve", help="run the HTTP service (needs the server extra)",
        description="Serve POST /v1/check, the archive routes (PUT/DELETE /v1/archive/{id}, GET "
                    "/v1/archive/stats) and an editor's page at /. Needs `pip install 'dedup[server]'`.",
        epilog=f"The archive-changing routes need a bearer token when one is set: --token-file FILE or "
               f"the {TOKEN_ENV} environment variable.")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int_in(0, 65535), default=8000, help="port to bind, 0 to 65535 (default: 8000)")
    serve.add_argument("--index", metavar="LOCATION", default=None,
                       help=f"the archive index: a file, or redis://host:port/db; created when missing "
                            f"(default: {DEFAULT_LOCATION})")
    serve.add_argument("--token-file", metavar="FILE", help="bearer token for the archive-changing routes")
    serve.add_argument("--max-body-size", type=int_in(1, MAX_BODY_BYTES), default=5 * 1024 * 1024, metavar="BYTES",
                       help=f"refuse larger request bodies with 413, 1 to {MAX_BODY_BYTES} (default: 5242880)")
    serve.add_argument("--workers", type=int_in(1, MAX_WORKERS), default=1, metavar="N",
                       help=f"server processes, each with its own engine processes, 1 to {MAX_WORKERS} (default: 1)")
    serve.add_argument("--time-budget", type=seconds, default=30.0, metavar="SECONDS",
                       help="stop a request that runs longer and answer 504, more than 0 up to 86400 (default: 30)")
    serve.add_argument("--read-timeout", type=seconds, default=10.0, metavar="SECONDS",
                       help="a request's headers, and then its body, must arrive within this, more than 0 up to "
                            "86400 (default: 10)")
    serve.add_argument("--max-connections", type=int_in(1, MAX_CONNECTIONS), default=256, metavar="N",
                       help=f"open connections per server process; past it the one idle longest is closed, "
                            f"1 to {MAX_CONNECTIONS} (default: 256)")
    serve.add_argument("--queue", type=int_in(1, MAX_QUEUE), default=64, metavar="N",
                       help=f"checks that may wait for an engine process; more are answered 503 with "
                            f"Retry-After, 1 to {MAX_QUEUE} (default: 64)")
    serve.add_argument("--large-check", type=int_in(1, MAX_LARGE_CHECK), default=50_000, metavar="CHARS",
                       help=f"requests with more characters of text than this run in an engine process of "
                            f"their own, so that small checks never wait behind them, 1 to {MAX_LARGE_CHECK} "
                            f"(default: 50000)")
    serve.add_argument("--integrity-interval", type=seconds, default=10.0, metavar="SECONDS",
                       help="/readyz reruns the index's integrity check this often at most, more than 0 up to "
                            "86400 (default: 10)")
    serve.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"), default="info")
    serve.add_argument("--no-access-log", dest="access_log", action="store_false", help="do not log each request")
    add_config_options(serve)
    return serve


def run_serve(args: argparse.Namespace, source: Path | None) -> int:
    """Start the server; returns when it stops (the exit status)."""
    try:
        import fastapi  # noqa: F401
        import uvicorn

        from .service.protocol import GuardedProtocol
    except ImportError as err:
        raise ServeError(f"`dedup serve` needs the server extra ({err.name} is missing): "
                         "pip install 'dedup[server]'") from None
    token = _token(args.token_file)
    if token is None and not _loopback(args.host):
        print(f"dedup: warning: serving on {args.host} without a token: anyone who can reach it may change "
              f"the archive (set --token-file or {TOKEN_ENV})", file=sys.stderr)
    handed = {"index": args.index or DEFAULT_LOCATION, "config": None if args.isolated or source is None else str(source),
              "max_body_bytes": args.max_body_size, "token": token, "time_budget": args.time_budget,
              "read_timeout": args.read_timeout, "max_connections": args.max_connections, "queue": args.queue,
              "large_chars": args.large_check, "integrity_interval": args.integrity_interval,
              "supervisor": os.getpid() if args.workers > 1 else None}
    os.environ[SETTINGS_ENV] = json.dumps(handed)
    uvicorn.run("dedup.serve_cli:app_from_environment", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level=args.log_level, access_log=args.access_log,
                server_header=False, timeout_graceful_shutdown=10, http=GuardedProtocol,
                timeout_keep_alive=5)
    return 0


def app_from_environment() -> Any:
    """The application for the settings `run_serve` put in the environment (each worker calls
    this). A worker of `--workers N` dies with the supervisor that started it (SIGTERM: it
    finishes what it was answering and stops its engine processes), so that a SIGKILL of
    ``dedup serve`` leaves nothing serving on the port."""
    from .service import ServiceSettings, create_app
    from .service.lifeline import die_with_parent

    handed = json.loads(os.environ[SETTINGS_ENV])
    supervisor = handed.get("supervisor")
    if supervisor is not None and supervisor != os.getpid():
        die_with_parent(supervisor, signal.SIGTERM)
    source = Path(handed["config"]) if handed["config"] else None
    config = load_config(source) if source is not None else Config()
    return create_app(ServiceSettings(index=handed["index"], config=config,
                                      root=source.parent if source is not None else Path.cwd(),
                                      token=handed["token"], max_body_bytes=handed["max_body_bytes"],
                                      time_budget=handed["time_budget"], read_timeout=handed["read_timeout"],
                                      queue=handed["queue"], large_queue=max(1, handed["queue"] // 16),
                                      large_chars=handed["large_chars"],
                                      integrity_interval=handed["integrity_interval"]))


def seconds(value: str) -> float:
    """A positive, finite number of seconds (argparse type)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not (math.isfinite(number) and 0 < number <= 86_400):
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 86400 seconds, not {value}")
    return number


def _token(token_file: str | None) -> str | None:
    if token_file is None:
        token = os.environ.get(TOKEN_ENV)
        return token.strip() or None if token is not None else None
    shown = printable(token_file)
    try:
        token = read_file(token_file, shown, 64 * 1024, "for a token file").decode("utf-8").strip()
    except InputError as err:
        raise ServeError(f"{shown}: cannot read the token: {str(err).removeprefix(shown + ': ')}") from None
    except UnicodeDecodeError as err:
        raise ServeError(f"{shown}: cannot read the token: {err}") from None
    if not token:
        raise ServeError(f"{shown}: the token file is empty")
    return token


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
