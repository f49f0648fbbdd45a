"""A reader's data request: export holds everything; erasure leaves their name and e-mail
nowhere an API returns, while threads and audit ids stay."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from server.auth import mint_token
from server.comments.models import CommentStatus
from server.moderation.models import ModerationAction
from server.readers.archive import write_article
from tests.conftest import auth
from tests.factories import make_comment, set_status


@pytest.fixture
async def client(make_client: Any, make_settings: Any) -> Any:
    # Webhooks to a loopback address, so deliveries about the reader exist.
    return await make_client(make_settings(webhook_allow_private=True))


NAME = "Zawadi Wekesa-Omondi"
EMAIL = "zawadi.private@example.org"


def _reader(settings: Any, sub: str = "zawadi") -> dict[str, str]:
    return auth(mint_token(settings, sub=sub, name=NAME, email=EMAIL))


async def _approved_post(
    client: Any, headers: dict[str, str], sessionmaker: Any, body: str, parent: int | None = None
) -> int:
    payload: dict[str, Any] = {"body": body}
    if parent is not None:
        payload["parent_id"] = parent
    r = await client.post("/api/v1/articles/story/comments", json=payload, headers=headers)
    assert r.status == 202, await r.text()
    comment_id: int = (await r.json())["id"]
    await set_status(sessionmaker, comment_id, CommentStatus.approved)
    return comment_id


async def _world(client: Any, settings: Any, token: Any, sessionmaker: Any) -> dict[str, Any]:
    """Zawadi comments, replies, reacts, reports, opts in to e-mails and is sanctioned."""
    me = _reader(settings)
    admin = auth(token("admin-1", roles=["admin"]))
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/h", "events": ["comment.posted", "user.sanctioned"]},
        headers=admin,
    )
    assert r.status == 201
    r = await client.put("/api/v1/me/settings", json={"reply_emails": True}, headers=me)
    assert (await r.json()) == {"reply_emails": True, "email": EMAIL}
    other = await make_comment(sessionmaker, article_id="story", author="other")
    mine = await _approved_post(client, me, sessionmaker, f"I am {NAME}, write to {EMAIL}")
    reply_to_other = await _approved_post(client, me, sessionmaker, "A reply", parent=other)
    held = await make_comment(
        sessionmaker,
        article_id="story",
        author="zawadi",
        status=CommentStatus.held,
        body="Held one",
    )
    answer = await make_comment(sessionmaker, article_id="story", author="other", parent_id=mine)
    assert (await client.put(f"/api/v1/comments/{other}/reactions/like", headers=me)).status == 200
    r = await client.post(
        f"/api/v1/comments/{other}/reports",
        json={"reason": "spam", "note": f"signed {NAME}"},
        headers=me,
    )
    assert r.status in (200, 201)
    r = await client.post(
        "/api/v1/moderation/users/zawadi/status",
        json={"status": "premod", "reason": f"{NAME} posted her e-mail"},
        headers=admin,
    )
    assert r.status == 200, await r.text()
    return {"mine": mine, "reply": reply_to_other, "held": held, "other": other, "answer": answer}


async def test_export_holds_all_of_a_readers_data(client, settings, token, sessionmaker):
    ids = await _world(client, settings, token, sessionmaker)
    r = await client.get("/api/v1/me/export", headers=_reader(settings))
    assert r.status == 200 and r.headers["Cache-Control"] == "private, no-store"
    data = await r.json()
    assert data["user"]["id"] == "zawadi" and data["user"]["name"] == NAME
    assert {c["id"] for c in data["comments"]} == {ids["mine"], ids["reply"], ids["held"]}
    assert {c["status"] for c in data["comments"]} == {"approved", "held"}
    assert data["reactions"] == [
        {
            "comment_id": ids["other"],
            "kind": "like",
            "created_at": data["reactions"][0]["created_at"],
        }
    ]
    assert data["reports"][0]["note"] == f"signed {NAME}"
    assert data["settings"] == {"reply_emails": True, "email": EMAIL}
    assert (await client.get("/api/v1/me/export")).status == 401


async def _everything_an_api_returns(
    client: Any, token: Any, ids: dict[str, Any], settings: Any
) -> list[str]:
    mod = auth(token("admin-1", roles=["admin"]))
    me = _reader(settings)
    urls = [
        ("/api/v1/articles/story/comments", {}),
        ("/api/v1/articles/story/comments", me),
        (f"/api/v1/comments/{ids['other']}/replies", {}),
        (f"/api/v1/comments/{ids['mine']}/replies", {}),
        ("/api/v1/moderation/users/zawadi", mod),
        ("/api/v1/moderation/users/zawadi/history", mod),
        ("/api/v1/me/export", me),
        ("/api/v1/me/settings", me),
        ("/api/v1/webhooks/1/deliveries", mod),
    ]
    urls += [
        (f"/api/v1/moderation/queues/{q}", mod)
        for q in ("pending", "held", "reported", "rejected", "approved")
    ]
    urls += [(f"/api/v1/moderation/comments/{i}", mod) for i in ids.values()]
    urls += [(f"/api/v1/moderation/comments/{i}/history", mod) for i in ids.values()]
    texts = []
    for url, headers in urls:
        r = await client.get(url, headers=headers)
        assert r.status == 200, (url, r.status, await r.text())
        texts.append(await r.text())
    return texts


async def test_erasure_leaves_name_and_email_nowhere(client, settings, token, sessionmaker):
    ids = await _world(client, settings, token, sessionmaker)
    before = "\n".join(await _everything_an_api_returns(client, token, ids, settings))
    assert NAME in before and EMAIL in before  # the crawl does reach them
    r = await client.delete("/api/v1/me", headers=_reader(settings))
    assert r.status == 200, await r.text()
    erased = await r.json()
    assert (erased["comments"], erased["reactions"], erased["reports"]) == (3, 1, 1)
    after = await _everything_an_api_returns(client, token, ids, settings)
    for text in after:
        assert NAME not in text and EMAIL not in text
        assert "Zawadi" not in text and "zawadi.private" not in text
    archive = io.BytesIO()
    await write_article(settings, "story", archive)
    assert NAME.encode() not in archive.getvalue() and EMAIL.encode() not in archive.getvalue()
    # The thread stays whole: her comment is a placeholder and the answer to it still shows.
    thread = orjson.loads(after[0])
    mine = next(i for i in thread["items"] if i["id"] == ids["mine"])
    assert mine["status"] == "deleted"
    assert [x["id"] for x in mine["replies"]] == [ids["answer"]]
    # The audit log keeps the ids, marked erased.
    async with sessionmaker() as session:
        rows = (
            await session.scalars(
                select(ModerationAction).where(ModerationAction.subject_user_id == "zawadi")
            )
        ).all()
    assert rows and all(r.details and r.details.get("erased") for r in rows)
    assert {r.comment_id for r in rows if r.comment_id} >= {ids["mine"], ids["held"]}
    assert any(r.action == "erase" for r in rows)


async def test_admin_erase(client, settings, token, sessionmaker):
    ids = await _world(client, settings, token, sessionmaker)
    admin = auth(token("admin-1", roles=["admin"]))
    moderator = auth(token("mod-1", roles=["moderator"]))
    url = "/api/v1/moderation/users/zawadi/erase"
    assert (await client.post(url, json={}, headers=moderator)).status == 403
    r = await client.post(url, json={"reason": "data request #12"}, headers=admin)
    assert r.status == 200
    texts = await _everything_an_api_returns(client, token, ids, settings)
    assert not any(NAME in t or EMAIL in t for t in texts)
    r = await client.post("/api/v1/moderation/users/nobody/erase", headers=admin)
    assert r.status == 404
    r = await client.post(url, data=b"[1]", headers=admin)
    assert r.status == 400
    r = await client.post(url, json={"reason": 5}, headers=admin)
    assert r.status == 422


async def test_erasing_oneself_before_ever_writing(client, token):
    r = await client.delete("/api/v1/me", headers=auth(token("newcomer")))
    assert r.status == 200
    assert (await r.json())["comments"] == 0


async def test_settings_need_an_email_claim(client, token):
    r = await client.put(
        "/api/v1/me/settings", json={"reply_emails": True}, headers=auth(token("noemail"))
    )
    assert r.status == 422 and (await r.json())["error"]["code"] == "email_required"
    r = await client.put(
        "/api/v1/me/settings", json={"reply_emails": "yes"}, headers=auth(token("noemail"))
    )
    assert r.status == 422
    r = await client.put(
        "/api/v1/me/settings", json={"reply_emails": False}, headers=auth(token("noemail"))
    )
    assert (await r.json()) == {"reply_emails": False, "email": None}


def test_cli_export_article(tmp_path, settings, monkeypatch, capsys):
    import asyncio

    from server.cli import main
    from server.db import create_engine, create_sessionmaker

    async def seed() -> int:
        engine = create_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        try:
            top = await make_comment(sessionmaker, article_id="arch", body="Kept for the archive")
            await make_comment(sessionmaker, article_id="arch", parent_id=top, author="author-2")
            gone = await make_comment(sessionmaker, article_id="arch", body="Author removed this")
            await set_status(sessionmaker, gone, CommentStatus.deleted)
        finally:
            await engine.dispose()
        return top

    top = asyncio.run(seed())
    monkeypatch.setenv("BARAZA_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("BARAZA_JWT_SECRET", settings.jwt_secret)
    out = tmp_path / "arch.json"
    assert main(["export", "article", "arch", "-o", str(out)]) == 0
    data = orjson.loads(out.read_bytes())
    assert data["article"]["id"] == "arch"
    assert data["comments"][0]["id"] == top
    assert data["comments"][1]["parent_id"] == top
    assert data["comments"][2]["status"] == "deleted" and data["comments"][2]["body"] is None
    assert "3 comments" in capsys.readouterr().err
    assert len(data["comments"]) == 3
    assert main(["export", "article", "nope"]) == 1
