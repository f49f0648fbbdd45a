"""Lock order for decisions on many comments, and a retry when the database still deadlocks.

``transition`` updates counter rows (the parent comment, the article, the author) as it goes,
so two bulk decisions touching overlapping articles would lock those rows in whatever order
their comments come, and could deadlock. A decision therefore locks everything it will touch
up front, in one global order: comments (targets and their parents) by id, then articles by
id, then users by id. Other writers that do not follow this order (a scoring batch, say) can
still deadlock with us; PostgreSQL then aborts one transaction, and ``retry_deadlocks`` runs
the whole unit of work again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from server.articles.models import Article
from server.comments.models import Comment
from server.lifecycle.transitions import lock_comments
from server.users.models import User

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")
# deadlock_detected, serialization_failure
RETRY_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 4


async def lock_for_decisions(session: AsyncSession, ids: Sequence[int]) -> dict[int, Comment]:
    """Lock ``ids``, their parents, their articles and authors; return the found targets."""
    if not ids:
        return {}
    parents = set(
        (
            await session.scalars(
                select(Comment.parent_id).where(Comment.id.in_(ids), Comment.parent_id.is_not(None))
            )
        ).all()
    )
    wanted = set(ids)
    locked = await lock_comments(session, sorted(wanted | {p for p in parents if p}))
    targets = {c.id: c for c in locked if c.id in wanted}
    articles = sorted({c.article_id for c in targets.values()})
    users = sorted({c.author_id for c in targets.values()})
    await session.execute(
        select(Article.id).where(Article.id.in_(articles)).order_by(Article.id).with_for_update()
    )
    await session.execute(
        select(User.id).where(User.id.in_(users)).order_by(User.id).with_for_update()
    )
    return targets


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in RETRY_SQLSTATES


async def retry_deadlocks(unit_of_work: Callable[[], Awaitable[T]]) -> T:
    """Run ``unit_of_work`` (which opens its own transaction) again if it was chosen as a
    deadlock or serialisation victim, a few times, with a short random pause."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await unit_of_work()
        except DBAPIError as exc:
            if attempt == ATTEMPTS or not _retryable(exc):
                raise
            log.info("transaction aborted (%s); retry %d", exc.orig, attempt)
            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def retrying_deadlocks(
    service: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """``retry_deadlocks`` for a service function that is one unit of work (its side effects
    come after its commit), so a request is never answered with a deadlock's 500."""

    @functools.wraps(service)
    async def retrying(*args: P.args, **kwargs: P.kwargs) -> T:
        return await retry_deadlocks(lambda: service(*args, **kwargs))

    return retrying
