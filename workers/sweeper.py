"""The sweeper: re-enqueue comments still ``pending`` long after they were posted.

Postgres is the source of truth and Redis only carries work, so a lost job (Redis flushed or
failed over, an enqueue that failed after the commit) must not leave a comment pending for
ever. Across processes one sweeper runs per interval: whoever takes the Redis lock
(``SET NX PX``) sweeps; the lock expires by itself, so a dead sweeper never blocks the others.

When Redis comes back empty the wait is shorter: every ``sweeper_lost_check_seconds`` (and
whenever a consumer finds the group gone) the jobs stream's consumer group is checked; the one
process whose ``XGROUP CREATE`` succeeds re-enqueues at once every pending comment that has
no job in the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import uuid

from sqlalchemy import select

from server.comments.models import Comment, CommentStatus
from server.db import Sessionmaker, utcnow
from server.jobs.base import JobQueue
from server.jobs.redis import RedisJobQueue
from server.redis_client import AnyRedis
from server.settings import Settings
from workers import metrics

log = logging.getLogger(__name__)

PAGE = 500
MAX_PER_SWEEP = 20_000


class Sweeper:
    """Re-enqueues stale pending comments every ``sweeper_interval_seconds``."""

    def __init__(
        self,
        *,
        sessionmaker: Sessionmaker,
        jobs: JobQueue,
        settings: Settings,
        redis: AnyRedis | None,
        stopping: asyncio.Event,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._jobs = jobs
        self._redis = redis
        self._stopping = stopping
        self._interval = settings.sweeper_interval_seconds
        self._lost_check = settings.sweeper_lost_check_seconds
        self._after = dt.timedelta(seconds=settings.sweeper_pending_after_seconds)
        self._lock_key = f"{settings.redis_prefix}sweeper:lock"
        self._token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._recent: dict[int, dt.datetime] = {}  # comment id -> when this process swept it

    async def run(self) -> None:
        """Sweep, then wait an interval, until asked to stop (watching for lost jobs meanwhile)."""
        watcher = None
        if isinstance(self._jobs, RedisJobQueue):
            watcher = asyncio.create_task(self._watch_lost(self._jobs), name="sweeper-lost")
        try:
            await self._sweep_forever()
        finally:
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)

    async def _sweep_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                if await self.take_turn():
                    await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)

    async def _watch_lost(self, jobs: RedisJobQueue) -> None:
        while not self._stopping.is_set():
            try:
                await jobs.ensure_group(check=True)
                if jobs.group_created.is_set():
                    jobs.group_created.clear()
                    await self.recover_lost(jobs)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("could not check the jobs stream", exc_info=True)
            with contextlib.suppress(TimeoutError):
                # A consumer that found the group gone sets the event: no need to wait.
                await asyncio.wait_for(jobs.group_created.wait(), self._lost_check)

    async def recover_lost(self, jobs: RedisJobQueue, now: dt.datetime | None = None) -> int:
        """Enqueue every pending comment without a job in the stream; return how many."""
        now = now or utcnow()
        queued = await jobs.queued_comment_ids()
        after_id, total = 0, 0
        while total < MAX_PER_SWEEP:
            page = await self._stale_page(now, after_id)
            if not page:
                break
            ids = [i for i in page if i not in queued]
            await jobs.enqueue(ids)
            self._recent.update(dict.fromkeys(ids, now))
            total += len(ids)
            after_id = page[-1]
        if total:
            metrics.SWEPT.inc(total)
            log.warning("jobs stream was created afresh (Redis empty?): re-enqueued %d pending "
                        "comment(s)", total)
        return total

    async def take_turn(self) -> bool:
        """Whether this process sweeps this interval (the Redis lock is free and now ours)."""
        if self._redis is None:
            return True  # the embedded default has one process
        # The lock lives a little less than an interval: one sweep per interval, cluster-wide.
        ttl_ms = max(1, int(self._interval * 900))
        return bool(await self._redis.set(self._lock_key, self._token, nx=True, px=ttl_ms))

    async def sweep(self, now: dt.datetime | None = None) -> int:
        """Enqueue every comment pending since before the cut-off; return how many.

        A comment this process re-enqueued less than ``sweeper_pending_after_seconds`` ago is
        left alone: behind a long backlog its job is merely waiting, and each sweep adding
        another copy would only lengthen the queue (duplicates are harmless, not free).
        """
        now = now or utcnow()
        cutoff = now - self._after
        self._recent = {i: at for i, at in self._recent.items() if at > cutoff}
        after_id, total = 0, 0
        while total < MAX_PER_SWEEP:
            page = await self._stale_page(cutoff, after_id)
            if not page:
                break
            ids = [i for i in page if i not in self._recent]
            await self._jobs.enqueue(ids)
            self._recent.update(dict.fromkeys(ids, now))
            total += len(ids)
            after_id = page[-1]
        if total:
            metrics.SWEPT.inc(total)
            log.warning("sweeper re-enqueued %d comment(s) pending since before %s", total, cutoff)
        return total

    async def _stale_page(self, cutoff: dt.datetime, after_id: int) -> list[int]:
        async with self._sessionmaker() as session:
            rows = await session.scalars(
                select(Comment.id)
                .where(
                    Comment.status == CommentStatus.pending.value,
                    Comment.updated_at < cutoff,
                    Comment.id > after_id,
                )
                .order_by(Comment.id)
                .limit(PAGE)
            )
            return list(rows)
