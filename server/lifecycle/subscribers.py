"""What is told, after commit, about a comment's events, and to whom.

- :class:`ReaderChannels`: the article's channel (``comment.published|removed|featured|
  reactions``), what open pages show live.
- :class:`ModerationChannel`: ``comment.queued`` for comments newly waiting for a person,
  ``comment.decided`` for every decision, and the queues' sizes (``queue.counts``).
- :class:`PageInvalidation`: one ``pages.changed`` on the internal ``pages`` channel, which
  every server process listens to, so each drops its cached thread pages of those articles.

Each never raises (the producers log a broker outage and carry on).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from server.db import Sessionmaker
from server.lifecycle.events import CommentEvent, EventKind
from server.lifecycle.relay import EventRelay, Subscriber
from server.live import producers
from server.live.base import ChannelBroker
from server.moderation.models import SYSTEM_ACTOR
from server.moderation.review.queues import get_item, waiting_counts
from server.pagecache import PageCache
from server.users.models import User

log = logging.getLogger(__name__)

PARALLEL_PUBLISHES = 16
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
# Why a comment left its thread, by the audit action that removed it.
_REMOVED_BECAUSE = {"edit": "edited", "delete": "deleted", "reports": "reported"}


class ReaderChannels:
    """Readers' pages hear comments appearing, leaving, featured, and their reactions."""

    def __init__(self, sessionmaker: Sessionmaker, channels: ChannelBroker) -> None:
        self._sessionmaker = sessionmaker
        self._channels = channels

    async def __call__(self, events: Sequence[CommentEvent]) -> None:
        names = await _author_names(self._sessionmaker, [e for e in events if e.appeared])
        # One round trip per event; a bulk decision sends them a few at a time (the order of
        # events about different comments does not matter, one comment's events stay ordered).
        by_comment: dict[int, list[CommentEvent]] = {}
        for event in events:
            by_comment.setdefault(event.comment_id, []).append(event)
        groups = list(by_comment.values())
        for start in range(0, len(groups), PARALLEL_PUBLISHES):
            batch = groups[start : start + PARALLEL_PUBLISHES]
            await asyncio.gather(*(self._announce_all(group, names) for group in batch))

    async def _announce_all(self, events: list[CommentEvent], names: dict[str, str]) -> None:
        for event in events:
            await self._announce(event, names)

    async def _announce(self, event: CommentEvent, names: dict[str, str]) -> None:
        channels = self._channels
        if event.appeared and event.public is not None:
            public = dict(event.public)
            public["author"] = {"id": event.author_id, "name": names.get(event.author_id)}
            await producers.comment_published(channels, public)
        elif event.disappeared:
            await producers.comment_removed(
                channels,
                article_id=event.article_id,
                comment_id=event.comment_id,
                reason=_REMOVED_BECAUSE.get(event.action, "moderated"),
                placeholder=event.kind is EventKind.deleted,
            )
        if event.kind in (EventKind.featured, EventKind.unfeatured):
            await producers.comment_featured(
                channels,
                article_id=event.article_id,
                comment_id=event.comment_id,
                featured=event.featured,
            )
        elif event.kind is EventKind.reacted:
            await producers.comment_reactions(
                channels,
                article_id=event.article_id,
                comment_id=event.comment_id,
                reactions=event.data["reactions"],
            )


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
        # A pending comment is on no anonymous page: its posting changes none.
        articles = sorted({e.article_id for e in events if e.kind is not EventKind.posted})
        if not articles:
            return
        for cache in self._caches:
            for article_id in articles:
                cache.invalidate(article_id)
        await producers.pages_changed(self._channels, article_ids=articles)


def default_subscribers(
    sessionmaker: Sessionmaker, channels: ChannelBroker, page_caches: Sequence[PageCache] = ()
) -> list[Subscriber]:
    """Page caches, readers' channels and the moderation channel, in that order."""
    return [
        PageInvalidation(channels, page_caches),
        ReaderChannels(sessionmaker, channels),
        ModerationChannel(sessionmaker, channels),
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
