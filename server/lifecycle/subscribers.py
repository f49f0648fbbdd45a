"""What is told, after commit, about a comment's events, and to whom.

- :class:`ReaderChannels`: the article's channel (``comment.published|removed|featured|
  reactions``), what open pages show live.
- :class:`ModerationChannel`: ``comment.queued`` for comments newly waiting for a person,
  ``comment.decided`` for every decision, and the queues' sizes (``queue.counts``).
- :class:`ReaderInbox`: each author's own channel ``user:{sub}`` (``reader.decided|replied|
  featured``): what became of their comments, and who replied to them.
- :class:`PageInvalidation`: one ``pages.changed`` on the internal ``pages`` channel, which
  every server process listens to, so each drops its cached thread pages of those articles.
- :class:`NudgeNotices`: the author's own channel ``user:{sub}`` hears ``comment.nudged``
  when their held comment may be revised once (``server.comments.nudges``).

Each never raises (the producers log a broker outage and carry on).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from server.comments.models import Comment
from server.comments.nudges import notice
from server.db import Sessionmaker
from server.lifecycle.events import CommentEvent, EventKind
from server.lifecycle.relay import EventRelay, Subscriber
from server.live import producers
from server.live.base import ChannelBroker, EventType, Message
from server.moderation.models import SYSTEM_ACTOR
from server.moderation.review.queues import get_item, waiting_counts
from server.pagecache import PageCache
from server.users.models import User

log = logging.getLogger(__name__)

# Events that are decisions, announced on the moderation channel.
DECISIONS = frozenset(
    {
        EventKind.approved,
        EventKind.held,
        EventKind.rejected,
        EventKind.reopened,
        EventKind.featured,
        EventKind.unfeatured,
    }
)
# Events that change no thread page: a pending comment is on no anonymous page, and a nudge
# only tells the author of a held one.
_NO_PAGE_CHANGE = frozenset({EventKind.posted, EventKind.nudged})
# Why a comment left its thread, by the audit action that removed it.
_REMOVED_BECAUSE = {"edit": "edited", "delete": "deleted", "reports": "reported"}


class ReaderChannels:
    """Readers' pages hear comments appearing, leaving, featured, and their reactions."""

    def __init__(self, sessionmaker: Sessionmaker, channels: ChannelBroker) -> None:
        self._sessionmaker = sessionmaker
        self._channels = channels

    async def __call__(self, events: Sequence[CommentEvent]) -> None:
        names = await _author_names(self._sessionmaker, [e for e in events if e.appeared])
        # Every event of the batch in one pipelined round trip, in recording order (a bulk
        # decision of hundreds of comments is one call to Redis, not one per comment).
        messages = [m for event in events for m in _reader_messages(event, names)]
        await producers.publish_all(self._channels, messages)


def _reader_messages(event: CommentEvent, names: dict[str, str]) -> list[Message]:
    """What the article's open pages are told about ``event``."""
    messages = []
    if event.appeared and event.public is not None:
        public = dict(event.public)
        public["author"] = {"id": event.author_id, "name": names.get(event.author_id)}
        messages.append(producers.published_message(public))
    elif event.disappeared:
        messages.append(
            producers.removed_message(
                article_id=event.article_id,
                comment_id=event.comment_id,
                reason=_REMOVED_BECAUSE.get(event.action, "moderated"),
                placeholder=event.kind is EventKind.deleted,
            )
        )
    if event.kind in (EventKind.featured, EventKind.unfeatured):
        messages.append(
            producers.featured_message(
                article_id=event.article_id, comment_id=event.comment_id, featured=event.featured
            )
        )
    elif event.kind is EventKind.reacted:
        messages.append(
            producers.reactions_message(
                article_id=event.article_id,
                comment_id=event.comment_id,
                reactions=event.data["reactions"],
            )
        )
    return messages


