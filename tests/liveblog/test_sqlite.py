"""The live blog on the embedded default (SQLite, in-process broker), as `baraza serve` runs
on a bare machine: the same rules, without Postgres's row locks."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from server.app import create_app
from server.auth import mint_token
from server.settings import Settings
from tests.liveblog.conftest import ARTICLE, Editor, read_anonymous

pytestmark = pytest.mark.embedded


async def test_a_blog_on_sqlite(aiohttp_client: Any, tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/lb.db",
                        embedded_worker=False)
    client = await aiohttp_client(create_app(settings))
    editor = Editor(client, mint_token(settings, sub="ed", name="Ed", roles=["editor"]))
    await editor.open_blog()
    first = await editor.post("first *entry*", pinned=True, key_event=True)
    posts = await asyncio.gather(*(editor.post(f"entry {i}", pinned=True) for i in range(5)))
    draft = await editor.post("draft", draft=True)
    await editor.publish(draft["id"])
    await editor.edit(first["id"], body="first entry, corrected")
    await editor.delete(posts[0]["id"])

    page = await read_anonymous(client, limit=3)
    assert page["items"][0]["id"] == draft["id"]
    rest = await read_anonymous(client, limit=10, cursor=page["next_cursor"])
    ids = [p["id"] for p in page["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == 6 and posts[0]["id"] not in ids
    assert sum(p["pinned"] for p in page["items"] + rest["items"]) == 1
    assert [p["id"] for p in (await read_anonymous(client, key_events="true"))["items"]] == [
        first["id"]]
    changes = (await read_anonymous(client, since=0))["changes"]
    assert {c["id"] for c in changes} == {first["id"], draft["id"], *(p["id"] for p in posts)}
    history = await editor.history(first["id"])
    assert [h["action"] for h in history["history"]][:2] == ["published", "unpinned"]
    response = await client.get(f"/api/v1/articles/{ARTICLE}/liveblog",
                                headers={"If-None-Match": page_etag(await client.get(
                                    f"/api/v1/articles/{ARTICLE}/liveblog"))})
    assert response.status == 304


def page_etag(response: Any) -> str:
    etag: str = response.headers["ETag"]
    return etag
