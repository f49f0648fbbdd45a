"""The spam counters: near-duplicates across articles and accounts, bursts, windows."""

from __future__ import annotations

import pytest

from server.moderation.policy.signals import SpamConfig
from workers.spam import (
    MemorySpamTracker,
    RedisSpamTracker,
    SpamItem,
    SpamTracker,
    distance,
    simhash,
)

CAMPAIGN = "Make KSH 5000 per day from home, visit www.easy-cash-kenya.com now"
VARIANT = "MAKE ksh 5000 per day from home!!! Visit www.easy-cash-kenya.com now :)"
OTHER = "The attack in Mandera killed twelve people, police said on Sunday evening."


def test_simhash_sees_through_case_punctuation_and_disguise() -> None:
    a, b, c = simhash(CAMPAIGN), simhash(VARIANT), simhash(OTHER)
    assert a is not None and b is not None and c is not None
    assert distance(a, b) <= 3 < distance(a, c)
    assert simhash("Well said, thank you!") is None  # too short to count


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def tracker_and_clock(request, redis_client, redis_prefix):
    clock = Clock()
    if request.param == "memory":
        return MemorySpamTracker(clock=clock), clock
    return RedisSpamTracker(redis_client, redis_prefix, clock=clock), clock


async def test_copies_elsewhere_count_not_the_same_author_on_one_article(tracker_and_clock):
    tracker: SpamTracker
    tracker, clock = tracker_and_clock
    config = SpamConfig()
    first = await tracker.observe(SpamItem(1, "u1", "a1", CAMPAIGN), config)
    assert first.duplicates == 0
    # The same author again under the same story: not a campaign.
    assert (await tracker.observe(SpamItem(2, "u1", "a1", CAMPAIGN), config)).duplicates == 0
    # Another account, another article: both earlier copies count.
    third = await tracker.observe(SpamItem(3, "u2", "a2", VARIANT), config)
    assert third.duplicates == 2
    # Redelivered job: not counted twice, and it does not count itself.
    again = await tracker.observe(SpamItem(3, "u2", "a2", VARIANT), config)
    assert again.duplicates == 2
    assert (await tracker.observe(SpamItem(4, "u3", "a3", OTHER), config)).duplicates == 0
    clock.now += config.duplicate_window_seconds + 1
    assert (await tracker.observe(SpamItem(5, "u4", "a4", CAMPAIGN), config)).duplicates == 0


async def test_bursts_per_author_and_address_within_the_window(tracker_and_clock):
    tracker, clock = tracker_and_clock
    config = SpamConfig(burst_window_seconds=60)
    counts = []
    for comment_id in range(1, 5):
        clock.now += 10
        item = SpamItem(comment_id, "u1", f"a{comment_id}", "hi", ip_hash="ip1")
        counts.append(await tracker.observe(item, config))
    assert [c.author_recent for c in counts] == [1, 2, 3, 4]
    assert [c.ip_recent for c in counts] == [1, 2, 3, 4]
    other = await tracker.observe(SpamItem(9, "u2", "a9", "hi", ip_hash="ip1"), config)
    assert other.author_recent == 1 and other.ip_recent == 5
    clock.now += 61
    later = await tracker.observe(SpamItem(10, "u1", "a10", "hi"), config)
    assert later.author_recent == 1 and later.ip_recent == 0
