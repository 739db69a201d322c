"""Browser tests: the system Chromium driven by Playwright against a live server."""

import os
import shutil
from pathlib import Path

import pytest

from tests.factories import PASSWORD

SCREENSHOTS = Path(os.environ.get("E2E_SCREENSHOTS", Path(__file__).resolve().parents[2] / "var" / "screenshots"))


@pytest.fixture
def browser(needs_chromium, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.csp_errors = errors
    yield page
    context.close()


def login(page, live_server, user):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
