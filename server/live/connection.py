"""One client connection as the hub sees it: a WebSocket or an SSE stream with a bounded queue.

``send`` never blocks and never awaits: the hub calls it for every subscriber in a loop. While
the socket keeps up, a WebSocket frame goes straight to the transport (the same bytes object for
every subscriber); when the kernel and transport buffers are full, frames wait in a queue of at
most ``queue_size`` messages, and one more closes the connection as a slow consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Protocol

from aiohttp import web

from server.auth import Principal
from server.live import metrics
from server.live.protocol import CLOSE_SLOW_CONSUMER, Frame

log = logging.getLogger(__name__)

# Bytes the transport may hold before frames wait in the connection's own queue.
HIGH_WATER = 64 * 1024
_PING = b"\x89\x00"  # an empty PING frame, the same bytes for every socket
_POLL_SECONDS = 0.02
_CLOSE_TIMEOUT = 3.0


class Connection(Protocol):
    principal: Principal | None
    ip: str
    channels: set[str]

    def send(self, frame: Frame) -> None: ...

    def heartbeat(self, now: float, timeout: float) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class WsConnection:
    """A WebSocket whose outgoing frames are written pre-encoded, without a task per message."""

    __slots__ = (
        "_backlog", "_closing", "_flusher", "_ping_at", "_queue_size", "_seen_at", "_transport",
        "_ws", "channels", "errors", "ip", "principal",
    )

    def __init__(
        self, ws: web.WebSocketResponse, transport: asyncio.Transport, *, ip: str,
        principal: Principal | None, queue_size: int,
    ) -> None:
        self._ws = ws
        self._transport = transport
        self._queue_size = queue_size
        self._backlog: deque[bytes] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self.ip = ip
        self.principal = principal
        self.channels: set[str] = set()
        self.errors = 0
        self._ping_at = 0.0
        self._seen_at = 0.0

    def seen(self, now: float) -> None:
        """Anything arrived from the client (a pong, a message): it is alive."""
        self._seen_at = now

    def pong(self, payload: bytes) -> None:
        if len(payload) < 126 and not self._transport.is_closing():
            self._transport.write(bytes((0x8A, len(payload))) + payload)

    def heartbeat(self, now: float, timeout: float) -> None:
        """Ping, or drop a peer that has not answered the last ping within ``timeout``.

        The hub calls this for a slice of its connections every second: one shared frame per
        socket and no timer per connection (aiohttp's own heartbeat costs a task per ping).
        """
        if self._ping_at > self._seen_at:
            if now - self._ping_at >= timeout:
                log.info("dropping a live connection from %s: no pong", self.ip)
                self._transport.abort()
            return
        if self._backlog is None and not self._transport.is_closing():
            self._ping_at = now  # a backlogged socket is not pinged: its queue is the judge
            self._transport.write(_PING)

    def send(self, frame: Frame) -> None:
        # The hot path: called once per subscriber per event.
        transport = self._transport
        if self._backlog is None and transport.get_write_buffer_size() <= HIGH_WATER:
            if not transport.is_closing():
                transport.write(frame.ws)
            return
        self._enqueue(frame)

    def _enqueue(self, frame: Frame) -> None:
        if self._closing is not None or self._transport.is_closing():
            return
        backlog = self._backlog
        if backlog is None:
            backlog = self._backlog = deque()
            self._flusher = asyncio.create_task(self._flush(backlog))
        if len(backlog) >= self._queue_size:
            self._overflow()
            return
        backlog.append(frame.ws)

    async def _flush(self, backlog: deque[bytes]) -> None:
        transport = self._transport
        while backlog:
            # Polling is enough here: only a connection that fell behind ever gets this far.
            while transport.get_write_buffer_size() > HIGH_WATER // 2:
                if transport.is_closing():
                    return
                await asyncio.sleep(_POLL_SECONDS)
            while backlog and transport.get_write_buffer_size() <= HIGH_WATER:
                transport.write(backlog.popleft())
        if self._closing is None:
            self._backlog = None  # back to the fast path

    def _overflow(self) -> None:
        log.info("closing a slow live consumer from %s", self.ip)
        metrics.SLOW_CONSUMERS.inc()
        if self._backlog is not None:
            self._backlog.clear()  # stops the flusher
        self._backlog = deque()  # never None again: nothing more is written
        self._closing = asyncio.create_task(
            self._close(CLOSE_SLOW_CONSUMER, "slow consumer: outgoing queue overflowed")
        )

    async def close(self, code: int, reason: str) -> None:
        if self._closing is None:
            self._closing = asyncio.create_task(self._close(code, reason))
        await asyncio.shield(self._closing)

    async def _close(self, code: int, reason: str) -> None:
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await self._ws.close(code=code, message=reason.encode())
        except (TimeoutError, ConnectionError):
            pass
        finally:
            if not self._transport.is_closing():
                self._transport.abort()

    async def release(self) -> None:
        """Cancel and await this connection's own tasks (the handler's ``finally``)."""
        for task in (self._flusher, self._closing):
            if task is not None and not task.done():
                task.cancel()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


class SseConnection:
    """A Server-Sent Events stream: the request handler itself writes the queued blocks."""

    __slots__ = ("_closed", "_queue", "_queue_size", "_wake", "channels", "ip", "principal")

    def __init__(self, *, ip: str, principal: Principal | None, queue_size: int) -> None:
        self._queue: deque[bytes] = deque()
        self._queue_size = queue_size
        self._wake = asyncio.Event()
        self._closed = False
        self.ip = ip
        self.principal = principal
        self.channels: set[str] = set()

    def send(self, frame: Frame) -> None:
        if self._closed:
            return
        if len(self._queue) >= self._queue_size:
            # The client reconnects with Last-Event-ID and recovers from history.
            log.info("ending a slow SSE consumer from %s", self.ip)
            metrics.SLOW_CONSUMERS.inc()
            self._closed = True
            self._queue.clear()
        else:
            self._queue.append(frame.sse)
        self._wake.set()

    async def close(self, code: int, reason: str) -> None:
        self._closed = True
        self._wake.set()

    def heartbeat(self, now: float, timeout: float) -> None:
        return None  # ``pump`` writes a comment line when the stream is idle

    async def pump(self, response: web.StreamResponse, heartbeat: float) -> None:
        """Write queued blocks until the stream is closed; a comment line keeps it alive."""
        while not self._closed or self._queue:
            try:
                async with asyncio.timeout(heartbeat):
                    await self._wake.wait()
            except TimeoutError:
                await response.write(b": ping\n\n")
                continue
            self._wake.clear()
            if self._queue:
                chunk = b"".join(self._queue)
                self._queue.clear()
                await response.write(chunk)
