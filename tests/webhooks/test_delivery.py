"""Sending: headers and signatures, failures of every kind, retries, disabling, redelivery, pruning."""

from datetime import timedelta
from unittest import mock

import orjson
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from backoffice.webhooks import addresses, dispatch, emit, services
from backoffice.webhooks.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from backoffice.webhooks.signing import verify
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def due_now():
    Delivery.objects.filter(state="pending").update(next_attempt_at=timezone.now())


def emit_one(product=None, event_type="product.updated"):
    product = product or ProductFactory()
    emit(event_type, product)
    dispatch.freeze()
    return product


def test_a_send_carries_the_standard_headers_and_verifies(make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    emit_one()
    assert dispatch.sweep(5) == 1
    request = receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    event = Event.objects.get()
    assert headers["webhook-id"] == event.webhook_id
    assert headers["content-type"] == "application/json"
    assert request["body"] == bytes(event.payload)
    verify(
        endpoint.secret,
        msg_id=headers["webhook-id"],
        timestamp=headers["webhook-timestamp"],
        signature=headers["webhook-signature"],
        body=request["body"],
    )
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("succeeded", 1, 204)
    attempt = DeliveryAttempt.objects.get()
    assert attempt.succeeded and attempt.status_code == 204 and attempt.latency_ms > 0


def test_during_rotation_both_secrets_sign(make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    old = endpoint.secret
    new = services.rotate_secret(endpoint)
    emit_one()
    dispatch.sweep(5)
    headers = {k.lower(): v for k, v in receiver.requests[0]["headers"].items()}
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    for secret in (old, new):
        verify(
            secret,
            msg_id=headers["webhook-id"],
            timestamp=headers["webhook-timestamp"],
            signature=headers["webhook-signature"],
            body=receiver.requests[0]["body"],
        )
    # After the overlap only the new secret signs.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
    emit_one()
    dispatch.sweep(5)
    headers = {k.lower(): v for k, v in receiver.requests[1]["headers"].items()}
    assert len(headers["webhook-signature"].split(" ")) == 1


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [("error", "HTTP 503"), ("slow", "timed out"), ("redirect", "redirect not followed")],
)
def test_failures_are_logged_and_retried_later(make_endpoint, receiver, behaviour, error):
    make_endpoint(receiver.url)
    receiver.behaviour = behaviour
    emit_one()
    dispatch.sweep(5)
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now()  # backoff: not due again at once
    attempt = DeliveryAttempt.objects.get()
    assert not attempt.succeeded and error in attempt.error
    if behaviour == "error":
        assert attempt.status_code == 503 and len(attempt.response_excerpt) == 1024  # first KB only
    if behaviour == "redirect":
        assert len(receiver.requests) == 1  # the Location was not followed


def test_connection_refused(make_endpoint, receiver):
    make_endpoint(receiver.url)
    receiver.stop()
    emit_one()
    dispatch.sweep(5)
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and "refused" in attempt.error


def test_a_receiver_down_then_back_gets_every_event(make_endpoint, receiver):
    make_endpoint(receiver.url)
    receiver.stop()
    products = [ProductFactory() for _ in range(12)]
    for product in products:
        emit_one(product)
    dispatch.sweep(5)
    assert Delivery.objects.filter(state="pending", attempts=1).count() == 12
    receiver.start_again()
    due_now()
    dispatch.sweep(5)
    assert Delivery.objects.filter(state="succeeded").count() == 12
    received = {orjson.loads(r["body"])["data"]["id"] for r in receiver.requests}
    assert received == {str(p.pk) for p in products}


def test_backoff_grows_with_jitter_and_ends_in_failure(settings):
    settings.WEBHOOK_RETRY_DELAYS = [5, 60, 300]
    first = [dispatch.retry_delay(1) for _ in range(50)]
    assert all(4 <= d <= 6 for d in first) and len(set(first)) > 1
    assert 240 <= dispatch.retry_delay(3) <= 360
    assert dispatch.retry_delay(4) is None
    assert sum(settings.WEBHOOK_RETRY_DELAYS) < 24 * 3600


def test_default_schedule_lasts_about_a_day(settings):
    from backoffice import settings as project_settings

    total = sum(project_settings.WEBHOOK_RETRY_DELAYS)
    assert 20 * 3600 <= total <= 28 * 3600


def test_endpoint_disabled_after_the_threshold_and_creator_told(
    make_endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_DELAYS = [1]
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    creator = UserFactory(is_staff=True)
    endpoint = make_endpoint(receiver.url, user=creator)
    receiver.behaviour = "error"
    for _ in range(2):
        emit_one()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):  # first try, then the one retry
            dispatch.sweep(5)
            due_now()
    endpoint.refresh_from_db()
    assert Delivery.objects.filter(state="failed").count() == 2
    assert not endpoint.is_active and endpoint.disabled_at and endpoint.consecutive_failures == 2
    # A disabled endpoint gets nothing new.
    emit_one()
    assert dispatch.sweep(5) == 0
    try:
        from backoffice.live.models import Notification
    except ImportError:
        return
    assert Notification.objects.filter(user=creator).exists()


def test_a_success_resets_the_failure_count(make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=3)
    emit_one()
    dispatch.sweep(5)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_redeliver_resends_the_identical_bytes_and_id(make_endpoint, receiver):
    make_endpoint(receiver.url)
    emit_one()
    dispatch.sweep(5)
    delivery = Delivery.objects.get()
    assert services.redeliver([delivery]) == 1
    dispatch.sweep(5)
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first["body"] == second["body"]
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    assert DeliveryAttempt.objects.count() == 2


def test_send_test_event(make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    services.send_test_event(endpoint)
    dispatch.sweep(5)
    body = orjson.loads(receiver.requests[0]["body"])
    assert body["type"] == "webhook.test" and body["data"]["endpoint_id"] == str(endpoint.pk)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    endpoint.refresh_from_db()
    with pytest.raises(ValidationError):
        services.send_test_event(endpoint)


def test_pruning_keeps_recent_and_pending(make_endpoint, receiver, settings):
    make_endpoint(receiver.url)
    emit_one()
    dispatch.sweep(5)
    receiver.behaviour = "error"
    emit_one()
    dispatch.sweep(5)
    long_ago = timezone.now() - timedelta(days=settings.WEBHOOK_EVENT_RETENTION_DAYS + 1)
    Event.objects.update(created_at=long_ago)
    DeliveryAttempt.objects.update(started_at=long_ago)
    emit_one()
    dispatch.sweep(5)
    result = services.prune()
    assert result == {"attempts": 2, "events": 1}
    # The pending (still retrying) old event stays, and so does the recent one.
    assert Event.objects.count() == 2
    assert DeliveryAttempt.objects.count() == 1


# --- addresses -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[fe80::1]/hook",
        "https://0.0.0.0/hook",
    ],
)
def test_private_addresses_refused_at_save(settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError) as refused:
        services.create_endpoint(url=url, events=["order.paid"])
    assert "url" in refused.value.message_dict
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "allow_http"),
    [
        ("http://hooks.example.com/x", False),
        ("https://user:pw@hooks.example.com/x", True),
        ("ftp://hooks.example.com/x", True),
        ("https:///nohost", True),
        ("https://hooks.example.com:99999/x", True),
        ("https://hooks.example.com/" + "a" * 3000, True),
        ("https://hooks.example.com/a b", True),
    ],
)
def test_bad_urls_refused(settings, url, allow_http):
    settings.WEBHOOK_ALLOW_HTTP = allow_http
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with mock.patch.object(addresses, "resolve", return_value=["93.184.216.34"]), pytest.raises(ValidationError):
        services.create_endpoint(url=url, events=["order.paid"])


def test_a_public_name_is_accepted(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with mock.patch.object(addresses, "resolve", return_value=["93.184.216.34"]):
        endpoint, secret = services.create_endpoint(url="https://hooks.example.com/x", events=["order.paid"])
    assert secret.startswith("whsec_") and endpoint.secret == secret


def test_dns_rebinding_refused_at_send(settings, receiver):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    url = f"http://hooks.example.com:{receiver.port}/hooks"
    with mock.patch.object(addresses, "resolve", return_value=["93.184.216.34"]):
        services.create_endpoint(url=url, events=["product.updated"])
    emit_one()
    # The name now points at this machine (a rebinding attack): the send is refused, nothing connects.
    with mock.patch.object(addresses, "resolve", return_value=["93.184.216.34", "127.0.0.1"]):
        dispatch.sweep(5)
    assert receiver.requests == []
    attempt = DeliveryAttempt.objects.get()
    assert "loopback" in attempt.error and attempt.status_code is None


def test_the_connection_goes_to_the_checked_address_with_the_right_host(settings, receiver):
    # The resolver is asked once per send and the socket connects to its answer, never resolving again.
    url = f"http://hooks.example.com:{receiver.port}/hooks"
    with mock.patch.object(addresses, "resolve", return_value=["127.0.0.1"]) as resolver:
        services.create_endpoint(url=url, events=["product.updated"])
        emit_one()
        dispatch.sweep(5)
    assert resolver.call_count == 2  # save, send
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.com:{receiver.port}"
