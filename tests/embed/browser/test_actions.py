"""A signed-in reader's actions through the widget: reply, edit, delete, react, report; a token
refreshed on a 401; the server's errors shown inline."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import JWT_SECRET
from tests.embed.browser.conftest import Stack
from tests.embed.browser.test_thread import TIMEOUT, comment


def test_reply_edit_delete_react_and_report(stack: Stack, browser: Any, article: str) -> None:
    theirs = stack.published(article, "baraka", "The talks in Nairobi went well.")
    mine = stack.published(article, "amina", "My first take on the story.")
    doomed = stack.published(article, "amina", "A comment I will delete.")
    reader_ctx, watcher_ctx = browser.new_context(), browser.new_context()
    try:
        page = reader_ctx.new_page()
        page.goto(stack.page(article, reader="amina"))
        watcher = watcher_ctx.new_page()
        watcher.goto(stack.page(article))
        expect(comment(watcher, theirs)).to_be_visible()

        # Reaction: pressed here, the count reaches the other page live.
        like = comment(page, theirs).get_by_role("button", name="Like")
        like.click()
        expect(like).to_have_attribute("aria-pressed", "true")
        expect(like).to_contain_text("1")
        expect(comment(watcher, theirs).get_by_role("button", name="Like")).to_contain_text(
            "1", timeout=TIMEOUT)

        # Reply: it waits for review under the reader's own comments.
        comment(page, theirs).get_by_role("button", name="Reply").click()
        page.get_by_label("Write a reply").fill("Agreed, and the follow-up matters.")
        comment(page, theirs).get_by_role("button", name="Post").click()
        expect(page.locator(".bz-awaiting-list")).to_contain_text(
            "Agreed, and the follow-up matters.")

        # Edit: the new text goes back to review.
        comment(page, mine).get_by_role("button", name="Edit").click()
        box = comment(page, mine).get_by_label("Edit")
        expect(box).to_have_value("My first take on the story.")
        box.fill("My first take, corrected.")
        comment(page, mine).get_by_role("button", name="Save").click()
        expect(page.locator(f'.bz-awaiting-list [data-comment-id="{mine}"]')).to_contain_text(
            "My first take, corrected.")
        expect(page.locator(f'.bz-list:not(.bz-awaiting-list) [data-comment-id="{mine}"]')
               ).to_have_count(0)

        # Delete, confirmed inline (no browser dialog).
        comment(page, doomed).get_by_role("button", name="Delete").click()
        comment(page, doomed).get_by_role("group", name="Delete this comment?").get_by_role(
            "button", name="Delete").click()
        expect(comment(page, doomed)).to_have_count(0)
        expect(comment(watcher, doomed)).to_have_count(0, timeout=TIMEOUT)

        # Report with a reason.
        comment(page, theirs).get_by_role("button", name="Report").click()
        page.get_by_label("Why are you reporting this comment?").select_option("spam")
        page.get_by_role("button", name="Send report").click()
        expect(page.get_by_text("Thank you, the moderators will look at it.")).to_be_visible()
        # One's own comments offer no report button.
        expect(comment(page, mine).get_by_role("button", name="Report")).to_have_count(0)
    finally:
        reader_ctx.close()
        watcher_ctx.close()


def test_api_errors_are_shown_inline_and_the_counter_warns(
    stack: Stack, context: Any, article: str
) -> None:
    stack.call("PUT", f"/articles/{article}", json={"comments": "open"})
    stack.post(article, "omari", "First words.")  # Baraza knows a reader from their first write
    page = context.new_page()
    page.goto(stack.page(article, reader="omari"))
    box = page.get_by_label("Write a comment")
    box.fill("x" * 4_900)
    expect(page.get_by_text("100 characters left")).to_be_visible()
    box.fill("x" * 5_001)
    expect(page.get_by_text("1 characters too many")).to_be_visible()
    expect(page.get_by_role("button", name="Post")).to_be_disabled()
    # The server's own message, inline: the reader is banned meanwhile (a reader of this test
    # only: the stack is shared by the module's tests).
    stack.call("POST", "/moderation/users/omari/status", "mod-1", ("moderator",),
               json={"status": "banned", "reason": "test"})
    box.fill("Let me in.")
    page.get_by_role("button", name="Post").click()
    alert = page.locator(".bz-composer").get_by_role("alert")
    expect(alert).to_contain_text("banned")
    expect(box).to_have_value("Let me in.")  # nothing typed is lost


def test_closed_article_shows_no_form(stack: Stack, context: Any, article: str) -> None:
    stack.published(article, "baraka", "Before it closed.")
    stack.call("PUT", f"/articles/{article}", json={"comments": "closed"})
    page = context.new_page()
    page.goto(stack.page(article, reader="amina"))
    expect(page.get_by_text("Comments are closed on this article.")).to_be_visible()
    expect(page.get_by_text("Before it closed.")).to_be_visible()
    expect(page.get_by_label("Write a comment")).to_have_count(0)


def test_on_token_expired_is_called_on_a_401_and_before_exp(
    stack: Stack, context: Any, article: str
) -> None:
    from server.auth import mint_token
    from server.settings import Settings

    page = context.new_page()
    page.goto(stack.page(article, reader="amina"))
    expect(page.get_by_text("Signed in as Amina")).to_be_visible()
    # A token the server refuses (another key): the 401 asks the host's refresher, then retries.
    forged = mint_token(Settings(jwt_secret="another-secret-0123456789abcdef-0123"),
                        sub="amina", name="Amina", ttl_seconds=3600)
    page.evaluate("t => window.Baraza.setToken(t)", forged)
    page.get_by_label("Write a comment").fill("Posted after a refresh.")
    with page.expect_request(lambda r: r.url.endswith("/session?reader=amina")):
        page.get_by_role("button", name="Post").click()
    expect(page.locator(".bz-awaiting-list")).to_contain_text("Posted after a refresh.")
    # A token close to its exp is renewed before it lapses.
    short = mint_token(Settings(jwt_secret=JWT_SECRET), sub="amina", name="Amina",
                       ttl_seconds=61)
    with page.expect_request(lambda r: r.url.endswith("/session?reader=amina"), timeout=TIMEOUT):
        page.evaluate("t => window.Baraza.setToken(t)", short)
