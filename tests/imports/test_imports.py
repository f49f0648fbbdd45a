"""Importers on sample files the tests write: threads, timestamps, statuses, authors, odd
Unicode, idempotence, skipped items with reasons, and hostile XML refused."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select

from server.articles.models import Article
from server.cli import main
from server.comments.models import Comment
from server.imports.command import ImportRefused, import_file
from server.imports.progress import Progress
from server.imports.records import Source
from server.imports.wordpress import parse as parse_wordpress
from server.imports.writer import Importer
from server.users.models import User
from tests.conftest import auth
from tests.imports.samples import (
    BILLION_LAUGHS,
    DISQUS,
    EXTERNAL_ENTITY,
    ODD,
    WORDPRESS,
    write_isso,
)


class ByPrefix(dict[int, Comment]):
    """Comments by id; ``c["First words"]`` finds the one whose body starts with them."""

    def __getitem__(self, prefix: Any) -> Comment:
        if isinstance(prefix, int):
            return super().__getitem__(prefix)
        [found] = [c for c in self.values() if c.body.startswith(prefix)]
        return found


async def _comments(sessionmaker: Any) -> ByPrefix:
    async with sessionmaker() as session:
        rows = (await session.scalars(select(Comment).order_by(Comment.id))).all()
    return ByPrefix({c.id: c for c in rows})


async def _count(sessionmaker: Any, model: Any) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_disqus_threads_statuses_and_skips(tmp_path, settings, sessionmaker, client):
    path = tmp_path / "disqus.xml"
    path.write_text(DISQUS, encoding="utf-8")
    summary = await import_file(settings, Source.disqus, path, batch_size=2)
    assert summary.imported == 7
    assert dict(summary.skipped) == {
        "post of a thread missing from the export": 1,
        "reply to a comment missing from the export": 1,
        "empty body": 1,
    }
    assert summary.examples["reply to a comment missing from the export"] == ["1009"]
    c = await _comments(sessionmaker)
    top, guest, early = c["First paragraph & mo"], c["Ḽơᶉëᶆ"], c["A reply that came be"]
    assert top.body == ("First paragraph & more.\n\nSecond\nline link (https://x.example/r)")
    assert top.article_id == "story-1" and top.status == "approved" and top.parent_id is None
    assert top.created_at == dt.datetime(2019, 3, 1, 9, tzinfo=dt.UTC)
    assert top.author_id == "disqus:alice"
    # The reply came before its parent in the file, and across batches: threaded all the same.
    assert guest.parent_id == top.id and guest.depth == 1
    assert early.parent_id == guest.id and early.root_id == top.id and early.depth == 2
    assert guest.body == unicodedata.normalize("NFC", ODD)  # kept, as Baraza stores text
    assert guest.author_id.startswith("disqus:anon-") and "guest" not in guest.author_id
    deleted, orphan_parent = c["Deleted, but it has "], c["Reply to the deleted"]
    assert deleted.status == "deleted" and deleted.visible
    assert orphan_parent.parent_id == deleted.id
    assert c["Buy cheap watches"].status == "rejected"
    assert c["Awaiting approval"].status == "held"
    assert c["Awaiting approval"].article_id == "paper.example-news-a-b-x-1"
    async with sessionmaker() as session:
        article = await session.get(Article, "story-1")
        users = {u.id: u for u in (await session.scalars(select(User))).all()}
        top_after = await session.get(Comment, top.id)
    assert article is not None and article.title == "Security co-operation"
    assert article.comment_count == 4
    assert top_after is not None and top_after.reply_count == 1
    assert users["disqus:alice"].name == "Alice" and users["disqus:alice"].approved_count == 1
    assert all("@" not in uid for uid in users)
    r = await client.get("/api/v1/articles/story-1/comments?sort=oldest")
    page = await r.json()
    assert [i["id"] for i in page["items"]] == [top.id, deleted.id]
    # Idempotent: a second run adds nothing.
    again = await import_file(settings, Source.disqus, path, batch_size=3)
    assert again.imported == 0 and again.already == 7
    assert await _count(sessionmaker, Comment) == 7


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY])
async def test_hostile_xml_is_refused(tmp_path, settings, sessionmaker, payload):
    path = tmp_path / "evil.xml"
    path.write_text(payload)
    for source in (Source.disqus, Source.wordpress):
        with pytest.raises(ImportRefused, match="DTD or entities"):
            await import_file(settings, source, path)
    assert await _count(sessionmaker, Comment) == 0


async def test_malformed_xml_is_refused(tmp_path, settings):
    path = tmp_path / "broken.xml"
    path.write_text("<disqus><post>")
    with pytest.raises(ImportRefused, match="not well-formed"):
        await import_file(settings, Source.disqus, path)


async def test_wordpress_wxr(tmp_path, settings, sessionmaker):
    path = tmp_path / "wordpress.xml"
    path.write_text(WORDPRESS, encoding="utf-8")
    summary = await import_file(settings, Source.wordpress, path)
    assert summary.imported == 6
    assert dict(summary.skipped) == {
        "pingback, not a reader's comment": 1,
        "reply to a comment missing from the export": 1,
    }
    c = await _comments(sessionmaker)
    top = c["Top comment"]
    assert top.body == "Top comment\nwith a break"
    assert top.article_id == "talks-in-mogadishu" and top.author_id == "wordpress:user-7"
    assert top.created_at == dt.datetime(2020, 5, 1, 10, tzinfo=dt.UTC)
    reply = c["Reply: Ḽơᶉëᶆ"]
    assert reply.parent_id == top.id and reply.author_id.startswith("wordpress:anon-")
    assert c["Held for moderation"].status == "held"
    assert c["Spam spam"].status == "rejected"
    assert c["In the bin"].status == "deleted"
    other = c["Same id, other post"]
    assert other.article_id == "wp-43" and other.parent_id is None
    again = await import_file(settings, Source.wordpress, path)
    assert (again.imported, again.already) == (0, 6)


async def test_isso_database(tmp_path, settings, sessionmaker):
    path = tmp_path / "comments.db"
    write_isso(path)
    summary = await import_file(settings, Source.isso, path)
    assert summary.imported == 5
    assert dict(summary.skipped) == {"comment of a thread missing from the database": 1}
    c = await _comments(sessionmaker)
    top = c["Published *markdown*"]
    assert top.article_id == "2021-story-3" and top.status == "approved"
    assert top.created_at == dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    assert c["Reply with"].parent_id == top.id
    assert c["Waiting for a moderator"].status == "held"
    deleted = next(x for x in c.values() if x.status == "deleted")
    assert c["Reply to a deleted o"].parent_id == deleted.id
    again = await import_file(settings, Source.isso, path)
    assert (again.imported, again.already) == (0, 5)


async def test_not_an_isso_database(tmp_path, settings):
    path = tmp_path / "x.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ImportRefused, match="not an Isso database"):
        await import_file(settings, Source.isso, path)


class RecordingJobs:
    def __init__(self) -> None:
        self.ids: list[int] = []

    async def enqueue(self, comment_ids: Sequence[int]) -> None:
        self.ids.extend(comment_ids)


async def test_rescore_queues_them_as_new(tmp_path, settings, sessionmaker):
    path = tmp_path / "wordpress.xml"
    path.write_text(WORDPRESS, encoding="utf-8")
    jobs = RecordingJobs()
    importer = Importer(
        sessionmaker=sessionmaker,
        source=Source.wordpress,
        max_depth=3,
        rescore=True,
        jobs=jobs,  # type: ignore[arg-type]
    )
    await importer.run(parse_wordpress(path))
    c = await _comments(sessionmaker)
    assert c["Top comment"].status == "pending" and c["Held for moderation"].status == "pending"
    assert c["Spam spam"].status == "rejected"
    assert sorted(jobs.ids) == sorted(x.id for x in c.values())


def test_progress_line_has_counts_and_rate():
    ticks = iter([0.0, 0.5, 2.0, 4.0])
    out = io.StringIO()
    progress = Progress("disqus", out=out, clock=lambda: next(ticks))
    from server.imports.progress import Summary

    summary = Summary(read=10, imported=8)
    summary.skip("x1", "empty body")
    progress.update(summary)  # 0.5 s: not yet
    assert out.getvalue() == ""
    progress.update(summary)  # 2 s
    assert "10 read · 8 imported · 0 already · 1 skipped · 4 comments/s" in out.getvalue()
    progress.done(summary)
    assert "skipped 1: empty body (e.g. x1)" in out.getvalue()


def test_cli_import(tmp_path, settings, monkeypatch, capsys):
    path = tmp_path / "disqus.xml"
    path.write_text(DISQUS, encoding="utf-8")
    monkeypatch.setenv("BARAZA_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("BARAZA_JWT_SECRET", settings.jwt_secret)
    assert main(["import", "disqus", str(path)]) == 0
    err = capsys.readouterr().err
    assert "imported 7" in err and "skipped 1: empty body (e.g. 1010)" in err
    assert main(["import", "disqus", str(tmp_path / "missing.xml")]) == 2
    (tmp_path / "evil.xml").write_text(BILLION_LAUGHS)
    assert main(["import", "disqus", str(tmp_path / "evil.xml")]) == 2
    assert "refused" in capsys.readouterr().err


async def test_reply_depth_is_capped(tmp_path, settings, sessionmaker):
    posts = "".join(
        f"""<post dsq:id="{n}"><message>level {n}</message>
        <createdAt>2019-01-01T00:00:0{n}Z</createdAt><author><username>u</username></author>
        <thread dsq:id="1"/>{f'<parent dsq:id="{n - 1}"/>' if n > 1 else ""}</post>"""
        for n in range(1, 7)
    )
    path = tmp_path / "deep.xml"
    path.write_text(
        '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">'
        f'<thread dsq:id="1"><id>deep</id></thread>{posts}</disqus>'
    )
    await import_file(settings, Source.disqus, path)
    c = await _comments(sessionmaker)
    assert [c[f"level {n}"].depth for n in range(1, 7)] == [0, 1, 2, 3, 3, 3]
    assert c["level 6"].parent_id == c["level 4"].parent_id == c["level 3"].id


async def test_imported_thread_is_served(tmp_path, settings, client, token):
    path = tmp_path / "disqus.xml"
    path.write_text(DISQUS, encoding="utf-8")
    await import_file(settings, Source.disqus, path)
    r = await client.get("/api/v1/articles/story-1/comments", headers=auth(token("reader-9")))
    assert r.status == 200


async def test_embedded_sqlite_import(tmp_path):
    """The embedded default (SQLite): the same threads, counters and idempotence."""
    import asyncio

    from server.db import create_engine, create_sessionmaker, upgrade
    from server.settings import Settings

    url = f"sqlite+aiosqlite:///{tmp_path}/embedded.db"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url)
    path = tmp_path / "disqus.xml"
    path.write_text(DISQUS, encoding="utf-8")
    summary = await import_file(settings, Source.disqus, path, batch_size=2)
    assert summary.imported == 7
    engine = create_engine(settings)
    try:
        sessionmaker = create_sessionmaker(engine)
        c = await _comments(sessionmaker)
        top = c["First paragraph"]
        assert c["Ḽơᶉëᶆ"].parent_id == top.id
        assert c["A reply that came"].root_id == top.id
        async with sessionmaker() as session:
            article = await session.get(Article, "story-1")
        assert article is not None and article.comment_count == 4
    finally:
        await engine.dispose()
    again = await import_file(settings, Source.disqus, path)
    assert (again.imported, again.already) == (0, 7)
