"""The embedded default: `baraza serve` with nothing configured (SQLite, in-process broker)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from server.app import create_app
from server.auth import mint_token
from server.settings import Settings

pytestmark = pytest.mark.embedded


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_post_then_list_in_process(aiohttp_client, tmp_path):
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/e.db", embedded_worker=False)
    client = await aiohttp_client(create_app(settings))
    headers = {"Authorization": "Bearer " + mint_token(settings, sub="u1", name="U1")}
    r = await client.post("/api/v1/articles/a/comments", json={"body": "hello"}, headers=headers)
    assert r.status == 202
    page = await (await client.get("/api/v1/articles/a/comments", headers=headers)).json()
    assert [c["body"] for c in page["awaiting_review"]] == ["hello"]
    ready = await (await client.get("/readyz")).json()
    assert ready["checks"]["database"]["backend"] == "sqlite"


async def test_posts_push_back_while_the_in_process_scorer_is_behind(aiohttp_client, tmp_path):
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/e.db",
        embedded_worker=False,  # nobody scores: the backlog only grows
        scoring_backlog_max=2,
    )
    client = await aiohttp_client(create_app(settings))
    headers = {"Authorization": "Bearer " + mint_token(settings, sub="u1", name="U1")}
    url = "/api/v1/articles/a/comments"
    for body in ("one", "two"):
        assert (await client.post(url, json={"body": body}, headers=headers)).status == 202
    r = await client.post(url, json={"body": "three"}, headers=headers)
    assert r.status == 503
    assert r.headers["Retry-After"] == "2"
    assert (await r.json())["error"]["code"] == "scoring_backlog"
    page = await (await client.get(url, headers=headers)).json()
    assert sorted(c["body"] for c in page["awaiting_review"]) == ["one", "two"]


@pytest.mark.slow
async def test_baraza_serve_on_a_bare_directory(tmp_path: Path):
    """The README's first command: no configuration at all, a file database in the cwd."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BARAZA_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "serve",
        "--port",
        str(port),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        token = mint_token(Settings(), sub="reader-1", name="Amina")
        headers = {"Authorization": f"Bearer {token}"}
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(150):
                try:
                    async with http.get(f"{base}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)
            async with http.post(
                f"{base}/api/v1/articles/a1/comments", json={"body": "Hi"}, headers=headers
            ) as r:
                assert r.status == 202
                posted = await r.json()
            async with http.get(f"{base}/api/v1/articles/a1/comments", headers=headers) as r:
                page = await r.json()
        ids = [c["id"] for c in page["awaiting_review"]] + [c["id"] for c in page["items"]]
        assert posted["id"] in ids
        assert (tmp_path / "baraza.db").exists()
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 15)
