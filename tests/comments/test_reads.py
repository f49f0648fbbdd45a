"""The hot read path renders exactly what public_comment renders, on both backends' rows."""

from __future__ import annotations

import asyncio

from server.comments import reads
from server.comments.models import Comment, CommentStatus
from server.comments.schemas import public_comment
from server.users.models import User
from tests.factories import make_comment


async def test_rows_render_like_orm_objects(client, token, sessionmaker):
    from tests.conftest import auth

    parent = await make_comment(sessionmaker, article_id="a", author="amina")
    await client.put(f"/api/v1/comments/{parent}/reactions/like", headers=auth(token("r1")))
    reply = await make_comment(sessionmaker, article_id="a", parent_id=parent)
    own = await make_comment(sessionmaker, article_id="a", author="amina",
                             status=CommentStatus.held)
    async with sessionmaker() as session:
        rows = await reads.top_level_page(session, "a", reads.Sort.newest, None, 10)
        replies = await reads.first_replies(session, [parent], 3)
        awaiting = await reads.awaiting_review(session, "a", "amina")
        for row, cid in ((rows[0], parent), (replies[parent][0], reply), (awaiting[0], own)):
            comment = await session.get(Comment, cid)
            author = await session.get(User, comment.author_id)
            for viewer in (None, "amina", "someone"):
                assert reads.render(row, viewer=viewer) == public_comment(
                    comment, author.name, viewer=viewer
                )


async def test_reads_on_sqlite(tmp_path):
    from server.db import create_engine, create_sessionmaker, upgrade
    from server.settings import Settings

    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/r.db")
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    try:
        ids = [await make_comment(sessionmaker, article_id="a") for _ in range(3)]
        reply = await make_comment(sessionmaker, article_id="a", parent_id=ids[0])
        async with sessionmaker() as session:
            page = await reads.top_level_page(session, "a", reads.Sort.top,
                                              reads.Position(ids[2], 0), 10)
            replies = await reads.first_replies(session, ids, 3)
        assert [r[0] for r in page] == ids[:2][::-1]
        assert [r[0] for r in replies[ids[0]]] == [reply]
        rendered = reads.render(page[0], viewer=None)
        assert rendered["created_at"].endswith("Z") and rendered["reactions"] == {}
    finally:
        await engine.dispose()


async def test_one_statement_thread_matches_the_three_queries(client, sessionmaker):
    """``thread_page`` (PostgreSQL, one round trip) returns what the page, first-replies and
    count queries return, for every sort, with and without a cursor."""
    from server.comments import reads
    from server.db import autocommit
    from tests.factories import make_comment

    tops = [await make_comment(sessionmaker, article_id="t", author=f"a{i}") for i in range(5)]
    for i, top in enumerate(tops[:3]):
        for _ in range(i + 2):
            await make_comment(sessionmaker, article_id="t", parent_id=top, author="r")
    await make_comment(sessionmaker, article_id="t", status=CommentStatus.held)
    await make_comment(sessionmaker, article_id="other")
    async with autocommit(sessionmaker)() as session:
        for sort in reads.Sort:
            for after in (None, reads.Position(tops[3], 0)):
                thread = await reads.thread_page(session, "t", sort, after, 3, 2)
                assert thread is not None
                page = await reads.top_level_page(session, "t", sort, after, 3)
                replies = await reads.first_replies(session, [r[0] for r in page], 2)
                assert thread.page == page
                assert thread.replies == replies
                assert thread.count == 5 + 2 + 3 + 4
        empty = await reads.thread_page(session, "nothing-here", reads.Sort.newest, None, 3, 2)
        assert empty == reads.Thread([], {}, 0)
