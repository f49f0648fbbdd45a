"""Dead letters: comments the scorers gave up on, listed, inspected and replayed to a decision."""

from __future__ import annotations

import asyncio

import pytest

from server.cli import main
from server.comments.models import CommentStatus
from server.jobs.redis import RedisJobQueue
from tests.conftest import auth
from tests.factories import make_comment
from tests.moderation.review_support import audit_rows, mod, stored
from tests.workers.pipeline_support import RecordingBroker, StubScorer
from workers.consumer import Consumer, ConsumerConfig
from workers.judge import PolicyJudge
from workers.pipeline import Pipeline

M = "/api/v1/moderation"


def _pipeline(sessionmaker, scorer):
    return Pipeline(
        sessionmaker=sessionmaker, channels=RecordingBroker(), scorer=scorer, judge=PolicyJudge()
    )


async def _score_once(settings, sessionmaker, redis_client, scorer) -> None:
    """One consumer turn over the job stream, as `baraza worker` does it (one delivery)."""
    jobs = RedisJobQueue(redis_client, settings.redis_prefix)
    config = ConsumerConfig(batch_size=32, batch_wait_ms=0, claim_idle_ms=60_000, max_deliveries=1)
    consumer = Consumer(
        name="test", jobs=jobs, handler=_pipeline(sessionmaker, scorer), config=config,
        stopping=asyncio.Event(),
    )
    batch = await consumer.read_batch()
    assert batch, "no job was queued"
    await consumer.handle(batch)


@pytest.fixture
async def dead(settings, sessionmaker, redis_client) -> dict[str, int]:
    """One comment that broke the scorer (a dead letter) and one that was scored normally."""
    jobs = RedisJobQueue(redis_client, settings.redis_prefix)
    poison = await make_comment(
        sessionmaker, body="This text has POISON in it.", status=CommentStatus.pending
    )
    fine = await make_comment(sessionmaker, body="A calm reply.", status=CommentStatus.pending)
    await jobs.enqueue([poison, fine])
    await _score_once(settings, sessionmaker, redis_client, StubScorer())
    assert (await stored(sessionmaker, poison)).status == "held"
    assert (await stored(sessionmaker, fine)).status == "approved"
    return {"poison": poison, "fine": fine}


async def test_list_shows_only_dead_letters_with_their_error(client, token, dead):
    r = await client.get(f"{M}/deadletters", headers=mod(token))
    assert r.status == 200, await r.text()
    page = await r.json()
    assert [item["comment"]["id"] for item in page["items"]] == [dead["poison"]]
    [letter] = page["items"]
    assert letter["error"] == "ValueError: this text breaks the model"
    assert letter["failures"] == 1 and letter["failed_at"] is not None
    assert letter["comment"]["rule"] == "scoring_failed"
    assert page["next_cursor"] is None


