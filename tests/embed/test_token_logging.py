"""A token in ``?token=`` never reaches a log line (access log included)."""

from __future__ import annotations

import io
import logging

from aiohttp.test_utils import TestClient, TestServer

from server.app import create_app
from server.logs import configure_logging


async def test_query_tokens_are_redacted_from_access_and_error_logs(make_settings, token):
    settings = make_settings()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(settings)
    handler = logging.getLogger().handlers[0]
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    access = logging.getLogger("aiohttp.access")
    access.setLevel(logging.INFO)
    secret = token("reader-1")
    server = TestServer(create_app(settings), access_log=access,
                        access_log_format='%a "%r" %s')
    client = TestClient(server)
    await client.start_server()
    try:
        ws = await client.ws_connect(f"/api/v1/live?token={secret}&x=1")
        await ws.send_json({"op": "ping"})
        assert (await ws.receive_json())["op"] == "pong"
        await ws.close()
        r = await client.get(f"/api/v1/articles/a1/comments?token={secret}")
        assert r.status == 400  # unknown query parameter; still logged
        logging.getLogger("server.test").warning("proxy said GET /live?token=%s failed", secret)
    finally:
        await client.close()
        access.setLevel(logging.WARNING)
        root.handlers[:], level = saved
        root.setLevel(level)
    logged = stream.getvalue()
    assert "/api/v1/live?token=[redacted]&x=1" in logged
    assert "comments?token=[redacted]" in logged
    assert "/live?token=[redacted] failed" in logged
    assert secret not in logged
    assert secret.split(".")[2] not in logged
