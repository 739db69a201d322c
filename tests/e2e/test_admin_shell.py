"""A person's first minutes: log in through the browser, see the dashboard, follow a job."""

import pytest
from playwright.sync_api import expect

from backoffice import jobs
from tests.e2e.conftest import SCREENSHOTS, login
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e


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
