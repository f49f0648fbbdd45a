"""One function per live event a service produces. Call them *after* the commit.

Each takes the ``ChannelBroker`` (``app[CHANNELS]`` in the server; ``live.runtime.publisher``
in a worker process), publishes on the right channel, and never raises: a broker outage is logged
and ``None`` returned, since the data is already safe in the database (clients that missed the
event recover from history or refetch). ``None`` is also returned when the event was coalesced
into one published a moment later (``comment.reactions``, ``queue.counts``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from server.live.base import (
    MODERATION_CHANNEL,
    PAGES_CHANNEL,
    ChannelBroker,
    Event,
    EventType,
    Message,
    article_channel,
    user_channel,
)

log = logging.getLogger(__name__)

# Fields of ``public_comment`` that describe the viewer, not the comment: never broadcast.
_PER_VIEWER = ("mine", "awaiting_review", "my_reactions")


async def _publish(
    channels: ChannelBroker, channel: str, type: EventType, data: Mapping[str, Any]
) -> Event | None:
    try:
        return await channels.publish(channel, type, data)
    except Exception:
        log.warning("could not publish %s on %s", type, channel, exc_info=True)
        return None


async def publish_all(channels: ChannelBroker, messages: Sequence[Message]) -> None:
    """Publish ``messages`` in order, in one round trip when the broker takes batches
    (``publish_many``); never raises (a failed batch is logged, like a failed event)."""
    if not messages:
        return
    many = getattr(channels, "publish_many", None)
    if many is None:
        for channel, type, data in messages:
            await _publish(channels, channel, type, data)
        return
    try:
        await many(messages)
    except Exception:
        log.warning("could not publish a batch of %d events", len(messages), exc_info=True)


def published_message(comment: Mapping[str, Any]) -> Message:
    """``comment.published`` (``comment`` is ``public_comment(...)``, with ``article_id``)."""
    return (_article(comment), EventType.comment_published, _public(comment))


def removed_message(
    *, article_id: str, comment_id: int, reason: str, placeholder: bool = False
) -> Message:
    """``comment.removed``; ``placeholder`` keeps a stub where it stood."""
    data: dict[str, Any] = {"id": comment_id, "reason": reason}
    if placeholder:
        data["placeholder"] = True
    return (article_channel(article_id), EventType.comment_removed, data)


def featured_message(*, article_id: str, comment_id: int, featured: bool) -> Message:
    return (article_channel(article_id), EventType.comment_featured,
            {"id": comment_id, "featured": featured})


def reactions_message(
    *, article_id: str, comment_id: int, reactions: Mapping[str, int]
) -> Message:
    data = {"id": comment_id, "reactions": dict(reactions),
            "reaction_count": sum(reactions.values())}
    return (article_channel(article_id), EventType.comment_reactions, data)


def _public(comment: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in comment.items() if k not in _PER_VIEWER}


def _article(comment: Mapping[str, Any]) -> str:
    return article_channel(str(comment["article_id"]))


async def comment_published(channels: ChannelBroker, comment: Mapping[str, Any]) -> Event | None:
    """A comment became visible (approved by the scorer or a moderator).

    ``comment`` is ``public_comment(...)`` of the approved comment (it must have ``article_id``).
    """
    return await _publish(channels, *published_message(comment))


async def comment_updated(channels: ChannelBroker, comment: Mapping[str, Any]) -> Event | None:
    """A visible comment changed (e.g. an approved edit): readers replace it in place."""
    return await _publish(channels, _article(comment), EventType.comment_updated, _public(comment))


async def comment_featured(
    channels: ChannelBroker, *, article_id: str, comment_id: int, featured: bool
) -> Event | None:
    return await _publish(
        channels,
        *featured_message(article_id=article_id, comment_id=comment_id, featured=featured),
    )


async def comment_removed(
    channels: ChannelBroker, *, article_id: str, comment_id: int, reason: str,
    placeholder: bool = False,
) -> Event | None:
    """A visible comment left the thread (rejected, held, deleted); ``placeholder`` keeps a stub."""
    message = removed_message(
        article_id=article_id, comment_id=comment_id, reason=reason, placeholder=placeholder
    )
    return await _publish(channels, *message)


async def comment_reactions(
    channels: ChannelBroker, *, article_id: str, comment_id: int, reactions: Mapping[str, int]
) -> Event | None:
    """A comment's reaction counts (coalesced to at most four per second per comment)."""
    message = reactions_message(article_id=article_id, comment_id=comment_id, reactions=reactions)
    return await _publish(channels, *message)


async def comment_queued(channels: ChannelBroker, item: Mapping[str, Any]) -> Event | None:
    """A comment entered a moderation queue (held, or reported back). ``item`` is the queue item
    as ``GET /moderation/queues/...`` returns it (with ``id``, ``status``, ``article_id``...)."""
    return await _publish(channels, MODERATION_CHANNEL, EventType.comment_queued, dict(item))


async def comment_decided(
    channels: ChannelBroker, *, comment_ids: Iterable[int], action: str, status: str,
    actor: str, reason: str | None = None,
) -> Event | None:
    """A decision (by the system or a moderator) so other consoles drop those items."""
    data = {"comment_ids": list(comment_ids), "action": action, "status": status,
            "actor": actor, "reason": reason}
    return await _publish(channels, MODERATION_CHANNEL, EventType.comment_decided, data)


async def queue_counts(channels: ChannelBroker, counts: Mapping[str, int]) -> Event | None:
    """The queues' sizes, e.g. ``{"pending": 3, "held": 12, "reported": 1}``.

    Call it whenever counts may have changed; it is coalesced to at most one event per second
    per process, and the latest counts always go out.
    """
    return await _publish(channels, MODERATION_CHANNEL, EventType.queue_counts, dict(counts))


async def liveblog_event(
    channels: ChannelBroker, *, article_id: str, type: EventType, data: Mapping[str, Any]
) -> Event | None:
    """``liveblog.post.published|updated|deleted`` (data: the post) or ``liveblog.status``."""
    if not type.value.startswith("liveblog."):
        raise ValueError(f"{type} is not a live-blog event")
    return await _publish(channels, article_channel(article_id), type, dict(data))


async def pages_changed(
    channels: ChannelBroker, *, article_ids: Iterable[str], pages: str = "threads"
) -> Event | None:
    """``pages`` (``threads`` or ``liveblog``) of these articles changed: every server process
    drops its cached copies of them."""
    return await _publish(channels, PAGES_CHANNEL, EventType.pages_changed,
                          {"pages": pages, "article_ids": list(article_ids)})


async def reader_event(
    channels: ChannelBroker, *, sub: str, type: EventType, data: Mapping[str, Any]
) -> Event | None:
    """``reader.decided|replied|featured`` on the reader's own channel ``user:{sub}``."""
    if not type.value.startswith("reader."):
        raise ValueError(f"{type} is not a reader's event")
    return await _publish(channels, user_channel(sub), type, dict(data))


async def comment_nudged(
    channels: ChannelBroker, *, author_id: str, data: Mapping[str, Any]
) -> Event | None:
    """Its author may revise a held comment once (``server.comments.nudges.notice``)."""
    return await _publish(channels, user_channel(author_id), EventType.comment_nudged, dict(data))
