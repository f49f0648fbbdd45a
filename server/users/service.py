from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import Principal
from server.dialect import insert_for
from server.errors import Forbidden
from server.users.models import User, UserStatus


async def ensure_user(session: AsyncSession, principal: Principal, now: dt.datetime) -> User:
    """Upsert the caller on sight (the host site owns names) and return the stored user."""
    stmt = insert_for(session, User).values(
        id=principal.sub,
        name=principal.name,
        status=UserStatus.active.value,
        approved_count=0,
        rejected_count=0,
        reported_count=0,
        created_at=now,
        last_seen_at=now,
    )
    stmt = (
        stmt.on_conflict_do_update(
            index_elements=[User.id], set_={"name": stmt.excluded.name, "last_seen_at": now}
        )
        .returning(User)
        .execution_options(populate_existing=True)
    )
    # One round trip: both backends return the stored row from the upsert.
    user: User = (await session.execute(stmt)).scalar_one()
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
