"""The bell's endpoints, notify() and the pruning task."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from backoffice.live import notify
from backoffice.live.models import Notification
from backoffice.live.tasks import prune_notifications
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/live/notifications/"
READ_ALL = "/live/notifications/read-all/"


def read_url(pk) -> str:
    return f"/live/notifications/{pk}/read/"


@pytest.fixture
def person(client):
    user = UserFactory(is_staff=True)
    client.force_login(user)
    return user


def test_list_shows_own_latest_and_unread_count(client, person, django_assert_max_num_queries):
    other = UserFactory(is_staff=True)
    for index in range(25):
        notify(person, title=f"Job {index}")
    notify(other, title="Not yours")
    client.get(LIST)  # the first request stamps the session
    with django_assert_max_num_queries(3):  # user, unread count, latest (the session is cached)
        data = client.get(LIST, headers={"X-Background-Request": "1"}).json()
    assert data["unread"] == 25
    assert len(data["notifications"]) == 20
    assert data["notifications"][0]["title"] == "Job 24"
    assert all(n["title"] != "Not yours" for n in data["notifications"])


def test_mark_read_and_mark_all_read(client, person):
    first, second = notify(person, title="One"), notify(person, title="Two")
    assert client.post(read_url(first.pk)).json() == {"unread": 1}
    assert client.post(read_url(first.pk)).json() == {"unread": 1}  # again: nothing changes
    first.refresh_from_db()
    assert first.read_at is not None
    assert client.post(READ_ALL).json()["unread"] == 0
    second.refresh_from_db()
    assert second.read_at is not None


@pytest.mark.parametrize("bad", ["not-a-uuid", "1", "x" * 60_000, "00000000-0000-0000-0000-000000000000", "%00"])
def test_bad_ids_are_404_json(client, person, bad):
    response = client.post(read_url(bad))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_someone_elses_notification_cannot_be_marked(client, person):
    theirs = notify(UserFactory(is_staff=True), title="Theirs")
    assert client.post(read_url(theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_only_staff_and_only_the_right_methods(client, person):
    assert client.get(READ_ALL).status_code == 405
    assert client.post(LIST).status_code == 405
    outsider = Client()
    assert outsider.get(LIST).status_code == 403
    outsider.force_login(UserFactory(is_staff=False))
    assert outsider.get(LIST).status_code == 403
    assert outsider.post(READ_ALL).status_code == 403


def test_posts_need_the_csrf_token(person):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(person)
    notification = notify(person, title="One")
    assert strict.post(read_url(notification.pk)).status_code == 403
    assert strict.post(READ_ALL).status_code == 403
    notification.refresh_from_db()
    assert notification.read_at is None


def test_notify_keeps_texts_within_bounds_and_links_on_this_site(person):
    long = notify(person, title="t" * 500, body="b" * 60_000, url="/admin/" + "x" * 1000)
    assert len(long.title) == 200 and len(long.body) == 2000 and long.url == ""
    for url in ("https://evil.example/", "//evil.example/", "javascript:alert(1)", "/\\evil.example"):
        assert notify(person, title="x", url=url).url == ""
    assert notify(person, title="x", url="/admin/orders/").url == "/admin/orders/"
    with pytest.raises(ValueError):
        notify(person, title="x", level="panic")


def test_old_notifications_are_pruned(person, settings):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    old = notify(person, title="Old")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    recent = notify(person, title="Recent")
    assert prune_notifications() == 1
    assert list(Notification.objects.values_list("pk", flat=True)) == [recent.pk]


def test_the_bell_is_in_the_admin_header(client, person):
    page = client.get("/admin/").content.decode()
    assert "data-live-bell" in page and 'data-live-socket="/ws/live/"' in page
    assert "backoffice/js/live.js" in page
    assert "data-live-indicator" in page
