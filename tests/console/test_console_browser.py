"""The console in headless Chromium, driven with the keyboard and the mouse as people use it."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import select

from server.comments.models import Comment, CommentStatus
from server.typedefs import JOBS
from tests.console.conftest import Site
from tests.factories import make_comment, set_status
from tests.moderation.review_support import machine_decide

ARTICLE = "security-cooperation"
IDS = "els => els.map(e => +e.dataset.commentId)"


async def held(
    site: Site, body: str, *, author: str = "reader-1", risk: float = 0.9, article: str = ARTICLE
) -> int:
    """A comment the scorer held (as the pipeline records it), straight into the database."""

    async def make() -> int:
        comment_id = await make_comment(
            site.sessionmaker, article_id=article, author=author, body=body,
            status=CommentStatus.pending,
        )
        await machine_decide(site.sessionmaker, comment_id, CommentStatus.held, risk=risk)
        return comment_id

    return await site.call(make())


async def pending(site: Site, body: str, *, author: str = "reader-1") -> int:
    """A comment posted and queued for the server's scoring service (the stub scorer)."""

    async def make() -> int:
        comment_id = await make_comment(
            site.sessionmaker, article_id=ARTICLE, author=author, body=body,
            status=CommentStatus.pending,
        )
        assert site.app is not None
        await site.app[JOBS].enqueue([comment_id])
        return comment_id

    return await site.call(make())


async def statuses(site: Site, ids: list[int]) -> dict[int, str]:
    async def read() -> dict[int, str]:
        async with site.sessionmaker() as session:
            rows = await session.execute(
                select(Comment.id, Comment.status).where(Comment.id.in_(ids))
            )
            return dict(rows.tuples().all())

    return await site.call(read())


async def wait_status(site: Site, comment_id: int, wanted: str) -> None:
    """Poll the database until the comment reaches ``wanted`` (fails after 15 s)."""
    status = None
    for _ in range(300):
        status = (await statuses(site, [comment_id])).get(comment_id)
        if status == wanted:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"comment {comment_id} is {status}, not {wanted}")


async def open_console(page: Any, site: Site, route: str = "/queue/held", **kwargs: Any) -> None:
    await page.goto(site.console(path=route, **kwargs))
    await page.locator(".conn.open").wait_for()


def item(page: Any, comment_id: int) -> Any:
    return page.locator(f'article.item[data-comment-id="{comment_id}"]')


async def test_keyboard_approve_appears_on_a_readers_page(site, page, new_page):
    first = await held(site, "Al-Shabaab claimed the attack, the minister said.", risk=0.95)
    second = await held(site, "A second comment waiting for review.", risk=0.5)
    reader = await new_page()
    await reader.goto(f"{site.url}/test/articles/{ARTICLE}")
    await reader.locator('[data-baraza="comments"]').wait_for()
    await open_console(page, site)
    await item(page, second).wait_for()
    # Risk order, the riskiest first and focused; the tab counts what waits.
    assert await page.locator("article.item").evaluate_all(IDS) == [first, second]
    assert await page.locator(".count[data-queue='held']").inner_text() == "2"
    await page.keyboard.press("a")
    await item(page, first).wait_for(state="detached")
    # The next item has the focus at once (optimistic), whatever the server answers later.
    assert await page.evaluate("document.activeElement.dataset.commentId") == str(second)
    # The reader's page hears of it live: a "new comment" bar, then the comment itself.
    await reader.get_by_role("button", name=re.compile("1 new comment")).click()
    published = reader.locator(f'[data-baraza="comments"] [data-comment-id="{first}"]')
    await published.get_by_text("Al-Shabaab claimed the attack").wait_for()
    await page.locator(".count[data-queue='held']").filter(has_text=re.compile("^1$")).wait_for()
    assert await statuses(site, [first, second]) == {first: "approved", second: "held"}


async def test_keystrokes_in_quick_succession_decide_successive_items(site, page):
    ids = [await held(site, f"Held comment {n}.", risk=0.9 - n / 10) for n in range(4)]
    await open_console(page, site)
    await item(page, ids[3]).wait_for()
    for _ in range(3):  # no waiting between keys: each must act on the item then in focus
        await page.keyboard.press("a")
    await page.locator("article.item").filter(has_text="Held comment 3.").wait_for()
    for comment_id in ids[:3]:
        await wait_status(site, comment_id, "approved")
    assert await page.locator("article.item").evaluate_all(IDS) == [ids[3]]
    assert await statuses(site, [ids[3]]) == {ids[3]: "held"}


