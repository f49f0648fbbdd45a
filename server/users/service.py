from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import Principal
from server.db import UTCDateTime
from server.errors import Forbidden
from server.users.models import User, UserStatus

# Text, because dialect-specific INSERTs are not in SQLAlchemy's compiled cache and this runs on
# every write; the ON CONFLICT … RETURNING spelling is the same on PostgreSQL and SQLite.
_UPSERT_USER = (
    text(
        "INSERT INTO users (id, name, status, approved_count, rejected_count, reported_count,"
        " created_at, last_seen_at) VALUES (:id, :name, 'active', 0, 0, 0, :now, :now)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, last_seen_at = excluded.last_seen_at"
        " RETURNING id, name, status, suspended_until, status_reason, approved_count,"
        " rejected_count, reported_count, created_at, last_seen_at"
    )
    .bindparams(bindparam("now", type_=UTCDateTime()))
    .columns(*User.__table__.columns)
)


async def ensure_user(session: AsyncSession, principal: Principal, now: dt.datetime) -> User:
    """Upsert the caller on sight (the host site owns names) and return the stored user."""
    stmt = select(User).from_statement(_UPSERT_USER).execution_options(populate_existing=True)
    result = await session.execute(stmt, {"id": principal.sub, "name": principal.name, "now": now})
    user: User = result.scalar_one()
    return user


def check_may_write(user: User, now: dt.datetime) -> None:
    """Refuse banned and suspended users with a reason code the widget can show."""
    status = user.effective_status(now)
    if status is UserStatus.banned:
        raise Forbidden("this account is banned from commenting", code="user_banned")
    if status is UserStatus.suspended:
        until = user.suspended_until.isoformat() if user.suspended_until else "further notice"
        raise Forbidden(
            f"this account is suspended until {until}",
            code="user_suspended",
            details={"until": user.suspended_until.isoformat() if user.suspended_until else None},
        )
