"""``baraza deadletters list|replay``: the dead letters from a terminal, same service as the API."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

from server.db import Sessionmaker, create_engine, create_sessionmaker
from server.jobs.base import JobQueue
from server.jobs.memory import MemoryJobQueue
from server.jobs.redis import RedisJobQueue
from server.lifecycle.relay import EventRelay
from server.lifecycle.subscribers import build_relay
from server.live.base import ChannelBroker
from server.live.memory import MemoryChannelBroker
from server.live.redis import RedisChannelBroker
from server.moderation.review import deadletters
from server.moderation.schemas import MAX_BULK_IDS
from server.moderation.tool_schemas import DeadLetterQuery
from server.redis_client import connect_redis
from server.settings import Settings

CLI_ACTOR = "cli"


@dataclass(frozen=True, slots=True)
class _Services:
    sessionmaker: Sessionmaker
    jobs: JobQueue
    events: EventRelay


@contextlib.asynccontextmanager
async def _services(settings: Settings) -> AsyncIterator[_Services]:
    engine = create_engine(settings)
    redis = connect_redis(settings)
    try:
        if redis is None:
            # The embedded default's queue lives in the server process: the comment is left
            # pending and that server's sweeper queues it (sweeper_pending_after_seconds).
            jobs: JobQueue = MemoryJobQueue()
            channels: ChannelBroker = MemoryChannelBroker()
        else:
            jobs = RedisJobQueue(redis, settings.redis_prefix)
            channels = RedisChannelBroker(
                redis,
                settings.redis_prefix,
                history_size=settings.live_history_size,
                history_ttl=settings.live_history_ttl_seconds,
            )
        sessionmaker = create_sessionmaker(engine)
        yield _Services(sessionmaker, jobs, build_relay(sessionmaker, channels))
    finally:
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


async def run(settings: Settings, args: argparse.Namespace) -> int:
    async with _services(settings) as services:
        if args.deadletters_command == "list":
            return await _list(services, args.limit)
        return await _replay(services, args.comment_ids, replay_all=args.all)


async def _list(services: _Services, limit: int) -> int:
    if not 1 <= limit <= 200:
        print("--limit must be 1-200", file=sys.stderr)
        return 2
    page = await deadletters.list_dead_letters(
        sessionmaker=services.sessionmaker, query=DeadLetterQuery(limit=limit)
    )
    if not page.items:
        print("no dead letters")
        return 0
    print("comment\tarticle\tfailures\tfailed_at\terror")
    for letter in page.items:
        failed_at = letter.failed_at.isoformat() if letter.failed_at else "-"
        error = (letter.error or "-").replace("\n", " ")[:200]
        print(
            f"{letter.comment.id}\t{letter.comment.article.id}\t{letter.failures}\t"
            f"{failed_at}\t{error}"
        )
    return 0


async def _all_ids(sessionmaker: Sessionmaker) -> list[int]:
    ids: list[int] = []
    cursor: str | None = None
    while True:
        page = await deadletters.list_dead_letters(
            sessionmaker=sessionmaker, query=DeadLetterQuery(cursor=cursor, limit=200)
        )
        ids.extend(letter.comment.id for letter in page.items)
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


async def _replay(services: _Services, comment_ids: list[int], *, replay_all: bool) -> int:
    if replay_all == bool(comment_ids):
        print("name comment ids or --all (not both)", file=sys.stderr)
        return 2
    ids = await _all_ids(services.sessionmaker) if replay_all else comment_ids
    if any(i <= 0 for i in ids):
        print("comment ids are positive integers", file=sys.stderr)
        return 2
    failed = 0
    for start in range(0, len(ids), MAX_BULK_IDS):
        outcome = await deadletters.replay(
            events=services.events,
            jobs=services.jobs,
            actor=CLI_ACTOR,
            comment_ids=ids[start : start + MAX_BULK_IDS],
        )
        failed += outcome.failed
        for result in outcome.results:
            if result.ok:
                print(f"{result.id}\treplayed")
            else:
                message = result.error.message if result.error else "failed"
                print(f"{result.id}\tnot replayed: {message}")
    return 1 if failed else 0