async def test_move_select_filter_feature_and_help(site, page):
    ids = [await held(site, f"Held comment {n}.", risk=0.9 - n / 10) for n in range(3)]
    elsewhere = await held(site, "On another story.", risk=0.1, article="other-story")
    await open_console(page, site)
    await item(page, elsewhere).wait_for()
    for key in ("j", "x", "j", "x"):  # select the second and the third
        await page.keyboard.press(key)
    await page.get_by_text("2 selected").wait_for()
    await page.keyboard.press("a")
    await item(page, ids[2]).wait_for(state="detached")
    await wait_status(site, ids[1], "approved")
    await wait_status(site, ids[2], "approved")
    assert await page.locator("article.item").evaluate_all(IDS) == [ids[0], elsewhere]
    await page.get_by_label("Article").fill("other-story")
    await page.get_by_role("button", name="Apply").click()
    await item(page, ids[0]).wait_for(state="detached")
    assert await page.locator("article.item").evaluate_all(IDS) == [elsewhere]
    await page.get_by_role("button", name="Clear").click()
    await page.get_by_role("link", name=re.compile("^Approved")).click()
    await item(page, ids[1]).wait_for()
    await page.keyboard.press("f")
    await item(page, ids[1]).get_by_text("featured", exact=True).wait_for()
    await page.keyboard.press("?")
    keys = page.get_by_role("dialog", name="Keyboard shortcuts")
    await keys.get_by_text("select all on the page (up to 500) / clear").wait_for()
    await page.keyboard.press("Escape")
    await keys.wait_for(state="detached")

    async def featured() -> bool:
        async with site.sessionmaker() as session:
            return bool(await session.scalar(select(Comment.featured).where(Comment.id == ids[1])))

    for _ in range(100):
        if await site.call(featured()):
            break
        await asyncio.sleep(0.05)
    assert await site.call(featured())


async def test_bulk_reject_of_fifty(site, page):
    ids = [await held(site, f"Spam number {n}: buy now at example dot com") for n in range(50)]
    await open_console(page, site)
    await page.locator("article.item").nth(49).wait_for()
    await page.keyboard.press("Shift+X")
    await page.get_by_text("50 selected").wait_for()
    await page.keyboard.press("r")
    dialog = page.get_by_role("dialog", name="Reason for rejecting")
    await dialog.get_by_label("spam").check()
    await dialog.get_by_role("button", name="Reject").click()
    await page.get_by_text("Nothing waiting here.").wait_for()  # at once: optimistic
    for comment_id in ids:  # then the server's answer
        await wait_status(site, comment_id, "rejected")
    assert not await page.locator(".notice.error").count()


async def test_two_consoles_see_each_others_decisions(site, page, new_page):
    one = await held(site, "First held comment.", risk=0.9)
    two = await held(site, "Second held comment.", risk=0.8)
    other = await new_page()
    await open_console(page, site, sub="mod-1")
    await open_console(other, site, sub="mod-2")
    await item(page, two).wait_for()
    await item(other, two).wait_for()
    await page.keyboard.press("a")  # mod-1 approves the first
    await item(other, one).wait_for(state="detached")
    await other.get_by_text("1 item approved by mod-1").wait_for()
    await other.keyboard.press("r")
    await other.get_by_role("dialog").get_by_role("button", name="Reject").click()
    await item(page, two).wait_for(state="detached")
    await page.get_by_text("1 item rejected by mod-2").wait_for()
    assert await statuses(site, [one, two]) == {one: "approved", two: "rejected"}


async def test_a_conflict_is_shown_not_swallowed(site, page):
    comment_id = await held(site, "Contested comment.", risk=0.9)
    await open_console(page, site, sub="mod-1")
    await item(page, comment_id).wait_for()
    # Decided behind the console's back (no live event reaches it): its answer is a conflict.
    await site.call(set_status(site.sessionmaker, comment_id, CommentStatus.approved))
    await page.keyboard.press("r")
    await page.get_by_role("dialog").get_by_role("button", name="Reject").click()
    conflict = page.get_by_text(re.compile(rf"Comment {comment_id}: no longer in the held queue"))
    await conflict.wait_for()
    assert await statuses(site, [comment_id]) == {comment_id: "approved"}


