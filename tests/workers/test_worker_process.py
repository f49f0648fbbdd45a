"""``baraza worker`` as operators run it: a separate process, the real Detoxify code path with the
tiny checkpoint, JSON logs, and a clean exit on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import orjson
import pytest
from sqlalchemy import select

from server.comments.models import Comment
from server.moderation.models import ModerationAction
from tests.conftest import auth
from tests.workers.pipeline_support import all_decided, eventually

pytestmark = pytest.mark.slow


def worker_env(settings, checkpoint, config_dir) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BARAZA_")}
    env.update({
        "BARAZA_DATABASE_URL": settings.database_url,
        "BARAZA_REDIS_URL": settings.redis_url,
        "BARAZA_REDIS_PREFIX": settings.redis_prefix,
        "BARAZA_JWT_SECRET": settings.jwt_secret,
        "BARAZA_SCORER": "detoxify",
        "BARAZA_MODEL": "original",
        "BARAZA_MODEL_CHECKPOINT": str(checkpoint),
        "BARAZA_MODEL_CONFIG_DIR": str(config_dir),
        "BARAZA_LOG_FORMAT": "json",
        "BARAZA_WORKER_CONCURRENCY": "2",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    })
    return env


async def test_worker_process_decides_with_detoxify_and_stops_on_sigterm(
    client, token, settings, sessionmaker, tiny_detoxify
):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "worker",
        env=worker_env(settings, tiny_detoxify.checkpoint, tiny_detoxify.config_dir),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        long_body = "The security talks went well. " * 300  # far past 512 tokens: truncated
        ids = []
        for n, body in enumerate(["Peace for Somalia and Kenya.", long_body[:4900]]):
            r = await client.post("/api/v1/articles/story-9/comments", json={"body": body},
                                  headers=auth(token(f"reader-{n}")))
            assert r.status == 202
            ids.append((await r.json())["id"])
        await eventually(lambda: all_decided(sessionmaker, ids), timeout=90)

        async def announced() -> bool:
            scorer = (await (await client.get("/readyz")).json())["checks"]["scorer"]
            return scorer["workers"] == 1

        await eventually(announced)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stderr = (await proc.stderr.read()).decode()
    logs = [orjson.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any(entry["message"] == "worker stopped" for entry in logs)
    async with sessionmaker() as session:
        comments = (await session.scalars(select(Comment).where(Comment.id.in_(ids)))).all()
        actors = (await session.scalars(
            select(ModerationAction.actor_id).where(ModerationAction.comment_id.in_(ids))
        )).all()
    assert actors == ["system", "system"]
    for comment in comments:
        assert comment.status in ("approved", "held", "rejected")
        assert comment.decision_reason and comment.decided_at is not None
        assert comment.model == tiny_detoxify.scorer.name
        assert set(comment.scores) >= {"toxicity", "insult", "threat"}
