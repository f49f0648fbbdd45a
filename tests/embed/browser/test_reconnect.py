"""The live connection across a server restart: the page reconnects with backoff (on a new
WebSocket, not the SSE fallback, since WebSockets worked before), recovers what it missed from
its channel offset, and refetches when the history no longer covers it. Never a reload."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.embed.browser.conftest import Stack
from tests.embed.browser.test_thread import comment

RECONNECT = 40_000  # ms: the server restarts, then the page's next backoff step reconnects
HISTORY = 50  # BARAZA_LIVE_HISTORY_SIZE of the stack (tests/live/conftest.py)


def _watch(page: Any) -> tuple[list[Any], list[str]]:
    sockets: list[Any] = []
    threads: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    page.on("request", lambda r: threads.append(r.url) if "/comments?" in r.url else None)
    return sockets, threads


def _live(page: Any) -> None:
    """Subscribed: the server's presence count reached the page over the socket."""
    expect(page.locator(".bz-presence")).to_be_visible(timeout=RECONNECT)
    page.evaluate("window.__sameDocument = true")


def test_restart_recovers_a_comment_approved_meanwhile(stack: Stack, context: Any, article: str
                                                       ) -> None:
    before = stack.published(article, "amina", "Before the restart.")
    page = context.new_page()
    sockets, threads = _watch(page)
    page.goto(stack.page(article, mounts="comments"))
    expect(comment(page, before)).to_be_visible()
    _live(page)
    fetched = len(threads)

    with stack.api_down():
        missed = stack.published(article, "baraka", "Approved while the server was down.")

    bar = page.get_by_role("button", name="1 new comment — show")
    expect(bar).to_be_visible(timeout=RECONNECT)
    bar.click()
    expect(comment(page, missed)).to_contain_text("Approved while the server was down.")
    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert len(sockets) >= 2 and all(s.url.endswith("/api/v1/live") for s in sockets)
    assert len(threads) == fetched  # recovered from the offset: the thread was not refetched

    # And live again afterwards, on the new connection.
    after = stack.published(article, "baraka", "After the restart.")
    expect(bar).to_be_visible(timeout=RECONNECT)
    bar.click()
    expect(comment(page, after)).to_be_visible()


def test_restart_beyond_the_history_refetches(stack: Stack, context: Any, article: str) -> None:
    before = stack.published(article, "amina", "Before the restart.")
    page = context.new_page()
    sockets, threads = _watch(page)
    page.goto(stack.page(article, mounts="comments"))
    expect(comment(page, before)).to_be_visible()
    _live(page)
    fetched = len(threads)

    with stack.api_down():
        # More events on the article's channel than its history keeps (live-blog entries: they
        # leave no scoring jobs behind for later tests' workers), and one comment approved.
        stack.call("PUT", f"/articles/{article}/liveblog", json={"status": "live"})
        for n in range(HISTORY + 5):
            stack.call("POST", f"/articles/{article}/liveblog/posts", json={"body": f"Entry {n}."})
        missed = stack.published(article, "baraka", "Approved beyond the history.")

    # `recovered: false` after reconnect: the thread is fetched again.
    expect(page.locator(".bz-total")).to_have_text("(2)", timeout=RECONNECT)
    assert len(threads) > fetched
    expect(comment(page, missed)).to_be_visible()  # in the list at once, not under the bar
    expect(page.locator(".bz-newbar")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True
    assert len(sockets) >= 2
