from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, utcnow


class ReaderSettings(Base):
    """A reader's choices; the e-mail address comes from the host's token, with their consent."""

    __tablename__ = "reader_settings"

    user_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str | None] = mapped_column(String(320))
    reply_emails: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Erasure(Base):
    """That a user's personal data was erased, when and by whom (the ids stay)."""

    __tablename__ = "erasures"
    __table_args__ = (Index("ix_erasures_erased_at", "erased_at"),)

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(128))
    erased_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
