"""The embedded default: the same consumer inside the server process (SQLite, in-process queue)."""

from __future__ import annotations

import asyncio

import pytest

import server.scoring
from server.app import create_app
from server.auth import mint_token
from server.settings import Settings
from tests.workers.pipeline_support import StubScorer, eventually

pytestmark = pytest.mark.embedded


def embedded_settings(tmp_path, **overrides) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/e.db", redis_url=None,
                    rate_limit_enabled=False, **overrides)


async def _post(client, headers, body: str) -> int:
    r = await client.post("/api/v1/articles/a1/comments", json={"body": body}, headers=headers)
    assert r.status == 202
    return int((await r.json())["id"])


async def _statuses(client, headers) -> dict[int, str]:
    page = await (await client.get("/api/v1/articles/a1/comments", headers=headers)).json()
    return {c["id"]: c["status"] for c in page["items"] + page["awaiting_review"]}


async def test_embedded_post_is_decided_in_process(aiohttp_client, tmp_path, monkeypatch):
    async def stub(_settings):
        return StubScorer()

    monkeypatch.setattr(server.scoring, "load_scorer_in_thread", stub)
    settings = embedded_settings(tmp_path)
    assert settings.run_embedded_worker
    client = await aiohttp_client(create_app(settings))
    headers = {"Authorization": "Bearer " + mint_token(settings, sub="u1", name="U1")}

    async def scorer_ready() -> bool:
        ready = await (await client.get("/readyz")).json()
        return bool(ready["checks"]["scorer"]["ok"])

    await eventually(scorer_ready)
    ready = await (await client.get("/readyz")).json()
    assert ready["checks"]["scorer"] == {"ok": True, "mode": "embedded", "model": "stub-scorer/1"}
    fine = await _post(client, headers, "Thank you for the update.")
    rude = await _post(client, headers, "What an idiot.")

    async def decided() -> bool:
        return await _statuses(client, headers) == {fine: "approved", rude: "held"}

    await eventually(decided)


async def test_embedded_scorer_failure_is_reported_not_fatal(aiohttp_client, tmp_path, monkeypatch):
    async def broken(_settings):
        raise OSError("no model here")

    monkeypatch.setattr(server.scoring, "load_scorer_in_thread", broken)
    settings = embedded_settings(tmp_path)
    client = await aiohttp_client(create_app(settings))
    await asyncio.sleep(0.05)
    r = await client.get("/readyz")
    assert r.status == 503
    scorer = (await r.json())["checks"]["scorer"]
    assert scorer == {"ok": False, "mode": "embedded", "error": "OSError: no model here"}
    headers = {"Authorization": "Bearer " + mint_token(settings, sub="u1", name="U1")}
    assert (await client.post("/api/v1/articles/a1/comments", json={"body": "kept"},
                              headers=headers)).status == 202


async def test_embedded_offline_fallback_is_named_and_holds_a_threat(aiohttp_client, tmp_path):
    """No stub: the real offline fallback, named honestly in /readyz; a phrase rule holds."""
    settings = embedded_settings(tmp_path, scorer="fallback")
    client = await aiohttp_client(create_app(settings))
    headers = {"Authorization": "Bearer " + mint_token(settings, sub="u1", name="U1")}

    async def scorer_ready() -> bool:
        ready = await (await client.get("/readyz")).json()
        return bool(ready["checks"]["scorer"]["ok"])

    await eventually(scorer_ready, timeout=60)
    model = (await (await client.get("/readyz")).json())["checks"]["scorer"]["model"]
    assert "tox-block" in model and "profanity-check" in model and "not Detoxify" in model
    threat = await _post(client, headers, "Nice article. I know where you live, writer.")

    async def decided() -> bool:
        return await _statuses(client, headers) == {threat: "held"}

    await eventually(decided, timeout=30)
