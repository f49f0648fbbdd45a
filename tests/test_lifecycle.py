"""The lifecycle's outbox: events relayed only after commit, kept until relayed, relayed again
by the sweeper when their process died in between, one failing subscriber harming no other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from server.comments.models import CommentStatus
from server.db import utcnow
from server.lifecycle import CommentEvent, EventKind, EventRelay
from server.lifecycle.models import OutboxBatch
from server.lifecycle.transitions import lock_comment, transition
from tests.factories import make_comment

MINUTE = dt.timedelta(minutes=1)


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[CommentEvent]] = []

    async def __call__(self, events: Sequence[CommentEvent]) -> None:
        self.batches.append(list(events))


async def _outbox_rows(sessionmaker) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxBatch)) or 0)


async def _reject(relay: EventRelay, comment_id: int) -> None:
    async with relay.transaction() as session:
        comment = await lock_comment(session, comment_id)
        assert comment is not None
        await transition(
            session, comment, CommentStatus.rejected, actor="mod", action="reject",
            now=utcnow(), reason="spam",
        )


async def test_events_are_relayed_after_commit_and_the_outbox_emptied(sessionmaker):
    cid = await make_comment(sessionmaker, article_id="a1", author="amina")
    heard = Recorder()
    relay = EventRelay(sessionmaker, [heard])
    await _reject(relay, cid)
    [[event]] = heard.batches
    assert (event.kind, event.comment_id, event.article_id) == (EventKind.rejected, cid, "a1")
    assert (event.before, event.after, event.was_visible, event.visible) == (
        CommentStatus.approved, CommentStatus.rejected, True, False
    )
    assert event.disappeared and not event.appeared
    assert await _outbox_rows(sessionmaker) == 0


async def test_a_rolled_back_transaction_relays_nothing(sessionmaker):
    cid = await make_comment(sessionmaker, author="amina")
    heard = Recorder()
    relay = EventRelay(sessionmaker, [heard])
    with pytest.raises(RuntimeError):
        async with relay.transaction() as session:
            comment = await lock_comment(session, cid)
            assert comment is not None
            await transition(session, comment, CommentStatus.held, actor="mod",
                             action="reject", now=utcnow())
            raise RuntimeError("changed my mind")
    assert heard.batches == [] and await _outbox_rows(sessionmaker) == 0


async def test_batches_of_a_dead_process_are_relayed_again_once(sessionmaker):
    cid = await make_comment(sessionmaker, article_id="a1", author="amina")
    # A process that committed and died before relaying leaves its batch behind.
    dead = EventRelay(sessionmaker, [])
    dead._forget = _never  # type: ignore[method-assign]
    await _reject(dead, cid)
    assert await _outbox_rows(sessionmaker) == 1
    heard = Recorder()
    sweeper = EventRelay(sessionmaker, [heard])
    assert await sweeper.relay_stale(older_than=MINUTE, now=utcnow()) == 0  # too fresh
    assert await sweeper.relay_stale(older_than=MINUTE, now=utcnow() + 2 * MINUTE) == 1
    [[event]] = heard.batches
    assert event.kind is EventKind.rejected and event.comment_id == cid
    assert await _outbox_rows(sessionmaker) == 0
    assert await sweeper.relay_stale(older_than=MINUTE, now=utcnow() + 2 * MINUTE) == 0


async def _never(ids: Sequence[int]) -> None:
    return None


async def test_a_failing_subscriber_does_not_stop_the_others(sessionmaker):
    cid = await make_comment(sessionmaker, author="amina")

    async def broken(events: Sequence[CommentEvent]) -> None:
        raise RuntimeError("webhook endpoint down")

    heard = Recorder()
    await _reject(EventRelay(sessionmaker, [broken, heard]), cid)
    assert len(heard.batches) == 1


def test_events_survive_the_outbox_as_json():
    event = CommentEvent(
        kind=EventKind.reacted, comment_id=7, article_id="a", author_id="u", actor="r",
        action="react", before=CommentStatus.approved, after=CommentStatus.approved,
        was_visible=True, visible=True, featured=False, public={"id": 7},
        data={"reactions": {"like": 2}}, parent_id=3,
    )
    assert CommentEvent.from_json(event.to_json()) == event


async def _post(relay: EventRelay, comment_id: int | None) -> int:
    from server.lifecycle.transitions import post

    async with relay.statements() as session:
        comment = await post(
            session, article_id="a1", author_id="amina", body="hi", html="<p>hi</p>",
            parent_id=None, root_id=None, depth=0, idempotency_key=None, now=utcnow(),
            comment_id=comment_id,
        )
    return comment.id


async def test_a_post_in_autocommit_stores_its_outbox_batch_with_the_comment(sessionmaker):
    from sqlalchemy import text

    from server.comments.models import Comment

    await make_comment(sessionmaker, article_id="a1", author="amina")  # the article and author
    async with sessionmaker() as session:
        new_id = int(await session.scalar(text("SELECT nextval('comments_id_seq')")) or 0)
    dead = EventRelay(sessionmaker, [])
    dead._forget = _never  # type: ignore[method-assign]
    assert await _post(dead, new_id) == new_id
    async with sessionmaker() as session:
        stored = await session.get(Comment, new_id)
        [batch] = (await session.scalars(select(OutboxBatch))).all()
    assert stored is not None and stored.status == "pending"
    assert [e["kind"] for e in batch.events] == ["posted"]
    assert batch.events[0]["comment_id"] == new_id
    # Relayed and forgotten by a live process; the id must be allocated beforehand.
    heard = Recorder()
    relay = EventRelay(sessionmaker, [heard])
    assert await relay.relay_stale(older_than=MINUTE, now=utcnow() + 2 * MINUTE) == 1
    assert await _outbox_rows(sessionmaker) == 0
    with pytest.raises(ValueError):
        await _post(relay, None)


async def test_relayed_posts_are_forgotten_together_and_never_relayed_twice(sessionmaker):
    from sqlalchemy import text

    from server.lifecycle.relay import FORGET_EVERY
    from tests.clock import ManualClock

    await make_comment(sessionmaker, article_id="a1", author="amina")

    async def next_id() -> int:
        async with sessionmaker() as session:
            return int(await session.scalar(text("SELECT nextval('comments_id_seq')")) or 0)

    clock = ManualClock()
    heard = Recorder()
    relay = EventRelay(sessionmaker, [heard], clock=clock)
    await _post(relay, await next_id())
    await _post(relay, await next_id())
    assert len(heard.batches) == 2 and await _outbox_rows(sessionmaker) == 2  # not yet deleted
    clock.now += FORGET_EVERY
    await _post(relay, await next_id())  # this write deletes all three in one statement
    assert await _outbox_rows(sessionmaker) == 0
    await _post(relay, await next_id())
    assert await _outbox_rows(sessionmaker) == 1
    # This process's sweep deletes what it relayed before looking for stale batches.
    assert await relay.relay_stale(older_than=MINUTE, now=utcnow() + 2 * MINUTE) == 0
    assert len(heard.batches) == 4 and await _outbox_rows(sessionmaker) == 0
