import time

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, superuser):
    client.force_login(superuser)
    assert client.get("/admin/").status_code == 200
    return client


def shift_session(client, **seconds):
    session = client.session
    for key, delta in seconds.items():
        session[key] = session[key] - delta
    session.save()


def test_idle_session_ends(logged_in, settings):
    shift_session(logged_in, _session_seen_at=settings.SESSION_IDLE_TIMEOUT + 1)
    response = logged_in.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_active_session_ends_after_absolute_lifetime(logged_in, settings):
    shift_session(logged_in, _session_started_at=settings.SESSION_ABSOLUTE_LIFETIME + 1)
    response = logged_in.get("/admin/")
    assert response.status_code == 302


def test_recent_activity_keeps_session(logged_in, settings):
    shift_session(logged_in, _session_seen_at=settings.SESSION_IDLE_TIMEOUT - 120)
    assert logged_in.get("/admin/").status_code == 200
    assert logged_in.session["_session_seen_at"] >= int(time.time()) - 5
