"""Live events: the one typed envelope, and the broker Protocol every producer publishes through.

The live-updates hub (subscriptions, recovery, presence) builds on this module; producers only
ever call ``publish`` after their database transaction has committed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict


class EventType(enum.StrEnum):
    comment_published = "comment.published"
    comment_updated = "comment.updated"
    comment_removed = "comment.removed"
    comment_reactions = "comment.reactions"
    comment_featured = "comment.featured"
    liveblog_post_published = "liveblog.post.published"
    liveblog_post_updated = "liveblog.post.updated"
    liveblog_post_deleted = "liveblog.post.deleted"
    liveblog_status = "liveblog.status"
    queue_counts = "queue.counts"
    comment_queued = "comment.queued"
    comment_decided = "comment.decided"


MODERATION_CHANNEL = "moderation"


def article_channel(article_id: str) -> str:
    return f"article:{article_id}"


class Event(BaseModel):
    """What every subscriber of a channel receives, with the channel's offset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    offset: int
    type: EventType
    data: dict[str, Any]
    time: float


class ChannelBroker(Protocol):
    async def publish(self, channel: str, type: EventType, data: Mapping[str, Any]) -> Event:
        """Append to the channel's history and fan out to every process; return the event."""
