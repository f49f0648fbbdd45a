"""A batch of events published in one round trip: the same offsets, history and order as one
``publish`` after another."""

from __future__ import annotations

import pytest

from server.live.base import EventType
from server.live.coalesce import CoalescingChannels
from server.live.memory import MemoryChannelBroker
from server.live.redis import RedisChannelBroker

pytestmark = pytest.mark.timeout(20)


async def test_redis_batch_takes_consecutive_offsets_per_channel_in_order(
    broker: RedisChannelBroker,
) -> None:
    first = await broker.publish("article:a", EventType.comment_published, {"id": 0})
    events = await broker.publish_many(
        [
            ("article:a", EventType.comment_published, {"id": 1}),
            ("article:b", EventType.comment_removed, {"id": 2, "reason": "moderated"}),
            ("article:a", EventType.comment_published, {"id": 3}),
        ]
    )
    offsets = [e.offset for e in events if e is not None]
    assert len(offsets) == 3
    assert offsets[0] == first.offset + 1 and offsets[2] == first.offset + 2
    recovery = await broker.recover("article:a", first.offset)
    assert recovery.recovered
    assert [(e.offset, e.data["id"]) for e in recovery.events] == [
        (offsets[0], 1),
        (offsets[2], 3),
    ]
    assert await broker.publish_many([]) == []


async def test_coalescing_keeps_the_order_around_coalesced_events() -> None:
    broker = MemoryChannelBroker()
    channels = CoalescingChannels(broker)
    seen = []
    broker_publish = broker.publish

    async def spy(channel, type, data):  # type: ignore[no-untyped-def]
        seen.append((type, data["id"]))
        return await broker_publish(channel, type, data)

    broker.publish = spy  # type: ignore[method-assign]
    reactions = {"id": 1, "reactions": {"like": 1}, "reaction_count": 1}
    await channels.publish_many(
        [
            ("article:a", EventType.comment_published, {"id": 1}),
            ("article:a", EventType.comment_reactions, reactions),
            ("article:a", EventType.comment_reactions, reactions | {"reaction_count": 2}),
            ("article:a", EventType.comment_removed, {"id": 2, "reason": "moderated"}),
        ]
    )
    # The second reactions event falls in the first one's interval: coalesced, sent later.
    assert seen == [
        (EventType.comment_published, 1),
        (EventType.comment_reactions, 1),
        (EventType.comment_removed, 2),
    ]
    await channels.aclose()
    assert seen[-1] == (EventType.comment_reactions, 1)
    assert len(seen) == 4
