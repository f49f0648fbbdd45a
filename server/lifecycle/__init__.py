"""A comment's life in one place: its transitions, their audit rows and their events.

- ``transitions``: every status change of a comment —
  posted, scored, held, approved, rejected, edited, deleted, reported back, reopened, and the
  rejections of a sanction's cascade — moves the row, keeps every counter exact, writes the
  audit row (built by ``audit.audit_row``, the only builder of audit rows) and records a
  :class:`~server.lifecycle.events.CommentEvent` in the transaction's outbox.
- ``events``: the ``CommentEvent`` envelope and the per-transaction :class:`Outbox`.
- ``relay``: :class:`EventRelay` opens a unit of work (``async with relay.transaction()``),
  commits it and only then hands its outbox to every subscriber.
- ``subscribers``: what readers' pages, moderators' consoles and page caches (on every
  process, through the live broker) are told about committed events.

See docs/architecture.md for the way of a comment from POST to a reader's screen.
"""

from server.lifecycle.audit import audit_row
from server.lifecycle.events import CommentEvent, EventKind, Outbox, outbox_of, record
from server.lifecycle.relay import EventRelay, Subscriber

__all__ = [
    "CommentEvent",
    "EventKind",
    "EventRelay",
    "Outbox",
    "Subscriber",
    "audit_row",
    "outbox_of",
    "record",
]
