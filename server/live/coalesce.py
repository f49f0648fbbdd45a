"""What producers publish through (``app[CHANNELS]``): the broker, with bursts coalesced.

``comment.reactions`` for one comment and ``queue.counts`` carry a *state*, not a change, so
only the latest matters. The first one goes out at once; more within ``interval`` are merged
(latest data wins) and published once when the interval ends, so a hot comment produces at most
``1 / interval`` events per second per process, and a burst's final state is never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from server.clock import SYSTEM_CLOCK, Clock
from server.live.base import Event, EventType, Message

log = logging.getLogger(__name__)

DEFAULT_INTERVALS: Mapping[EventType, float] = {
    EventType.comment_reactions: 0.25,
    EventType.queue_counts: 1.0,
}
_PRUNE_AT = 10_000


class _Publisher(Protocol):
    async def publish(self, channel: str, type: EventType, data: Mapping[str, Any]) -> Event: ...


Key = tuple[str, EventType, object]


class _Slot:
    __slots__ = ("data", "next_at", "task")

    def __init__(self, next_at: float) -> None:
        self.next_at = next_at
        self.data: Mapping[str, Any] | None = None
        self.task: asyncio.Task[None] | None = None


class CoalescingChannels:
    """A :class:`~server.live.base.ChannelBroker` that merges bursts of state events."""

    def __init__(
        self,
        broker: _Publisher,
        intervals: Mapping[EventType, float] = DEFAULT_INTERVALS,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._broker = broker
        self._clock = clock
        self._intervals = dict(intervals)
        self._slots: dict[Key, _Slot] = {}

    async def publish(self, channel: str, type: EventType, data: Mapping[str, Any]) -> Event | None:
        """Publish now, or (for a coalesced type within its interval) soon and return None."""
        interval = self._intervals.get(type)
        if interval is None:
            return await self._broker.publish(channel, type, data)
        key: Key = (channel, type, data.get("id"))
        now = self._clock.monotonic()
        slot = self._slots.get(key)
        if slot is None or (slot.task is None and slot.next_at <= now):
            self._prune(now)
            self._slots[key] = _Slot(now + interval)
            return await self._broker.publish(channel, type, data)
        slot.data = data
        if slot.task is None:
            slot.task = asyncio.create_task(self._flush(key, slot, interval))
        return None

    async def publish_many(self, messages: Sequence[Message]) -> list[Event | None]:
        """``publish`` for each message in order; runs of uncoalesced ones go to the broker
        as one batch (one round trip) when it can take batches."""
        many = getattr(self._broker, "publish_many", None)
        out: list[Event | None] = []
        run: list[Message] = []
        for message in [*messages, None]:
            if message is not None and message[1] not in self._intervals:
                run.append(message)
                continue
            if run:
                if many is not None:
                    out.extend(await many(run))
                else:
                    out.extend([await self._broker.publish(*m) for m in run])
                run = []
            if message is not None:
                out.append(await self.publish(*message))
        return out

    async def _flush(self, key: Key, slot: _Slot, interval: float) -> None:
        channel, type, _ = key
        try:
            while slot.data is not None:
                await self._clock.sleep(max(0.0, slot.next_at - self._clock.monotonic()))
                data, slot.data = slot.data, None
                slot.next_at = self._clock.monotonic() + interval
                await self._publish_quietly(channel, type, data)
        finally:
            slot.task = None

    async def _publish_quietly(
        self, channel: str, type: EventType, data: Mapping[str, Any]
    ) -> None:
        try:
            await self._broker.publish(channel, type, data)
        except Exception:
            log.warning("could not publish coalesced %s on %s", type, channel, exc_info=True)

    def _prune(self, now: float) -> None:
        if len(self._slots) >= _PRUNE_AT:
            stale = [k for k, s in self._slots.items() if s.task is None and s.next_at <= now]
            for k in stale:
                del self._slots[k]

    async def aclose(self) -> None:
        """Cancel the pending flushes and publish what they held, so no final state is lost."""
        slots = list(self._slots.items())
        self._slots.clear()
        for _, slot in slots:
            if slot.task is not None:
                slot.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await slot.task
        for (channel, type, _), slot in slots:
            if slot.data is not None:
                await self._publish_quietly(channel, type, slot.data)
