"""Through everything real: uvicorn serving backoffice.asgi, the Redis pub/sub channel layer, a Celery
worker, PostgreSQL, and Chromium. A bulk job started in the browser reports its progress over the
socket while the worker runs it; no polling happens while the socket is up."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from backoffice import jobs
from backoffice.models import Job
from tests.backoffice.test_celery_worker import Worker, database_url
from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.services, pytest.mark.e2e, pytest.mark.timeout(300)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def uvicorn_server(needs_postgres, needs_redis, transactional_db):
    from backoffice.celery import app

    app.conf.task_always_eager = False
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"backoffice-uvicorn-{os.getpid()}.log"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "backoffice.asgi:application"),
            *("--host", "127.0.0.1", "--port", str(port), "--lifespan", "off", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url()},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    worker = Worker("live")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, log.read_text()
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        worker.stop()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        wait_for_other_sessions_to_end()


def wait_for_other_sessions_to_end(timeout: float = 15) -> None:
    """The test database is dropped after the test: the server's and worker's connections must be gone."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.2)


def test_a_bulk_job_reports_progress_over_the_socket(uvicorn_server, page):
    user = UserFactory(is_staff=True, is_superuser=True)
    # A finished job whose 400 items all failed; retried from its page, each item then takes 30 ms: 3 s a
    # chunk of 100, two chunks at a time, so the page (reloaded after the retry) is connected long before the end.
    job = jobs.start_job("backoffice.selftest", items=range(400), params={"fail": list(range(400))}, user=user)
    deadline = time.monotonic() + 60
    while job.is_active:
        assert time.monotonic() < deadline, "the worker did not run the first pass"
        time.sleep(0.3)
        job.refresh_from_db()
    assert job.status == Job.Status.PARTIAL and job.failed == 400
    Job.objects.filter(pk=job.pk).update(params={"delay": 0.03})

    frames, polls = [], []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)))
    page.on("request", lambda request: "/progress/" in request.url and polls.append(request.url))

    page.goto(f"{uvicorn_server}/admin/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{uvicorn_server}/admin/")
    expect(page.locator("[data-live-state]")).to_have_text("Live", timeout=15_000)

    page.goto(f"{uvicorn_server}/admin/backoffice/job/{job.pk}/change/")
    expect(page.locator("[data-live-state]")).to_have_text("Live", timeout=15_000)
    page.get_by_role("link", name="Retry failed items").click()
    page.locator("#dialog").get_by_role("button", name="Retry").click()

    # Running: progress arrives over the socket and moves the bar; at the end the page reloads.
    expect(page.locator(f'[data-job-id="{job.pk}"]')).to_have_count(1, timeout=15_000)
    deadline = time.monotonic() + 120
    while Job.objects.get(pk=job.pk).is_active:
        assert time.monotonic() < deadline, "the worker did not finish the job"
        time.sleep(0.3)
    # Two notifications: the first pass finished with errors, the retry succeeded.
    expect(page.locator("[data-live-unread]")).to_have_text("2", timeout=15_000)

    import json

    events = [json.loads(frame) for frame in frames if isinstance(frame, str)]
    progress = [e for e in events if e.get("type") == "job" and e["id"] == str(job.pk)]
    assert any(e["active"] and 0 < e["percent"] < 100 for e in progress), json.dumps(events, indent=1)
    assert progress[-1]["status"] == "succeeded"
    assert any(e.get("type") == "notification" for e in events)
    # At most one catch-up request per page load that found the socket up; no polling loop.
    assert len(polls) <= 3, polls
    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors
