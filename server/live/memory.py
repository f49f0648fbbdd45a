"""Channels inside one process: the embedded default's broker, with the Redis broker's semantics."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from server.live.base import (
    Event,
    EventSink,
    EventType,
    Message,
    Recovery,
    ResyncSink,
    check_recovery,
    offset_epoch,
)


class MemoryChannelBroker:
    """Per-channel offsets and capped history in a dict; events reach the sink synchronously."""

    def __init__(self, history_size: int = 1000) -> None:
        self._history_size = history_size
        self._offsets: dict[str, int] = {}
        self._history: dict[str, deque[Event]] = {}
        self._listening: set[str] = set()
        self._sink: EventSink | None = None

    def _offset(self, channel: str) -> int:
        offset = self._offsets.get(channel)
        if offset is None:
            offset = self._offsets[channel] = offset_epoch()
        return offset

    async def publish(self, channel: str, type: EventType, data: Mapping[str, Any]) -> Event:
        offset = self._offset(channel) + 1
        self._offsets[channel] = offset
        event = Event(channel=channel, offset=offset, type=type, data=dict(data), time=time.time())
        history = self._history.setdefault(channel, deque(maxlen=self._history_size))
        history.append(event)
        if self._sink is not None and channel in self._listening:
            self._sink(event)
        return event

    async def publish_many(self, messages: Sequence[Message]) -> list[Event | None]:
        return [await self.publish(channel, type, data) for channel, type, data in messages]

    async def recover(self, channel: str, since: int | None) -> Recovery:
        offset = self._offset(channel)
        if since is None or since >= offset:
            return check_recovery(since, offset, ())
        history = self._history.get(channel, ())
        events = [event for event in history if event.offset > since]
        return check_recovery(since, offset, events)

    async def start(self, sink: EventSink, resync: ResyncSink) -> None:
        # Nothing is ever lost in transit inside one process, so ``resync`` is never needed.
        self._sink = sink

    async def listen(self, channel: str) -> None:
        self._listening.add(channel)

    async def unlisten(self, channel: str) -> None:
        self._listening.discard(channel)

    async def close(self) -> None:
        self._sink = None
        self._listening.clear()


class MemoryPresence:
    """One process is every process: the totals are this process's counts."""

    async def report(self, counts: Mapping[str, int]) -> dict[str, int]:
        return dict(counts)

    async def clear(self) -> None:
        return None
