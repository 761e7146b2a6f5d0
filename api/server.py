"""uvicorn as `tomgraph serve` runs it: bounded in time and size for clients that are slow on
purpose (issue 13).

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but it waits forever
for a new connection's first byte and for headers that trickle in, and it keeps every header
it is sent. `GuardedHttpToolsProtocol` adds the missing bounds: a request's headers must be
complete within `api_header_timeout_s` of the connection opening (or of the first byte after
the previous answer) and may not exceed `MAX_HEADER_BYTES`; a breach is answered with 408 or
431 and the connection is closed. The body's own deadline and size are the app's
(`api.guard.RequestGuard`), since only the app knows the route.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from graph.settings import Settings

MAX_HEADER_BYTES = 64 * 1024
"""Request line plus headers; far above any real client (browsers send a few kB)."""
KEEP_ALIVE_S = 5
"""An idle keep-alive connection is closed after this long (uvicorn's `timeout_keep_alive`)."""


def _status(code: int, reason: str) -> bytes:
    return (
        f"HTTP/1.1 {code} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(reason)}\r\nconnection: close\r\n\r\n{reason}"
    ).encode("ascii")


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and a header size limit."""

    header_timeout_s = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._in_headers = False
        self._refused = False

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _refuse(self, status: bytes) -> None:
        self._refused = True
        self._disarm_header_timer()
        if not self.transport.is_closing():
            self.transport.write(status)
            self.transport.close()

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        # Only a request still waiting for its headers is cut off; a request being answered
        # (its body is the app's to time) or an idle keep-alive (uvicorn's timer) is left alone.
        idle = self.cycle is None or self.cycle.response_complete
        if self._in_headers or (idle and not self.pipeline):
            self._refuse(_status(408, "Request Timeout"))

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self.cycle is None or self.cycle.response_complete:
            # The first bytes of a new request on a kept-alive connection start its deadline.
            self._arm_header_timer()
        super().data_received(data)

    def on_message_begin(self) -> None:
        self._arm_header_timer()  # a pipelined request's headers are timed too
        self._in_headers = True
        self._header_bytes = 0
        super().on_message_begin()

    def _count(self, n: int) -> bool:
        self._header_bytes += n
        if self._header_bytes > MAX_HEADER_BYTES:
            self._refuse(_status(431, "Request Header Fields Too Large"))
            return False
        return True

    def on_url(self, url: bytes) -> None:
        if self._count(len(url)):
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._count(len(name) + len(value) + 4):
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._disarm_header_timer()
        if self._refused:
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()


def uvicorn_config(app: Any, settings: Settings, host: str, port: int, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration `tomgraph serve` uses (and the tests that run a real server)."""

    class Protocol(GuardedHttpToolsProtocol):
        header_timeout_s = settings.api_header_timeout_s

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "http": Protocol,
        "timeout_keep_alive": KEEP_ALIVE_S,
        "server_header": False,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)