async def test_reader_token_is_refused(site, page):
    await page.goto(site.console(sub="reader-1", roles=[]))
    alert = page.get_by_role("alert").filter(has_text="no moderator, editor or admin role")
    await alert.wait_for()
    assert "token" not in page.url
    assert await page.evaluate("sessionStorage.length") == 0
    await page.get_by_label("Staff token").fill(site.token("mod-1", ["moderator"]))
    await page.get_by_role("button", name="Sign in").click()
    await page.locator(".conn.open").wait_for()


async def test_dead_letter_replayed_and_decided(site, page):
    site.scorer.poison = "POISON"
    comment_id = await pending(site, "This text is POISON to the model.")
    await wait_status(site, comment_id, "held")  # given up after one delivery: a dead letter
    await open_console(page, site, route="/deadletters")
    row = page.locator(f'tr[data-comment-id="{comment_id}"]')
    await row.get_by_text("ValueError: this text breaks the model").wait_for()
    await row.get_by_role("button", name="Inspect").click()
    inspected = page.get_by_role("region", name=f"Inspect {comment_id}")
    await inspected.get_by_text("scoring_failed").wait_for()
    site.scorer.poison = "NOTHING BREAKS IT NOW"  # the model is fixed
    try:
        await row.get_by_role("button", name="Replay").click()
        await page.get_by_text("1 replayed").wait_for()
        await row.wait_for(state="detached")
        await wait_status(site, comment_id, "approved")
    finally:
        site.scorer.poison = "POISON"


async def test_policy_preview_matches_reevaluation(site, page):
    rude = [await pending(site, f"You idiot number {n}.") for n in range(2)]
    calm = await pending(site, "Thank you for the careful report.")
    for comment_id in rude:
        await wait_status(site, comment_id, "held")
    await wait_status(site, calm, "approved")
    await open_console(page, site, route="/policy", roles=["admin"], sub="admin-1")
    await page.get_by_label("toxicity Reject at", exact=True).fill("0.85")
    await page.get_by_role("button", name="Preview").click()
    report = page.get_by_role("region", name="Preview")
    await report.locator("[data-outcome='rejected']").filter(has_text=re.compile("^2$")).wait_for()
    previewed = await report.locator(".changes li").evaluate_all(IDS)
    assert sorted(previewed) == sorted(rude)
    assert await statuses(site, rude) == dict.fromkeys(rude, "held")  # a preview stores nothing
    await page.get_by_label("Why (audit log)").fill("stricter on toxicity")
    await page.get_by_role("button", name="Save").click()
    await page.get_by_text(re.compile(r"saved v\d+")).wait_for()
    await page.get_by_role("button", name="Re-evaluate the last N now").click()
    await page.get_by_text("2 re-decided").wait_for()
    assert await report.locator(".changes li").evaluate_all(IDS) == previewed
    after = await statuses(site, [*rude, calm])
    assert after == {**dict.fromkeys(rude, "rejected"), calm: "approved"}


async def test_editor_publishes_and_corrects_an_entry(site, page, new_page):
    await open_console(page, site, route="/desk/live-1", roles=["editor"], sub="editor-1")
    await page.get_by_label("Title").fill("Gas explosion: live updates")
    await page.get_by_role("button", name="Open live blog").click()
    await page.get_by_role("button", name="End live blog").wait_for()
    reader = await new_page()
    await reader.goto(f"{site.url}/test/articles/live-1")
    await page.get_by_text(re.compile(r"\d+ on the page \(this desk included\)")).wait_for()
    await page.get_by_label("New entry (Markdown)").fill("**Explosion** reported at the depot.")
    await page.get_by_role("button", name="Preview").click()
    shown = page.get_by_role("region", name="Preview").locator("strong")
    await shown.filter(has_text="Explosion").wait_for()
    await page.get_by_role("button", name="Publish").click()
    # The reader's page hears of it live: an "N new updates" bar, then the entry.
    await reader.locator('[data-baraza="liveblog"] .bz-newbar').click()
    entry = reader.locator('[data-baraza="liveblog"] [data-post-id]').first
    await entry.get_by_text("reported at the depot").wait_for()
    await page.locator("li.entry").first.get_by_role("button", name="Correct").click()
    correction = "**Explosion** at the gas depot, police say."
    await page.get_by_label("Correct", exact=True).fill(correction)
    await page.locator("li.entry form.composer").get_by_role("button", name="Save").click()
    await entry.get_by_text("at the gas depot, police say").wait_for()
    await page.locator("li.entry").first.get_by_role("button", name="Audit timeline").click()
    history = page.get_by_role("list", name=re.compile("Audit timeline"))
    await history.get_by_text("published", exact=True).wait_for()
    await history.get_by_text("edited", exact=True).wait_for()
