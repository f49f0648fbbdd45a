"""Audit completeness: every status change of a comment has a record, readable by API."""

from __future__ import annotations

import itertools

from server.comments.models import Comment, CommentStatus
from tests.conftest import auth
from tests.moderation.review_support import decide, machine_decide, mod, report

M = "/api/v1/moderation"


async def test_every_change_of_a_comment_is_in_its_history(client, token, sessionmaker):
    r = await client.post(
        "/api/v1/articles/story/comments", json={"body": "First!"}, headers=auth(token("amina"))
    )
    cid = (await r.json())["id"]
    await machine_decide(sessionmaker, cid, CommentStatus.held, risk=0.9)
    await decide(client, token, [cid], "approve")
    await decide(client, token, [cid], "feature")
    for reader in ("r1", "r2", "r3"):
        await report(client, token, cid, reader)
    await decide(client, token, [cid], "reject", reason="harassment")
    r = await client.post(f"{M}/reevaluate", json={}, headers=mod(token))
    assert (await r.json())["examined"] == 0  # rejected comments are not re-evaluated

    entries, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await (
            await client.get(f"{M}/comments/{cid}/history", params=params, headers=mod(token))
        ).json()
        entries += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [(e["actor_id"], e["action"], e["before"], e["after"]) for e in entries] == [
        ("system", "auto_moderate", "pending", "held"),
        ("mod-1", "approve", "held", "approved"),
        ("mod-1", "feature", "approved", "approved"),
        ("system", "reports", "approved", "held"),
        ("mod-1", "reject", "held", "rejected"),
    ]
    status_changes = [e for e in entries if e["before"] != e["after"]]
    for previous, current in itertools.pairwise(status_changes):
        assert previous["after"] == current["before"]  # no change went unrecorded
    async with sessionmaker() as session:
        comment = await session.get(Comment, cid)
    assert comment is not None and status_changes[-1]["after"] == comment.status
    assert all(e["created_at"] and e["subject_user_id"] == "amina" for e in entries)
    assert entries[-1]["reason"] == "rejected by a moderator: harassment"
    # The author's history shows the same decisions.
    user = await (await client.get(f"{M}/users/amina/history", headers=mod(token))).json()
    assert [e["id"] for e in user["items"]] == [e["id"] for e in entries][::-1]