class ReaderInbox:
    """An author hears, on ``user:{sub}`` only, what became of their comments.

    ``reader.decided`` for a status decision (approved, held, rejected; an approved comment
    carries its public JSON so the widget shows it in place), ``reader.featured`` for a feature
    or unfeature, and ``reader.replied`` to the author of a comment someone else just replied to
    (when the reply appears in the thread).
    """

    def __init__(self, sessionmaker: Sessionmaker, channels: ChannelBroker) -> None:
        self._sessionmaker = sessionmaker
        self._channels = channels

    async def __call__(self, events: Sequence[CommentEvent]) -> None:
        replies = [e for e in events if e.appeared and e.parent_id is not None]
        names = await _author_names(
            self._sessionmaker, [e for e in events if e.appeared or e.kind in _TOLD]
        )
        for event in events:
            await self._tell(event, names)
        if replies:
            await self._tell_parents(replies, names)

    async def _tell(self, event: CommentEvent, names: dict[str, str]) -> None:
        base = {"comment_id": event.comment_id, "article_id": event.article_id}
        if event.kind in _TOLD and event.status_changed:
            data: dict[str, Any] = {**base, "status": event.after.value}
            if event.appeared and event.public is not None:
                data["comment"] = _with_author(event, names, mine=True)
            await producers.reader_event(self._channels, sub=event.author_id,
                                         type=EventType.reader_decided, data=data)
        elif event.kind in (EventKind.featured, EventKind.unfeatured):
            await producers.reader_event(self._channels, sub=event.author_id,
                                         type=EventType.reader_featured,
                                         data={**base, "featured": event.featured})

    async def _tell_parents(self, replies: list[CommentEvent], names: dict[str, str]) -> None:
        parents = {e.parent_id for e in replies if e.parent_id is not None}
        try:
            async with self._sessionmaker() as session:
                rows = await session.execute(
                    select(Comment.id, Comment.author_id).where(Comment.id.in_(parents))
                )
                authors = dict(rows.tuples().all())
        except Exception:
            log.warning("could not read the parents' authors", exc_info=True)
            return
        for reply in replies:
            parent_id = reply.parent_id
            parent_author = authors.get(parent_id) if parent_id is not None else None
            if parent_author is None or parent_author == reply.author_id:
                continue
            data = {
                "comment_id": parent_id, "article_id": reply.article_id,
                "reply_id": reply.comment_id, "author_name": names.get(reply.author_id),
                "reply": _with_author(reply, names, mine=False),
            }
            await producers.reader_event(self._channels, sub=parent_author,
                                         type=EventType.reader_replied, data=data)


# Decisions an author is told of on their own channel.
_TOLD = frozenset({EventKind.approved, EventKind.held, EventKind.rejected})


def _with_author(event: CommentEvent, names: dict[str, str], *, mine: bool) -> dict[str, Any]:
    public = dict(event.public or {})
    public["author"] = {"id": event.author_id, "name": names.get(event.author_id)}
    public["mine"] = mine
    public["awaiting_review"] = False
    return public


class ModerationChannel:
    """Consoles hear what joined a queue, every decision, and the queues' new sizes."""

    def __init__(self, sessionmaker: Sessionmaker, channels: ChannelBroker) -> None:
        self._sessionmaker = sessionmaker
        self._channels = channels

    async def __call__(self, events: Sequence[CommentEvent]) -> None:
        for event in events:
            if event.kind is EventKind.held and event.status_changed:
                item = await _queue_item(self._sessionmaker, event)
                await producers.comment_queued(self._channels, item)
        groups: dict[tuple[str, str, str], list[CommentEvent]] = {}
        for event in events:
            if event.kind in DECISIONS:
                key = (event.action, event.after.value, event.actor)
                groups.setdefault(key, []).append(event)
        for (action, status, actor), decided in groups.items():
            await producers.comment_decided(
                self._channels,
                comment_ids=[e.comment_id for e in decided],
                action=action,
                status=status,
                actor=actor,
                reason=_shared_reason(decided),
            )
        if any(_moves_queues(e) for e in events):
            await self._counts()

    async def _counts(self) -> None:
        try:
            counts = await waiting_counts(self._sessionmaker)
        except Exception:
            log.warning("could not count the queues", exc_info=True)
            return
        await producers.queue_counts(self._channels, counts)


