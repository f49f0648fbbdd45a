"""The reader widget in a real browser: reading, posting from another origin, live approval."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.embed.browser.conftest import Stack

TIMEOUT = 15_000  # ms a condition may take to hold (a worker starting up, a live event)


def comment(page: Any, comment_id: int) -> Any:
    return page.locator(f'[data-comment-id="{comment_id}"]')


def test_signed_out_reader_reads_the_thread_and_gets_a_login_link(
    stack: Stack, context: Any, article: str
) -> None:
    first = stack.published(article, "amina", "Good reporting on the security talks.")
    reply = stack.published(article, "baraka", "I agree, see https://example.org/a.",
                            parent_id=first)
    page = context.new_page()
    page.goto(stack.page(article))
    expect(comment(page, first)).to_contain_text("Good reporting on the security talks.")
    expect(comment(page, reply).locator('a[rel="nofollow ugc"]')).to_have_attribute(
        "href", "https://example.org/a")
    expect(page.locator(".bz-replies")).to_contain_text("Baraka")
    expect(comment(page, first)).to_contain_text("Amina")
    expect(page.get_by_role("link", name="Sign in to comment")).to_have_attribute(
        "href", "/login")
    expect(page.get_by_label("Write a comment")).to_have_count(0)


def test_host_page_on_another_origin_posts_and_sees_the_workers_approval_live(
    stack: Stack, browser: Any, article: str
) -> None:
    author_ctx, other_ctx = browser.new_context(), browser.new_context()
    worker = None
    try:
        author = author_ctx.new_page()
        author.goto(stack.page(article, reader="amina"))
        other = other_ctx.new_page()
        other.goto(stack.page(article))
        expect(other.get_by_text("No comments yet. Be the first.")).to_be_visible()

        author.get_by_label("Write a comment").fill("Thank you for this careful report.")
        author.get_by_role("button", name="Post").click()
        mine = author.locator(".bz-awaiting-list [data-comment-id]")
        expect(mine).to_contain_text("Awaiting review")
        expect(mine).to_contain_text("Thank you for this careful report.")
        expect(author.get_by_label("Write a comment")).to_have_value("")

        worker = stack.worker()  # only now: the comment was seen awaiting review first
        expect(author.get_by_role("status").filter(has_text="Your comment was published.")
               ).to_be_visible(timeout=TIMEOUT)
        expect(author.locator(".bz-awaiting-list")).to_have_count(0)
        expect(author.locator(".bz-list [data-comment-id]")).to_contain_text(
            "Thank you for this careful report.")

        # The other reader did not reload: the new comment waits under the bar.
        bar = other.get_by_role("button", name="1 new comment — show")
        expect(bar).to_be_visible(timeout=TIMEOUT)
        bar.click()
        expect(other.locator("[data-comment-id]")).to_contain_text(
            "Thank you for this careful report.")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        author_ctx.close()
        other_ctx.close()


def test_sort_load_more_replies_featured_and_presence(
    stack: Stack, browser: Any, article: str
) -> None:
    ids = [stack.published(article, f"reader-{i}", f"Comment number {i}.") for i in range(22)]
    parent = ids[0]
    replies = [stack.published(article, f"replier-{i}", f"Reply number {i}.", parent_id=parent)
               for i in range(5)]
    stack.decide([ids[5]], "feature")
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(stack.page(article, mounts="comments"))
        top = page.locator(".bz-list:not(.bz-awaiting-list) > .bz-item > article")
        # Featured first, then newest first; one page of 20.
        expect(top).to_have_count(20)
        expect(top.nth(0)).to_have_attribute("data-comment-id", str(ids[5]))
        expect(top.nth(0)).to_contain_text("Featured")
        expect(top.nth(1)).to_have_attribute("data-comment-id", str(ids[21]))
        page.get_by_role("button", name="Load more comments").click()
        expect(top).to_have_count(22)
        expect(page.get_by_role("button", name="Load more comments")).to_have_count(0)

        # The first three replies came with the page; the rest on demand; collapsible.
        thread = page.locator(f'[data-comment-id="{parent}"]').locator("xpath=..")
        expect(thread.locator(".bz-replies [data-comment-id]")).to_have_count(3)
        thread.get_by_role("button", name="Show more replies").click()
        expect(thread.locator(".bz-replies [data-comment-id]")).to_have_count(5)
        expect(thread.locator(f'[data-comment-id="{replies[4]}"]')).to_contain_text(
            "Reply number 4.")
        thread.get_by_role("button", name="Hide replies").click()
        expect(thread.locator(".bz-replies")).to_have_count(0)
        thread.get_by_role("button", name="Show 5 replies").click()
        expect(thread.locator(".bz-replies [data-comment-id]")).to_have_count(5)

        page.get_by_label("Sort comments").select_option("oldest")
        expect(top.nth(1)).to_have_attribute("data-comment-id", str(ids[0]))

        # Presence: a second reader on the article.
        other = ctx.new_page()
        other.goto(stack.page(article, mounts="comments"))
        expect(page.get_by_text("2 reading")).to_be_visible(timeout=TIMEOUT)
        # New comments are announced politely, and wait under the bar.
        stack.published(article, "late", "A late comment.")
        expect(page.locator('[aria-live="polite"]').filter(has_text="1 new comment")
               ).to_have_count(1, timeout=TIMEOUT)
    finally:
        ctx.close()
