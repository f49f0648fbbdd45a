"""The live-blog desk in headless Chromium: drafts, pins, key events, deletion and the
correction history, with a reader's page (the widget's liveblog mount) watching live."""

from __future__ import annotations

import re

from tests.console.test_console_browser import open_console

ARTICLE = "desk-2"


async def test_draft_pin_key_event_delete_and_history(site, page, new_page):
    page.on("dialog", lambda dialog: dialog.accept())  # "Delete this entry for every reader?"
    await open_console(page, site, route=f"/desk/{ARTICLE}", roles=["editor"], sub="editor-2")
    await page.get_by_label("Title").fill("Floods: live updates")
    await page.get_by_role("button", name="Open live blog").click()
    await page.get_by_role("button", name="End live blog").wait_for()
    reader = await new_page()
    await reader.goto(f"{site.url}/test/articles/{ARTICLE}")
    blog = reader.locator('[data-baraza="liveblog"]')
    await blog.get_by_text("Floods: live updates").wait_for()
    composer = page.get_by_role("form", name="New entry")
    compose = composer.get_by_label("New entry (Markdown)")

    # A draft: on the desk only.
    await compose.fill("Draft: **river** rising at Garissa.")
    await composer.get_by_role("button", name="Save draft").click()
    drafts = page.get_by_role("list", name="Drafts")
    draft = drafts.locator("li.entry").filter(has_text="river rising at Garissa")
    await draft.wait_for()
    await compose.fill("First published update.")
    await composer.get_by_role("button", name="Publish").click()
    published = page.get_by_role("list", name="Published")
    await published.locator("li.entry").filter(has_text="First published update.").wait_for()
    await blog.locator(".bz-newbar").click()
    await blog.get_by_text("First published update.").wait_for()
    assert not await blog.get_by_text("river rising").count()

    # Publishing the draft: it leaves the drafts and reaches the readers.
    await draft.get_by_role("button", name="Publish").click()
    await draft.wait_for(state="detached")
    entry = published.locator("li.entry").filter(has_text="river rising at Garissa")
    await entry.wait_for()
    post_id = await entry.get_attribute("data-post-id")
    entry = published.locator(f'li.entry[data-post-id="{post_id}"]')  # whatever its text becomes
    await blog.locator(".bz-newbar").click()
    on_reader = blog.locator(f'[data-post-id="{post_id}"]')
    await on_reader.get_by_text("river rising at Garissa").wait_for()

    # Pin: the reader's page moves it on top, pinned, without a reload.
    await entry.get_by_role("button", name="Pinned").click()
    await entry.get_by_role("button", name="Pinned", pressed=True).wait_for()
    await blog.locator(f'.bz-pinned-list [data-post-id="{post_id}"]').wait_for()
    await blog.locator(".bz-badge-pinned").wait_for()
    # Key event: marked on the desk and on the reader's page.
    await entry.get_by_role("button", name="Key event").click()
    await entry.get_by_role("button", name="Key event", pressed=True).wait_for()
    await blog.locator(f'[data-post-id="{post_id}"] .bz-badge-key').wait_for()
    # Unpin: back among the others.
    await entry.get_by_role("button", name="Pinned").click()
    await entry.get_by_role("button", name="Pinned", pressed=False).wait_for()
    await blog.locator(".bz-pinned-list").wait_for(state="detached")

    # A correction, then the history: each revision with who did it.
    await entry.get_by_role("button", name="Correct").click()
    await page.get_by_label("Correct", exact=True).fill("The **river** burst its banks at Garissa.")
    await entry.locator("form.composer").get_by_role("button", name="Save").click()
    await on_reader.get_by_text("burst its banks").wait_for()
    await entry.get_by_role("button", name="Audit timeline").click()
    history = page.get_by_role("list", name=re.compile(f"Audit timeline {post_id}"))
    await history.locator("li").last.filter(has_text="burst its banks").wait_for()
    rows = await history.locator("li").all_inner_texts()
    # Oldest first: the Markdown as drafted, published, pinned ..., then as corrected.
    actions = [row.split(" by ")[0].split()[-1] for row in rows]
    assert actions[:3] == ["drafted", "published", "pinned"], rows
    assert actions[-1] == "edited", rows
    assert "by Editor-2: Draft: **river** rising at Garissa." in rows[0], rows
    assert "by Editor-2: The **river** burst its banks at Garissa." in rows[-1], rows

    # Delete: gone from the desk and from the reader's page, live.
    await entry.get_by_role("button", name="Delete").click()
    await entry.wait_for(state="detached")
    await on_reader.wait_for(state="detached")
    await blog.get_by_text("First published update.").wait_for()

    # Ended: a publish is refused with the server's reason, and the text stays in the editor.
    await page.get_by_role("button", name="End live blog").click()
    await page.get_by_role("button", name="Reopen").wait_for()
    await compose.fill("Too late for this one.")
    await composer.get_by_role("button", name="Publish").click()
    await page.get_by_role("alert").filter(has_text="this live blog has ended").wait_for()
    assert await compose.input_value() == "Too late for this one."
