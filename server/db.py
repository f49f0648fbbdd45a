"""Database plumbing: the declarative base, portable column types, engine and migrations."""

from __future__ import annotations

import datetime as dt
import uuid
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from server.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY, so big ids become INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")

Sessionmaker = async_sessionmaker[AsyncSession]


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso_time(value: dt.datetime | None) -> str | None:
    """A stored time as the API shows it: ISO 8601 in UTC with ``Z`` (None stays None)."""
    return value.isoformat().replace("+00:00", "Z") if value else None


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    """The one engine of a process, configured for its backend."""
    if settings.embedded:
        engine = create_async_engine(settings.database_url, echo=settings.database_echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        settings.database_url,
        echo=settings.database_echo,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_overflow,
        # Optimistic disconnect handling: a connection lost to a database restart fails one
        # request with a 503 and is replaced; a ping before every checkout cost ~0.4 ms CPU.
        pool_recycle=1800,
        connect_args=pooler_connect_args(settings),
        execution_options={TRANSACTION_POOLED: settings.database_pooler == "pgbouncer"},
    )


def create_read_engine(settings: Settings) -> AsyncEngine | None:
    """The engine of ``BARAZA_DATABASE_READ_URL`` (a replica), or None without one."""
    if settings.database_read_url is None:
        return None
    return create_async_engine(
        settings.database_read_url,
        echo=settings.database_echo,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_overflow,
        pool_recycle=1800,
        connect_args=pooler_connect_args(settings),
        execution_options={TRANSACTION_POOLED: settings.database_pooler == "pgbouncer"},
    )


# An engine's execution option: its connections go through a transaction pooler (PgBouncer).
TRANSACTION_POOLED = "baraza_transaction_pooled"


def pooler_connect_args(settings: Settings) -> dict[str, Any]:
    """asyncpg's arguments for the configured pooler.

    Under PgBouncer's transaction pooling, consecutive transactions of one client connection
    run on different server connections, so a statement asyncpg prepared on one is unknown on
    the next, and two clients' auto-named statements collide on one. As SQLAlchemy's asyncpg
    dialect documents: no statement caches, and every prepared statement uniquely named.
    """
    if settings.database_pooler != "pgbouncer":
        return {}
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": _unique_statement_name,
    }


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


_AUTOCOMMIT: weakref.WeakKeyDictionary[Sessionmaker, Sessionmaker] = weakref.WeakKeyDictionary()


def autocommit(sessionmaker: Sessionmaker) -> Sessionmaker:
    """Sessions whose statements each commit on their own, on PostgreSQL (the same pool).

    For reads (a page is one to four SELECTs; statements may see different snapshots) and for
    writes one statement makes atomic: neither pays the BEGIN and ROLLBACK/COMMIT round trips
    SQLAlchemy otherwise wraps around them. Elsewhere (SQLite, and through PgBouncer, where
    asyncpg's prepare and execute outside a transaction may reach two server connections, so
    the statement it prepared is not found) ``sessionmaker`` itself."""
    found = _AUTOCOMMIT.get(sessionmaker)
    if found is not None:
        return found
    made = sessionmaker
    engine = sessionmaker.kw.get("bind")
    if (
        isinstance(engine, AsyncEngine)
        and engine.dialect.name == "postgresql"
        and not engine.get_execution_options().get(TRANSACTION_POOLED)
    ):
        made = async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
    _AUTOCOMMIT[sessionmaker] = made
    return made


def create_sessionmaker(engine: AsyncEngine) -> Sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Any:
    """An Alembic Config pointing at this project's migrations and the given database."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Run ``alembic upgrade`` (blocking; call from a thread inside an event loop)."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)
