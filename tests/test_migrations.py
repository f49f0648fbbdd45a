"""Migrations are the schema: upgrade, downgrade and upgrade again on both backends, and the
models agree with what the migrations build."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from server.db import downgrade, upgrade
from server.models import metadata
from tests.conftest import PG_DSN, _admin


def _diff(sync_url: str) -> list[object]:
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))
    finally:
        engine.dispose()


def test_sqlite_round_trip(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/m.db"
    upgrade(url)
    downgrade(url, "base")
    upgrade(url)
    assert _diff(f"sqlite:///{tmp_path}/m.db") == []


@pytest.fixture
def scratch_pg():
    name = f"baraza_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_DSN.split('://', 1)[1]}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_postgres_round_trip(scratch_pg):
    url = f"postgresql+asyncpg://{scratch_pg}"
    upgrade(url)
    downgrade(url, "base")
    upgrade(url)


def test_models_match_migrations(database_url):
    pytest.importorskip("psycopg2", reason="a sync driver is needed for the comparison")
    assert _diff(database_url.replace("+asyncpg", "+psycopg2")) == []
