"""Scoring jobs on one Redis Stream read through a consumer group."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.exceptions import ResponseError

from server.jobs.base import DeadJob, Job
from server.redis_client import AnyRedis

GROUP = "scorers"


class RedisJobQueue:
    def __init__(self, redis: AnyRedis, prefix: str, *, maxlen: int = 1_000_000) -> None:
        self._redis = redis
        self.stream = f"{prefix}jobs:score"
        self.dead_stream = f"{prefix}jobs:score:dead"
        self._maxlen = maxlen
        self._group_ready = False
        # Set when this process had to create the consumer group: on a first start, or because
        # Redis lost the stream (flushed, restarted empty). The sweeper then recovers at once.
        self.group_created = asyncio.Event()

    async def ensure_group(self, *, check: bool = False) -> None:
        """Create the stream's consumer group if missing (``check``: ask Redis, not the cache)."""
        if self._group_ready and not check:
            return
        try:
            await self._redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        else:
            # Only one process's XGROUP CREATE succeeds; every other gets BUSYGROUP.
            self.group_created.set()
        self._group_ready = True

    async def queued_comment_ids(self, page: int = 10_000) -> set[int]:
        """Comment ids with a job in the stream (read or not): not to be enqueued again."""
        ids: set[int] = set()
        start = "-"
        while True:
            rows: Any = await self._redis.xrange(self.stream, min=start, max="+", count=page)
            for entry_id, fields in rows:
                ids.update(job.comment_id for job in _job(entry_id, fields, deliveries=1))
            if len(rows) < page:
                return ids
            start = "(" + _text(rows[-1][0])

    async def enqueue(self, comment_ids: Sequence[int]) -> None:
        if not comment_ids:
            return
        if len(comment_ids) == 1:  # a POST's job: one command, no pipeline to build
            await self._redis.xadd(
                self.stream,
                {"comment_id": str(comment_ids[0])},
                maxlen=self._maxlen,
                approximate=True,
            )
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for comment_id in comment_ids:
                pipe.xadd(
                    self.stream,
                    {"comment_id": str(comment_id)},
                    maxlen=self._maxlen,
                    approximate=True,
                )
            await pipe.execute()

    async def read(self, consumer: str, count: int, block_ms: int) -> list[Job]:
        await self.ensure_group()
        try:
            # Any: redis-py 7 and 8 type stream replies differently (and loosely).
            reply: Any = await self._redis.xreadgroup(
                GROUP, consumer, {self.stream: ">"}, count=count, block=block_ms or None
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # The stream or group vanished (Redis flushed): recreate and read next time.
            self._group_ready = False
            await self.ensure_group()
            return []
        jobs: list[Job] = []
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                jobs.extend(_job(entry_id, fields, deliveries=1))
        return jobs

    async def claim_stale(self, consumer: str, min_idle_ms: int, count: int) -> list[Job]:
        await self.ensure_group()
        try:
            reply = await self._redis.xautoclaim(
                self.stream, GROUP, consumer, min_idle_time=min_idle_ms, start_id="0-0", count=count
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._group_ready = False
            return []
        entries = [(eid, fields) for eid, fields in reply[1] if fields]
        deleted = [eid for eid, fields in reply[1] if not fields]
        if deleted:
            # Entries trimmed from the stream while pending: nothing left to do for them.
            await self._redis.xack(self.stream, GROUP, *deleted)
        if not entries:
            return []
        counts = await self._delivery_counts([eid for eid, _ in entries])
        jobs: list[Job] = []
        for entry_id, fields in entries:
            jobs.extend(_job(entry_id, fields, deliveries=counts.get(_text(entry_id), 1)))
        return jobs

    async def _delivery_counts(self, entry_ids: Sequence[Any]) -> dict[str, int]:
        ids = sorted(entry_ids, key=_stream_id_key)
        rows = await self._redis.xpending_range(
            self.stream, GROUP, min=_text(ids[0]), max=_text(ids[-1]), count=len(ids) * 4 + 10
        )
        return {_text(row["message_id"]): int(row["times_delivered"]) for row in rows}

    async def ack(self, job_ids: Sequence[str]) -> None:
        if job_ids:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.xack(self.stream, GROUP, *job_ids)
                pipe.xdel(self.stream, *job_ids)
                await pipe.execute()

    async def dead_letter(self, job: Job, error: str) -> None:
        await self._redis.xadd(
            self.dead_stream,
            {
                "job_id": job.id,
                "comment_id": str(job.comment_id),
                "error": error[:2000],
                "deliveries": str(job.deliveries),
            },
            maxlen=100_000,
            approximate=True,
        )
        await self.ack([job.id])

    async def dead_letters(self, count: int = 100) -> list[DeadJob]:
        rows: Any = await self._redis.xrevrange(self.dead_stream, count=count)
        return [
            DeadJob(
                id=_text(fields[b"job_id"]),
                comment_id=int(fields[b"comment_id"]),
                error=_text(fields[b"error"]),
                deliveries=int(fields[b"deliveries"]),
            )
            for _eid, fields in rows
        ]

    async def pending_count(self) -> int:
        await self.ensure_group()
        groups = await self._redis.xinfo_groups(self.stream)
        for group in groups:
            if _text(group["name"]) == GROUP:
                lag = group.get("lag")
                return int(group["pending"]) + int(lag or 0)
        return 0


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _stream_id_key(value: Any) -> tuple[int, int]:
    ms, _, seq = _text(value).partition("-")
    return int(ms), int(seq or 0)


def _job(entry_id: Any, fields: dict[Any, Any], *, deliveries: int) -> list[Job]:
    raw = fields.get(b"comment_id", fields.get("comment_id"))
    if raw is None:
        return []
    return [Job(id=_text(entry_id), comment_id=int(raw), deliveries=deliveries)]