async def test_list_pages_with_a_cursor(client, token, settings, sessionmaker, redis_client):
    ids = [
        await make_comment(sessionmaker, body=f"POISON {n}", status=CommentStatus.pending)
        for n in range(3)
    ]
    await RedisJobQueue(redis_client, settings.redis_prefix).enqueue(ids)
    await _score_once(settings, sessionmaker, redis_client, StubScorer())
    r = await client.get(f"{M}/deadletters", params={"limit": "2"}, headers=mod(token))
    first = await r.json()
    assert [i["comment"]["id"] for i in first["items"]] == [ids[2], ids[1]]
    r = await client.get(
        f"{M}/deadletters", params={"limit": "2", "cursor": first["next_cursor"]},
        headers=mod(token),
    )
    second = await r.json()
    assert [i["comment"]["id"] for i in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None


async def test_inspect_shows_the_audit_log(client, token, dead):
    r = await client.get(f"{M}/deadletters/{dead['poison']}", headers=mod(token))
    assert r.status == 200, await r.text()
    letter = await r.json()
    assert [h["action"] for h in letter["history"]] == ["scoring_failed"]
    assert letter["history"][0]["details"]["error"] == "ValueError: this text breaks the model"


async def test_inspect_refuses_what_is_not_a_dead_letter(client, token, dead):
    for comment_id in (dead["fine"], 999_999):
        r = await client.get(f"{M}/deadletters/{comment_id}", headers=mod(token))
        assert r.status == 404
        assert (await r.json())["error"]["code"] == "dead_letter_not_found"
    r = await client.get(f"{M}/deadletters/abc", headers=mod(token))
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_id"


async def test_replay_then_the_scorer_decides(client, token, settings, sessionmaker, redis_client,
                                              dead):
    r = await client.post(
        f"{M}/deadletters/replay",
        json={"comment_ids": [dead["poison"], dead["fine"]]},
        headers=mod(token, "mod-7"),
    )
    assert r.status == 200, await r.text()
    outcome = await r.json()
    assert outcome["replayed"] == 1 and outcome["failed"] == 1
    assert outcome["results"][1] == {
        "id": dead["fine"], "ok": False,
        "error": {"code": "not_dead_letter", "message": "not a held dead letter (any more)"},
    }
    assert (await stored(sessionmaker, dead["poison"])).status == "pending"
    # The model is fixed: the replayed job is decided like any other.
    await _score_once(settings, sessionmaker, redis_client, StubScorer(poison="NOTHING"))
    assert (await stored(sessionmaker, dead["poison"])).status == "approved"
    rows = await audit_rows(sessionmaker, dead["poison"])
    assert [(a.action, a.actor_id, a.after) for a in rows] == [
        ("scoring_failed", "system", "held"),
        ("replay_scoring", "mod-7", "pending"),
        ("auto_moderate", "system", "approved"),
    ]
    r = await client.get(f"{M}/deadletters", headers=mod(token))
    assert (await r.json())["items"] == []


async def test_replay_twice_is_refused_the_second_time(client, token, dead):
    body = {"comment_ids": [dead["poison"]]}
    url = f"{M}/deadletters/replay"
    first = await (await client.post(url, json=body, headers=mod(token))).json()
    again = await (await client.post(url, json=body, headers=mod(token))).json()
    assert first["replayed"] == 1 and again["replayed"] == 0 and again["failed"] == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"comment_ids": []}, {"comment_ids": ["1"]}, {"comment_ids": [0]},
     {"comment_ids": list(range(1, 502))}, {"comment_ids": [1], "extra": True}],
)
async def test_replay_refuses_bad_bodies(client, token, body):
    r = await client.post(f"{M}/deadletters/replay", json=body, headers=mod(token))
    assert r.status == 422
    assert (await r.json())["error"]["code"] == "invalid"


async def test_readers_and_anonymous_are_refused(client, token, dead):
    for headers, status in (({}, 401), (auth(token("reader-9")), 403)):
        assert (await client.get(f"{M}/deadletters", headers=headers)).status == status
        r = await client.post(
            f"{M}/deadletters/replay", json={"comment_ids": [dead["poison"]]}, headers=headers
        )
        assert r.status == status
    r = await client.get(f"{M}/deadletters", params={"cursor": "x"}, headers=mod(token))
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_query"


def test_cli_lists_and_replays(settings, sessionmaker, dead, monkeypatch, capsys):
    for name, value in (
        ("BARAZA_DATABASE_URL", settings.database_url),
        ("BARAZA_REDIS_URL", settings.redis_url),
        ("BARAZA_REDIS_PREFIX", settings.redis_prefix),
        ("BARAZA_JWT_SECRET", settings.jwt_secret),
    ):
        monkeypatch.setenv(name, value)
    assert main(["deadletters", "list"]) == 0
    out = capsys.readouterr().out
    assert f"{dead['poison']}\t" in out and "this text breaks the model" in out
    assert f"{dead['fine']}\t" not in out
    assert main(["deadletters", "replay"]) == 2
    assert main(["deadletters", "replay", "--all"]) == 0
    assert f"{dead['poison']}\treplayed" in capsys.readouterr().out
    assert main(["deadletters", "replay", str(dead["fine"])]) == 1
    assert "not replayed" in capsys.readouterr().out
    assert main(["deadletters", "list"]) == 0
    assert "no dead letters" in capsys.readouterr().out
