"""The fallback: with no socket the pages poll, and polling is not activity for the idle timeout."""

import time

import pytest
from playwright.sync_api import expect

from backoffice.models import Job
from tests.e2e.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def running_job(superuser):
    return Job.objects.create(kind="backoffice.selftest", total=10, status=Job.Status.RUNNING, requested_by=superuser)


def test_background_requests_do_not_refresh_the_idle_timeout(admin_client, running_job):
    admin_client.get("/admin/")
    session = admin_client.session
    session["_session_seen_at"] = int(time.time()) - 600
    session.save()
    url = f"/admin/backoffice/job/{running_job.pk}/progress/"
    for background in ("/live/notifications/", url):
        response = admin_client.get(background, headers={"X-Background-Request": "1"})
        assert response.status_code == 200
        assert admin_client.session["_session_seen_at"] <= int(time.time()) - 600
    admin_client.get(url)  # the same request made by the person counts
    assert admin_client.session["_session_seen_at"] >= int(time.time()) - 5


def test_job_pages_carry_what_the_scripts_need(admin_client, running_job):
    for url in (f"/admin/backoffice/job/{running_job.pk}/change/", "/admin/backoffice/job/"):
        page = admin_client.get(url).content.decode()
        assert f'data-job-id="{running_job.pk}"' in page
        assert f'data-job-progress="/admin/backoffice/job/{running_job.pk}/progress/"' in page
        assert "backoffice/js/job_progress.js" in page and "backoffice/js/live.js" in page


def test_order_list_has_the_new_orders_notice(admin_client):
    assert "data-live-new-orders" in admin_client.get("/admin/orders/order/").content.decode()


@pytest.mark.e2e
def test_polling_updates_the_job_page_when_the_socket_is_down(page, live_server, transactional_db):
    """The test server speaks HTTP only: the socket fails, the page says so and polls."""
    user = UserFactory(is_staff=True, is_superuser=True)
    job = Job.objects.create(kind="backoffice.selftest", total=10, status=Job.Status.RUNNING, requested_by=user)
    login(page, live_server, user)
    page.goto(f"{live_server.url}/admin/backoffice/job/{job.pk}/change/")
    expect(page.locator("[data-live-state]")).to_have_text("Polling")
    Job.objects.filter(pk=job.pk).update(done=5)
    expect(page.locator(f'[data-job-id="{job.pk}"]')).to_have_attribute("data-job-percent", "50", timeout=15_000)
    Job.objects.filter(pk=job.pk).update(done=10, status=Job.Status.SUCCEEDED)
    # Finished: the page reloads to show the result; the progress cell is no longer live.
    expect(page.locator(f'[data-job-id="{job.pk}"]')).to_have_count(0, timeout=15_000)
    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors
