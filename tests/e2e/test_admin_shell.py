"""A person's first minutes: log in through the browser, see the dashboard, follow a job."""

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from backoffice import jobs
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.e2e
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


def test_login_dashboard_and_job_page(page, live_server, transactional_db):
    user = UserFactory(is_staff=True, is_superuser=True)
    login(page, live_server, user)
    expect(page.get_by_text("Jobs running or queued")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)

    jobs.start_job("backoffice.selftest", items=range(7), params={"fail": [3]}, user=user)
    page.goto(f"{live_server.url}/admin/backoffice/job/")
    expect(page.get_by_text("Finished with errors").first).to_be_visible()
    page.get_by_role("link", name="Self-test (changes nothing)").first.click()
    expect(page.get_by_text("Item 3 was asked to fail.")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "job.png", full_page=True)
    # The Content-Security-Policy must not break the admin's own scripts.
    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors


def test_staff_without_permissions_sees_no_jobs(page, live_server, transactional_db):
    user = UserFactory(is_staff=True)
    login(page, live_server, user)
    expect(page.get_by_text("Jobs running or queued")).to_have_count(0)
    assert page.locator("a[href='/admin/backoffice/job/']").count() == 0
