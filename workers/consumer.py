"""The consumer loop: read jobs in micro-batches, hand them to the pipeline, acknowledge.

Delivery is at-least-once. A job is acknowledged only after the database holds its decision
(or after it was found already decided), so a consumer that dies mid-batch loses nothing:
its jobs stay pending in the group and another consumer claims them after
``worker_claim_idle_ms``. A job is attempted at most ``worker_max_deliveries`` times; then it
goes to the dead-letter stream with its error and its comment is held for a human.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from server.jobs.base import Job, JobQueue
from server.settings import Settings
from workers import metrics

log = logging.getLogger(__name__)

# How long one read waits for a first job: bounds how late a stop request is noticed.
IDLE_BLOCK_MS = 1000
# Pause after an unexpected error (database or Redis down) so the loop does not spin.
ERROR_BACKOFF_SECONDS = 1.0


@dataclass(slots=True)
class BatchResult:
    """What became of each job of a batch: done (acknowledge) or failed (with its error)."""

    done: list[Job] = field(default_factory=list)
    failed: list[tuple[Job, str]] = field(default_factory=list)


class BatchHandler(Protocol):
    async def handle(self, jobs: Sequence[Job]) -> BatchResult:
        """Decide the comments of ``jobs``; never raises for one job's fault."""

    async def give_up(self, comment_id: int, error: str) -> None:
        """Hold a comment whose scoring keeps failing, so a human decides it."""


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    batch_size: int
    batch_wait_ms: int
    claim_idle_ms: int
    max_deliveries: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsumerConfig:
        return cls(
            batch_size=settings.worker_batch_size,
            batch_wait_ms=settings.worker_batch_wait_ms,
            claim_idle_ms=settings.worker_claim_idle_ms,
            max_deliveries=settings.worker_max_deliveries,
        )

    @property
    def claim_every_seconds(self) -> float:
        """Look for stale jobs twice per idle timeout, at least every 5 s."""
        return max(0.05, min(self.claim_idle_ms / 2000, 5.0))


class Consumer:
    """One member of the consumer group. ``run`` loops until ``stopping`` is set."""

    def __init__(
        self,
        *,
        name: str,
        jobs: JobQueue,
        handler: BatchHandler,
        config: ConsumerConfig,
        stopping: asyncio.Event,
    ) -> None:
        self.name = name
        self._jobs = jobs
        self._handler = handler
        self._config = config
        self._stopping = stopping
        self._next_claim = 0.0

    async def run(self) -> None:
        """Handle batches until asked to stop; the batch in hand is always finished first."""
        log.info("consumer %s started", self.name)
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consumer %s: batch failed; its jobs stay pending", self.name)
                await self._sleep(ERROR_BACKOFF_SECONDS)
        log.info("consumer %s stopped", self.name)

    async def run_once(self) -> int:
        """Claim stale jobs when due, else read new ones; handle one batch. Returns its size."""
        batch = await self._claim_if_due()
        if not batch:
            batch = await self.read_batch()
        if batch:
            await self.handle(batch)
        return len(batch)

    async def read_batch(self) -> list[Job]:
        """Up to ``batch_size`` jobs, waiting ``batch_wait_ms`` after the first for more."""
        size = self._config.batch_size
        batch = await self._jobs.read(self.name, size, IDLE_BLOCK_MS)
        if not batch:
            return batch
        deadline = time.monotonic() + self._config.batch_wait_ms / 1000
        while len(batch) < size:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0:
                break
            batch.extend(await self._jobs.read(self.name, size - len(batch), left_ms))
        return batch

    async def _claim_if_due(self) -> list[Job]:
        now = time.monotonic()
        if now < self._next_claim:
            return []
        self._next_claim = now + self._config.claim_every_seconds
        jobs = await self._jobs.claim_stale(
            self.name, self._config.claim_idle_ms, self._config.batch_size
        )
        if jobs:
            metrics.RECLAIMED.inc(len(jobs))
            log.warning("consumer %s reclaimed %d stale job(s)", self.name, len(jobs))
            # More may be waiting: look again on the next turn.
            self._next_claim = now
        return jobs

    async def handle(self, batch: Sequence[Job]) -> None:
        """Run one batch through the pipeline, then acknowledge or retire each job."""
        started = time.perf_counter()
        limit = self._config.max_deliveries
        worn = [job for job in batch if job.deliveries > limit]
        fresh = [job for job in batch if job.deliveries <= limit]
        for job in worn:
            await self._give_up(job, f"not acknowledged after {job.deliveries - 1} deliveries")
        if fresh:
            metrics.BATCH_SIZE.observe(len(fresh))
            result = await self._handler.handle(fresh)
            await self._jobs.ack([job.id for job in result.done])
            for job, error in result.failed:
                await self._failed(job, error)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)

    async def _failed(self, job: Job, error: str) -> None:
        if job.deliveries >= self._config.max_deliveries:
            await self._give_up(job, error)
            return
        metrics.FAILURES.inc()
        log.warning(
            "job %s (comment %d) failed on delivery %d, will be retried: %s",
            job.id, job.comment_id, job.deliveries, error,
        )

    async def _give_up(self, job: Job, error: str) -> None:
        # Hold first: if that fails the job stays pending and is retried, never lost.
        await self._handler.give_up(job.comment_id, error)
        await self._jobs.dead_letter(job, error)
        metrics.DEAD_LETTERS.inc()
        log.error("job %s (comment %d) dead-lettered: %s", job.id, job.comment_id, error)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
