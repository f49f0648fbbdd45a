"""Fixtures against the real services: a fresh PostgreSQL database built by ``alembic upgrade
head`` for the session, a private Redis key prefix, and cleanup after every test."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.auth import mint_token
from server.db import Sessionmaker, create_engine, create_sessionmaker, upgrade
from server.redis_client import AnyRedis, connect_redis
from server.settings import Settings

PG_DSN = os.environ.get("BARAZA_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BARAZA_TEST_REDIS", "redis://127.0.0.1:6379/0")
JWT_SECRET = "test-secret-0123456789abcdef-0123456789"
# scripts/engines starts a local Redis Cluster and PgBouncer and prints these two.
REDIS_CLUSTER_URL = os.environ.get("BARAZA_TEST_REDIS_CLUSTER")
PGBOUNCER_DSN = os.environ.get("BARAZA_TEST_PGBOUNCER")


@dataclass(frozen=True)
class RedisTarget:
    """The Redis the app under test talks to: the single node or the local Redis Cluster."""

    url: str
    cluster: bool

    def client(self) -> AnyRedis:
        client = connect_redis(Settings(redis_url=self.url, redis_cluster=self.cluster))
        if client is None:
            raise RuntimeError("no Redis URL")
        return client

    def env(self) -> dict[str, str]:
        return {"BARAZA_REDIS_URL": self.url, "BARAZA_REDIS_CLUSTER": str(self.cluster).lower()}


SINGLE = RedisTarget(REDIS_URL, cluster=False)
# ``pytest.mark.parametrize("redis_target", BOTH_REDIS, indirect=True)`` runs a test on both.
BOTH_REDIS = ["single", "cluster"]


@pytest.fixture(scope="session")
def redis_target(request: pytest.FixtureRequest) -> RedisTarget:
    """Single Redis unless a test is parametrised over ``BOTH_REDIS``."""
    if getattr(request, "param", "single") == "single":
        return SINGLE
    if not REDIS_CLUSTER_URL:
        pytest.skip("no Redis Cluster: run scripts/engines and set BARAZA_TEST_REDIS_CLUSTER")
    return RedisTarget(REDIS_CLUSTER_URL, cluster=True)

TABLES_TO_KEEP = {"alembic_version"}


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{PG_DSN}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database of this test session's own, migrated to head, dropped at the end."""
    name = f"baraza_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# ``pytest.mark.parametrize("database_target", BOTH_DATABASES, indirect=True)``: the app talks
# to Postgres directly, or through PgBouncer in transaction pooling (migrations stay direct).
BOTH_DATABASES = ["direct", "pgbouncer"]


@pytest.fixture(scope="session")
def database_target(request: pytest.FixtureRequest, database_url: str) -> dict[str, Any]:
    """Settings overrides naming the database the app under test uses."""
    if getattr(request, "param", "direct") == "direct":
        return {"database_url": database_url}
    if not PGBOUNCER_DSN:
        pytest.skip("no PgBouncer: run scripts/engines and set BARAZA_TEST_PGBOUNCER")
    name = database_url.rsplit("/", 1)[1]
    return {
        "database_url": f"postgresql+asyncpg://{PGBOUNCER_DSN.split('://', 1)[1]}/{name}",
        "database_pooler": "pgbouncer",
        "database_direct_url": database_url,
    }


@pytest.fixture(scope="session")
def redis_prefix() -> str:
    return f"test:{uuid.uuid4().hex[:10]}:"


@pytest.fixture
def make_settings(
    database_target: dict[str, Any], redis_prefix: str, redis_target: RedisTarget
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            **database_target,
            "redis_url": redis_target.url,
            "redis_cluster": redis_target.cluster,
            "redis_prefix": redis_prefix,
            "jwt_secret": JWT_SECRET,
            "database_pool_size": 5,
            "rate_limit_enabled": False,
            "embedded_worker": False,
            # Factories write behind the app's back; tests of the page cache turn it on.
            "thread_cache_seconds": 0,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[Sessionmaker]:
    engine = create_engine(settings)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def redis_client(redis_target: RedisTarget) -> AsyncIterator[AnyRedis]:
    client = redis_target.client()
    yield client
    await client.aclose()


@pytest.fixture(autouse=True)
async def _clean_state(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Leave nothing behind: empty every table and delete this session's Redis keys."""
    yield
    if "database_url" in request.fixturenames:
        url: str = request.getfixturevalue("database_url")
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            tables = [
                r["tablename"]
                for r in await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname='public'"
                )
                if r["tablename"] not in TABLES_TO_KEEP
            ]
            if tables:
                names = ", ".join(f'"{t}"' for t in tables)
                await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        finally:
            await conn.close()
    if "redis_prefix" in request.fixturenames:
        prefix: str = request.getfixturevalue("redis_prefix")
        target: RedisTarget = (
            request.getfixturevalue("redis_target")
            if "redis_target" in request.fixturenames else SINGLE
        )
        client = target.client()
        try:
            keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


@pytest.fixture
def token(settings: Settings) -> Callable[..., str]:
    """``token("u1", roles=["moderator"])`` → a signed bearer token."""

    def make(
        sub: str = "reader-1",
        *,
        name: str | None = None,
        roles: list[str] | None = None,
        ttl: int = 3600,
    ) -> str:
        return mint_token(settings, sub=sub, name=name or sub.title(), roles=roles, ttl_seconds=ttl)

    return make


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def make_client(aiohttp_client: Callable[..., Any], settings: Settings) -> Callable[..., Any]:
    """``await make_client(**settings_overrides)`` → a test client of a fresh app."""

    async def make(
        app_settings: Settings | None = None,
    ) -> TestClient[web.Request, web.Application]:
        client: TestClient[web.Request, web.Application] = await aiohttp_client(
            create_app(app_settings or settings)
        )
        return client

    return make


@pytest.fixture
async def client(make_client: Callable[..., Any]) -> TestClient[web.Request, web.Application]:
    result: TestClient[web.Request, web.Application] = await make_client()
    return result
