"""The user page in headless Chromium: a moderator sanctions a reader, as a moderator would."""

from __future__ import annotations

import re

from server.comments.models import CommentStatus
from tests.console.test_console_browser import held, open_console, statuses
from tests.factories import make_comment, set_status


async def test_suspend_with_reason_and_cascade_reject(site, page):
    author = "reader-suspended"
    waiting = [
        await held(site, "Held: the third spam link today.", author=author),
        await held(site, "Held: and a fourth.", author=author, risk=0.7),
    ]
    waiting.append(await site.call(make_comment(  # posted, its score not in yet
        site.sessionmaker, article_id="a-story", author=author, body="Still pending.",
        status=CommentStatus.pending,
    )))
    published = await held(site, "Published earlier, stays.", author=author)
    await site.call(set_status(site.sessionmaker, published, CommentStatus.approved))
    await open_console(page, site, route=f"/user/{author}")
    form = page.get_by_role("form", name="Sanction")
    await form.get_by_label("Status").select_option("suspended")
    await form.get_by_label("Until", exact=True).fill("2099-01-01T12:00")
    await form.get_by_label("Also reject their pending and held comments").check()
    # No reason: the server refuses, and its message is shown, nothing changed.
    await form.get_by_role("button", name="Save").click()
    refused = form.get_by_role("alert")
    await refused.filter(has_text=re.compile(r"reason: .*at least 1 character")).wait_for()
    before = await statuses(site, waiting)
    assert sorted(before.values()) == ["held", "held", "pending"]
    # Blank space is no reason either (the console sends the reason trimmed).
    await form.get_by_label("Reason (required)").fill("   ")
    await form.get_by_role("button", name="Save").click()
    await refused.filter(has_text="at least 1 character").wait_for()
    await form.get_by_label("Reason (required)").fill("spam links, third warning")
    await form.get_by_role("button", name="Save").click()
    await form.get_by_role("status").filter(has_text="suspended · 3 rejected").wait_for()
    assert not await form.get_by_role("alert").count()
    heading = page.get_by_role("heading", level=2)
    await heading.get_by_text("suspended", exact=True).wait_for()
    assert await statuses(site, [*waiting, published]) == {
        **dict.fromkeys(waiting, "rejected"), published: "approved",
    }
    # The audit: the sanction with its reason, and each cascaded rejection.
    audit = page.get_by_role("list", name="Audit timeline")
    await audit.locator("li").filter(has_text="user.status").filter(
        has_text="active → suspended"
    ).filter(has_text="spam links, third warning").wait_for()
    cascaded = audit.locator("li").filter(has_text="→ rejected").filter(
        has_text="rejected with the author's suspended: spam links, third warning"
    )
    await cascaded.nth(2).wait_for()
    assert await cascaded.count() == 3
    recent = page.get_by_role("list", name="Recent comments")
    assert await recent.locator(".badge.status-rejected").count() == 3
