"""The nudge in the widget (issue 12 item 6), end to end with a scoring worker on the offline
fallback scorer: a comment held for its toxicity alone tells its author which kinds of language
(never scores), offers one revision within the window, and shows what became of it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.embed.browser.conftest import Stack
from tests.live.conftest import ROOT

# Readers of their own: a held comment counts in its author's record, and a later hold of the
# same author (another test's reader) would be for the record, not the scores, and not nudged.
SCORED = 60_000  # ms: the worker loads the fallback model, then scores
# BARAZA_SCREENSHOTS=1 refreshes docs/embed/nudge.png (docs/embed.md) from this run.
SHOT = ROOT / "docs" / "embed" / "nudge.png"

# The fallback scorer (tox-block LSTM + profanity-check) holds these for toxicity and obscenity
# (scores 0.80-0.97: held, not rejected); no word list, phrase or spam rule fires on them.
HELD = "The minister is a fool."
HELD_TOO = "Only a fool would believe this nonsense."
CLEAN = "The minister is wrong about the budget."


@pytest.fixture
def scoring(stack: Stack) -> Iterator[None]:
    worker = stack.worker()
    try:
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _post(page: Any, text: str) -> Any:
    page.get_by_label("Write a comment").fill(text)
    page.get_by_role("button", name="Post").click()
    posted = page.locator(".bz-awaiting-list .bz-comment").filter(has_text=text)
    expect(posted).to_have_count(1)
    # By id from here on: while it is edited, its text is in a textarea, not the page's text.
    return page.locator(f'.bz-comment[data-comment-id="{posted.get_attribute("data-comment-id")}"]')


def test_nudge_revision_held_again_then_refused(
    stack: Stack, browser: Any, article: str, scoring: None
) -> None:
    page = browser.new_page()
    try:
        page.goto(stack.page(article, reader="wanjiru", mounts="comments"))
        mine = _post(page, HELD)
        nudge = mine.locator(".bz-nudge")
        expect(nudge).to_contain_text("may contain toxic language, obscene language",
                                      timeout=SCORED)
        expect(nudge).not_to_contain_text(re.compile(r"0\.\d"))  # label names, never scores
        expect(nudge).to_have_attribute("role", "status")

        mine.get_by_role("button", name="Revise my comment").click()
        mine.get_by_label("Edit").fill(HELD_TOO)
        mine.get_by_role("button", name="Save").click()
        revised = mine
        expect(revised).to_contain_text(HELD_TOO)
        # Re-scored and held again: the outcome is said, no second offer.
        expect(revised.locator(".bz-nudge")).to_contain_text(
            "still waiting for a moderator", timeout=SCORED)
        expect(revised.get_by_role("button", name="Revise my comment")).to_have_count(0)

        # A second edit is the server's 409 revision_used, its message shown inline.
        revised.get_by_role("button", name="Edit").click()
        revised.get_by_label("Edit").fill("A third try.")
        revised.get_by_role("button", name="Save").click()
        expect(revised.get_by_role("alert")).to_contain_text("already revised once")
    finally:
        page.close()


def test_nudge_revision_published(stack: Stack, browser: Any, article: str, scoring: None
                                  ) -> None:
    page = browser.new_page(viewport={"width": 760, "height": 640})
    try:
        page.goto(stack.page(article, reader="otieno", mounts="comments"))
        mine = _post(page, HELD)
        expect(mine.locator(".bz-nudge")).to_contain_text("You can revise it once before",
                                                          timeout=SCORED)
        if os.environ.get("BARAZA_SCREENSHOTS"):
            page.locator(".bz-thread").screenshot(path=str(SHOT))

        mine.get_by_role("button", name="Revise my comment").click()
        mine.get_by_label("Edit").fill(CLEAN)
        mine.get_by_role("button", name="Save").click()
        published = page.locator(".bz-list:not(.bz-awaiting-list) .bz-comment").filter(
            has_text=CLEAN)
        expect(mine).to_contain_text(CLEAN)
        expect(published.locator(".bz-nudge")).to_contain_text(
            "Your revised comment was published.", timeout=SCORED)
        expect(page.locator(".bz-awaiting-list")).to_have_count(0)
    finally:
        page.close()


def test_nudge_in_swahili(stack: Stack, browser: Any, article: str, scoring: None) -> None:
    page = browser.new_page()
    try:
        page.goto(stack.page(article, reader="halima", mounts="comments", lang="sw"))
        page.get_by_label("Andika maoni").fill(HELD)
        page.locator(".bz-compose form").get_by_role("button").last.click()
        nudge = page.locator(".bz-awaiting-list .bz-nudge")
        expect(nudge).to_contain_text("huenda yana lugha ya kuudhi, lugha chafu", timeout=SCORED)
        expect(nudge.get_by_role("button", name="Rekebisha maoni yangu")).to_be_visible()
    finally:
        page.close()

