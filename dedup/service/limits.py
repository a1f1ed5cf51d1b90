"""An ASGI middleware that refuses request bodies over a size limit (413) or too slow (408).

The body is read (up to the limit) before the application sees it, so a request over the
limit is answered without parsing anything, whether it declares a Content-Length or is sent
chunked; the application then receives the same body, replayed. The whole body must arrive
within `read_timeout` seconds: a client that sends part of a body and stalls is answered 408
and disconnected (the headers' own deadline is `protocol.GuardedProtocol`'s).
"""
from __future__ import annotations

import json
import math
from typing import Any, Awaitable, Callable

import anyio

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, read_timeout: float = math.inf) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        outcome: bytes | str = "late"
        with anyio.move_on_after(self.read_timeout):
            outcome = await self._read(receive)
        if outcome == "over":
            await self._refuse(send)
        elif outcome == "late":
            await _answer(send, 408, f"the request body did not arrive within {self.read_timeout:g} s")
        elif isinstance(outcome, bytes):
            await self.app(scope, _replay(outcome, receive), send)
        # "gone": the client disconnected; nobody to answer

    async def _read(self, receive: Receive) -> bytes | str:
        """The whole body, or "over" (past the limit) or "gone" (the client disconnected)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return "gone"
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return "over"
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, send: Send) -> None:
        await _answer(send, 413, f"request body is over the limit of {self.max_bytes} bytes")


async def _answer(send: Send, status: int, message: str) -> None:
    """A JSON error, and the connection closed after it (the rest of the body is not read)."""
    body = json.dumps({"message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server would send it

    return replayed
