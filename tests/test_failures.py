"""Failure paths: a dead Redis or database never turns into a 500 or a lost comment."""

from __future__ import annotations

import asyncio
import logging
import struct

from aiohttp import web
from sqlalchemy import select

from server.comments.models import Comment
from server.errors import database_not_ready, error_middleware
from server.logs import JsonFormatter
from tests.conftest import auth

DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_PG = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"


async def test_comment_is_kept_when_redis_is_down(make_client, make_settings, token, sessionmaker):
    client = await make_client(make_settings(redis_url=DEAD_REDIS))
    r = await client.post(
        "/api/v1/articles/a1/comments", json={"body": "still here"}, headers=auth(token())
    )
    assert r.status == 202
    posted = await r.json()
    async with sessionmaker() as session:
        stored = await session.scalar(select(Comment).where(Comment.id == posted["id"]))
    assert stored is not None and stored.status == "pending"  # the sweeper will enqueue it
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["checks"]["redis"]["ok"] is False


async def test_rate_limiter_outage_is_503_not_500(make_client, make_settings, token):
    client = await make_client(make_settings(redis_url=DEAD_REDIS, rate_limit_enabled=True))
    r = await client.post("/api/v1/articles/a1/comments", json={"body": "x"}, headers=auth(token()))
    assert r.status == 503
    body = await r.json()
    assert body["error"]["code"] == "unavailable" and r.headers["Retry-After"] == "1"


async def test_database_down_is_503(make_client, make_settings, token):
    client = await make_client(make_settings(database_url=DEAD_PG))
    r = await client.get("/api/v1/articles/a1/comments")
    assert r.status == 503 and (await r.json())["error"]["code"] == "unavailable"
    r = await client.post("/api/v1/articles/a1/comments", json={"body": "x"}, headers=auth(token()))
    assert r.status == 503
    assert (await client.get("/readyz")).status == 503
    assert (await client.get("/healthz")).status == 200


async def test_unexpected_error_is_json_without_trace(aiohttp_client, caplog):
    async def boom(_request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/boom", boom)
    client = await aiohttp_client(app)
    with caplog.at_level(logging.ERROR):
        r = await client.get("/boom")
    assert r.status == 500
    text = await r.text()
    assert "secret internals" not in text and "Traceback" not in text
    assert (await r.json())["error"]["code"] == "internal"
    assert "secret internals" in caplog.text


async def test_unknown_route_and_method(client):
    r = await client.get("/api/v1/nothing-here")
    assert r.status == 404 and (await r.json())["error"]["code"] == "not_found"
    r = await client.delete("/api/v1/articles/a1/comments")
    assert r.status == 405 and "Allow" in r.headers


def test_json_log_lines():
    record = logging.LogRecord("baraza", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    import orjson

    entry = orjson.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello world" and entry["level"] == "info"


async def test_nul_characters_are_refused_everywhere(client, token):
    headers = auth(token())
    r = await client.post("/api/v1/articles/a1/comments", data=b'{"body": "a\\u0000b"}',
                          headers=headers)
    assert r.status == 422 and (await r.json())["error"]["code"] == "invalid"
    r = await client.post("/api/v1/comments/1/reports",
                          data=b'{"reason": "spam", "note": "x\\u0000"}', headers=headers)
    assert r.status == 422 and (await r.json())["error"]["code"] == "invalid"
    r = await client.get("/api/v1/articles/a1/comments?cursor=%00")
    assert r.status == 400


async def _starting_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A PostgreSQL server that is still starting: every connection gets FATAL 57P03."""
    try:
        length, code = struct.unpack("!ii", await reader.readexactly(8))
        if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: not here
            writer.write(b"N")
            length, code = struct.unpack("!ii", await reader.readexactly(8))
        await reader.readexactly(length - 8)
        fields = b"".join(
            key + value.encode() + b"\0"
            for key, value in (
                (b"S", "FATAL"), (b"V", "FATAL"), (b"C", "57P03"),
                (b"M", "the database system is starting up"),
            )
        ) + b"\0"
        writer.write(b"E" + struct.pack("!i", len(fields) + 4) + fields)
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def test_database_starting_up_is_503_with_retry_after(make_client, make_settings, token):
    server = await asyncio.start_server(_starting_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = await make_client(
            make_settings(database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/baraza")
        )
        r = await client.get("/api/v1/articles/a1/comments")
        assert r.status == 503 and r.headers["Retry-After"] == "1"
        assert (await r.json())["error"]["code"] == "unavailable"
        r = await client.post(
            "/api/v1/articles/a1/comments", json={"body": "x"}, headers=auth(token())
        )
        assert r.status == 503 and r.headers["Retry-After"] == "1"
    finally:
        server.close()
        await server.wait_closed()


def test_not_ready_states_are_recognised_through_wrappers() -> None:
    class Raw(Exception):
        sqlstate = "57P03"

    class Translated(Exception):
        pass

    wrapped = Translated("wrapped")
    wrapped.__cause__ = Raw("the database system is starting up")
    assert database_not_ready(wrapped)
    assert not database_not_ready(ValueError("nothing to do with it"))
