"""The stored policy: defaults with no rows, versioned saves with audit rows, the reload cache."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.moderation.models import ModerationAction
from server.moderation.policy.rules import LabelThresholds, PolicyConfig
from server.moderation.policy.store import (
    ModerationPolicy,
    PolicyCache,
    PolicyVersions,
    WordlistKind,
    get_policy_config,
    get_wordlist,
    load_policy,
    policy_versions,
    save_policy_config,
    save_wordlist,
)
from server.moderation.policy.words import default_suspect_words


async def _audit(sessionmaker):
    async with sessionmaker() as session:
        return (await session.scalars(select(ModerationAction).order_by(ModerationAction.id))).all()


async def test_defaults_without_rows(sessionmaker):
    async with sessionmaker() as session:
        config, banned, suspect = await load_policy(session)
        assert config == PolicyConfig()
        assert banned.entries == ()
        assert suspect.entries == default_suspect_words()
        assert await policy_versions(session) == PolicyVersions(0, 0, 0)
        stored = await get_wordlist(session, "suspect")
        assert (stored.version, stored.updated_by) == (0, None)


async def test_save_config_bumps_version_and_audits(sessionmaker):
    first = PolicyConfig(report_hold_count=5)
    second = PolicyConfig.from_dict({"thresholds": {"toxicity": {"hold": 0.6, "reject": 0.9}}})
    async with sessionmaker.begin() as session:
        assert await save_policy_config(session, first, "admin-1", "fewer false holds") == 1
    async with sessionmaker.begin() as session:
        assert await save_policy_config(session, second, "admin-2") == 2
    async with sessionmaker() as session:
        stored = await get_policy_config(session)
        assert (stored.config, stored.version, stored.updated_by) == (second, 2, "admin-2")
        assert stored.config.thresholds["toxicity"] == LabelThresholds(hold=0.6, reject=0.9)
    audit = await _audit(sessionmaker)
    assert [(a.action, a.actor_id, a.before, a.after) for a in audit] == [
        ("policy.update", "admin-1", "0", "1"),
        ("policy.update", "admin-2", "1", "2"),
    ]
    assert audit[0].reason == "fewer false holds"
    assert audit[0].details["before"] == PolicyConfig().to_dict()
    assert audit[1].details["before"]["report_hold_count"] == 5
    assert audit[1].details["after"] == second.to_dict()


async def test_save_wordlist_cleans_versions_and_audits(sessionmaker):
    async with sessionmaker.begin() as session:
        version = await save_wordlist(session, WordlistKind.banned, [" scum ", "scum", "rat"], "m1")
        assert version == 1
    async with sessionmaker.begin() as session:
        assert await save_wordlist(session, "banned", ["rat", "vermin"], "m2") == 2
    async with sessionmaker() as session:
        stored = await get_wordlist(session, "banned")
        assert (stored.words, stored.version, stored.updated_by) == (("rat", "vermin"), 2, "m2")
        _, banned, suspect = await load_policy(session)
        assert banned.find("you v3rmin and R.A.T") == ["vermin", "rat"]
        assert suspect.entries == default_suspect_words()
    audit = await _audit(sessionmaker)
    assert [a.action for a in audit] == ["wordlist.update", "wordlist.update"]
    assert audit[0].details["added"] == ["scum", "rat"]
    assert audit[1].details["added"] == ["vermin"]
    assert audit[1].details["removed"] == ["scum"]
    assert audit[1].details["kind"] == "banned"


async def test_saving_the_suspect_list_replaces_the_default(sessionmaker):
    async with sessionmaker.begin() as session:
        await save_wordlist(session, "suspect", [], "admin")
    async with sessionmaker() as session:
        _, _, suspect = await load_policy(session)
        assert suspect.entries == ()
    audit = await _audit(sessionmaker)
    assert audit[0].details["removed"] == list(default_suspect_words())


async def test_bad_wordlists_are_refused(sessionmaker):
    async with sessionmaker.begin() as session:
        with pytest.raises(ValueError, match="no letters or digits"):
            await save_wordlist(session, "banned", ["ok", "!!!"], "admin")
        with pytest.raises(ValueError):
            await save_wordlist(session, "allowed", ["ok"], "admin")
    async with sessionmaker() as session:
        assert await policy_versions(session) == PolicyVersions(0, 0, 0)
    assert await _audit(sessionmaker) == []


async def test_an_invalid_stored_config_falls_back_to_defaults(sessionmaker):
    async with sessionmaker.begin() as session:
        session.add(
            ModerationPolicy(id=1, version=7, config={"thresholds": {"bogus": {}}}, updated_by="x")
        )
    async with sessionmaker() as session:
        stored = await get_policy_config(session)
        assert (stored.config, stored.version) == (PolicyConfig(), 7)


async def test_cache_reloads_only_when_a_version_changes(sessionmaker):
    cache = PolicyCache()
    async with sessionmaker() as session:
        first = await cache.get(session)
        assert await cache.get(session) is first
        assert cache.reloads == 1
        assert cache.versions == PolicyVersions(0, 0, 0)
    async with sessionmaker.begin() as session:
        await save_wordlist(session, "banned", ["scum"], "admin")
    async with sessionmaker() as session:
        second = await cache.get(session)
        assert cache.reloads == 2
        assert second.banned.entries == ("scum",)
        assert second.suspect is first.suspect  # unchanged lists are not recompiled
        assert cache.versions == PolicyVersions(0, 1, 0)
        cache.invalidate()
        assert (await cache.get(session)).banned.entries == ("scum",)
        assert cache.reloads == 3


async def test_cache_check_interval(sessionmaker):
    now = [100.0]
    cache = PolicyCache(check_interval=5.0, clock=lambda: now[0])
    async with sessionmaker() as session:
        await cache.get(session)
    async with sessionmaker.begin() as session:
        await save_policy_config(session, PolicyConfig(report_hold_count=1), "admin")
    async with sessionmaker() as session:
        now[0] = 104.0
        assert (await cache.get(session)).config.report_hold_count == 3  # not checked yet
        now[0] = 105.0
        assert (await cache.get(session)).config.report_hold_count == 1
    with pytest.raises(ValueError):
        PolicyCache(check_interval=-1)
