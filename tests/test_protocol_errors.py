"""Requests aiohttp refuses before any route (too long, malformed) get the API's error format."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
from aiohttp import web

from server.protocol_errors import ApiRunner


async def _ok(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_get("/ok", _ok)
    runner = ApiRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` on a raw socket; the status, headers and body of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def _error(headers: dict[str, str], body: bytes) -> dict[str, str]:
    assert headers["content-type"].startswith("application/json")
    error: dict[str, str] = orjson.loads(body)["error"]
    assert set(error) == {"code", "message"}
    return error


async def test_an_oversized_url_is_a_json_400(port: int) -> None:
    url = b"/ok?" + b"a" * 20_000
    status, headers, body = await _raw(port, b"GET " + url + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 400
    error = _error(headers, body)
    assert error == {
        "code": "bad_request",
        "message": "request line or a header is too long (limit 8190 bytes)",
    }


async def test_an_oversized_header_is_a_json_400(port: int) -> None:
    big = b"X-Big: " + b"b" * 20_000 + b"\r\n"
    status, headers, body = await _raw(port, b"GET /ok HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    assert status == 400
    assert _error(headers, body)["code"] == "bad_request"


async def test_a_malformed_request_line_is_a_json_400(port: int) -> None:
    status, headers, body = await _raw(port, b"NOT HTTP AT ALL\r\n\r\n")
    assert status == 400
    assert _error(headers, body)["code"] == "bad_request"


async def test_a_good_request_still_reaches_the_app(port: int) -> None:
    status, _, body = await _raw(
        port, b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status == 200 and orjson.loads(body) == {"ok": True}
