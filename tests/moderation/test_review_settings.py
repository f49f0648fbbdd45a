"""Admin settings through the review API: policy config and word lists, versioned and audited."""

from __future__ import annotations

from sqlalchemy import select

from server.comments.models import CommentStatus
from server.moderation.models import ModerationAction
from tests.factories import make_comment
from tests.moderation.review_support import admin, stored

M = "/api/v1/moderation"


async def _audit(sessionmaker, action: str) -> list[ModerationAction]:
    async with sessionmaker() as session:
        return list(
            (
                await session.scalars(
                    select(ModerationAction)
                    .where(ModerationAction.action == action)
                    .order_by(ModerationAction.id)
                )
            ).all()
        )


async def test_config_round_trip(client, token, sessionmaker):
    r = await client.get(f"{M}/policy", headers=admin(token))
    assert r.status == 200
    default = await r.json()
    assert default["version"] == 0 and default["config"]["report_hold_count"] == 3
    assert default["config"]["thresholds"]["toxicity"] == {"hold": 0.8, "reject": 0.97}
    r = await client.put(
        f"{M}/policy",
        headers=admin(token),
        json={
            "thresholds": {"insult": {"hold": 0.7, "reject": None}},
            "report_hold_count": 5,
            "reason": "busy election week",
        },
    )
    assert r.status == 200, await r.text()
    saved = await r.json()
    assert saved["version"] == 1 and saved["updated_by"] == "admin-1"
    assert saved["config"]["thresholds"]["insult"] == {"hold": 0.7, "reject": None}
    assert saved["config"]["report_hold_count"] == 5
    assert saved["config"]["thresholds"]["toxicity"] == {"hold": 0.8, "reject": 0.97}
    assert (await (await client.get(f"{M}/policy", headers=admin(token))).json()) == saved
    [row] = await _audit(sessionmaker, "policy.update")
    assert (row.actor_id, row.before, row.after, row.reason) == (
        "admin-1",
        "0",
        "1",
        "busy election week",
    )


async def test_config_refusals(client, token):
    for body in (
        {"thresholds": {"toxicity": {"hold": 0.9, "reject": 0.5}}},
        {"thresholds": {"toxicity": {"hold": 1.5}}},
        {"thresholds": {"sarcasm": {"hold": 0.5}}},
        {"report_hold_count": -1},
        {"report_hold_count": "3"},
        {"colour": "red"},
    ):
        r = await client.put(f"{M}/policy", headers=admin(token), json=body)
        assert r.status == 422, body
    r = await client.get(f"{M}/policy", headers=admin(token))
    assert (await r.json())["version"] == 0


async def test_wordlists_round_trip_without_redeciding(client, token, sessionmaker):
    held = await make_comment(sessionmaker, status=CommentStatus.held, body="you scum")
    r = await client.get(f"{M}/wordlists/banned", headers=admin(token))
    assert (await r.json()) | {"updated_at": None} == {
        "kind": "banned",
        "version": 0,
        "words": [],
        "updated_by": None,
        "updated_at": None,
    }
    r = await client.put(
        f"{M}/wordlists/banned",
        headers=admin(token),
        json={"words": ["  scum ", "scum", "vermin"], "reason": "raid"},
    )
    assert r.status == 200, await r.text()
    saved = await r.json()
    assert saved["version"] == 1 and saved["words"] == ["scum", "vermin"]
    assert (await stored(sessionmaker, held)).status == "held"  # not re-decided unless asked
    [row] = await _audit(sessionmaker, "wordlist.update")
    assert row.details is not None and row.details["added"] == ["scum", "vermin"]
    r = await client.get(f"{M}/wordlists/suspect", headers=admin(token))
    assert (await r.json())["version"] == 0 and (await r.json())["words"]


async def test_wordlist_refusals(client, token):
    for body in ({"words": ["x" * 1001]}, {"words": "scum"}, {"words": [1]}, {}):
        r = await client.put(f"{M}/wordlists/banned", headers=admin(token), json=body)
        assert r.status == 422, body
    r = await client.put(f"{M}/wordlists/banned", headers=admin(token), json={"words": ["!!!"]})
    assert r.status == 422 and (await r.json())["error"]["code"] == "invalid_wordlist"


async def test_article_settings_refuse_null_modes(client, token):
    headers = {"Authorization": f"Bearer {token('ed', roles=['editor'])}"}
    for body in ({"comments": None}, {"moderation": None}):
        r = await client.put("/api/v1/articles/a1", json=body, headers=headers)
        assert r.status == 422, body  # was a 500 (NOT NULL violation), found by schemathesis
    closes = "2030-01-01T00:00:00Z"
    r = await client.put(
        "/api/v1/articles/a1",
        headers=headers,
        json={"moderation": "pre", "closes_at": closes, "title": None},
    )
    assert r.status == 200
    body = await r.json()
    assert body["moderation"] == "pre" and body["closes_at"].startswith("2030-01-01")


async def test_nul_characters_are_refused_not_stored(client, token, sessionmaker):
    """PostgreSQL text and JSONB cannot hold NUL: a 422/400, never a 500 (found by schemathesis)."""
    h = admin(token)
    r = await client.put(f"{M}/wordlists/suspect", headers=h, json={"words": ["a\x00b"]})
    assert r.status == 422
    r = await client.put(f"{M}/policy", headers=h, json={"reason": "\x00"})
    assert r.status == 422
    cid = await make_comment(sessionmaker, status=CommentStatus.held)
    r = await client.post(
        f"{M}/decisions",
        headers=h,
        json={"comment_ids": [cid], "action": "approve", "note": "\x00"},
    )
    assert r.status == 422
    r = await client.get(f"{M}/queues/held", headers=h, params={"author_id": "a\x00"})
    assert r.status == 400
    r = await client.get(f"{M}/users/a%00b", headers=h)
    assert r.status in (400, 404)


async def test_phrase_spam_and_language_settings_round_trip(client, token):
    default = await (await client.get(f"{M}/policy", headers=admin(token))).json()
    assert default["config"]["phrase_rules"] is None
    assert default["config"]["spam"]["link_min_approved"] == 3
    assert default["config"]["languages"] == {"unsupported": "score"}
    body = {
        "phrase_rules": ["@who = editors", "dehumanising: @who are goblins"],
        "spam": {"duplicate_count": 4, "commercial": False},
        "languages": {"unsupported": "words_only"},
    }
    r = await client.put(f"{M}/policy", headers=admin(token), json=body)
    assert r.status == 200, await r.text()
    config = (await r.json())["config"]
    assert config["phrase_rules"] == body["phrase_rules"]
    assert config["spam"]["duplicate_count"] == 4 and config["spam"]["commercial"] is False
    assert config["spam"]["link_min_approved"] == 3
    assert config["languages"] == {"unsupported": "words_only"}
    for bad in (
        {"phrase_rules": ["threat: @nobody dies"]},
        {"spam": {"burst_window_seconds": 0}},
        {"languages": {"unsupported": "translate"}},
    ):
        r = await client.put(f"{M}/policy", headers=admin(token), json=bad)
        assert r.status == 422, bad
