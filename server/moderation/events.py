"""What a moderator's decision changed, for its answer; and the sizes of the waiting queues.

The events of decisions are recorded by the transitions and published after commit by
``server.lifecycle`` (its ``ModerationChannel`` subscriber sends ``queue.counts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from server.comments.models import Comment, CommentStatus
from server.db import Sessionmaker
from server.moderation.queues import membership
from server.moderation.schemas import Queue

# The queues that wait for a person; their sizes are what a console shows live.
WAITING = (Queue.pending, Queue.held, Queue.reported)
PARALLEL_PUBLISHES = 16


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change to a comment, with what readers and moderators must be told."""

    comment_id: int
    article_id: str
    actor_id: str
    action: str
    before: CommentStatus
    after: CommentStatus
    was_visible: bool
    featured: bool
    # The public JSON of a comment that has just become visible, else None.
    published: dict[str, Any] | None = None

    @property
    def removed(self) -> bool:
        return self.was_visible and self.after is not CommentStatus.approved


async def waiting_counts(sessionmaker: Sessionmaker) -> dict[str, int]:
    """Sizes of the queues waiting for a person (the same keys the workers publish, and more)."""
    async with sessionmaker() as session:
        counts: dict[str, int] = {}
        for queue in WAITING:
            n = await session.scalar(
                select(func.count()).select_from(Comment).where(*membership(queue))
            )
            counts[queue.value] = int(n or 0)
    return counts
