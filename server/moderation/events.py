"""Live events for moderators' decisions, published after their transaction has committed.

Readers' pages hear about comments appearing, disappearing or being featured; the moderation
channel hears every decision (so a second console drops the item) and the new queue counts.
A broker outage never undoes a stored decision (``publish_safely`` logs and carries on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from server.comments.models import Comment, CommentStatus
from server.comments.service import publish_safely
from server.db import Sessionmaker
from server.live.base import MODERATION_CHANNEL, ChannelBroker, EventType, article_channel
from server.moderation.queues import membership
from server.moderation.schemas import Queue

# The queues that wait for a person; their sizes are what a console shows live.
WAITING = (Queue.pending, Queue.held, Queue.reported)


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
    for change in changes:
        await _announce(channels, change)
    await publish_safely(
        channels, MODERATION_CHANNEL, EventType.queue_counts, await waiting_counts(sessionmaker)
    )


async def _announce(channels: ChannelBroker, change: Change) -> None:
    channel = article_channel(change.article_id)
    if change.published is not None:
        await publish_safely(channels, channel, EventType.comment_published, change.published)
    elif change.removed:
        await publish_safely(
            channels,
            channel,
            EventType.comment_removed,
            {"id": change.comment_id, "reason": "moderated"},
        )
    if change.action in ("feature", "unfeature"):
        await publish_safely(
            channels,
            channel,
            EventType.comment_featured,
            {"id": change.comment_id, "featured": change.featured},
        )
    await publish_safely(
        channels,
        MODERATION_CHANNEL,
        EventType.comment_decided,
        {
            "id": change.comment_id,
            "article_id": change.article_id,
            "action": change.action,
            "actor": change.actor_id,
            "before": change.before.value,
            "status": change.after.value,
            "featured": change.featured,
        },
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
