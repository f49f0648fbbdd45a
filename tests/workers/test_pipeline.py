"""The scoring pipeline against real Redis and Postgres: decisions, idempotency, crash safety."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from server.articles.models import Article
from server.comments.models import Comment, CommentStatus
from server.jobs.base import Job
from server.jobs.redis import RedisJobQueue
from server.live.base import MODERATION_CHANNEL, EventType, article_channel
from server.moderation.models import ModerationAction
from server.users.models import User
from tests.conftest import BOTH_REDIS, auth
from tests.factories import make_comment
from tests.workers.pipeline_support import (
    BrokenScorer,
    RecordingBroker,
    StubScorer,
    all_decided,
    eventually,
    make_service,
    statuses,
    system_actions,
)
from workers import metrics
from workers.consumer import Consumer, ConsumerConfig
from workers.judge import PolicyJudge
from workers.pipeline import Pipeline

pytestmark = pytest.mark.parametrize("redis_target", BOTH_REDIS, indirect=True)


def _pipeline(sessionmaker, scorer=None, channels=None) -> Pipeline:
    return Pipeline(
        sessionmaker=sessionmaker, channels=channels or RecordingBroker(),
        scorer=scorer or StubScorer(), judge=PolicyJudge(),
    )


def _consumer(name, jobs, pipeline, *, idle_ms=60_000, max_deliveries=5, size=32, wait_ms=20):
    config = ConsumerConfig(batch_size=size, batch_wait_ms=wait_ms, claim_idle_ms=idle_ms,
                            max_deliveries=max_deliveries)
    return Consumer(name=name, jobs=jobs, handler=pipeline, config=config,
                    stopping=asyncio.Event())


async def _pending_comments(sessionmaker, bodies, **kwargs) -> list[int]:
    return [
        await make_comment(sessionmaker, body=body, status=CommentStatus.pending, **kwargs)
        for body in bodies
    ]


async def test_post_to_decision_end_to_end(client, token, settings, sessionmaker, redis_client):
    channels = RecordingBroker()
    service = make_service(settings, sessionmaker, redis_client, channels=channels, concurrency=2)
    service.start()
    try:
        url = "/api/v1/articles/story-1/comments"
        ok = await client.post(url, json={"body": "Thank you for this careful report."},
                               headers=auth(token("amina")))
        rude = await client.post(url, json={"body": "The minister is an idiot."},
                                 headers=auth(token("baraka")))
        assert ok.status == rude.status == 202
        ids = [(await ok.json())["id"], (await rude.json())["id"]]
        await eventually(lambda: all_decided(sessionmaker, ids))
    finally:
        await service.stop(5)
    async with sessionmaker() as session:
        approved, held = [await session.get(Comment, i) for i in ids]
        article = await session.get(Article, "story-1")
        author = await session.get(User, "amina")
        audit = (await session.scalars(
            select(ModerationAction).where(ModerationAction.comment_id == ids[1])
        )).one()
    assert approved.status == "approved" and approved.visible
    assert approved.decision_reason == "approved" and approved.decided_at is not None
    assert approved.model == "stub-scorer/1" and approved.scores["toxicity"] == 0.01
    assert held.status == "held" and not held.visible
    assert held.decision_reason == "held: toxicity 0.90 ≥ 0.80"
    assert held.risk == 0.9 and held.scores["toxicity"] == 0.9
    assert (audit.actor_id, audit.before, audit.after) == ("system", "pending", "held")
    assert audit.reason == held.decision_reason
    assert audit.details["rule"] == "score_hold" and audit.details["model"] == "stub-scorer/1"
    assert article.comment_count == 1 and author.approved_count == 1
    published = channels.of(EventType.comment_published)
    assert [(e.channel, e.data["id"]) for e in published] == [(article_channel("story-1"), ids[0])]
    queued = channels.of(EventType.comment_queued)
    assert [(e.channel, e.data["id"]) for e in queued] == [(MODERATION_CHANNEL, ids[1])]
    assert channels.of(EventType.queue_counts)
    assert await RedisJobQueue(redis_client, settings.redis_prefix).pending_count() == 0


async def test_policy_inputs_come_from_the_database(sessionmaker):
    """Pre-moderated article, premod author and banned author are decided by their rules."""
    from tests.factories import make_user

    [premod_article] = await _pending_comments(sessionmaker, ["Fine words."], article_id="pre-1")
    async with sessionmaker.begin() as session:
        (await session.get(Article, "pre-1")).moderation = "pre"
    [watched] = await _pending_comments(sessionmaker, ["Fine words."], author="watched")
    [gone] = await _pending_comments(sessionmaker, ["Fine words."], author="gone")
    # After the comments: make_comment resets its author to active.
    await make_user(sessionmaker, "watched", status="premod")
    await make_user(sessionmaker, "gone", status="banned")
    ids = [premod_article, watched, gone]
    result = await _pipeline(sessionmaker).handle(
        [Job(id=f"{i}-0", comment_id=i, deliveries=1) for i in ids]
    )
    assert len(result.done) == 3 and not result.failed
    async with sessionmaker() as session:
        reasons = dict((await session.execute(
            select(Comment.id, Comment.decision_reason).where(Comment.id.in_(ids))
        )).tuples().all())
    assert reasons == {
        premod_article: "held: article in pre-moderation",
        watched: "held: author in pre-moderation",
        gone: "rejected: author banned",
    }


async def test_same_job_twice_decides_once(sessionmaker):
    [comment_id] = await _pending_comments(sessionmaker, ["A fair point about fuel prices."])
    pipeline = _pipeline(sessionmaker)
    job = Job(id="1-0", comment_id=comment_id, deliveries=1)
    first = await pipeline.handle([job])
    again = await pipeline.handle([job, Job(id="2-0", comment_id=comment_id, deliveries=1)])
    assert first.done == [job] and len(again.done) == 2 and not again.failed
    assert await system_actions(sessionmaker) == {comment_id: 1}
    async with sessionmaker() as session:
        article = await session.get(Article, "article-1")
        author = await session.get(User, "author-1")
    assert article.comment_count == 1 and author.approved_count == 1


async def test_edited_text_is_left_to_its_own_job(sessionmaker, monkeypatch):
    """A decision about the old text is not applied to a comment edited meanwhile."""
    [comment_id] = await _pending_comments(sessionmaker, ["First version."])
    pipeline = _pipeline(sessionmaker)
    original = pipeline._judge_all

    async def edit_then_judge(subjects, errors):
        verdicts = await original(subjects, errors)
        async with sessionmaker.begin() as session:
            (await session.get(Comment, comment_id)).body = "Second version, an idiot wrote it."
        return verdicts

    monkeypatch.setattr(pipeline, "_judge_all", edit_then_judge)
    result = await pipeline.handle([Job(id="1-0", comment_id=comment_id, deliveries=1)])
    assert len(result.done) == 1
    assert await statuses(sessionmaker, [comment_id]) == {comment_id: "pending"}
    assert await system_actions(sessionmaker) == {}


async def test_jobs_are_scored_in_one_batch(settings, sessionmaker, redis_client):
    ids = await _pending_comments(sessionmaker, [f"Comment number {n}." for n in range(10)])
    jobs = RedisJobQueue(redis_client, settings.redis_prefix)
    await jobs.enqueue(ids)
    scorer = StubScorer()
    consumer = _consumer("c1", jobs, _pipeline(sessionmaker, scorer), size=8, wait_ms=50)
    assert await consumer.run_once() == 8
    assert await consumer.run_once() == 2
    assert scorer.calls == [8, 2]
    assert await all_decided(sessionmaker, ids)
    assert await jobs.pending_count() == 0


async def test_consumer_killed_mid_batch_is_finished_by_another(
    settings, sessionmaker, redis_client
):
    """A consumer reads six jobs, stores three decisions and dies before acknowledging any:
    another consumer reclaims all six and every comment ends decided exactly once."""
    ids = await _pending_comments(
        sessionmaker, [f"Opinion {n} on the budget." for n in range(5)] + ["You idiot."]
    )
    jobs = RedisJobQueue(redis_client, settings.redis_prefix)
    await jobs.enqueue(ids)
    read = await jobs.read("doomed", 10, 100)
    assert sorted(j.comment_id for j in read) == ids
    await _pipeline(sessionmaker).handle(read[:3])  # committed, never acknowledged: "killed"
    assert await jobs.pending_count() == 6

    survivor = _consumer("survivor", jobs, _pipeline(sessionmaker), idle_ms=200)
    await asyncio.sleep(0.25)
    assert await survivor.run_once() == 6
    assert await jobs.pending_count() == 0
    assert await system_actions(sessionmaker) == dict.fromkeys(ids, 1)
    assert (await statuses(sessionmaker, ids))[ids[-1]] == "held"
    async with sessionmaker() as session:
        article = await session.get(Article, "article-1")
    assert article.comment_count == 5


async def test_redis_flushed_sweeper_recovers_pending(
    make_settings, sessionmaker, redis_client, client, token
):
    settings = make_settings(sweeper_interval_seconds=0.2, sweeper_pending_after_seconds=0.5)
    url = "/api/v1/articles/story-2/comments"
    ids = []
    for n in range(3):
        r = await client.post(url, json={"body": f"Point {n}."}, headers=auth(token(f"r{n}")))
        ids.append((await r.json())["id"])
    # Redis loses everything the jobs were in.
    keys = [k async for k in redis_client.scan_iter(match=f"{settings.redis_prefix}jobs:*")]
    assert keys
    await redis_client.delete(*keys)
    service = make_service(settings, sessionmaker, redis_client)
    service.start()
    try:
        await eventually(lambda: all_decided(sessionmaker, ids), timeout=20)
    finally:
        await service.stop(5)
    assert set((await statuses(sessionmaker, ids)).values()) == {"approved"}
    assert await system_actions(sessionmaker) == dict.fromkeys(ids, 1)


async def test_poison_comment_is_dead_lettered_and_held(settings, sessionmaker, redis_client):
    ids = await _pending_comments(
        sessionmaker, ["Calm words.", "This one is POISON to the model.", "More calm words."]
    )
    jobs = RedisJobQueue(redis_client, settings.redis_prefix)
    await jobs.enqueue(ids)
    channels = RecordingBroker()
    consumer = _consumer(
        "c1", jobs, _pipeline(sessionmaker, channels=channels), idle_ms=50, max_deliveries=3
    )
    assert await consumer.run_once() == 3
    # Its batch-mates are decided at once; the poison waits for a retry.
    assert await statuses(sessionmaker, ids) == {
        ids[0]: "approved", ids[1]: "pending", ids[2]: "approved"
    }
    for _ in range(2):
        await asyncio.sleep(0.06)
        assert await consumer.run_once() == 1
    assert await jobs.pending_count() == 0
    [dead] = await jobs.dead_letters()
    assert dead.comment_id == ids[1] and dead.deliveries == 3
    assert dead.error == "ValueError: this text breaks the model"
    async with sessionmaker() as session:
        poison = await session.get(Comment, ids[1])
        audit = (await session.scalars(
            select(ModerationAction).where(ModerationAction.comment_id == ids[1])
        )).one()
    assert poison.status == "held"
    assert poison.decision_reason == "held: scoring failed (ValueError: this text breaks the model)"
    assert (audit.actor_id, audit.action, audit.details["rule"]) == (
        "system", "scoring_failed", "scoring_failed"
    )
    assert [e.data["id"] for e in channels.of(EventType.comment_queued)] == [ids[1]]


async def test_job_of_a_dead_consumer_past_its_deliveries_is_retired(
    settings, sessionmaker, redis_client
):
    """A comment that kills every consumer that reads it is held, not retried for ever."""
    [comment_id] = await _pending_comments(sessionmaker, ["Looks harmless."])
    jobs = RedisJobQueue(redis_client, settings.redis_prefix)
    await jobs.enqueue([comment_id])
    await jobs.read("crashed-1", 1, 100)
    await asyncio.sleep(0.03)
    await jobs.claim_stale("crashed-2", 20, 10)  # delivery 2, and that consumer died too
    await asyncio.sleep(0.03)
    consumer = _consumer("c3", jobs, _pipeline(sessionmaker), idle_ms=20, max_deliveries=2)
    assert await consumer.run_once() == 1
    [dead] = await jobs.dead_letters()
    assert dead.error == "not acknowledged after 2 deliveries"
    assert await statuses(sessionmaker, [comment_id]) == {comment_id: "held"}


async def test_stored_word_lists_apply_and_reload(sessionmaker):
    from server.moderation.policy.store import save_wordlist

    judge = PolicyJudge(check_interval=0)
    pipeline = Pipeline(sessionmaker=sessionmaker, channels=RecordingBroker(),
                        scorer=StubScorer(), judge=judge)
    [before] = await _pending_comments(sessionmaker, ["Such a w4nker of a minister."])
    await pipeline.handle([Job(id="1-0", comment_id=before, deliveries=1)])
    async with sessionmaker.begin() as session:
        await save_wordlist(session, "banned", ["wanker"], actor="admin-1")
    [after] = await _pending_comments(sessionmaker, ["Such a w4nker of a minister."])
    await pipeline.handle([Job(id="2-0", comment_id=after, deliveries=1)])
    async with sessionmaker() as session:
        reasons = dict((await session.execute(
            select(Comment.id, Comment.decision_reason).where(Comment.id.in_([before, after]))
        )).tuples().all())
    assert reasons == {before: "approved", after: 'rejected: banned_word "wanker"'}


async def test_stop_finishes_the_batch_in_hand(settings, sessionmaker, redis_client):
    ids = await _pending_comments(sessionmaker, [f"Slow comment {n}." for n in range(3)])
    scorer = StubScorer(delay=0.5)
    service = make_service(settings, sessionmaker, redis_client, scorer=scorer)
    service.start()
    jobs = RedisJobQueue(redis_client, settings.redis_prefix)
    await jobs.enqueue(ids)

    async def scoring() -> bool:
        return bool(scorer.calls)

    await eventually(scoring)
    await service.stop(10)  # what SIGTERM does: the model call in progress completes
    assert await all_decided(sessionmaker, ids)
    assert await jobs.pending_count() == 0


async def test_broken_scorer_fails_the_batch_until_dead_letter(
    settings, sessionmaker, redis_client
):
    ids = await _pending_comments(sessionmaker, ["One.", "Two."])
    jobs = RedisJobQueue(redis_client, settings.redis_prefix)
    await jobs.enqueue(ids)
    consumer = _consumer("c1", jobs, _pipeline(sessionmaker, BrokenScorer()), idle_ms=30,
                         max_deliveries=2)
    assert await consumer.run_once() == 2
    assert await jobs.pending_count() == 2  # not acknowledged: retried later
    await asyncio.sleep(0.04)
    assert await consumer.run_once() == 2
    assert await jobs.pending_count() == 0
    assert {d.error for d in await jobs.dead_letters()} == {"RuntimeError: CUDA out of memory"}
    assert await statuses(sessionmaker, ids) == dict.fromkeys(ids, "held")


async def test_redis_back_empty_pending_comments_are_recovered_at_once_without_duplicates(
    make_settings, sessionmaker, redis_client, client, token
):
    # The periodic sweep would wait two minutes: only the lost-stream check can decide these.
    settings = make_settings(sweeper_interval_seconds=30, sweeper_pending_after_seconds=120,
                             sweeper_lost_check_seconds=0.2)
    url = "/api/v1/articles/story-3/comments"

    async def post(n: int) -> int:
        r = await client.post(url, json={"body": f"Point {n}."}, headers=auth(token(f"r{n}")))
        return (await r.json())["id"]

    first = make_service(settings, sessionmaker, redis_client)
    first.start()  # creates the group, as a running worker would have
    await eventually(lambda: _group_exists(redis_client, settings.redis_prefix))
    await first.stop(5)
    lost = [await post(n) for n in range(3)]
    # Redis comes back empty: the stream and its group are gone with the three jobs.
    keys = [k async for k in redis_client.scan_iter(match=f"{settings.redis_prefix}jobs:*")]
    assert keys
    await redis_client.delete(*keys)
    queued = [await post(n) for n in range(3, 5)]  # enqueued again, into a stream with no group

    swept_before = metrics.SWEPT._value.get()
    service = make_service(settings, sessionmaker, redis_client)
    service.start()
    try:
        await eventually(lambda: all_decided(sessionmaker, lost + queued), timeout=20)
    finally:
        await service.stop(5)
    assert metrics.SWEPT._value.get() - swept_before == len(lost)
    assert await system_actions(sessionmaker) == dict.fromkeys(lost + queued, 1)


async def _group_exists(redis_client, prefix: str) -> bool:
    try:
        return bool(await redis_client.xinfo_groups(f"{prefix}jobs:score"))
    except Exception:
        return False


async def test_disguised_insult_is_held_with_the_deobfuscated_reason(sessionmaker):
    [comment_id] = await _pending_comments(sessionmaker, ["You are an 1d10t."])
    result = await _pipeline(sessionmaker).handle(
        [Job(id="1-0", comment_id=comment_id, deliveries=1)]
    )
    assert len(result.done) == 1
    async with sessionmaker() as session:
        comment = await session.get(Comment, comment_id)
    assert comment.status == "held"
    assert comment.decision_reason == "held: toxicity 0.90 ≥ 0.80 (de-obfuscated text)"
