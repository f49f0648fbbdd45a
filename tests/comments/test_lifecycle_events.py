"""Events of a comment's life reach every process after commit: page caches and consoles."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.live.base import PAGES_CHANNEL, Event
from server.typedefs import HUB
from tests.conftest import BOTH_REDIS, auth
from tests.factories import make_comment
from tests.live.conftest import LiveClient

pytestmark = [
    pytest.mark.timeout(30),
    # Published after commit through the live broker: PUBLISH, or SPUBLISH on a Redis Cluster.
    pytest.mark.parametrize("redis_target", BOTH_REDIS, indirect=True),
]

THREAD = "/api/v1/articles/story-9/comments"


async def _ids(client: Any) -> list[int]:
    r = await client.get(THREAD)
    assert r.status == 200
    return [item["id"] for item in (await r.json())["items"]]


async def test_a_reject_on_one_process_drops_cached_pages_on_every_process(
    make_client, make_settings, token, sessionmaker
):
    # Two app instances sharing the database and Redis stand for two server processes; their
    # page caches keep anonymous pages a minute, so only an event can refresh them in time.
    settings = make_settings(thread_cache_seconds=60)
    a, b = await make_client(settings), await make_client(settings)
    heard = asyncio.Event()

    def on_pages(event: Event) -> None:
        if "story-9" in event.data["article_ids"]:
            heard.set()

    await b.app[HUB].watch(PAGES_CHANNEL, on_pages)
    cid = await make_comment(sessionmaker, article_id="story-9")
    assert await _ids(a) == [cid] and await _ids(b) == [cid]  # both cached now
    r = await a.post(
        "/api/v1/moderation/decisions",
        json={"comment_ids": [cid], "action": "reject", "reason": "spam"},
        headers=auth(token("mod", roles=["moderator"])),
    )
    assert r.status == 200 and (await r.json())["applied"] == 1
    assert await _ids(a) == []  # the deciding process at once
    await asyncio.wait_for(heard.wait(), 10)
    assert await _ids(b) == []  # the other one as soon as the event reached it


async def _until(live: LiveClient, wanted: set[str]) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    while not wanted <= seen.keys():
        message = await live.recv(timeout=10)
        if message["op"] == "event":
            seen.setdefault(message["type"], message["data"])
    return seen


async def test_a_hold_by_reports_is_queued_and_counted_for_moderators(
    client, token, sessionmaker
):
    cid = await make_comment(sessionmaker, article_id="story-9", author="amina")
    live = LiveClient(
        await client.ws_connect(f"/api/v1/live?token={token('mod', roles=['moderator'])}")
    )
    await live.subscribe("moderation")
    for i in range(3):  # the policy's default report_hold_count
        r = await client.post(
            f"/api/v1/comments/{cid}/reports", json={"reason": "spam"}, headers=auth(token(f"r{i}"))
        )
        assert r.status == 201
    seen = await _until(live, {"comment.queued", "comment.decided", "queue.counts"})
    assert seen["comment.queued"]["id"] == cid and seen["comment.queued"]["status"] == "held"
    assert seen["comment.decided"]["comment_ids"] == [cid]
    assert seen["comment.decided"]["status"] == "held"
    # The reports counted before the hold may come first (coalesced): wait for the held one.
    counts = seen["queue.counts"]
    while counts.get("held") != 1:
        message = await live.recv(timeout=10)
        if message["op"] == "event" and message["type"] == "queue.counts":
            counts = message["data"]
    assert counts["held"] == 1
    await live.ws.close()
