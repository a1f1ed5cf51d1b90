"""uvicorn's HTTP protocols with TCP_NODELAY set on every connection.

With ``--workers N`` uvicorn binds the listening socket itself with ``proto`` 0, and asyncio
then leaves Nagle's algorithm on for the connections it accepts (uvicorn issue #3149): a
response body written after its headers waits for the client's delayed ACK, about 40 ms a
request on Linux. These subclasses turn it off as each connection is made.
"""
from __future__ import annotations

import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


def _no_delay(transport: Any) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: uvicorn uses h11
    HttpToolsProtocol = None  # type: ignore[assignment,misc]
else:
    class NoDelayHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[no-redef]
        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            _no_delay(transport)
            super().connection_made(transport)


def protocol_class() -> type:
    """The protocol uvicorn's "auto" would pick (httptools when installed, else h11), with
    TCP_NODELAY."""
    return NoDelayHttpToolsProtocol if HttpToolsProtocol is not None else NoDelayH11Protocol
