import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import Client

from tests.e2e.conftest import browser, page  # noqa: F401 - the browser tests of this folder use them
from tests.factories import UserFactory
from tests.live.channels_testing import WebsocketCommunicator

ORIGIN = b"http://testserver"


def session_for(user, *, started_ago: int = 0, seen_ago: int = 0) -> str:
    """A signed-in admin session as a page load leaves it (stamped by SessionLifetimeMiddleware)."""
    client = Client()
    client.force_login(user)
    session = client.session
    now = int(time.time())
    session["_session_started_at"] = now - started_ago
    session["_session_seen_at"] = now - seen_ago
    session.save()
    return session.session_key


def communicator(session_key: str | None = None, *, origin: bytes | None = ORIGIN, host: bytes = b"testserver"):
    from backoffice.asgi import application

    headers = [(b"host", host)]
    if origin is not None:
        headers.append((b"origin", origin))
    if session_key:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
    return WebsocketCommunicator(application, "/ws/live/", headers=headers)


@pytest.fixture(autouse=True)
def _fresh_layer():
    """Each test starts with an empty in-memory layer (no group left over from another test)."""
    layer = get_channel_layer()
    async_to_sync(layer.flush)()
    yield
    async_to_sync(layer.flush)()


@pytest.fixture
def staff(transactional_db):
    return UserFactory(is_staff=True)


@pytest.fixture
def operator(transactional_db):
    return UserFactory(is_staff=True, perms=["backoffice.view_job", "orders.view_order"])


@pytest.fixture(scope="session", autouse=True)
def _end_thread_connections(django_db_blocker):
    """Consumers and the ASGI handler reach the database from asgiref's worker threads, whose connections
    (kept for DATABASE_CONN_MAX_AGE on PostgreSQL) would stop the test database from being dropped."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
