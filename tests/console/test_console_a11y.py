"""axe-core over every page of the console: no serious or critical violation.

With ``BARAZA_CONSOLE_SCREENSHOTS=DIR`` the pages are also photographed there, wide and narrow
(how docs/console.md's pictures are made)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.console.conftest import Site
from tests.console.test_console_browser import held, item, open_console, pending, wait_status

AXE = Path(__file__).resolve().parents[2] / "widget" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = os.environ.get("BARAZA_CONSOLE_SCREENSHOTS")


async def serious(page: Any) -> list[str]:
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    found = await page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"""
    )
    return list(found)


async def check(page: Any, name: str, problems: dict[str, list[str]]) -> None:
    problems[name] = await serious(page)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"]
        await page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=False)


async def seed(site: Site) -> list[int]:
    ids = [
        await held(site, "Al-Shabaab claimed the attack; the minister blamed the Somali community.",
                   risk=0.91),
        await held(site, "You are an idiot and so is everyone who agrees with this article.",
                   author="reader-2", risk=0.87),
        await held(site, "The explosion at the gas depot was reported at 4 pm.", risk=0.12),
    ]
    dead = await pending(site, "This text is POISON to the model.")
    await wait_status(site, dead, "held")
    return ids


async def test_no_serious_or_critical_violations(site, new_page):
    ids = await seed(site)
    problems: dict[str, list[str]] = {}
    for width, height in ((1280, 900), (390, 844)):
        page = await new_page(width, height)
        await page.goto(f"{site.url}/console/")
        await page.get_by_label("Staff token").wait_for()
        await check(page, "signin", problems)
        await open_console(page, site, sub="admin-1", roles=["admin", "editor"])
        await item(page, ids[0]).wait_for()
        await check(page, "queue", problems)
        if width > 1000:
            await page.keyboard.press("r")
            await page.get_by_role("dialog").wait_for()
            await check(page, "reject-dialog", problems)
            await page.keyboard.press("Escape")
            await page.keyboard.press("?")
            await check(page, "keys", problems)
            await page.keyboard.press("Escape")
            await page.goto(f"{site.url}/console/#/user/reader-1")
            await page.get_by_role("heading", name="Sanction").wait_for()
            await check(page, "user", problems)
            await page.goto(f"{site.url}/console/#/deadletters")
            await page.get_by_role("button", name="Inspect").first.wait_for()
            await check(page, "deadletters", problems)
            await page.goto(f"{site.url}/console/#/policy")
            await page.get_by_role("button", name="Preview").click()
            await page.get_by_role("region", name="Preview").wait_for()
            await check(page, "policy", problems)
            await page.goto(f"{site.url}/console/#/words")
            await page.get_by_label("Banned (reject)").fill("idiot")  # tried unsaved
            box = page.get_by_role("textbox", name="Test a comment")
            await box.fill("what an 1d10t, r e a l l y")
            await page.get_by_role("button", name="Test", exact=True).click()
            await page.get_by_role("status", name="test result").wait_for()
            await check(page, "words", problems)
        await page.goto(f"{site.url}/console/#/desk/live-1")
        if width > 1000:
            await page.get_by_label("Title").fill("Gas explosion: live updates")
            await page.get_by_role("button", name="Open live blog").click()
            await page.get_by_label("New entry (Markdown)").fill("**Explosion** at the depot.")
            await page.get_by_role("button", name="Publish").click()
        await page.locator("li.entry").first.wait_for()
        await check(page, "desk", problems)
        await page.context.close()
        if width < 1000:
            break
    assert {name: found for name, found in problems.items() if found} == {}


async def test_the_check_sees_a_violation(site, page):
    """The check above can fail: a button with no name is a critical violation for axe."""
    await page.goto(f"{site.url}/console/")
    await page.get_by_label("Staff token").wait_for()
    await page.evaluate("document.querySelector('main').append(document.createElement('button'))")
    assert any(v.startswith("button-name") for v in await serious(page))
