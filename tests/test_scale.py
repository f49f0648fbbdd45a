"""Scale-out settings: migrations on the direct database, pooler arguments, settings checks."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from server.db import pooler_connect_args
from server.live.base import EventType
from server.live.redis import RedisChannelBroker
from server.redis_client import connect_redis
from server.settings import Settings, SettingsError, load_settings
from tests.conftest import BOTH_REDIS, JWT_SECRET, PG_DSN, RedisTarget, _admin

ROOT = Path(__file__).resolve().parents[1]
DIRECT = "postgresql+asyncpg://postgres@127.0.0.1:5432/x"


def test_migrations_run_on_the_direct_url_when_one_is_set() -> None:
    pooled = "postgresql+asyncpg://postgres@127.0.0.1:6432/x"
    settings = Settings(database_url=pooled, database_direct_url=DIRECT, jwt_secret=JWT_SECRET)
    assert settings.migration_url == DIRECT
    assert Settings(database_url=pooled, jwt_secret=JWT_SECRET).migration_url == pooled


def test_pgbouncer_turns_statement_caches_off_and_names_statements_uniquely() -> None:
    settings = Settings(database_url=DIRECT, database_pooler="pgbouncer", jwt_secret=JWT_SECRET)
    args = pooler_connect_args(settings)
    assert args["statement_cache_size"] == 0
    assert args["prepared_statement_cache_size"] == 0
    names = {args["prepared_statement_name_func"]() for _ in range(1000)}
    assert len(names) == 1000
    assert pooler_connect_args(Settings(database_url=DIRECT, jwt_secret=JWT_SECRET)) == {}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"redis_cluster": True}, "BARAZA_REDIS_CLUSTER needs BARAZA_REDIS_URL"),
        ({"database_read_url": "sqlite+aiosqlite:///r.db"}, "must start with postgresql"),
        ({"database_pooler": "odyssey"}, "BARAZA_DATABASE_POOLER"),
    ],
)
def test_scale_settings_are_checked(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(database_url=DIRECT, jwt_secret=JWT_SECRET, **overrides)


async def test_migrate_command_uses_the_direct_database() -> None:
    """``baraza migrate`` with the pooled URL unreachable still migrates: it went direct."""
    name = f"baraza_direct_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        host = PG_DSN.split("://", 1)[1]
        env = {
            **os.environ,
            # Nothing listens on port 1: a migration through this URL would fail.
            "BARAZA_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:1/{name}",
            "BARAZA_DATABASE_POOLER": "pgbouncer",
            "BARAZA_DATABASE_DIRECT_URL": f"postgresql+asyncpg://{host}/{name}",
            "BARAZA_JWT_SECRET": JWT_SECRET,
        }
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "server.cli", "migrate"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        conn = await asyncpg.connect(f"{PG_DSN}/{name}")
        try:
            assert await conn.fetchval("SELECT version_num FROM alembic_version")
        finally:
            await conn.close()
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _reader_connections(database_url: str, role: str) -> int:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE usename = $1 AND datname = current_database()",
            role,
        ))
    finally:
        await conn.close()


async def test_anonymous_reads_and_counts_go_to_the_read_url_writes_and_own_view_do_not(
    make_client, make_settings, database_url, token
) -> None:
    """The "replica" is the same database under a SELECT-only role (a second URL, same data):
    a write routed to it would fail, and its connections show who used it."""
    role = f"baraza_reader_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    await admin.execute(f'CREATE ROLE "{role}" LOGIN')
    await admin.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    host = PG_DSN.split("://", 1)[1].split("@", 1)[1]
    read_url = f"postgresql+asyncpg://{role}@{host}/{database_url.rsplit('/', 1)[1]}"
    client = await make_client(make_settings(database_read_url=read_url))
    try:
        url = "/api/v1/articles/routed/comments"
        author = {"Authorization": f"Bearer {token('author-1')}"}
        posted = await client.post(url, json={"body": "Awaiting review."}, headers=author)
        assert posted.status == 202
        mine = await (await client.get(url, headers=author)).json()
        assert [c["id"] for c in mine["awaiting_review"]] == [(await posted.json())["id"]]
        assert await _reader_connections(database_url, role) == 0

        anonymous = await (await client.get(url)).json()
        assert anonymous["items"] == []
        counts = await (await client.get("/api/v1/articles/counts?ids=routed")).json()
        assert counts["counts"] == {"routed": 0}
        assert await _reader_connections(database_url, role) >= 1
    finally:
        await client.close()
        await admin.execute(f'DROP OWNED BY "{role}"')
        await admin.execute(f'DROP ROLE "{role}"')
        await admin.close()


@pytest.mark.parametrize("redis_target", BOTH_REDIS, indirect=True)
async def test_a_burst_of_concurrent_history_reads_gets_connections(
    redis_target: RedisTarget, redis_prefix: str
) -> None:
    """redis-py 8 fails the 101st concurrent command of a default pool; readers reconnecting
    together after a deploy issue far more history reads than that at once."""
    settings = Settings(redis_url=redis_target.url, redis_cluster=redis_target.cluster)
    client = connect_redis(settings)
    assert client is not None
    broker = RedisChannelBroker(client, redis_prefix)
    try:
        await broker.publish("article:burst", EventType.comment_published, {"id": 1})
        recoveries = await asyncio.gather(
            *(broker.recover("article:burst", None) for _ in range(400)))
        assert {r.offset for r in recoveries} == {recoveries[0].offset}
    finally:
        await client.aclose()


@pytest.mark.parametrize("redis_target", BOTH_REDIS, indirect=True)
async def test_readiness_names_the_redis_backend(client, redis_target: RedisTarget) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    body = await response.json()
    assert body["checks"]["redis"]["backend"] == (
        "redis-cluster" if redis_target.cluster else "redis")


@pytest.mark.parametrize("redis_target", BOTH_REDIS, indirect=True)
async def test_rate_limits_hold_on_either_redis(
    make_client, make_settings, token, redis_target: RedisTarget
) -> None:
    client = await make_client(
        make_settings(rate_limit_enabled=True, rate_limit_comments_user="2/minute"))
    headers = {"Authorization": f"Bearer {token('chatty')}"}
    url = "/api/v1/articles/limited/comments"
    statuses = [(await client.post(url, json={"body": f"n{i}"}, headers=headers)).status
                for i in range(3)]
    assert statuses == [202, 202, 429]
