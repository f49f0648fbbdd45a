"""The in-process broker gives the Redis broker's semantics; coalescing; producers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from server.live import producers
from server.live.base import MODERATION_CHANNEL, Event, EventType, check_recovery
from server.live.coalesce import CoalescingChannels
from server.live.memory import MemoryChannelBroker
from server.settings import Settings
from server.typedefs import CHANNELS, HUB
from tests.clock import ManualClock
from tests.live.conftest import LiveClient

pytestmark = [pytest.mark.embedded, pytest.mark.timeout(30)]


@pytest.fixture
def embedded(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(redis_url=None, live_history_size=5, presence_interval_seconds=0.1)


async def test_memory_broker_replays_and_refuses_what_it_no_longer_holds(
    make_client: Callable[..., Any], embedded: Settings
) -> None:
    client = await make_client(embedded)
    channels = client.app[CHANNELS]
    live = LiveClient(await client.ws_connect("/api/v1/live"))
    start = (await live.subscribe("article:e1"))["offset"]
    first = await channels.publish("article:e1", EventType.comment_published, {"id": 1})
    assert first is not None and first.offset == start + 1
    assert (await live.events(1))[0]["data"] == {"id": 1}
    await live.ws.close()

    for i in range(2, 5):
        await channels.publish("article:e1", EventType.comment_published, {"id": i})
    again = LiveClient(await client.ws_connect("/live"))
    reply = await again.subscribe("article:e1", since=first.offset)
    assert reply["recovered"] is True
    assert [e["data"]["id"] for e in await again.events(3)] == [2, 3, 4]

    for i in range(5, 12):  # history holds 5: offset first+1 is gone now
        await channels.publish("article:e1", EventType.comment_published, {"id": i})
    assert [e["data"]["id"] for e in await again.events(7)] == list(range(5, 12))
    await again.send(op="unsubscribe", channel="article:e1")
    assert (await again.recv())["op"] == "unsubscribed"
    reply = await again.subscribe("article:e1", since=first.offset)
    assert reply["recovered"] is False
    await again.nothing(0.2)
    await again.ws.close()


async def test_a_restarted_embedded_process_never_recovers_an_old_offset() -> None:
    before = MemoryChannelBroker(history_size=10)
    old = await before.publish("article:r", EventType.comment_published, {"id": 1})
    await asyncio.sleep(0.001)
    after = MemoryChannelBroker(history_size=10)  # a new process: empty memory
    recovery = await after.recover("article:r", old.offset)
    assert recovery.recovered is False
    assert recovery.offset > old.offset
    assert (await after.publish("article:r", EventType.comment_published, {})).offset > old.offset


async def test_presence_in_one_process(make_client: Callable[..., Any], embedded: Settings) -> None:
    client = await make_client(embedded)
    sockets = [LiveClient(await client.ws_connect("/api/v1/live")) for _ in range(2)]
    for live in sockets:
        await live.subscribe("article:p")
    await client.app[HUB].report_presence()
    for live in sockets:
        with pytest.raises(TimeoutError):
            await live.recv(timeout=0.3)
        assert live.presence[-1] == {"op": "presence", "channel": "article:p", "count": 2}
    for live in sockets:
        await live.ws.close()


def _event(offset: int) -> Event:
    return Event(channel="c", offset=offset, type=EventType.comment_updated, data={}, time=0.0)


def test_check_recovery_accepts_only_a_complete_contiguous_history() -> None:
    events = [_event(o) for o in (11, 12, 13)]
    assert check_recovery(10, 13, events).recovered is True
    assert check_recovery(13, 13, []).recovered is True
    assert check_recovery(9, 13, events).recovered is False  # 10 was trimmed
    assert check_recovery(10, 13, events[:2]).recovered is False
    assert check_recovery(10, 13, [events[0], events[2], _event(14)]).recovered is False
    assert check_recovery(20, 13, []).recovered is False  # from the future
    assert check_recovery(None, 13, []).recovered is False


class _Recorder:
    def __init__(self) -> None:
        self.broker = MemoryChannelBroker()
        self.sent: list[Event] = []

    async def publish(self, channel: str, type: EventType, data: Any) -> Event:
        event = await self.broker.publish(channel, type, data)
        self.sent.append(event)
        return event


async def test_reaction_bursts_are_coalesced_and_the_last_state_wins() -> None:
    recorder = _Recorder()
    clock = ManualClock()
    channels = CoalescingChannels(recorder, {EventType.comment_reactions: 0.1}, clock=clock)
    for n in range(1, 21):
        await producers.comment_reactions(channels, article_id="a", comment_id=7,
                                          reactions={"like": n})
    await producers.comment_reactions(channels, article_id="a", comment_id=8,
                                      reactions={"sad": 1})
    await producers.comment_published(channels, {"id": 9, "article_id": "a", "mine": True})
    assert len(recorder.sent) == 3  # the first of each burst, and the unrelated event
    await clock.advance(0.05)
    assert len(recorder.sent) == 3  # still within the interval
    await clock.advance(0.1)
    counts = [e.data["reaction_count"] for e in recorder.sent if e.data["id"] == 7]
    assert counts == [1, 20]
    published = [e for e in recorder.sent if e.type is EventType.comment_published]
    assert published[0].data == {"id": 9, "article_id": "a"}  # per-viewer fields dropped
    await channels.aclose()


async def test_close_flushes_a_pending_coalesced_state() -> None:
    recorder = _Recorder()
    channels = CoalescingChannels(recorder, {EventType.queue_counts: 60})
    await producers.queue_counts(channels, {"held": 1})
    assert await producers.queue_counts(channels, {"held": 2}) is None
    await channels.aclose()
    assert [e.data for e in recorder.sent] == [{"held": 1}, {"held": 2}]
    assert {e.channel for e in recorder.sent} == {MODERATION_CHANNEL}


async def test_producers_never_raise_when_the_broker_is_down() -> None:
    class Down:
        async def publish(self, channel: str, type: EventType, data: Any) -> Event:
            raise ConnectionError("redis is down")

    result = await producers.comment_decided(
        Down(), comment_ids=[1, 2], action="approve", status="approved", actor="mod-1"
    )
    assert result is None


async def test_connection_and_subscription_limits(
    make_client: Callable[..., Any], make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(redis_url=None, live_max_connections_per_ip=2,
                             live_max_subscriptions=2)
    client = await make_client(settings)
    first = LiveClient(await client.ws_connect("/api/v1/live"))
    second = LiveClient(await client.ws_connect("/api/v1/live"))
    refused = await client.get("/api/v1/live", headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert refused.status == 429
    assert (await refused.json())["error"]["code"] == "live_ip_limit"
    await first.subscribe("article:l1")
    await first.subscribe("article:l2")
    await first.send(op="subscribe", channel="article:l3")
    assert (await first.recv())["code"] == "too_many_subscriptions"
    await second.ws.close()
    third = LiveClient(await client.ws_connect("/api/v1/live"))
    await third.subscribe("article:l1")
    await first.ws.close()
    await third.ws.close()


async def test_heartbeat_drops_a_peer_that_never_answers_pings(
    make_client: Callable[..., Any], make_settings: Callable[..., Settings]
) -> None:
    client = await make_client(make_settings(redis_url=None, live_heartbeat_seconds=1))
    alive = LiveClient(await client.ws_connect("/api/v1/live"))  # autoping answers
    await alive.subscribe("article:hb")
    dead = await client.ws_connect("/api/v1/live", autoping=False)
    await dead.send_str('{"op": "subscribe", "channel": "article:hb"}')
    kinds = []

    async def until_dropped() -> None:
        while True:
            message = await dead.receive(timeout=5)
            kinds.append(message.type)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.CLOSING,
                                aiohttp.WSMsgType.ERROR):
                return

    async def keep_reading() -> None:
        # aiohttp's client answers pings inside receive(); a ping also restarts its timeout,
        # so read in slices shorter than the heartbeat.
        for _ in range(6):
            with contextlib.suppress(TimeoutError):
                await alive.recv(timeout=0.5)

    await asyncio.gather(until_dropped(), keep_reading())
    assert aiohttp.WSMsgType.PING in kinds
    await alive.send(op="ping")
    assert (await alive.recv()) == {"op": "pong"}
    assert client.app[HUB].stats()["connections"] == 1
    await alive.ws.close()


async def test_a_plain_get_of_the_websocket_route_is_a_json_400(
    make_client: Callable[..., Any], embedded: Settings
) -> None:
    client = await make_client(embedded)
    r = await client.get("/api/v1/live")
    assert r.status == 400
    assert (await r.json())["error"]["code"] == "websocket_required"
