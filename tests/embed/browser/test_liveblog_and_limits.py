"""The live blog's older pages, its key-events-only filter and its end, and a 429 shown inline
with the server's own message (the API restarted with rate limits on)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.embed.browser.conftest import Stack
from tests.embed.browser.test_thread import TIMEOUT

PAGE = 20  # BARAZA_LIVEBLOG_PAGE_SIZE


def test_older_updates_key_events_only_and_the_end(stack: Stack, context: Any, article: str
                                                   ) -> None:
    stack.call("PUT", f"/articles/{article}/liveblog", json={"status": "live",
                                                              "title": "Live: the budget"})
    ids = []
    for n in range(PAGE + 5):
        # One key event, old enough to be on the second page only.
        body = {"body": f"Update number {n}.", "key_event": n == 2}
        ids.append(stack.call("POST", f"/articles/{article}/liveblog/posts", json=body)["id"])
    page = context.new_page()
    page.goto(stack.page(article, mounts="liveblog"))
    blog = page.locator('[data-baraza="liveblog"]')
    entries = blog.locator(".bz-list:not(.bz-pinned-list) [data-post-id]")
    expect(entries).to_have_count(PAGE)
    expect(blog.get_by_text("Live", exact=True)).to_be_visible()

    # Key events only: the server's filtered list, so the old key event appears at once.
    blog.get_by_label("Key events only").check()
    expect(entries).to_have_count(1)
    expect(entries.first).to_have_attribute("data-post-id", str(ids[2]))
    expect(entries.first).to_contain_text("Key event")
    expect(blog.get_by_role("button", name="Load older updates")).to_have_count(0)
    blog.get_by_label("Key events only").uncheck()
    expect(entries).to_have_count(PAGE)

    older = blog.get_by_role("button", name="Load older updates")
    older.click()
    expect(entries).to_have_count(PAGE + 5)
    expect(entries.last).to_have_attribute("data-post-id", str(ids[0]))
    expect(older).to_have_count(0)

    # Ended while the page is open: said live, the Live badge goes.
    stack.call("PUT", f"/articles/{article}/liveblog", json={"status": "ended"})
    expect(blog.get_by_text("This live blog has ended.")).to_be_visible(timeout=TIMEOUT)
    expect(blog.get_by_text("Live", exact=True)).to_have_count(0)


@pytest.fixture
def rate_limited(stack: Stack) -> Iterator[None]:
    stack.restart_api(BARAZA_RATE_LIMIT_ENABLED="true",
                      BARAZA_RATE_LIMIT_COMMENTS_USER="2/minute")
    try:
        yield
    finally:
        stack.restart_api()


def test_rate_limit_is_shown_inline(stack: Stack, context: Any, article: str,
                                    rate_limited: None) -> None:
    page = context.new_page()
    page.goto(stack.page(article, reader="achieng", mounts="comments"))
    box = page.get_by_label("Write a comment")
    for n in range(2):
        box.fill(f"Comment number {n}.")
        page.get_by_role("button", name="Post").click()
        expect(page.locator(".bz-awaiting-list")).to_contain_text(f"Comment number {n}.")
    box.fill("One too many.")
    page.get_by_role("button", name="Post").click()
    alert = page.locator(".bz-compose").get_by_role("alert")
    expect(alert).to_contain_text("too many requests; retry in")
    expect(box).to_have_value("One too many.")  # kept for the retry
    expect(box).to_have_attribute("aria-invalid", "true")
