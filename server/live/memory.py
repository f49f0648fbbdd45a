"""Channels inside one process: the embedded default's broker."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from server.live.base import Event, EventType


class MemoryChannelBroker:
    def __init__(self, history_size: int = 1000) -> None:
        self._history_size = history_size
        self._offsets: dict[str, int] = {}
        self._history: dict[str, deque[Event]] = {}

    async def publish(self, channel: str, type: EventType, data: Mapping[str, Any]) -> Event:
        offset = self._offsets.get(channel, 0) + 1
        self._offsets[channel] = offset
        event = Event(channel=channel, offset=offset, type=type, data=dict(data), time=time.time())
        history = self._history.setdefault(channel, deque(maxlen=self._history_size))
        history.append(event)
        return event
