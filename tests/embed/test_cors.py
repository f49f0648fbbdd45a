"""CORS from BARAZA_CORS_ORIGINS: exact origins, preflights, Vary: Origin, nothing for others;
the WebSocket and SSE endpoints check Origin themselves."""

from __future__ import annotations

import pytest
from aiohttp import WSServerHandshakeError

from server.settings import Settings
from tests.conftest import auth

HOST = "http://news.example:8001"
OTHER = "http://evil.example:9000"
WIDGET_ROUTES = [
    ("GET", "/api/v1/articles/a1/comments"),
    ("POST", "/api/v1/articles/a1/comments"),
    ("GET", "/api/v1/comments/1/replies"),
    ("PATCH", "/api/v1/comments/1"),
    ("DELETE", "/api/v1/comments/1"),
    ("PUT", "/api/v1/comments/1/reactions/like"),
    ("DELETE", "/api/v1/comments/1/reactions/like"),
    ("POST", "/api/v1/comments/1/reports"),
    ("GET", "/api/v1/articles/counts"),
    ("GET", "/api/v1/articles/a1"),
    ("GET", "/api/v1/articles/a1/liveblog"),
    ("GET", "/api/v1/articles/a1/events"),
]


@pytest.fixture
async def cors_client(make_client, make_settings):
    return await make_client(make_settings(cors_origins=f"{HOST},https://www.news.example"))


@pytest.mark.parametrize(("method", "path"), WIDGET_ROUTES)
async def test_preflight_of_every_widget_route(cors_client, method, path):
    r = await cors_client.options(path, headers={
        "Origin": HOST,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    })
    assert r.status == 200
    assert r.headers["Access-Control-Allow-Origin"] == HOST
    assert method in r.headers["Access-Control-Allow-Methods"]
    allowed = r.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= set(allowed.split(","))
    assert "Access-Control-Allow-Credentials" not in r.headers


async def test_listed_origin_reads_with_vary(cors_client, token):
    r = await cors_client.get("/api/v1/articles/a1/comments", headers={"Origin": HOST})
    assert r.status == 200
    assert r.headers["Access-Control-Allow-Origin"] == HOST
    assert "Origin" in r.headers["Vary"] and "Authorization" in r.headers["Vary"]
    # Errors carry the headers too, so the widget can show the server's message.
    bad = await cors_client.post("/api/v1/articles/a1/comments", json={"body": ""},
                                 headers={"Origin": HOST, **auth(token())})
    assert bad.status == 422
    assert bad.headers["Access-Control-Allow-Origin"] == HOST
    assert "Retry-After" in bad.headers["Access-Control-Expose-Headers"]


async def test_unlisted_origin_gets_no_cors_headers(cors_client):
    pre = await cors_client.options("/api/v1/articles/a1/comments", headers={
        "Origin": OTHER, "Access-Control-Request-Method": "POST",
    })
    assert pre.status == 403
    assert not [h for h in pre.headers if h.lower().startswith("access-control-")]
    r = await cors_client.get("/api/v1/articles/a1/comments", headers={"Origin": OTHER})
    assert r.status == 200  # a plain read still answers; the browser withholds it from the page
    assert not [h for h in r.headers if h.lower().startswith("access-control-")]
    assert "Origin" in r.headers["Vary"]


async def test_no_origin_allowed_by_default(make_client, make_settings):
    client = await make_client(make_settings())
    pre = await client.options("/api/v1/articles/a1/comments", headers={
        "Origin": HOST, "Access-Control-Request-Method": "GET",
    })
    assert pre.status == 403
    assert "Access-Control-Allow-Origin" not in pre.headers


async def test_websocket_refuses_an_unlisted_origin(cors_client):
    with pytest.raises(WSServerHandshakeError) as refused:
        await cors_client.ws_connect("/api/v1/live", headers={"Origin": OTHER})
    assert refused.value.status == 403
    ws = await cors_client.ws_connect("/api/v1/live", headers={"Origin": HOST})
    await ws.send_json({"op": "ping"})
    assert (await ws.receive_json())["op"] == "pong"
    await ws.close()
    # A server-side client sends no Origin and is not a browser page: allowed.
    ws = await cors_client.ws_connect("/api/v1/live")
    await ws.close()


async def test_websocket_allows_the_servers_own_origin(cors_client):
    own = f"http://{cors_client.host}:{cors_client.port}"
    ws = await cors_client.ws_connect("/api/v1/live", headers={"Origin": own})
    await ws.close()


async def test_sse_refuses_an_unlisted_origin(cors_client):
    r = await cors_client.get("/api/v1/articles/a1/events", headers={"Origin": OTHER})
    assert r.status == 403
    assert (await r.json())["error"]["code"] == "origin_not_allowed"


def test_origins_are_exact_and_validated() -> None:
    settings = Settings(cors_origins="https://News.example/ , http://localhost:8001")
    assert settings.cors_origins == ["https://news.example", "http://localhost:8001"]
    for bad in ("*", "https://news.example/path", "news.example"):
        with pytest.raises(ValueError, match="is not an origin"):
            Settings(cors_origins=bad)
