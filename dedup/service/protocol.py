"""uvicorn's HTTP protocol with a deadline for a request's headers and a cap on connections.

uvicorn closes a keep-alive connection that stays silent, but not one that sends part of a
request and stalls (a byte every few seconds keeps it open for ever), so idle half-open
connections pile up. `GuardedProtocol` (on top of `nodelay`'s TCP_NODELAY) adds:

- a header deadline: a connection that has been waiting for a request's headers (since it was
  opened, or since its last response) for `ConnectionLimits.header_timeout` seconds is answered
  408 when part of a request arrived, and closed either way (checked once a second);
- a cap: when `ConnectionLimits.max_connections` connections are open, a new one evicts the
  connection that has waited longest for headers, or, when every one is inside a request, is
  answered 503 and closed at once.

A request's body has its own deadline (`limits.BodyLimit`). uvicorn builds the protocol from
its class alone, so the limits come from `dedup serve`'s settings in the environment (each
worker process inherits them); without them the defaults apply.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .nodelay import protocol_class

SETTINGS_ENV = "DEDUP_SERVE_SETTINGS"  # as in dedup.serve_cli
TICK_SECONDS = 1.0


def _raw_response(status: bytes, message: str, *headers: bytes) -> bytes:
    body = json.dumps({"message": message}).encode()
    head = [b"HTTP/1.1 " + status, b"content-type: application/json", b"connection: close", *headers,
            b"content-length: " + str(len(body)).encode()]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


TIMEOUT_408 = _raw_response(b"408 Request Timeout", "the request headers did not arrive in time")
BUSY_503 = _raw_response(b"503 Service Unavailable", "too many connections; retry shortly", b"retry-after: 1")


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float = 10.0
    max_connections: int = 256


@lru_cache(maxsize=1)
def connection_limits() -> ConnectionLimits:
    handed = json.loads(os.environ.get(SETTINGS_ENV) or "{}")
    defaults = ConnectionLimits()
    return ConnectionLimits(header_timeout=float(handed.get("read_timeout", defaults.header_timeout)),
                            max_connections=int(handed.get("max_connections", defaults.max_connections)))


_Base: Any = protocol_class()


class GuardedProtocol(_Base):  # type: ignore[misc,valid-type]
    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        limits = connection_limits()
        self._limits = limits
        self._waiting_since: float | None = time.monotonic()
        self._got_bytes = False
        self._last_cycle: Any = None
        super().connection_made(transport)
        if len(self.connections) > limits.max_connections and not self._evict_one():
            transport.write(BUSY_503)
            transport.close()
            return
        self._tick = self.loop.call_later(TICK_SECONDS, self._check_deadline)

    def data_received(self, data: bytes) -> None:
        self._got_bytes = True
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        tick = getattr(self, "_tick", None)
        if tick is not None:
            tick.cancel()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        cycle = self.cycle
        return cycle is None or cycle.response_complete

    def _check_deadline(self) -> None:
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if not self._between_requests():
            self._waiting_since = None  # inside a request: the body deadline is BodyLimit's
        elif self._waiting_since is None or cycle is not self._last_cycle:
            self._waiting_since = time.monotonic()  # a response went out since the last tick
            self._got_bytes = False
        elif time.monotonic() - self._waiting_since >= self._limits.header_timeout:
            self._close_waiting()
            return
        self._last_cycle = cycle
        self._tick = self.loop.call_later(TICK_SECONDS, self._check_deadline)

    def _close_waiting(self) -> None:
        if self._got_bytes:
            self.transport.write(TIMEOUT_408)
        self.transport.close()

    def _evict_one(self) -> bool:
        """Close the connection that has waited longest for a request's headers."""
        waiting = [(c._waiting_since, id(c), c) for c in self.connections
                   if c is not self and getattr(c, "_waiting_since", None) is not None
                   and c._between_requests() and not c.transport.is_closing()]
        if not waiting:
            return False
        min(waiting)[2]._close_waiting()
        return True
