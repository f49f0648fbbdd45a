"""A Redis Cluster master dies under load: its replica is promoted, servers and workers carry on,
no accepted comment is lost, and live clients either recover or are told to refetch."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.exceptions
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from server.db import Sessionmaker
from server.live.base import EventType
from server.live.redis import RedisChannelBroker
from server.live.runtime import publisher
from server.settings import Settings
from tests.conftest import BOTH_REDIS, RedisTarget, auth
from tests.live.conftest import LiveClient, server_pair
from tests.workers.pipeline_support import all_decided, eventually, make_service, statuses

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(120),
    # Only the cluster case runs: the single node has no replica to promote.
    pytest.mark.parametrize("redis_target", BOTH_REDIS[1:], indirect=True),
]


async def _owner(cluster: RedisCluster, key: str) -> tuple[str, int]:
    """(host, port) of the master serving ``key``'s slot, asked of the cluster itself."""
    for slot_range in (await cluster.cluster_slots()).items():
        (low, high), info = slot_range
        if low <= key_slot(key.encode()) <= high:
            host, port = info["primary"]
            return _text(host), int(port)
    raise AssertionError(f"no master serves {key}")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _article_on(
    slot_owner: tuple[str, int], slots: dict[Any, Any], prefix: str, stem: str = "fo"
) -> str:
    """An article id whose live channel lives on the given master."""
    for n in range(10_000):
        key = f"{prefix}live:{{article:{stem}-{n}}}:seq"
        slot = key_slot(key.encode())
        for (low, high), info in slots.items():
            if low <= slot <= high and (_text(info["primary"][0]), int(info["primary"][1])) \
                    == slot_owner:
                return f"{stem}-{n}"
    raise AssertionError("no article id hashes to that master")


async def _cluster_ok(port: int) -> bool:
    client = Redis(host="127.0.0.1", port=port)
    try:
        info = _text(await client.execute_command("CLUSTER", "INFO"))
        return "cluster_state:ok" in info
    except Exception:
        return False
    finally:
        await client.aclose()


async def _post_all(base: str, article: str, bodies: list[str], token: Callable[..., str]
                    ) -> list[int]:
    # One author per comment: what a POST during a decision on its author does is tested in
    # tests/comments/test_post_locks.py; this test is about the failover.
    ids = []
    async with aiohttp.ClientSession() as http:
        for n, body in enumerate(bodies):
            response = await http.post(f"{base}/api/v1/articles/{article}/comments",
                                       json={"body": body}, headers=auth(token(f"{body}-{n}")))
            assert response.status == 202, await response.text()
            ids.append((await response.json())["id"])
    return ids


def _bodies(count: int) -> list[str]:
    """Texts the spam rules do not hold: no two near-duplicates, and 19 posts in all from the
    test's one address stay under the IP burst count (20)."""
    return [" ".join(secrets.token_hex(3) for _ in range(8)) for _ in range(count)]


async def _published_ids(client: LiveClient, until: set[int]) -> tuple[set[int], bool]:
    """Read events until every id in ``until`` was published, or a ``resync`` came."""
    seen: set[int] = set()
    while not until <= seen:
        message = await client.recv(timeout=30)
        if message["op"] == "error" and message["code"] == "resync":
            return seen, True
        if message["op"] == "event" and message["type"] == "comment.published":
            seen.add(message["data"]["id"])
    return seen, False


async def test_master_failover_loses_no_comment_and_live_clients_recover_or_refetch(
    make_settings: Callable[..., Settings], sessionmaker: Sessionmaker,
    database_url: str, redis_prefix: str, redis_target: RedisTarget,
    token: Callable[..., str], connect: Callable[..., Any],
) -> None:
    settings = make_settings(sweeper_interval_seconds=0.5, sweeper_pending_after_seconds=1.0,
                             worker_claim_idle_ms=1000, sweeper_lost_check_seconds=0.5)
    cluster = redis_target.client()
    assert isinstance(cluster, RedisCluster)
    jobs_key = f"{redis_prefix}jobs:score"
    victim = await _owner(cluster, jobs_key)
    article = _article_on(victim, await cluster.cluster_slots(), redis_prefix)
    # A channel on the same master that nobody is subscribed to when it fails.
    quiet = "article:" + _article_on(victim, await cluster.cluster_slots(), redis_prefix, "quiet")
    broker = RedisChannelBroker(cluster, redis_prefix)
    quiet_offset = [(await broker.publish(quiet, EventType.comment_updated, {"n": n})).offset
                    for n in range(3)][-1]
    channels = publisher(RedisChannelBroker(cluster, redis_prefix))
    service = make_service(settings, sessionmaker, cluster, channels=channels)
    service.start()
    try:
        with server_pair(database_url, redis_prefix, redis_target) as (a, b):
            live = await connect(a.url("/api/v1/live"))
            start = (await live.subscribe(f"article:{article}"))["offset"]
            before = await _post_all(b.base, article, _bodies(10), token)
            seen, resync = await _published_ids(live, set(before))
            assert seen == set(before) and not resync

            # The master of the jobs stream and of the article's channel dies.
            victim_client = Redis(host=victim[0], port=victim[1])
            with contextlib.suppress(redis.exceptions.ConnectionError):
                await victim_client.shutdown(nosave=True)
            with pytest.raises(redis.exceptions.ConnectionError):
                await victim_client.ping()
            await victim_client.aclose()
            others = [p for p in range(7000, 7006) if p != victim[1]]
            await eventually(lambda: _cluster_ok(others[0]), timeout=30)

            during = await _post_all(b.base, article, _bodies(9), token)
            everything = before + during
            await eventually(lambda: all_decided(sessionmaker, everything), timeout=60)
            assert set((await statuses(sessionmaker, everything)).values()) == {"approved"}

            # The live client either got every new comment or was told to refetch.
            seen, resync = await _published_ids(live, set(during))
            if resync:
                async with aiohttp.ClientSession() as http:
                    page = await (await http.get(
                        a.url(f"/api/v1/articles/{article}/comments?limit=100"))).json()
                refetched = {c["id"] for c in page["items"]}
                assert set(everything) <= refetched
            else:
                assert set(during) <= seen
            # The quiet channel was fenced too: its old offsets can never be replayed against
            # events the new master hands out under the same numbers.
            async def quiet_fenced() -> bool:
                return not (await broker.recover(quiet, quiet_offset)).recovered

            await eventually(quiet_fenced, timeout=30)
            stale = await connect(a.url("/api/v1/live"))
            assert (await stale.subscribe(quiet, since=quiet_offset))["recovered"] is False
            # An offset from before the failover never yields a partial replay.
            again = await connect(b.url("/api/v1/live"))
            reply = await again.subscribe(f"article:{article}", since=start)
            if reply["recovered"]:
                replay = await again.events(reply["offset"] - start)
                assert [e["offset"] for e in replay] == list(range(start + 1, reply["offset"] + 1))
    finally:
        await service.stop(5)
        await channels.aclose()
        await cluster.aclose()
        # Bring the stopped node back; it rejoins as a replica of the promoted one.
        await asyncio.to_thread(subprocess.run, [str(ROOT / "scripts" / "engines")],
                                check=True, capture_output=True)
