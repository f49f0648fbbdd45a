"""The per-reader channel ``user:{sub}``: only its owner may subscribe; it carries decisions on
the reader's own comments, replies to them and features of them."""

from __future__ import annotations

from typing import Any

from tests.conftest import auth
from tests.live.conftest import LiveClient

ARTICLE = "user-channel-story"


async def _reader(client: Any, token: str) -> LiveClient:
    live = LiveClient(await client.ws_connect("/api/v1/live"))
    await live.send(op="auth", token=token)
    assert (await live.recv())["op"] == "authenticated"
    return live


async def _post(client: Any, token: str, body: str, parent_id: int | None = None) -> int:
    payload: dict[str, Any] = {"body": body}
    if parent_id is not None:
        payload["parent_id"] = parent_id
    r = await client.post(f"/api/v1/articles/{ARTICLE}/comments", json=payload,
                          headers=auth(token))
    assert r.status == 202, await r.text()
    return int((await r.json())["id"])


async def _decide(client: Any, token: str, ids: list[int], action: str) -> None:
    body: dict[str, Any] = {"comment_ids": ids, "action": action}
    if action == "reject":
        body["reason"] = "off_topic"
    r = await client.post("/api/v1/moderation/decisions", headers=auth(token), json=body)
    assert r.status == 200, await r.text()


async def test_only_the_owner_may_subscribe(client, token):
    anonymous = LiveClient(await client.ws_connect("/api/v1/live"))
    await anonymous.send(op="subscribe", channel="user:amina")
    refused = await anonymous.recv()
    assert (refused["op"], refused["code"]) == ("error", "forbidden")

    other = await _reader(client, token("baraka"))
    await other.send(op="subscribe", channel="user:amina")
    refused = await other.recv()
    assert (refused["op"], refused["code"], refused["channel"]) == ("error", "forbidden",
                                                                     "user:amina")

    owner = await _reader(client, token("amina"))
    assert (await owner.subscribe("user:amina"))["channel"] == "user:amina"
    # Signing in as someone else on the same socket ends the subscription.
    await owner.send(op="auth", token=token("baraka"))
    assert await owner.recv() == {"op": "unsubscribed", "channel": "user:amina"}
    assert (await owner.recv())["op"] == "authenticated"
    for live in (anonymous, other, owner):
        await live.ws.close()


async def test_author_hears_decisions_replies_and_features(client, token):
    amina, baraka, mod = token("amina"), token("baraka"), token("mod", roles=["moderator"])
    inbox = await _reader(client, amina)
    await inbox.subscribe("user:amina")
    snoop = await _reader(client, baraka)
    await snoop.subscribe("user:baraka")

    first = await _post(client, amina, "Good reporting on the security talks.")
    second = await _post(client, amina, "A second thought on the gas explosion.")
    await _decide(client, mod, [first], "approve")
    [approved] = await inbox.events(1)
    assert approved["channel"] == "user:amina" and approved["type"] == "reader.decided"
    data = approved["data"]
    assert (data["comment_id"], data["article_id"], data["status"]) == (first, ARTICLE,
                                                                       "approved")
    assert data["comment"]["id"] == first and data["comment"]["author"]["name"] == "Amina"
    assert data["comment"]["html"].startswith("<p>Good reporting")

    await _decide(client, mod, [second], "reject")
    [rejected] = await inbox.events(1)
    assert rejected["data"] == {"comment_id": second, "article_id": ARTICLE,
                                "status": "rejected"}

    reply = await _post(client, baraka, "I agree with Amina.", parent_id=first)
    await _decide(client, mod, [reply], "approve")
    [replied] = await inbox.events(1)
    assert replied["type"] == "reader.replied"
    assert (replied["data"]["comment_id"], replied["data"]["reply_id"]) == (first, reply)
    assert replied["data"]["author_name"] == "Baraka"
    # Baraka hears about his own reply's approval, and nothing about Amina's comments.
    [own] = await snoop.events(1)
    assert (own["type"], own["data"]["comment_id"]) == ("reader.decided", reply)

    await _decide(client, mod, [first], "feature")
    [featured] = await inbox.events(1)
    assert featured["type"] == "reader.featured"
    assert featured["data"] == {"comment_id": first, "article_id": ARTICLE, "featured": True}
    await snoop.nothing()
    for live in (inbox, snoop):
        await live.ws.close()


async def test_replying_to_oneself_is_not_announced(client, token):
    amina, mod = token("amina"), token("mod", roles=["moderator"])
    inbox = await _reader(client, amina)
    await inbox.subscribe("user:amina")
    first = await _post(client, amina, "First point.")
    await _decide(client, mod, [first], "approve")
    own_reply = await _post(client, amina, "And a follow-up.", parent_id=first)
    await _decide(client, mod, [own_reply], "approve")
    events = await inbox.events(2)
    assert [e["type"] for e in events] == ["reader.decided", "reader.decided"]
    await inbox.nothing()
    await inbox.ws.close()


async def _sse_blocks(response: Any) -> Any:
    """Yield (event name, JSON data) of each Server-Sent Events block."""
    import orjson

    name, data = None, None
    while True:
        line = (await response.content.readline()).decode()
        if line == "":
            return
        line = line.rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = orjson.loads(line[6:])
        elif line == "" and name is not None:
            yield name, data
            name, data = None, None


async def test_the_reader_channel_over_server_sent_events(client, token):
    assert (await client.get("/api/v1/me/events")).status == 401
    amina, mod = token("amina"), token("mod", roles=["moderator"])
    comment_id = await _post(client, amina, "Heard over SSE.")
    r = await client.get(f"/api/v1/me/events?token={amina}")
    assert r.status == 200 and r.content_type == "text/event-stream"
    blocks = _sse_blocks(r)
    name, data = await anext(blocks)
    assert (name, data["channel"]) == ("subscribed", "user:amina")
    await _decide(client, mod, [comment_id], "reject")
    name, data = await anext(blocks)
    assert name == "reader.decided"
    assert data["data"] == {"comment_id": comment_id, "article_id": ARTICLE,
                            "status": "rejected"}
    r.close()
