"""The sweeper: stale pending comments are re-enqueued, by one process per interval."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from server.comments.models import CommentStatus
from server.db import utcnow
from server.jobs.redis import RedisJobQueue
from tests.conftest import BOTH_REDIS
from tests.factories import make_comment
from workers.sweeper import Sweeper

pytestmark = pytest.mark.parametrize("redis_target", BOTH_REDIS, indirect=True)


def _sweeper(settings, sessionmaker, redis) -> Sweeper:
    return Sweeper(sessionmaker=sessionmaker, jobs=RedisJobQueue(redis, settings.redis_prefix),
                   settings=settings, redis=redis, stopping=asyncio.Event())


async def test_only_stale_pending_comments_are_requeued(settings, sessionmaker, redis_client):
    stale = await make_comment(sessionmaker, body="waiting", status=CommentStatus.pending)
    decided = await make_comment(sessionmaker, body="done", status=CommentStatus.approved)
    sweeper = _sweeper(settings, sessionmaker, redis_client)
    later = utcnow() + dt.timedelta(seconds=settings.sweeper_pending_after_seconds + 1)
    assert await sweeper.sweep(now=utcnow()) == 0  # too fresh: its job is still on its way
    assert await sweeper.sweep(now=later) == 1
    jobs = RedisJobQueue(redis_client, settings.redis_prefix)
    assert [job.comment_id for job in await jobs.read("c1", 10, 10)] == [stale]
    assert decided != stale
    # Swept again soon after: its job is in the queue already.
    assert await sweeper.sweep(now=later + dt.timedelta(seconds=1)) == 0
    much_later = later + dt.timedelta(seconds=settings.sweeper_pending_after_seconds + 1)
    assert await sweeper.sweep(now=much_later) == 1


async def test_one_sweeper_per_interval_across_processes(settings, sessionmaker, redis_client):
    first = _sweeper(settings, sessionmaker, redis_client)
    second = _sweeper(settings, sessionmaker, redis_client)
    assert await first.take_turn() is True
    assert await second.take_turn() is False
    assert await first.take_turn() is False  # once per interval, whoever holds it
