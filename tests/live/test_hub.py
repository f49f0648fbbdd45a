"""The hub's ordering guarantees when the broker loses events in transit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest

from server.auth import Principal
from server.live.base import Event, EventSink, EventType, ResyncSink
from server.live.hub import Hub
from server.live.memory import MemoryChannelBroker, MemoryPresence
from server.live.protocol import Frame
from server.settings import Settings

pytestmark = pytest.mark.timeout(20)


class LossyBroker(MemoryChannelBroker):
    """Loses the events whose offsets are in ``drop`` on their way to the hub."""

    def __init__(self, history_size: int) -> None:
        super().__init__(history_size)
        self.drop: set[int] = set()
        self.resync: ResyncSink | None = None

    async def start(self, sink: EventSink, resync: ResyncSink) -> None:
        def lossy(event: Event) -> None:
            if event.offset not in self.drop:
                sink(event)

        self.resync = resync
        await super().start(lossy, resync)


class FakeConnection:
    def __init__(self) -> None:
        self.principal: Principal | None = None
        self.ip = "127.0.0.1"
        self.channels: set[str] = set()
        self.messages: list[dict[str, Any]] = []

    def send(self, frame: Frame) -> None:
        self.messages.append(orjson.loads(frame.payload))

    async def close(self, code: int, reason: str) -> None:
        return None


@pytest.fixture
async def hub_of(make_settings: Callable[..., Settings]) -> AsyncIterator[Callable[[int], Any]]:
    hubs: list[Hub] = []

    async def make(history: int) -> tuple[Hub, LossyBroker]:
        broker = LossyBroker(history)
        hub = Hub(broker, MemoryPresence(), make_settings(redis_url=None))
        await hub.start()
        hubs.append(hub)
        return hub, broker

    yield make
    for hub in hubs:
        await hub.stop()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def _publish(broker: LossyBroker, n: int) -> list[int]:
    return [(await broker.publish("article:h", EventType.comment_updated, {"i": i})).offset
            for i in range(n)]


async def test_a_gap_is_filled_from_history_in_order(hub_of: Any) -> None:
    hub, broker = await hub_of(100)
    conn = FakeConnection()
    hub.register(conn)
    start = await broker.recover("article:h", None)
    await hub.subscribe(conn, "article:h", None)
    broker.drop = {start.offset + 2}
    offsets = await _publish(broker, 4)
    await _settle()
    events = [m for m in conn.messages if m["op"] == "event"]
    assert [e["offset"] for e in events] == offsets
    await hub.unregister(conn)


async def test_an_unfillable_gap_tells_subscribers_to_resync(hub_of: Any) -> None:
    hub, broker = await hub_of(1)
    conn = FakeConnection()
    hub.register(conn)
    start = await broker.recover("article:h", None)
    await hub.subscribe(conn, "article:h", None)
    broker.drop = {start.offset + 1, start.offset + 2}
    offsets = await _publish(broker, 3)
    await _settle()
    ops = [(m["op"], m.get("offset"), m.get("code")) for m in conn.messages[1:]]
    assert ops == [("error", None, "resync"), ("event", offsets[2], None)]
    await hub.unregister(conn)


async def test_after_a_reconnect_every_channel_catches_up(hub_of: Any) -> None:
    hub, broker = await hub_of(100)
    conn = FakeConnection()
    hub.register(conn)
    await hub.subscribe(conn, "article:h", None)
    start = await broker.recover("article:h", None)
    broker.drop = {start.offset + 1, start.offset + 2}
    offsets = await _publish(broker, 2)
    assert [m["op"] for m in conn.messages if m["op"] != "presence"] == ["subscribed"]
    broker.resync()  # what the Redis broker does when pub/sub re-subscribes
    await _settle()
    assert [m["offset"] for m in conn.messages if m["op"] == "event"] == offsets
    await hub.unregister(conn)
    assert hub.stats() == {"connections": 0, "channels": 0}


async def test_a_watched_channel_reports_its_gaps(hub_of: Any) -> None:
    hub, broker = await hub_of(100)
    heard: list[int] = []
    gaps: list[str] = []
    await hub.watch("pages", lambda event: heard.append(event.offset),
                    on_gap=lambda: gaps.append("gap"))

    async def publish() -> int:
        return (await broker.publish("pages", EventType.pages_changed, {})).offset

    first = await publish()
    broker.drop = {first + 1}
    await publish()
    third = await publish()
    assert heard == [first, third] and gaps == ["gap"]
    broker.resync()  # pub/sub re-subscribed, or a cluster shard failed over
    assert gaps == ["gap", "gap"]


class SseRecorder(FakeConnection):
    """Keeps the Server-Sent Events blocks a stream would write, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[bytes] = []

    def send(self, frame: Frame) -> None:
        super().send(frame)
        self.blocks.append(frame.sse)


def _ids(blocks: list[bytes]) -> list[int]:
    return [int(line[4:]) for block in blocks for line in block.split(b"\n")
            if line.startswith(b"id: ")]


async def test_sse_ids_never_run_ahead_of_a_replay(hub_of: Any) -> None:
    hub, broker = await hub_of(100)
    start = (await broker.recover("article:h", None)).offset
    offsets = await _publish(broker, 3)
    conn = SseRecorder()
    hub.register(conn)
    await hub.subscribe(conn, "article:h", start)
    # Each id a stream carries is a resume point: it must be the last event fully sent, so
    # the ids seen in order are exactly the replayed offsets (the subscribed frame adds none).
    assert _ids(conn.blocks) == offsets
    fresh = SseRecorder()
    hub.register(fresh)
    await hub.subscribe(fresh, "article:h", None)
    assert _ids(fresh.blocks) == [offsets[-1]]  # nothing to replay: resume from now
    await hub.unregister(conn)
    await hub.unregister(fresh)


async def test_presence_right_after_subscribed_counts_the_newcomer(hub_of: Any) -> None:
    hub, _broker = await hub_of(100)
    first, second = FakeConnection(), FakeConnection()
    hub.register(first)
    hub.register(second)
    await hub.subscribe(first, "article:p", None)
    await hub.report_presence()  # the periodic report: one subscriber here
    assert [m["count"] for m in first.messages if m["op"] == "presence"] == [1]
    await hub.subscribe(second, "article:p", None)
    ops = [m["op"] for m in second.messages]
    assert ops == ["subscribed", "presence"]
    assert second.messages[1]["count"] == 2
    await hub.unregister(first)
    await hub.unregister(second)
