"""The outbox table: the events of a committed transaction until every subscriber had them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, BigId, JSONType, UTCDateTime, utcnow


class OutboxBatch(Base):
    """One transaction's events, written in that transaction and deleted once relayed.

    A row older than a few seconds means its process died between commit and relay:
    ``EventRelay.relay_stale`` hands it to the subscribers again (at-least-once).
    """

    __tablename__ = "event_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
