from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, utcnow


class UserStatus(enum.StrEnum):
    active = "active"
    premod = "premod"
    suspended = "suspended"
    banned = "banned"


class User(Base):
    """A reader, moderator or editor of the host site, keyed by the JWT ``sub``."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'premod', 'suspended', 'banned')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=UserStatus.active.value)
    suspended_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status_reason: Mapped[str | None] = mapped_column(String(500))
    # History counters read by the policy and shown to moderators.
    approved_count: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    reported_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def effective_status(self, now: dt.datetime) -> UserStatus:
        """The status in force now: a suspension ends by itself at ``suspended_until``."""
        status = UserStatus(self.status)
        if status is UserStatus.suspended and (
            self.suspended_until is not None and self.suspended_until <= now
        ):
            return UserStatus.active
        return status
