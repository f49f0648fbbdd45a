"""The pipeline with the real Detoxify code path (the tiny random-weight checkpoint, offline)."""

from __future__ import annotations

from sqlalchemy import select

from server.app import create_app
from server.auth import mint_token
from server.comments.models import Comment
from server.moderation.models import ModerationAction
from server.settings import Settings
from tests.conftest import auth
from tests.workers.pipeline_support import all_decided, eventually, make_service

LABELS = {"toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack"}


async def test_api_to_detoxify_worker_end_to_end(
    client, token, settings, sessionmaker, redis_client, tiny_detoxify
):
    service = make_service(settings, sessionmaker, redis_client, scorer=tiny_detoxify.scorer)
    service.start()
    try:
        bodies = ["Al-Shabaab attack near the border; police say two killed.",
                  "Condolences to the families. " * 400]  # past the model's 512 tokens
        ids = []
        for n, body in enumerate(bodies):
            r = await client.post("/api/v1/articles/story-3/comments", json={"body": body[:4900]},
                                  headers=auth(token(f"r{n}")))
            ids.append((await r.json())["id"])
        await eventually(lambda: all_decided(sessionmaker, ids), timeout=60)
    finally:
        await service.stop(10)
    async with sessionmaker() as session:
        comments = (await session.scalars(select(Comment).where(Comment.id.in_(ids)))).all()
        audit = (await session.scalars(
            select(ModerationAction).where(ModerationAction.comment_id.in_(ids))
        )).all()
    assert {a.actor_id for a in audit} == {"system"} and len(audit) == 2
    for comment in comments:
        assert comment.model == tiny_detoxify.scorer.name
        assert set(comment.scores) == LABELS
        assert comment.risk == max(comment.scores.values())
        assert comment.decision_reason and comment.decided_at is not None


async def test_embedded_default_with_detoxify(aiohttp_client, tmp_path, tiny_detoxify):
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/e.db", redis_url=None,
                        rate_limit_enabled=False, **tiny_detoxify.settings_overrides())
    client = await aiohttp_client(create_app(settings))
    headers = {"Authorization": "Bearer " + mint_token(settings, sub="u1", name="U1")}
    r = await client.post("/api/v1/articles/a1/comments", json={"body": "Pole sana, Nairobi."},
                          headers=headers)
    comment_id = (await r.json())["id"]

    async def decided() -> bool:
        page = await (await client.get("/api/v1/articles/a1/comments", headers=headers)).json()
        mine = {c["id"]: c["status"] for c in page["items"] + page["awaiting_review"]}
        return mine.get(comment_id) in ("approved", "held", "rejected")

    await eventually(decided, timeout=60)
    ready = await (await client.get("/readyz")).json()
    assert ready["checks"]["scorer"] == {
        "ok": True, "mode": "embedded", "model": tiny_detoxify.scorer.name
    }
