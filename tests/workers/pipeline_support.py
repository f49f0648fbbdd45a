"""Helpers for the pipeline tests: a stand-in Scorer, a recording broker, polling, services."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select

from server.comments.models import Comment
from server.db import Sessionmaker
from server.jobs.redis import RedisJobQueue
from server.live.base import Event, EventType
from server.moderation.models import ModerationAction
from server.settings import Settings
from workers.scorer import ScoreResult, score_isolated
from workers.service import ScoringService

LABELS = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")


class StubScorer:
    """Implements the Scorer Protocol: "idiot" scores 0.9 toxicity; a poison word cannot be
    scored."""

    name = "stub-scorer/1"
    labels = LABELS

    def __init__(self, *, poison: str = "POISON", delay: float = 0.0) -> None:
        self.poison = poison
        self.delay = delay
        self.calls: list[int] = []

    def score(self, texts: Sequence[str]) -> list[ScoreResult]:
        self.calls.append(len(texts))
        if self.delay:
            time.sleep(self.delay)
        # As real scorers do: a text that breaks the model is isolated, its batch-mates scored.
        return score_isolated(self._batch, texts)

    def _batch(self, texts: list[str]) -> list[dict[str, float]]:
        if any(self.poison in text for text in texts):
            raise ValueError("this text breaks the model")
        return [self._one(text) for text in texts]

    @staticmethod
    def _one(text: str) -> dict[str, float]:
        toxic = 0.9 if "idiot" in text.lower() else 0.01
        return {label: (toxic if label == "toxicity" else 0.001) for label in LABELS}


class RecordingBroker:
    """A ChannelBroker that remembers what was published."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, channel: str, type: EventType, data: Mapping[str, Any]) -> Event:
        event = Event(channel=channel, offset=len(self.events) + 1, type=type,
                      data=dict(data), time=time.time())
        self.events.append(event)
        return event

    def of(self, type: EventType) -> list[Event]:
        return [e for e in self.events if e.type is type]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Poll ``check`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.05)


async def statuses(sessionmaker: Sessionmaker, ids: Sequence[int]) -> dict[int, str]:
    async with sessionmaker() as session:
        rows = await session.execute(select(Comment.id, Comment.status).where(Comment.id.in_(ids)))
        return dict(rows.tuples().all())


async def all_decided(sessionmaker: Sessionmaker, ids: Sequence[int]) -> bool:
    found = await statuses(sessionmaker, ids)
    return len(found) == len(ids) and "pending" not in found.values()


async def system_actions(sessionmaker: Sessionmaker) -> dict[int, int]:
    """Audit rows written by the system, per comment."""
    async with sessionmaker() as session:
        rows = await session.execute(
            select(ModerationAction.comment_id, func.count())
            .where(ModerationAction.actor_id == "system")
            .group_by(ModerationAction.comment_id)
        )
        return {int(cid): int(n) for cid, n in rows.tuples()}


def make_service(
    settings: Settings,
    sessionmaker: Sessionmaker,
    redis: Any,
    *,
    scorer: Any | None = None,
    channels: Any | None = None,
    concurrency: int = 1,
) -> ScoringService:
    return ScoringService(
        settings=settings, sessionmaker=sessionmaker,
        jobs=RedisJobQueue(redis, settings.redis_prefix),
        channels=channels or RecordingBroker(), redis=redis,
        scorer=scorer or StubScorer(), concurrency=concurrency,
    )


class BrokenScorer(StubScorer):
    """A scorer broken as a whole: every call raises."""

    def score(self, texts: Sequence[str]) -> list[ScoreResult]:
        self.calls.append(len(texts))
        raise RuntimeError("CUDA out of memory")
