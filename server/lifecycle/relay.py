"""Units of work whose events are published after their commit, to every subscriber.

``async with relay.transaction() as session:`` is ``sessionmaker.begin()`` with an outbox:
what the block records (``transition`` does it for every status change) is written to the
``event_outbox`` table in the same transaction, handed to each subscriber once it has
committed (in recording order), and then deleted; nothing of a rolled-back transaction is
ever seen. If the process dies between commit and relay, ``relay_stale`` (run periodically by
every server process) hands the left-over batches to the subscribers: at-least-once.
Subscribers are awaited one after the other and must not raise: the data is already safe in
the database, so a failing subscriber is logged and the others still run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import SYSTEM_CLOCK, Clock
from server.db import Sessionmaker, autocommit
from server.lifecycle.events import (
    AUTOCOMMIT_KEY,
    OUTBOX_KEY,
    STORED_BATCHES_KEY,
    CommentEvent,
    Outbox,
)
from server.lifecycle.models import OutboxBatch

log = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[CommentEvent]], Awaitable[None]]
STALE_BATCHES = 100  # per sweep
FORGET_EVERY = 0.5  # seconds between deletions of relayed ``statements()`` batches


class EventRelay:
    """Opens units of work and relays their committed events to the subscribers."""

    def __init__(
        self,
        sessionmaker: Sessionmaker,
        subscribers: Iterable[Subscriber] = (),
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessionmaker = sessionmaker
        self._subscribers: list[Subscriber] = list(subscribers)
        self._clock = clock
        # Relayed batches of ``statements()`` units, deleted together (``_forget_soon``).
        self._relayed: list[int] = []
        self._forgot_at = clock.monotonic()
        own = autocommit(sessionmaker)
        self._autocommit: Sessionmaker | None = None if own is sessionmaker else own

    def subscribe(self, subscriber: Subscriber) -> None:
        """Hear every committed batch of events from now on (e.g. webhooks, ``user:{sub}``)."""
        self._subscribers.append(subscriber)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """``sessionmaker.begin()`` whose recorded events are published after the commit."""
        outbox = Outbox()
        batch: OutboxBatch | None = None
        async with self.sessionmaker.begin() as session:
            session.info[OUTBOX_KEY] = outbox
            yield session
            if len(outbox):
                batch = OutboxBatch(events=[event.to_json() for event in outbox])
                session.add(batch)
        if batch is None:
            return
        await self.publish(outbox)
        await self._forget([batch.id])

    async def _forget(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        try:
            # One DELETE is atomic by itself: in autocommit where possible (no BEGIN, COMMIT).
            async with (self._autocommit or self.sessionmaker).begin() as session:
                await session.execute(delete(OutboxBatch).where(OutboxBatch.id.in_(ids)))
        except Exception:
            # Relayed already; ``relay_stale`` will relay it once more (subscribers tolerate it).
            log.warning("could not delete relayed outbox batches %s", ids, exc_info=True)

    async def relay_stale(self, *, older_than: dt.timedelta, now: dt.datetime) -> int:
        """Relay batches left by processes that died between commit and relay; how many."""
        await self.flush_forgotten()
        async with self.sessionmaker.begin() as session:
            batches = (
                await session.scalars(
                    select(OutboxBatch)
                    .where(OutboxBatch.created_at < now - older_than)
                    .order_by(OutboxBatch.id)
                    .limit(STALE_BATCHES)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            # Relayed while locked, deleted in the same transaction: two sweepers never both
            # take a batch, and one that dies here leaves it for the next.
            for batch in batches:
                await self.publish(CommentEvent.from_json(e) for e in batch.events)
                await session.delete(batch)
        return len(batches)

    async def run_sweeper(
        self, *, interval: float, older_than: dt.timedelta, clock: Callable[[], dt.datetime]
    ) -> None:
        """Call ``relay_stale`` every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.relay_stale(older_than=older_than, now=clock())
            except Exception:
                log.warning("could not relay stale outbox batches", exc_info=True)

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[AsyncSession]:
        """A unit of work whose statements each commit on their own, for a write that one
        statement makes atomic once the statements before it only upsert (a POST: the caller
        and the article upserted, then the comment inserted together with its outbox batch by
        ``transitions.post``). On PostgreSQL that saves the BEGIN and COMMIT round trips;
        elsewhere it is ``transaction()``. Recorded events are published after the block (none
        if it raises), then their stored batches deleted, as ``transaction()`` does."""
        if self._autocommit is None:
            async with self.transaction() as session:
                yield session
            return
        outbox = Outbox()
        async with self._autocommit() as session:
            session.info[OUTBOX_KEY] = outbox
            session.info[AUTOCOMMIT_KEY] = True
            yield session
            stored: list[int] = session.info.get(STORED_BATCHES_KEY, [])
        if len(outbox) and not stored:
            raise RuntimeError("events recorded in autocommit were not stored with their write")
        await self.publish(outbox)
        await self._forget_soon(stored)

    async def _forget_soon(self, ids: Sequence[int]) -> None:
        """Delete relayed batches off the write's path: they pile up and go in one DELETE at
        most every ``FORGET_EVERY`` seconds (paid by the write that comes then), at every
        sweep of this process (before it looks for stale batches, so it never relays its own
        twice) and at shutdown (``flush_forgotten``). A batch left by a process that died
        first is relayed again after ``outbox_relay_after_seconds``: at-least-once."""
        self._relayed.extend(ids)
        if self._clock.monotonic() - self._forgot_at >= FORGET_EVERY:
            await self.flush_forgotten()

    async def flush_forgotten(self) -> None:
        """Delete every relayed batch still waiting for ``_forget_soon``'s next round."""
        ids, self._relayed = self._relayed, []
        self._forgot_at = self._clock.monotonic()
        await self._forget(ids)

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
