"""Units of work whose events are published after their commit, to every subscriber.

``async with relay.transaction() as session:`` is ``sessionmaker.begin()`` with an outbox:
what the block records (``transition`` does it for every status change) is handed to each
subscriber once the transaction has committed, in recording order, and dropped if it rolls
back. Subscribers are awaited one after the other and must not raise: the data is already
safe in the database, so a failing subscriber is logged and the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.db import Sessionmaker
from server.lifecycle.events import OUTBOX_KEY, CommentEvent, Outbox

log = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[CommentEvent]], Awaitable[None]]


class EventRelay:
    """Opens units of work and relays their committed events to the subscribers."""

    def __init__(self, sessionmaker: Sessionmaker, subscribers: Iterable[Subscriber] = ()) -> None:
        self.sessionmaker = sessionmaker
        self._subscribers: list[Subscriber] = list(subscribers)
        self._autocommit: Sessionmaker | None = None
        engine = sessionmaker.kw.get("bind")
        if isinstance(engine, AsyncEngine) and engine.dialect.name == "postgresql":
            self._autocommit = async_sessionmaker(
                engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
            )

    def subscribe(self, subscriber: Subscriber) -> None:
        """Hear every committed batch of events from now on (e.g. webhooks, ``user:{sub}``)."""
        self._subscribers.append(subscriber)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """``sessionmaker.begin()`` whose recorded events are published after the commit."""
        outbox = Outbox()
        async with self.sessionmaker.begin() as session:
            session.info[OUTBOX_KEY] = outbox
            yield session
        await self.publish(outbox)

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[AsyncSession]:
        """A unit of work whose statements each commit on their own, for a write that one
        statement makes atomic once the statements before it only upsert (a POST: the caller
        and the article upserted, then the comment inserted). On PostgreSQL that saves the
        BEGIN and COMMIT round trips; elsewhere it is ``transaction()``. Recorded events are
        published after the block, and none if it raises."""
        if self._autocommit is None:
            async with self.transaction() as session:
                yield session
            return
        outbox = Outbox()
        async with self._autocommit() as session:
            session.info[OUTBOX_KEY] = outbox
            yield session
        await self.publish(outbox)

    async def publish(self, events: Iterable[CommentEvent]) -> None:
        """Hand committed ``events`` to every subscriber (the path ``transaction`` takes)."""
        batch = list(events)
        if not batch:
            return
        for subscriber in self._subscribers:
            try:
                await subscriber(batch)
            except Exception:
                log.warning("an event subscriber failed on %d events", len(batch), exc_info=True)
