"""Scoring jobs inside one process: the embedded default's stand-in for the Redis Stream.

Same semantics as RedisJobQueue: jobs are pending until acknowledged and can be claimed
after an idle timeout, so the in-process consumer runs the very same code.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from server.jobs.base import DeadJob, Job


@dataclass(slots=True)
class _Pending:
    comment_id: int
    consumer: str
    delivered_at: float
    deliveries: int


class MemoryJobQueue:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._new: deque[tuple[str, int]] = deque()
        self._pending: dict[str, _Pending] = {}
        self._dead: deque[DeadJob] = deque(maxlen=10_000)
        self._arrived = asyncio.Event()

    async def enqueue(self, comment_ids: Sequence[int]) -> None:
        for comment_id in comment_ids:
            self._new.append((f"{next(self._ids)}-0", comment_id))
        if comment_ids:
            self._arrived.set()

    async def read(self, consumer: str, count: int, block_ms: int) -> list[Job]:
        if not self._new and block_ms > 0:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), block_ms / 1000)
            except TimeoutError:
                return []
        jobs: list[Job] = []
        now = time.monotonic()
        while self._new and len(jobs) < count:
            job_id, comment_id = self._new.popleft()
            self._pending[job_id] = _Pending(comment_id, consumer, now, 1)
            jobs.append(Job(id=job_id, comment_id=comment_id, deliveries=1))
        return jobs

    async def claim_stale(self, consumer: str, min_idle_ms: int, count: int) -> list[Job]:
        now = time.monotonic()
        jobs: list[Job] = []
        for job_id, entry in self._pending.items():
            if len(jobs) >= count:
                break
            if (now - entry.delivered_at) * 1000 >= min_idle_ms:
                entry.consumer = consumer
                entry.delivered_at = now
                entry.deliveries += 1
                jobs.append(
                    Job(id=job_id, comment_id=entry.comment_id, deliveries=entry.deliveries)
                )
        return jobs

    async def ack(self, job_ids: Sequence[str]) -> None:
        for job_id in job_ids:
            self._pending.pop(job_id, None)

    async def dead_letter(self, job: Job, error: str) -> None:
        self._dead.appendleft(DeadJob(job.id, job.comment_id, error[:2000], job.deliveries))
        await self.ack([job.id])

    async def dead_letters(self, count: int = 100) -> list[DeadJob]:
        return list(itertools.islice(self._dead, count))

    async def pending_count(self) -> int:
        return len(self._new) + len(self._pending)
