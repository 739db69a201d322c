"""Brute-force lockout of the admin login (django-axes), keyed on username and address together."""

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backoffice.api.keys import issue_key
from backoffice.login import client_ip
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reset_lockouts")]

LOGIN = "/admin/login/"
LOCKED = b"Too many failed logins for this username from your address"


def attempt(client, username, password="wrong-password", **extra):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra)


def lock_out(client, username, **extra):
    """Fail until the limit; the last failure answers with the lockout."""
    from django.conf import settings

    responses = [attempt(client, username, **extra) for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert [r.status_code for r in responses[:-1]] == [200] * (len(responses) - 1)
    return responses[-1]


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", is_staff=True)


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", is_staff=True)


def test_the_limit_locks_the_username_out_with_the_login_page_saying_why(client, alice):
    response = lock_out(client, "alice")
    assert response.status_code == 429
    assert LOCKED in response.content
    assert b'id="login-form"' in response.content  # the Unfold login page, not a bare text
    assert b"data-login-locked" in response.content
    locked = attempt(client, "alice", PASSWORD)  # even the right password
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_below_the_limit_do_not_lock_and_a_success_resets_them(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "alice").status_code == 200
    assert attempt(client, "alice", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()


def test_another_user_from_the_same_address_is_not_locked(client, alice, bob):
    lock_out(client, "alice")
    response = attempt(Client(), "bob", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_the_same_user_from_another_address_is_not_locked(client, alice):
    lock_out(client, "alice")
    assert attempt(Client(), "alice", PASSWORD, REMOTE_ADDR="198.51.100.20").status_code == 302


def test_a_forged_forwarded_header_does_not_bypass_the_lockout(client, alice, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    lock_out(client, "alice")
    forged = attempt(Client(), "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forged.status_code == 429


def test_behind_a_trusted_proxy_only_the_address_it_saw_counts(alice, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    lock_out(Client(), "alice", HTTP_X_FORWARDED_FOR="198.51.100.7")
    # The client prepends its own entries; the proxy's (the last) is still the locked address.
    forged = attempt(Client(), "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7")
    assert forged.status_code == 429
    assert attempt(Client(), "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 302


@pytest.mark.parametrize(
    ("proxies", "header", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy declared: the header is the client's own
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "203.0.113.9, 198.51.100.7", "198.51.100.7"),  # what the proxy appended, not what the client sent
        (2, "203.0.113.9, 198.51.100.7", "203.0.113.9"),
        (2, "198.51.100.7", "10.0.0.1"),  # fewer entries than proxies: not through them all, not trusted
        (1, "not-an-address", "10.0.0.1"),
        (1, "", "10.0.0.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip(settings, proxies, header, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == expected


def test_the_trusted_header_is_configurable(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_HEADER = "X-Real-IP"
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "10.0.0.1"
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="198.51.100.7")
    assert client_ip(request) == "198.51.100.7"


def test_an_administrator_unlocks_from_the_admin(client, alice, superuser):
    lock_out(client, "alice")
    attempt_row = AccessAttempt.objects.get(username="alice")
    admin = Client()
    admin.force_login(superuser)
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = admin.get(changelist, {"locked": "yes"})
    assert page.status_code == 200 and b"alice" in page.content
    response = admin.post(
        changelist, {"action": "unlock_selected", "index": "0", "_selected_action": [attempt_row.pk]}, follow=True
    )
    assert response.status_code == 200
    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert attempt(client, "alice", PASSWORD).status_code == 302


def test_the_detail_unlock(client, alice, superuser):
    lock_out(client, "alice")
    attempt_row = AccessAttempt.objects.get(username="alice")
    admin = Client()
    admin.force_login(superuser)
    url = reverse("admin:axes_accessattempt_unlock_detail", args=[attempt_row.pk])
    assert admin.get(url).status_code == 200  # the confirmation dialog
    assert admin.post(url, {"_form_submitted": "on"}, follow=True).status_code == 200
    assert not AccessAttempt.objects.exists()


def test_a_staff_user_without_permission_cannot_unlock(client, alice, staff_user):
    lock_out(client, "alice")
    attempt_row = AccessAttempt.objects.get(username="alice")
    other = Client()
    other.force_login(staff_user)
    assert other.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
    url = reverse("admin:axes_accessattempt_unlock_detail", args=[attempt_row.pk])
    assert other.post(url, {"_form_submitted": "on"}).status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt_row.pk).exists()


def test_the_session_key_changes_at_login_and_logout_ends_the_session(client, alice):
    session = client.session
    session["before-login"] = True
    session.save()
    anonymous_key = session.session_key
    assert attempt(client, "alice", PASSWORD).status_code == 302
    logged_in_key = client.cookies["sessionid"].value
    assert logged_in_key != anonymous_key
    assert not SessionStore().exists(anonymous_key)
    assert client.get("/admin/").status_code == 200
    assert AccessLog.objects.filter(username="alice", logout_time__isnull=True).count() == 1

    assert client.post(reverse("admin:logout")).status_code in (200, 302)
    assert not SessionStore().exists(logged_in_key)
    assert client.get("/admin/").status_code == 302
    replayed = Client()
    replayed.cookies["sessionid"] = logged_in_key
    assert replayed.get("/admin/").status_code == 302  # the old cookie opens nothing
    assert AccessLog.objects.get(username="alice").logout_time is not None


def test_a_huge_username_is_a_form_error(client):
    response = attempt(client, "a" * 60_000)
    assert response.status_code == 200
    assert not AccessAttempt.objects.exists() or len(AccessAttempt.objects.get().username) <= 255


def test_integration_keys_are_not_affected_by_a_lockout(client, alice):
    lock_out(client, "alice")
    _key, secret = issue_key(name="shop", scopes=["catalog:read"])
    response = Client().get("/api/v1/products/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["axes_accessattempt", "axes_accesslog"])
def test_login_record_changelists_run_constant_queries(admin_client, name):
    url = reverse(f"admin:{name}_changelist")
    for n in range(3):
        attempt(Client(REMOTE_ADDR=f"10.0.0.{n}"), f"user-{n}")
    admin_client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    for n in range(30):
        attempt(Client(REMOTE_ADDR="10.0.1.1"), f"more-{n}")
        AccessLog.objects.create(username=f"more-{n}", ip_address="10.0.1.1", user_agent="x", path_info=LOGIN)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert AccessAttempt.objects.count() == 33
    assert 0 < len(many) == len(few) <= 10, [q["sql"][:120] for q in many.captured_queries]


def test_the_lockout_page_under_the_asgi_server(alice, settings):
    """The demo and production serve the ASGI app, where axes' middleware takes its async path."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    client = AsyncClient()
    post = async_to_sync(client.post)
    data = {"username": "alice", "password": "wrong-password", "next": "/admin/"}
    statuses = [post(LOGIN, data).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    response = post(LOGIN, {**data, "password": PASSWORD})
    assert response.status_code == 429
    assert LOCKED in response.content and b'id="login-form"' in response.content
