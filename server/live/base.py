"""Live events: the one typed envelope, channel names, offsets, and the broker Protocols.

Producers only ever call ``publish`` after their database transaction has committed. The hub
(``server.live.hub``) is the only user of the rest of :class:`LiveBroker`.

Offsets: every channel has one integer counter, incremented by one per event, so offsets are
increasing and identical for every subscriber. A channel's counter starts at the time it was
created, in microseconds since the Unix epoch (about 1.8e15 today, below 2**53 so JavaScript
reads it exactly). If the broker loses a channel (a Redis flush or restart, an expired key, a
restarted embedded process) the counter is seeded again from a later time, so an offset a client
kept from before is always *older* than everything the new history holds and can never be
mistaken for a recoverable position.
"""

from __future__ import annotations

import enum
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from server.ids import ARTICLE_ID_PATTERN


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
    # On a reader's own channel ``user:{sub}`` only (server.lifecycle.subscribers.ReaderInbox).
    reader_decided = "reader.decided"
    reader_replied = "reader.replied"
    reader_featured = "reader.featured"
    # On the author's own channel user:{sub} (issue 12): one revision offered.
    comment_nudged = "comment.nudged"
    # Internal: on PAGES_CHANNEL only, never sent to clients.
    pages_changed = "pages.changed"


MODERATION_CHANNEL = "moderation"
# Every server process listens here to drop cached pages; clients cannot subscribe to it.
PAGES_CHANNEL = "pages"
_ARTICLE_CHANNEL = re.compile("^article:" + ARTICLE_ID_PATTERN.removeprefix("^"))


def article_channel(article_id: str) -> str:
    return f"article:{article_id}"


def valid_channel(channel: str) -> bool:
    """Whether ``channel`` is ``moderation``, ``article:{id}`` or ``user:{sub}``, well formed."""
    return (
        channel == MODERATION_CHANNEL
        or _ARTICLE_CHANNEL.match(channel) is not None
        or channel_owner(channel) is not None
    )


USER_CHANNEL_PREFIX = "user:"
_USER_CHANNEL = re.compile(r"^user:[^\x00-\x1f\x7f]{1,128}$")


def user_channel(sub: str) -> str:
    """A reader's own channel: decisions on their comments, replies to them, features."""
    return f"{USER_CHANNEL_PREFIX}{sub}"


def channel_owner(channel: str) -> str | None:
    """The ``sub`` whose own channel this is, or None for any other channel."""
    if _USER_CHANNEL.match(channel) is None:
        return None
    return channel[len(USER_CHANNEL_PREFIX):]


def offset_epoch() -> int:
    """The first offset of a channel created now: microseconds since the Unix epoch."""
    return time.time_ns() // 1000


class Event(BaseModel):
    """What every subscriber of a channel receives, with the channel's offset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    offset: int
    type: EventType
    data: dict[str, Any]
    time: float


@dataclass(frozen=True, slots=True)
class Recovery:
    """The answer to "what happened on ``channel`` after ``since``?".

    ``offset`` is the channel's current offset. ``recovered`` is true only when ``events`` are
    exactly the events after ``since`` up to ``offset``, none missing; otherwise ``events`` is
    empty and the client must refetch by REST.
    """

    offset: int
    recovered: bool
    events: Sequence[Event] = ()


def check_recovery(since: int | None, offset: int, events: Sequence[Event]) -> Recovery:
    """Judge a history read: complete and contiguous from ``since + 1`` to ``offset``, or not."""
    if since is None:
        return Recovery(offset=offset, recovered=False)
    if since == offset:
        return Recovery(offset=offset, recovered=True)
    wanted = offset - since
    if since > offset or len(events) != wanted:
        return Recovery(offset=offset, recovered=False)
    if events[0].offset != since + 1 or events[-1].offset != offset:
        return Recovery(offset=offset, recovered=False)
    return Recovery(offset=offset, recovered=True, events=tuple(events))


# One event to publish: (channel, type, data).
Message = tuple[str, "EventType", Mapping[str, Any]]


class ChannelBroker(Protocol):
    """What producers publish through (``app[CHANNELS]``).

    A broker may also offer ``publish_many(messages) -> list[Event | None]``, publishing a
    batch in one round trip (``producers.publish_all`` uses it when present).
    """

    async def publish(self, channel: str, type: EventType, data: Mapping[str, Any]) -> Event | None:
        """Append to the channel's history and fan out to every process; return the event.

        ``None`` means the event was coalesced into one published shortly after
        (``comment.reactions`` and ``queue.counts`` only; see ``server.live.coalesce``).
        """


EventSink = Callable[[Event], None]
ResyncSink = Callable[[], None]


class LiveBroker(Protocol):
    """A broker as the hub uses it: publish, read history, and listen to channels."""

    async def publish(self, channel: str, type: EventType, data: Mapping[str, Any]) -> Event:
        """Append to history and fan out atomically; return the event with its offset."""

    async def recover(self, channel: str, since: int | None) -> Recovery:
        """The channel's current offset, and the events after ``since`` if history has them."""

    async def start(self, sink: EventSink, resync: ResyncSink) -> None:
        """Begin delivering events of listened channels to ``sink``, in offset order per channel.

        ``resync`` is called when events may have been lost in transit (a reconnect), so the
        hub can fill the gap from history.
        """

    async def listen(self, channel: str) -> None:
        """Deliver ``channel``'s events to the sink from now on (returns once that holds)."""

    async def unlisten(self, channel: str) -> None: ...

    async def close(self) -> None: ...


class PresenceStore(Protocol):
    """Connection counts per channel, summed over every server process."""

    async def report(self, counts: Mapping[str, int]) -> dict[str, int]:
        """Record this process's counts; return the totals across processes for those channels."""

    async def clear(self) -> None:
        """Forget this process's counts (on shutdown)."""
