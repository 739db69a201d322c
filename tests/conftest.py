import os
import shutil

import pytest
from django.conf import settings

from tests.factories import UserFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
# Tests that run a whole `manage.py benchmark` suite take seconds each: opt in locally, always on in CI.
RUN_BENCHMARKS = os.environ.get("RUN_BENCHMARKS") == "1" or REQUIRE_SERVICES


def need(condition: bool, reason: str) -> None:
    """Skip a test whose service is missing; with REQUIRE_SERVICES=1 a missing service fails it."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    if RUN_BENCHMARKS:
        return
    skip = pytest.mark.skip(reason="benchmark: set RUN_BENCHMARKS=1 to run it (CI does, with REQUIRE_SERVICES=1)")
    for item in items:
        if item.get_closest_marker("benchmark"):
            item.add_marker(skip)


def using_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.fixture
def needs_postgres():
    need(using_postgres(), "DATABASE_URL does not point to PostgreSQL")


@pytest.fixture
def needs_redis():
    need(bool(settings.REDIS_URL), "REDIS_URL is not set")


@pytest.fixture
def needs_chromium():
    need(bool(shutil.which("chromium") or shutil.which("chromium-browser")), "Chromium is not installed")


@pytest.fixture(autouse=True)
def _media_and_tasks(settings, tmp_path):
    """Each test gets its own media folder; tasks run in-process unless a test starts a worker."""
    from backoffice.api import request_log
    from backoffice.celery import app

    settings.MEDIA_ROOT = tmp_path / "media"
    # Sidebar badge counts are cached briefly; a slow test must not see them expire between the two
    # requests it compares (query counts).
    settings.BADGE_CACHE_SECONDS = 600
    from django.core.cache import cache

    from backoffice.badges import BADGES

    cache.delete_many([f"badge:{name}" for name in BADGES])  # counted afresh by each test
    # No request-log writer thread on the test database, and no batch ever due by itself (a flush after some
    # request would add queries to whatever test it lands in); tests flush backoffice.api.request_log themselves.
    settings.API_REQUEST_LOG_BACKGROUND = False
    settings.API_REQUEST_LOG_BATCH_SIZE = 10**9
    settings.API_REQUEST_LOG_FLUSH_SECONDS = 10**9
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager
    request_log.discard()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def reset_lockouts(db):
    """No login lockout (django-axes) left from an earlier run: tests that log in or walk the login
    page with bad input start with every username and address unlocked."""
    from axes.utils import reset

    reset()
