"""The curriculum in headless Chromium: edit a lesson, see a problem at its line, fix it, preview
it in Bulgarian and publish it; a Bulgarian reader's problems in Bulgarian; each page at desktop
and phone width."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.console.conftest import VIEWPORTS, browser_sign_in, screenshot
from tests.content.samples import every_kind_lesson, lesson
from tests.factories import import_sample_curriculum

SLUG = "what-segregation-is"


@pytest.fixture
async def curriculum(session_maker: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    await import_sample_curriculum(
        session_maker,
        tmp_path,
        {"01-what-segregation-is.yaml": lesson(), "02-every-kind.yaml": every_kind_lesson()},
    )


async def test_edit_see_the_problem_at_its_line_fix_preview_in_bulgarian_and_publish(
    page: Any, live_server: str, session_maker: async_sessionmaker[AsyncSession], curriculum: None
) -> None:
    await browser_sign_in(page, session_maker, live_server)
    await page.get_by_role("link", name="Curriculum", exact=True).click()
    await page.wait_for_url(f"{live_server}/curriculum")
    await screenshot(page, "curriculum")
    await page.get_by_role("link", name="What segregation is").click()
    await page.wait_for_url(f"{live_server}/curriculum/lessons/{SLUG}")
    await page.get_by_role("link", name="Edit the draft").click()
    await page.wait_for_url(f"{live_server}/curriculum/lessons/{SLUG}/edit")

    editor = page.get_by_label("Lesson document (YAML)")
    original: str = await editor.input_value()
    broken = re.sub(r"\n *bg: Съдът реши през 2007 г\.", "", original)
    assert broken != original, original
    await editor.fill(broken)
    await page.get_by_role("button", name="Save the draft").click()
    await page.wait_for_load_state()
    alert = page.get_by_role("alert")
    line = (
        next(
            number
            for number, text in enumerate(broken.split("\n"), 1)
            if "en: The court ruled in 2007." in text
        )
        - 1
    )
    assert f"Line {line}" in await alert.inner_text()
    assert "$.steps[1].text" in await alert.inner_text()
    # Nothing typed is lost, and the line itself is marked in the numbered copy.
    assert await editor.input_value() == broken
    marked = page.locator(f"#line-{line}")
    assert await marked.get_attribute("class") == "bad-line"
    # The problem's link puts the cursor on its line (the page's one small script).
    await page.get_by_role("link", name=f"Line {line}").first.click()
    cursor_line = await editor.evaluate(
        "area => area.value.slice(0, area.selectionStart).split('\\n').length"
    )
    assert cursor_line == line
    assert await editor.evaluate("area => area === document.activeElement")
    gutter = page.locator(".numbered-editor .gutter")
    assert (await gutter.inner_text()).split("\n")[:3] == ["1", "2", "3"]
    await screenshot(page, "curriculum-edit-problem")

    fixed = original.replace("The court ruled in 2007.", "The European court ruled in 2007.")
    fixed = fixed.replace("Съдът реши през 2007 г.", "Европейският съд реши през 2007 г.")
    await editor.fill(fixed)
    await page.get_by_role("button", name="Save the draft").click()
    await page.wait_for_url(f"{live_server}/curriculum/lessons/{SLUG}?done=saved")
    assert await page.get_by_role("status").inner_text() == "The draft is saved."

    await page.get_by_label("Language beside English").select_option("bg")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url(
        re.compile(rf"/curriculum/lessons/{SLUG}\?locale=bg&fallback=&version=2$")
    )
    assert await page.get_by_text("Европейският съд реши през 2007 г.").count() == 1
    assert await page.get_by_text("The European court ruled in 2007.").count() == 1
    await screenshot(page, "curriculum-preview-bg")

    await page.get_by_role("link", name="Compare with version 1").click()
    await page.wait_for_url(f"{live_server}/curriculum/lessons/{SLUG}/diff?from=1&to=2")
    assert await page.locator("ins").filter(has_text="European court").count() == 1
    await screenshot(page, "curriculum-diff")
    await page.go_back()

    await page.get_by_role("button", name="Publish version 2").click()
    await page.wait_for_url(f"{live_server}/curriculum/lessons/{SLUG}?done=published")
    assert "Published" in await page.get_by_role("status").inner_text()
    assert await page.get_by_role("button", name="Publish version 2").count() == 0

    await page.get_by_role("link", name="Curriculum", exact=True).first.click()
    await page.get_by_role("link", name="Translations").click()
    await page.wait_for_url(f"{live_server}/curriculum/translations")
    await screenshot(page, "curriculum-translations")


async def test_a_bulgarian_reader_sees_the_problem_in_bulgarian_at_its_line(
    browser: Any,
    live_server: str,
    session_maker: async_sessionmaker[AsyncSession],
    curriculum: None,
) -> None:
    width, height = VIEWPORTS["desktop"]
    context = await browser.new_context(
        base_url=live_server, locale="bg-BG", viewport={"width": width, "height": height}
    )
    try:
        page = await context.new_page()
        await browser_sign_in(page, session_maker, live_server, button="Вход")
        await page.goto(f"/curriculum/lessons/{SLUG}/edit")
        editor = page.locator("#document")
        original: str = await editor.input_value()
        broken = re.sub(r"\n *bg: Съдът реши през 2007 г\.", "", original)
        broken = broken.replace("minutes: 5", "minutes: 5\ncolour: red")
        await editor.fill(broken)
        await page.get_by_role("button", name="Запазване на черновата").click()
        await page.wait_for_load_state()
        alert = await page.get_by_role("alert").inner_text()
        line = next(n for n, text in enumerate(broken.split("\n"), 1) if "colour: red" in text)
        assert f"Ред {line} $.colour: непознато поле „colour“" in alert, alert
        assert "unknown field" not in alert
        marked = page.locator(f"#line-{line}")
        assert await marked.get_attribute("class") == "bad-line"
        assert "непознато поле „colour“" in await marked.inner_text()
        await screenshot(page, "curriculum-edit-problem-bg")
        # Once the shape is right, the validator's rule, in Bulgarian too.
        await editor.fill(broken.replace("\ncolour: red", ""))
        await page.get_by_role("button", name="Запазване на черновата").click()
        await page.wait_for_load_state()
        alert = await page.get_by_role("alert").inner_text()
        assert "текста на стъпката: липсва текст на „bg“" in alert, alert
        await screenshot(page, "curriculum-edit-rule-bg")
    finally:
        await context.close()
