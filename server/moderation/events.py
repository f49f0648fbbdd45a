"""Live events for moderators' decisions, published after their transaction has committed.

Readers' pages hear about comments appearing, disappearing or being featured; the moderation
channel hears every decision (so a second console drops the item) and the new queue counts.
A broker outage never undoes a stored decision (the producers log and carry on).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from server.comments.models import Comment, CommentStatus
from server.db import Sessionmaker
from server.live import producers
from server.live.base import ChannelBroker
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


async def publish_changes(
    sessionmaker: Sessionmaker, channels: ChannelBroker, changes: Sequence[Change]
) -> None:
    """Announce committed changes; one ``queue.counts`` follows a batch that changed anything."""
    if not changes:
        return
    # One round trip per event; a bulk decision sends them a few at a time (the producers
    # never raise, and the order of events about different comments does not matter).
    for start in range(0, len(changes), PARALLEL_PUBLISHES):
        batch = changes[start : start + PARALLEL_PUBLISHES]
        await asyncio.gather(*(_announce(channels, change) for change in batch))
    groups: dict[tuple[str, str, str], list[int]] = {}
    for change in changes:
        key = (change.action, change.after.value, change.actor_id)
        groups.setdefault(key, []).append(change.comment_id)
    for (action, status, actor), ids in groups.items():
        await producers.comment_decided(
            channels, comment_ids=ids, action=action, status=status, actor=actor
        )
    await producers.queue_counts(channels, await waiting_counts(sessionmaker))


async def _announce(channels: ChannelBroker, change: Change) -> None:
    """What readers of the comment's article see."""
    if change.published is not None:
        await producers.comment_published(channels, change.published)
    elif change.removed:
        await producers.comment_removed(
            channels,
            article_id=change.article_id,
            comment_id=change.comment_id,
            reason="moderated",
        )
    if change.action in ("feature", "unfeature"):
        await producers.comment_featured(
            channels,
            article_id=change.article_id,
            comment_id=change.comment_id,
            featured=change.featured,
        )


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
