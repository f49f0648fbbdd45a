from __future__ import annotations

from server.users.models import User
from server.users.service import _UPSERT_USER


def test_upsert_returns_every_user_column():
    returned = str(_UPSERT_USER).split("RETURNING", 1)[1]
    assert {c.strip() for c in returned.split(",")} == set(User.__table__.columns.keys())


async def test_name_follows_the_host_site(client, token, sessionmaker):
    from tests.conftest import auth

    for name in ("Amina", "Amina W."):
        r = await client.post("/api/v1/articles/a/comments", json={"body": "hi"},
                              headers=auth(token("u1", name=name)))
        assert r.status == 202
    async with sessionmaker() as session:
        user = await session.get(User, "u1")
    assert user is not None and user.name == "Amina W." and user.status == "active"
