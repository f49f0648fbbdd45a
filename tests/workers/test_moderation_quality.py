"""The pipeline's new inputs end to end: the nudge, spam counters and the detected language."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import REGISTRY
from sqlalchemy import select

from server.comments.models import Comment, CommentStatus
from server.jobs.base import Job
from server.lifecycle import CommentEvent, EventKind, EventRelay
from server.lifecycle.subscribers import NudgeNotices, PageInvalidation
from server.live.base import PAGES_CHANNEL, EventType
from server.moderation.models import ModerationAction
from server.moderation.policy.rules import PolicyConfig
from server.moderation.policy.store import save_policy_config
from tests.conftest import auth
from tests.factories import make_comment
from tests.workers.pipeline_support import RecordingBroker, StubScorer
from workers.judge import PolicyJudge
from workers.language import LanguageDetector
from workers.pipeline import Pipeline
from workers.spam import MemorySpamTracker

URL = "/api/v1/articles/story-1/comments"


def _pipeline(sessionmaker, channels, **kwargs) -> Pipeline:
    return Pipeline(
        sessionmaker=sessionmaker, channels=channels, scorer=StubScorer(), judge=PolicyJudge(),
        **kwargs,
    )


async def _decide(pipeline: Pipeline, *ids: int) -> None:
    result = await pipeline.handle([Job(id=f"{i}-0", comment_id=i, deliveries=1) for i in ids])
    assert not result.failed


async def _comment(sessionmaker, comment_id: int) -> Comment:
    async with sessionmaker() as session:
        comment = await session.get(Comment, comment_id)
    assert comment is not None
    return comment


def _revisions() -> float:
    return REGISTRY.get_sample_value("baraza_nudged_revisions_total") or 0.0


def _nudges() -> float:
    return REGISTRY.get_sample_value("baraza_nudges_total") or 0.0


async def test_nudge_offers_one_revision_that_is_rescored(client, token, sessionmaker):
    channels = RecordingBroker()
    pipeline = _pipeline(sessionmaker, channels)
    headers = auth(token("amina"))
    posted = await client.post(URL, json={"body": "The minister is an idiot."}, headers=headers)
    comment_id = (await posted.json())["id"]
    offered = _nudges()
    await _decide(pipeline, comment_id)
    assert _nudges() == offered + 1
    held = await _comment(sessionmaker, comment_id)
    assert (held.status, held.nudge) == ("held", "offered")
    [nudge] = channels.of(EventType.comment_nudged)
    assert nudge.channel == "user:amina"
    assert nudge.data["comment_id"] == comment_id and nudge.data["labels"] == ["toxicity"]
    assert "toxic language" in nudge.data["message"]
    # Label names, never scores.
    assert set(nudge.data) == {
        "comment_id", "article_id", "labels", "kinds", "revise_until", "message"
    }
    assert not any(isinstance(value, float) for value in nudge.data.values())

    before = _revisions()
    revised = await client.patch(
        f"/api/v1/comments/{comment_id}", json={"body": "The minister is wrong, and an idiot."},
        headers=headers,
    )
    assert revised.status == 200, await revised.text()
    assert _revisions() == before + 1
    again = await _comment(sessionmaker, comment_id)
    assert (again.status, again.nudge) == ("pending", "revised")
    await _decide(pipeline, comment_id)
    assert (await _comment(sessionmaker, comment_id)).status == "held"
    assert len(channels.of(EventType.comment_nudged)) == 1  # once only
    assert _nudges() == offered + 1
    refused = await client.patch(
        f"/api/v1/comments/{comment_id}", json={"body": "Third try."}, headers=headers
    )
    assert refused.status == 409
    assert (await refused.json())["error"]["code"] == "revision_used"


async def test_the_nudge_is_a_lifecycle_event_told_by_a_subscriber(client, token, sessionmaker):
    heard: list[CommentEvent] = []

    async def subscriber(events: Sequence[CommentEvent]) -> None:
        heard.extend(events)

    channels = RecordingBroker()
    relay = EventRelay(sessionmaker, [subscriber, NudgeNotices(channels)])
    pipeline = _pipeline(sessionmaker, channels, events=relay)
    headers = auth(token("zawadi"))
    posted = await client.post(URL, json={"body": "You idiot."}, headers=headers)
    comment_id = (await posted.json())["id"]
    await _decide(pipeline, comment_id)
    # Recorded in the transaction that stored the hold, after it, with what the author sees.
    assert [e.kind for e in heard] == [EventKind.held, EventKind.nudged]
    nudged = heard[1]
    assert (nudged.before, nudged.after, nudged.visible) == ("held", "held", False)
    assert nudged.data["labels"] == ["toxicity"] and "revise_until" in nudged.data
    assert CommentEvent.from_json(nudged.to_json()) == nudged  # as the outbox stores it
    [told] = channels.of(EventType.comment_nudged)
    assert told.channel == "user:zawadi" and told.data["comment_id"] == comment_id
    # A nudge changes no page.
    await PageInvalidation(channels)([nudged])
    assert [e for e in channels.events if e.channel == PAGES_CHANNEL] == []

    await client.patch(
        f"/api/v1/comments/{comment_id}", json={"body": "I disagree."}, headers=headers
    )
    async with sessionmaker() as session:
        rows = (
            await session.scalars(
                select(ModerationAction)
                .where(ModerationAction.comment_id == comment_id)
                .order_by(ModerationAction.id)
            )
        ).all()
    held, edited = rows[-2:]
    assert held.action == "auto_moderate" and held.details is not None
    assert held.details["nudge"]["labels"] == ["toxicity"]
    assert edited.action == "edit" and edited.details == {"nudge": "revised"}


async def test_a_revision_that_reads_well_is_approved(client, token, sessionmaker):
    channels = RecordingBroker()
    pipeline = _pipeline(sessionmaker, channels)
    headers = auth(token("baraka"))
    posted = await client.post(URL, json={"body": "What an idiot."}, headers=headers)
    comment_id = (await posted.json())["id"]
    await _decide(pipeline, comment_id)
    await client.patch(
        f"/api/v1/comments/{comment_id}", json={"body": "I disagree with him."}, headers=headers
    )
    await _decide(pipeline, comment_id)
    assert (await _comment(sessionmaker, comment_id)).status == "approved"


async def test_holds_for_words_phrases_or_premoderation_are_not_nudged(sessionmaker):
    channels = RecordingBroker()
    pipeline = _pipeline(sessionmaker, channels)
    threat = await make_comment(
        sessionmaker, body="Idiot, I know where you live.", status=CommentStatus.pending
    )
    word = await make_comment(
        sessionmaker, body="You idiot nigger.", status=CommentStatus.pending, author="u2"
    )
    await _decide(pipeline, threat, word)
    assert (await _comment(sessionmaker, threat)).decision_reason == (
        "held: toxicity 0.90 ≥ 0.80"
    )
    assert (await _comment(sessionmaker, threat)).nudge is None
    assert (await _comment(sessionmaker, word)).nudge is None
    assert channels.of(EventType.comment_nudged) == []


async def test_spam_campaign_across_accounts_is_held_on_its_third_copy(sessionmaker):
    pipeline = _pipeline(sessionmaker, RecordingBroker(), spam=MemorySpamTracker())
    text = "Make KSH 5000 every day from home, register today and start earning money"
    ids = [
        await make_comment(sessionmaker, body=text, status=CommentStatus.pending,
                           author=f"bot{i}", article_id=f"story-{i}")
        for i in range(3)
    ]
    for comment_id in ids:
        await _decide(pipeline, comment_id)
    reasons = [(await _comment(sessionmaker, i)).decision_reason for i in ids]
    assert reasons[:2] == ["approved", "approved"]
    assert reasons[2] == (
        "held: spam_duplicate (2 near-duplicates on other articles or accounts ≥ 2)"
    )


async def test_language_is_stored_and_the_policy_decides_for_unread_languages(sessionmaker):
    async with sessionmaker.begin() as session:
        config = PolicyConfig.from_dict({"languages": {"unsupported": "hold"}})
        await save_policy_config(session, config, "admin-1", None)
    pipeline = _pipeline(
        sessionmaker, RecordingBroker(), language=LanguageDetector.load(["en", "sw"])
    )
    swahili = await make_comment(
        sessionmaker, body="Huyu mwandishi hajui chochote kuhusu usalama wa Somalia.",
        status=CommentStatus.pending,
    )
    english = await make_comment(
        sessionmaker, body="This writer knows nothing about security in Somalia.",
        status=CommentStatus.pending, author="u2",
    )
    await _decide(pipeline, swahili, english)
    sw, en = await _comment(sessionmaker, swahili), await _comment(sessionmaker, english)
    assert (sw.language, sw.status) == ("sw", "held")
    assert sw.decision_reason == "held: unsupported_language (sw is not read by the model)"
    assert (en.language, en.status) == ("en", "approved")