class PageInvalidation:
    """Every process drops its cached pages of the articles whose threads changed.

    This process's own ``caches`` drop them at once (its writer reads its write back next),
    the others when the ``pages.changed`` event reaches them.
    """

    def __init__(self, channels: ChannelBroker, caches: Sequence[PageCache] = ()) -> None:
        self._channels = channels
        self._caches = tuple(caches)

    async def __call__(self, events: Sequence[CommentEvent]) -> None:
        articles = sorted({e.article_id for e in events if e.kind not in _NO_PAGE_CHANGE})
        if not articles:
            return
        for cache in self._caches:
            for article_id in articles:
                cache.invalidate(article_id)
        await producers.pages_changed(self._channels, article_ids=articles)


class NudgeNotices:
    """Authors hear, on ``user:{sub}``, that their held comment may be revised once."""

    def __init__(self, channels: ChannelBroker) -> None:
        self._channels = channels

    async def __call__(self, events: Sequence[CommentEvent]) -> None:
        for event in events:
            if event.kind is EventKind.nudged:
                await producers.comment_nudged(
                    self._channels,
                    author_id=event.author_id,
                    data=notice(event.comment_id, event.article_id, event.data),
                )


def default_subscribers(
    sessionmaker: Sessionmaker, channels: ChannelBroker, page_caches: Sequence[PageCache] = ()
) -> list[Subscriber]:
    """Page caches, readers' channels, authors' own channels (outcomes, replies, nudges) and
    the moderation channel."""
    return [
        PageInvalidation(channels, page_caches),
        ReaderChannels(sessionmaker, channels),
        ReaderInbox(sessionmaker, channels),
        ModerationChannel(sessionmaker, channels),
        NudgeNotices(channels),
    ]


def build_relay(
    sessionmaker: Sessionmaker, channels: ChannelBroker, page_caches: Sequence[PageCache] = ()
) -> EventRelay:
    """The relay of a server or worker process: add process-wide subscribers here."""
    return EventRelay(sessionmaker, default_subscribers(sessionmaker, channels, page_caches))


def _moves_queues(event: CommentEvent) -> bool:
    if event.kind is EventKind.posted:
        return False
    return event.kind in DECISIONS or event.kind is EventKind.reported or event.status_changed


def _shared_reason(events: Sequence[CommentEvent]) -> str | None:
    """The reason of a system decision shared by the whole group (people's stay private)."""
    reasons = {e.reason for e in events}
    if len(reasons) == 1 and events[0].actor == SYSTEM_ACTOR and events[0].action == "reports":
        return reasons.pop()
    return None


async def _author_names(
    sessionmaker: Sessionmaker, events: Sequence[CommentEvent]
) -> dict[str, str]:
    authors = sorted({e.author_id for e in events})
    if not authors:
        return {}
    try:
        async with sessionmaker() as session:
            rows = await session.execute(select(User.id, User.name).where(User.id.in_(authors)))
            return dict(rows.tuples().all())
    except Exception:
        log.warning("could not read the authors' names", exc_info=True)
        return {}


async def _queue_item(sessionmaker: Sessionmaker, event: CommentEvent) -> dict[str, Any]:
    """The held comment as ``GET /moderation/queues/held`` shows it (a summary if that fails)."""
    try:
        queued = await get_item(sessionmaker=sessionmaker, comment_id=event.comment_id)
        data: dict[str, Any] = queued.model_dump(mode="json")
        return data
    except Exception:
        log.warning("could not build the queue item of %d", event.comment_id, exc_info=True)
    return {
        "id": event.comment_id,
        "article_id": event.article_id,
        "status": event.after.value,
        "decision_reason": event.reason,
    }
