"""The scoring-job queue: one small Protocol, a Redis Streams and an in-process implementation.

Delivery is at-least-once: a job stays pending until acknowledged, a consumer that dies leaves
its jobs to be claimed by another after an idle timeout, and handlers must be idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Job:
    """One delivery of a scoring job."""

    id: str
    comment_id: int
    deliveries: int


@dataclass(frozen=True, slots=True)
class DeadJob:
    id: str
    comment_id: int
    error: str
    deliveries: int


class JobQueue(Protocol):
    async def enqueue(self, comment_ids: Sequence[int]) -> None:
        """Add one job per comment id."""

    async def read(self, consumer: str, count: int, block_ms: int) -> list[Job]:
        """Up to ``count`` new jobs for ``consumer``, waiting at most ``block_ms`` for the first."""

    async def claim_stale(self, consumer: str, min_idle_ms: int, count: int) -> list[Job]:
        """Take over jobs another consumer received but has not acknowledged for ``min_idle_ms``."""

    async def ack(self, job_ids: Sequence[str]) -> None:
        """Mark jobs done; they are never delivered again."""

    async def dead_letter(self, job: Job, error: str) -> None:
        """Move a job that keeps failing to the dead-letter list and acknowledge it."""

    async def dead_letters(self, count: int = 100) -> list[DeadJob]:
        """The most recent dead-lettered jobs, newest first."""

    async def pending_count(self) -> int:
        """Jobs delivered but not yet acknowledged, plus jobs not yet delivered."""
