"""The policy preview over stored scores, and the re-evaluation that does what it showed."""

from __future__ import annotations

import pytest

from server.comments.models import CommentStatus
from server.jobs.base import Job
from tests.conftest import auth
from tests.factories import make_comment
from tests.moderation.review_support import admin, audit_rows, decide, mod, stored
from tests.workers.pipeline_support import RecordingBroker, StubScorer
from workers.judge import PolicyJudge
from workers.pipeline import Pipeline

M = "/api/v1/moderation"
STRICT = {"thresholds": {"toxicity": {"hold": 0.5, "reject": 0.85}}}
LENIENT = {"thresholds": {"toxicity": {"hold": 0.95, "reject": 0.99}}}


async def _scored(sessionmaker, bodies: list[str]) -> list[int]:
    """Comments decided by the real pipeline (StubScorer: "idiot" scores 0.9 toxicity)."""
    ids = [
        await make_comment(sessionmaker, article_id="story", body=b, status=CommentStatus.pending)
        for b in bodies
    ]
    pipeline = Pipeline(
        sessionmaker=sessionmaker, channels=RecordingBroker(), scorer=StubScorer(),
        judge=PolicyJudge(check_interval=0),
    )
    await pipeline.handle([Job(id=f"{i}-0", comment_id=i, deliveries=1) for i in ids])
    return ids


@pytest.fixture
async def decided(client, token, sessionmaker) -> dict[str, list[int]]:
    rude = await _scored(sessionmaker, [f"You idiot number {n}." for n in range(3)])
    calm = await _scored(sessionmaker, ["Thanks for the report.", "Good reporting."])
    [by_hand] = await _scored(sessionmaker, ["Another idiot remark."])
    await decide(client, token, [by_hand], "approve")
    return {"rude": rude, "calm": calm, "by_hand": [by_hand]}


async def _preview(client, token, body):
    r = await client.post(f"{M}/policy/preview", json=body, headers=admin(token))
    assert r.status == 200, await r.text()
    return await r.json()


def _moves(report) -> list[tuple[int, str, str, str]]:
    return [(c["id"], c["before"], c["after"], c["rule"]) for c in report["changes"]]


async def test_preview_counts_and_changes_without_storing(client, token, sessionmaker, decided):
    report = await _preview(client, token, {"config": STRICT})
    # The comment a moderator approved is not the policy's to re-decide.
    assert report["examined"] == 5
    assert report["current"] == {"approved": 2, "held": 3, "rejected": 0}
    assert report["proposed"] == {"approved": 2, "held": 0, "rejected": 3}
    assert report["changed"] == 3 and report["applied"] == 0
    expected = [(i, "held", "rejected", "score_reject") for i in decided["rude"][::-1]]
    assert _moves(report) == expected
    assert report["changes"][0]["reason"] == "rejected: toxicity 0.90 ≥ 0.85"
    for comment_id in decided["rude"]:
        assert (await stored(sessionmaker, comment_id)).status == "held"
    # The policy in force changes nothing.
    assert (await _preview(client, token, {}))["changed"] == 0
    assert (await _preview(client, token, {"config": STRICT, "limit": 2}))["examined"] == 2


async def test_reevaluation_does_what_the_preview_showed(client, token, sessionmaker, decided):
    shown = await _preview(client, token, {"config": STRICT})
    r = await client.put(f"{M}/policy", json={**STRICT, "reason": "stricter"}, headers=admin(token))
    assert r.status == 200, await r.text()
    r = await client.post(f"{M}/policy/apply", json={}, headers=admin(token, "admin-2"))
    assert r.status == 200, await r.text()
    done = await r.json()
    assert done["applied"] == 3
    assert _moves(done) == _moves(shown)
    assert {k: done[k] for k in ("examined", "current", "proposed", "changed")} == {
        k: shown[k] for k in ("examined", "current", "proposed", "changed")
    }
    for comment_id in decided["rude"]:
        assert (await stored(sessionmaker, comment_id)).status == "rejected"
        last = (await audit_rows(sessionmaker, comment_id))[-1]
        assert (last.action, last.actor_id, last.before, last.after) == (
            "policy_reevaluate", "admin-2", "held", "rejected"
        )
    # Still the policy's decisions: looked at again, and nothing is left to change.
    again = await _preview(client, token, {})
    assert again["examined"] == 5 and again["changed"] == 0
    assert (await stored(sessionmaker, decided["by_hand"][0])).status == "approved"


async def test_reevaluation_publishes_what_it_approves(client, token, decided):
    shown = await _preview(client, token, {"config": LENIENT})
    assert _moves(shown) == [(i, "held", "approved", "approved") for i in decided["rude"][::-1]]
    await client.put(f"{M}/policy", json=LENIENT, headers=admin(token))
    done = await (await client.post(f"{M}/policy/apply", json={}, headers=admin(token))).json()
    assert done["applied"] == 3
    r = await client.get("/api/v1/articles/story/comments", params={"limit": "50"})
    shown_ids = {c["id"] for c in (await r.json())["items"]}
    assert set(decided["rude"]) <= shown_ids


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"config": {"thresholds": {"toxicity": {"hold": 0.9, "reject": 0.5}}}}, "invalid_policy"),
        ({"config": {"thresholds": {"nonsense": {"hold": 0.5}}}}, "invalid"),
        ({"limit": 0}, "invalid"),
        ({"limit": 5001}, "invalid"),
        ({"article_id": "bad id"}, "invalid"),
        ({"surprise": 1}, "invalid"),
    ],
)
async def test_preview_refuses_bad_input(client, token, body, code):
    r = await client.post(f"{M}/policy/preview", json=body, headers=admin(token))
    assert r.status == 422
    assert (await r.json())["error"]["code"] == code


async def test_preview_and_apply_are_for_admins(client, token):
    for path in ("preview", "apply"):
        r = await client.post(f"{M}/policy/{path}", json={}, headers=mod(token))
        assert r.status == 403 and (await r.json())["error"]["code"] == "missing_role"
        r = await client.post(f"{M}/policy/{path}", json={}, headers=auth(token("reader")))
        assert r.status == 403
        r = await client.post(f"{M}/policy/{path}", data=b"not json", headers=admin(token))
        assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_json"
