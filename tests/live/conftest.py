"""Real server processes for the live tests, and a small client for the live protocol."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from server.live.redis import RedisChannelBroker
from tests.conftest import JWT_SECRET, SINGLE, RedisTarget

ROOT = Path(__file__).resolve().parents[2]
HISTORY_SIZE = 50
QUEUE_SIZE = 16
PRESENCE_INTERVAL = 0.3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_server(
    database_url: str, redis_prefix: str, target: RedisTarget = SINGLE, **env: str
) -> ServerProcess:
    """``python -m server.cli serve`` on a free port, ready when /healthz answers.

    The port is picked before the process binds it, so another process may take it in between:
    a server that exits at start is started again on another port (three tries)."""
    for attempt in range(3):
        try:
            return _start_server_once(database_url, redis_prefix, target, **env)
        except ServerExited:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class ServerExited(RuntimeError):
    """The server process ended before it answered (most often: its port was taken)."""


def _start_server_once(
    database_url: str, redis_prefix: str, target: RedisTarget = SINGLE,
    port: int | None = None, **env: str
) -> ServerProcess:
    port = port or free_port()
    environ = {
        **os.environ,
        "BARAZA_DATABASE_URL": database_url,
        **target.env(),
        "BARAZA_REDIS_PREFIX": redis_prefix,
        "BARAZA_JWT_SECRET": JWT_SECRET,
        "BARAZA_EMBEDDED_WORKER": "false",
        "BARAZA_RATE_LIMIT_ENABLED": "false",
        "BARAZA_LIVE_HISTORY_SIZE": str(HISTORY_SIZE),
        "BARAZA_LIVE_QUEUE_SIZE": str(QUEUE_SIZE),
        "BARAZA_PRESENCE_INTERVAL_SECONDS": str(PRESENCE_INTERVAL),
        "BARAZA_DATABASE_POOL_SIZE": "3",
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=environ,
    )
    server = ServerProcess(port, proc)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerExited(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("server did not start")


@contextlib.contextmanager
def server_pair(
    database_url: str, redis_prefix: str, target: RedisTarget = SINGLE
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two server processes (A, B) sharing one database and Redis prefix; both stopped after."""
    a = start_server(database_url, redis_prefix, target)
    try:
        b = start_server(database_url, redis_prefix, target)
    except Exception:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


@pytest.fixture(scope="module")
def servers(
    database_url: str, redis_prefix: str, redis_target: RedisTarget
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two server processes (A, B) sharing this session's database and Redis prefix."""
    with server_pair(database_url, redis_prefix, redis_target) as pair:
        yield pair


@pytest.fixture
async def broker(
    redis_prefix: str, redis_target: RedisTarget
) -> AsyncIterator[RedisChannelBroker]:
    """A publisher standing in for a third process (a scoring worker)."""
    client = redis_target.client()
    yield RedisChannelBroker(client, redis_prefix, history_size=HISTORY_SIZE)
    await client.aclose()


class LiveClient:
    """A WebSocket client of the live protocol that keeps presence messages aside."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.presence: list[dict[str, Any]] = []

    async def send(self, **op: Any) -> None:
        await self.ws.send_bytes(orjson.dumps(op))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next message that is not ``presence``."""
        while True:
            message = await self.ws.receive(timeout=timeout)
            if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                raise ConnectionError(f"socket closed: {message.type} {message.data!r}")
            data: dict[str, Any] = orjson.loads(message.data)
            if data["op"] == "presence":
                self.presence.append(data)
                continue
            return data

    async def subscribe(self, channel: str, since: int | None = None) -> dict[str, Any]:
        op: dict[str, Any] = {"op": "subscribe", "channel": channel}
        if since is not None:
            op["since"] = since
        await self.send(**op)
        reply = await self.recv()
        if reply["op"] != "subscribed":
            raise AssertionError(reply)
        return reply

    async def events(self, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        out = [await self.recv(timeout) for _ in range(n)]
        if any(m["op"] != "event" for m in out):
            raise AssertionError(out)
        return out

    async def nothing(self, wait: float = 0.3) -> None:
        """Assert that no (non-presence) message arrives within ``wait`` seconds."""
        try:
            extra = await self.recv(timeout=wait)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {extra}")


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Any]]:
    """``await connect(url)`` → a LiveClient; every socket and session closed afterwards."""
    session = aiohttp.ClientSession()
    sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def open_(url: str, **kwargs: Any) -> LiveClient:
        ws = await session.ws_connect(url, **kwargs)
        sockets.append(ws)
        return LiveClient(ws)

    yield open_
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    await session.close()
