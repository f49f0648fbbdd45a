"""The scoring service of one process: N consumers, the sweeper and the heartbeat, as tasks.

``baraza worker`` and the embedded mode inside ``baraza serve`` both run this; they differ only
in where the resources (engine, Redis, queue, broker, scorer) come from.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from server.db import Sessionmaker
from server.jobs.base import JobQueue
from server.lifecycle.relay import EventRelay
from server.live.base import ChannelBroker
from server.redis_client import AnyRedis
from server.settings import Settings
from workers.consumer import Consumer, ConsumerConfig
from workers.heartbeat import run_heartbeat
from workers.judge import PolicyJudge
from workers.language import LanguageDetector
from workers.pipeline import Pipeline
from workers.spam import MemorySpamTracker, RedisSpamTracker, SpamTracker
from workers.sweeper import Sweeper

if TYPE_CHECKING:
    from workers.scorer import Scorer

log = logging.getLogger(__name__)


def consumer_prefix() -> str:
    """Unique per process, stable for its life: ``host-pid``."""
    return f"{socket.gethostname()}-{os.getpid()}"


class ScoringService:
    """Runs until ``stop``; every task it starts is cancelled (if need be) and awaited."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: Sessionmaker,
        jobs: JobQueue,
        channels: ChannelBroker,
        redis: AnyRedis | None,
        scorer: Scorer,
        concurrency: int,
        events: EventRelay | None = None,
        language: LanguageDetector | None = None,
    ) -> None:
        self.stopping = asyncio.Event()
        self._settings = settings
        self._redis = redis
        self._tasks: list[asyncio.Task[None]] = []
        spam: SpamTracker = (
            MemorySpamTracker() if redis is None else RedisSpamTracker(redis, settings.redis_prefix)
        )
        self.pipeline = Pipeline(
            sessionmaker=sessionmaker, channels=channels, scorer=scorer, judge=PolicyJudge(),
            events=events, spam=spam, language=language,
            edit_window_seconds=settings.edit_window_seconds,
        )
        prefix = consumer_prefix()
        self.consumers = [
            Consumer(
                name=f"{prefix}-{index}", jobs=jobs, handler=self.pipeline,
                config=ConsumerConfig.from_settings(settings), stopping=self.stopping,
            )
            for index in range(concurrency)
        ]
        self.sweeper = Sweeper(
            sessionmaker=sessionmaker, jobs=jobs, settings=settings, redis=redis,
            stopping=self.stopping,
        )

    def start(self) -> None:
        """Start the consumers, the sweeper and (with Redis) the heartbeat."""
        for consumer in self.consumers:
            self._spawn(consumer.run(), consumer.name)
        self._spawn(self.sweeper.run(), "sweeper")
        if self._redis is not None:
            beat = run_heartbeat(
                self._redis, self._settings.redis_prefix, consumer_prefix(),
                self.pipeline.model_name, self.stopping,
            )
            self._spawn(beat, "heartbeat")
        log.info(
            "scoring with %s: %d consumer(s), batches of up to %d jobs or %d ms",
            self.pipeline.model_name, len(self.consumers),
            self._settings.worker_batch_size, self._settings.worker_batch_wait_ms,
        )

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=f"scoring:{name}"))

    async def wait(self) -> None:
        """Until a stop is requested or a task ends by itself (which is a bug: log it)."""
        stop = asyncio.create_task(self.stopping.wait())
        try:
            done, _ = await asyncio.wait([stop, *self._tasks], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            await asyncio.gather(stop, return_exceptions=True)
        for task in done:
            if task is not stop and not task.cancelled() and task.exception() is not None:
                log.error("%s ended", task.get_name(), exc_info=task.exception())

    async def stop(self, grace_seconds: float) -> None:
        """Let each consumer finish the batch in hand, then cancel whatever is left."""
        self.stopping.set()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=grace_seconds)
        for task in pending:
            log.warning("%s did not stop in %.0f s; cancelling", task.get_name(), grace_seconds)
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
