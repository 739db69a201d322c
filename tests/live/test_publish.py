"""publish() after commit, job progress coalescing, badges, and the Redis publisher's one connection."""

from unittest import mock

import pytest
from django.db import transaction
from django.utils import translation

from backoffice import jobs
from backoffice.badges import BADGES, label
from backoffice.live import events, publish, publisher
from backoffice.live.tasks import push_badges
from backoffice.models import Job
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    calls = []

    def record(group, message):
        calls.append((group, message))

    with (
        mock.patch.object(publisher, "send", side_effect=record),
        mock.patch.object(events, "send", side_effect=record),
    ):
        yield calls


def test_publish_waits_for_commit_and_drops_on_rollback(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish("orders", {"type": "order.created"})
        assert sent == []
    assert sent == [("orders", {"type": "live.event", "event": {"type": "order.created"}})]
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                publish("orders", {"type": "order.created"})
                raise RuntimeError
        except RuntimeError:
            pass
    assert sent == []


def test_job_progress_is_coalesced_and_the_final_state_always_sent(sent, settings):
    settings.LIVE_JOB_PROGRESS_INTERVAL = 60
    job = Job.objects.create(kind="backoffice.selftest", total=10)
    for _ in range(20):
        events._send_job(job.pk, final=False)
    assert len(sent) == 1
    events._send_job(job.pk, final=True)
    assert len(sent) == 2
    other = Job.objects.create(kind="backoffice.selftest", total=10)
    events._send_job(other.pk, final=False)  # the window is per job
    assert len(sent) == 3


def test_progress_at_most_two_events_a_second(sent, settings):
    settings.LIVE_REDIS_URL = ""  # the per-process window (with Redis: one SET NX PX, tested above)
    job = Job.objects.create(kind="backoffice.selftest", total=10)
    clock = iter(x * 0.1 for x in range(100))  # 10 s of calls every 100 ms
    with mock.patch.object(publisher.time, "monotonic", side_effect=lambda: next(clock)):
        for _ in range(100):
            events._send_job(job.pk, final=False)
    assert len(sent) == 20


def test_a_finished_job_notifies_whoever_started_it(sent, django_capture_on_commit_callbacks):
    user = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_job("backoffice.selftest", items=range(5), params={"fail": [3]}, user=user)
    job.refresh_from_db()
    assert job.status == Job.Status.PARTIAL
    notification = user.notifications.get()
    assert notification.level == "warning"
    assert notification.url == f"/admin/backoffice/job/{job.pk}/change/"
    groups = [group for group, _message in sent]
    assert f"user.{user.pk}" in groups and "jobs" in groups


def test_the_notification_speaks_the_language_the_job_was_started_in(sent, django_capture_on_commit_callbacks):
    user = UserFactory(is_staff=True)
    with translation.override("de"), django_capture_on_commit_callbacks() as callbacks:
        job = jobs.start_job("backoffice.selftest", items=range(5), params={"fail": [3]}, user=user)
    assert translation.get_language() == "en"  # the worker's default, as in Celery
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    job.refresh_from_db()
    with translation.override("de"):
        expected = translation.gettext("%(kind)s completed, some items failed") % {"kind": job.kind_label}
    assert user.notifications.get().title == expected
    assert "some items failed" not in expected


def test_a_cancelled_job_does_not_notify(sent, django_capture_on_commit_callbacks):
    user = UserFactory(is_staff=True)
    job = Job.objects.create(kind="backoffice.selftest", total=3, requested_by=user)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.cancel_job(job)
    assert not user.notifications.exists()
    assert any(message["event"].get("status") == "cancelled" for _group, message in sent)


def test_badges_are_pushed_only_when_they_change(sent, django_assert_num_queries):
    from django.core.cache import cache

    cache.delete("live:badge-counts")  # left by another run when the cache is Redis
    with django_assert_num_queries(len(BADGES)):
        first = push_badges()
    assert {message["event"]["name"] for _group, message in sent} == set(BADGES)
    sent.clear()
    assert push_badges() == first
    assert sent == []
    Job.objects.create(kind="backoffice.selftest", total=1)
    push_badges()
    assert [(group, message["event"]["value"]) for group, message in sent] == [("jobs", label(first["jobs"] + 1))]


def test_send_without_redis_uses_the_in_memory_layer():
    assert publisher.send("jobs", {"type": "live.event", "event": {}}) is True


def test_a_redis_outage_is_logged_not_raised(settings, caplog):
    with (
        mock.patch.object(publisher, "_uses_redis_pubsub", return_value=True),
        mock.patch.object(publisher, "_redis", side_effect=ConnectionError("down")),
    ):
        assert publisher.send("jobs", {"type": "live.event", "event": {}}) is False
    assert "not sent" in caplog.text


@pytest.mark.services
def test_the_redis_publisher_reuses_one_connection(needs_redis, settings):
    """Sync publishing opens no Redis connection per event: one client, one pooled connection."""
    import redis
    from channels_redis.pubsub import RedisPubSubChannelLayer

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": settings.LIVE_CHANNEL_PREFIX},
        }
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        from channels.layers import get_channel_layer

        assert isinstance(get_channel_layer(), RedisPubSubChannelLayer)
        watcher = redis.Redis.from_url(settings.REDIS_URL)
        listener = watcher.pubsub()
        listener.subscribe(f"{settings.LIVE_CHANNEL_PREFIX}__group__jobs")
        listener.get_message(timeout=1)
        for index in range(200):
            assert publisher.send("jobs", {"type": "live.event", "event": {"n": index}})
        client = publisher._redis()
        pool = client.connection_pool
        assert len(pool._available_connections) + len(pool._in_use_connections) == 1
        received = []
        while len(received) < 200:
            message = listener.get_message(timeout=2, ignore_subscribe_messages=True)
            assert message is not None
            received.append(get_channel_layer().deserialize(message["data"])["event"]["n"])
        assert received == list(range(200))
        listener.close()
    finally:
        channel_layers.backends.clear()


def test_a_placed_order_is_announced_to_the_orders_group_after_commit(sent, django_capture_on_commit_callbacks):
    from orders.services import place_order
    from tests.factories import CustomerFactory, ProductFactory

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = place_order(customer=CustomerFactory(), lines=[(ProductFactory(), 1)])
    assert not [m for _g, m in sent if m["event"]["type"] == "order.created"]  # not before the commit
    for callback in callbacks:
        callback()
    assert (
        "orders",
        {"type": "live.event", "event": {"type": "order.created", "id": str(order.pk), "number": order.number}},
    ) in sent
