"""Helpers shared by the review API tests: tokens, machine decisions, reports, reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.comments.models import Comment, CommentStatus
from server.db import Sessionmaker, utcnow
from server.lifecycle.transitions import lock_comment, transition
from server.moderation.models import ModerationAction
from tests.conftest import auth

QUEUES = ("pending", "held", "reported", "rejected", "approved")


def mod(token: Any, sub: str = "mod-1") -> dict[str, str]:
    return auth(token(sub, roles=["moderator"]))


def admin(token: Any, sub: str = "admin-1") -> dict[str, str]:
    return auth(token(sub, roles=["admin"]))


async def machine_decide(
    sessionmaker: Sessionmaker,
    comment_id: int,
    status: CommentStatus,
    *,
    risk: float,
    rule: str = "score_hold",
    reason: str | None = None,
) -> None:
    """Decide a pending comment as the scoring worker does: scores, risk, model, rule."""
    async with sessionmaker.begin() as session:
        comment = await lock_comment(session, comment_id)
        if comment is None:
            raise LookupError(comment_id)
        comment.scores = {"toxicity": risk, "insult": risk / 2}
        comment.risk, comment.model = risk, "test-model"
        await transition(
            session,
            comment,
            status,
            actor="system",
            action="auto_moderate",
            now=utcnow(),
            reason=reason or f"{rule}: toxicity {risk:.2f}",
            details={"rule": rule},
        )


async def queue_ids(client: Any, token: Any, queue: str, **params: str) -> list[int]:
    r = await client.get(f"/api/v1/moderation/queues/{queue}", params=params, headers=mod(token))
    assert r.status == 200, await r.text()
    return [item["id"] for item in (await r.json())["items"]]


async def membership(client: Any, token: Any, comment_id: int) -> set[str]:
    """The queues a comment is listed in."""
    found = set()
    for queue in QUEUES:
        if comment_id in await queue_ids(client, token, queue, limit="100"):
            found.add(queue)
    return found


async def stored(sessionmaker: Sessionmaker, comment_id: int) -> Comment:
    async with sessionmaker() as session:
        comment = await session.get(Comment, comment_id)
        assert comment is not None
        return comment


async def audit_rows(sessionmaker: Sessionmaker, comment_id: int) -> list[ModerationAction]:
    async with sessionmaker() as session:
        return list(
            (
                await session.scalars(
                    select(ModerationAction)
                    .where(ModerationAction.comment_id == comment_id)
                    .order_by(ModerationAction.id)
                )
            ).all()
        )


async def decide(client: Any, token: Any, ids: list[int], action: str, **extra: Any) -> Any:
    r = await client.post(
        "/api/v1/moderation/decisions",
        json={"comment_ids": ids, "action": action, **extra},
        headers=mod(token),
    )
    assert r.status == 200, await r.text()
    return await r.json()


async def report(
    client: Any,
    token: Any,
    comment_id: int,
    reader: str,
    reason: str = "abuse",
    note: str | None = None,
) -> None:
    body: dict[str, Any] = {"reason": reason}
    if note:
        body["note"] = note
    r = await client.post(
        f"/api/v1/comments/{comment_id}/reports", json=body, headers=auth(token(reader))
    )
    assert r.status == 201, await r.text()
