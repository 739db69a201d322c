"""The webhooks admin: secret shown once, rotation, redeliver and test buttons, query bounds, hostile input."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from backoffice.webhooks import dispatch, emit
from backoffice.webhooks.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from tests.factories import ProductFactory
from tests.hardening.cases import action_cases, changelist_cases, object_cases
from tests.test_admin_robustness import request_for, run

pytestmark = pytest.mark.django_db


def test_adding_an_endpoint_shows_its_secret_once(admin_client, receiver):
    response = admin_client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"url": receiver.url, "description": "Warehouse", "events": ["order.paid", "stock.changed"]},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.content.decode()
    assert endpoint.events == ["order.paid", "stock.changed"]
    assert endpoint.created_by is not None
    page = admin_client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint.secret not in page.content.decode()
    assert endpoint.history.count() == 1


def test_a_private_url_is_a_form_error(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    response = admin_client.post(
        reverse("admin:webhooks_webhookendpoint_add"), {"url": "https://127.0.0.1/x", "events": ["order.paid"]}
    )
    assert response.status_code == 200
    assert "loopback" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotate_test_and_redeliver_buttons(admin_client, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    old = endpoint.secret
    page = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])

    response = admin_client.post(reverse("admin:webhooks_webhookendpoint_rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in response.content.decode()

    response = admin_client.post(reverse("admin:webhooks_webhookendpoint_test", args=[endpoint.pk]))
    assert response.status_code == 302 and response["Location"] == page
    delivery = Delivery.objects.get(event__type="webhook.test")
    dispatch.sweep(5)

    html = admin_client.get(page).content.decode()
    assert "webhook.test" in html and "Redeliver" in html
    response = admin_client.post(
        reverse("admin:webhooks_webhookendpoint_redeliver", args=[endpoint.pk]), {"delivery": str(delivery.pk)}
    )
    assert response.status_code == 302
    dispatch.sweep(5)
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 2
    assert len(receiver.requests) == 2

    # GET never acts; a delivery of another endpoint or a hostile id is refused with a message.
    assert admin_client.get(reverse("admin:webhooks_webhookendpoint_test", args=[endpoint.pk])).status_code == 405
    for raw in ["x", "9" * 40, "-1"]:
        admin_client.post(reverse("admin:webhooks_webhookendpoint_redeliver", args=[endpoint.pk]), {"delivery": raw})
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 2


def test_redeliver_action_on_the_delivery_list(admin_client, make_endpoint, receiver):
    _deliveries(make_endpoint, receiver, 3)
    ids = list(Delivery.objects.values_list("pk", flat=True))
    response = admin_client.post(
        reverse("admin:webhooks_delivery_changelist"),
        {"action": "redeliver", "index": "0", "_selected_action": [str(pk) for pk in ids]},
    )
    assert response.status_code == 302
    assert Delivery.objects.filter(state="pending", attempts=0).count() == 3
    dispatch.sweep(5)
    assert len(receiver.requests) == 6


def test_a_disabled_endpoint_is_announced(admin_client, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_at=endpoint.created_at, disabled_reason="Disabled after 5 failed deliveries."
    )
    html = admin_client.get(reverse("admin:webhooks_webhookendpoint_changelist")).content.decode()
    assert "Disabled after repeated failures" in html
    html = admin_client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert "Disabled after 5 failed deliveries." in html


def _deliveries(make_endpoint, receiver, count):
    endpoint = make_endpoint(receiver.url)
    for _ in range(count):
        emit("product.updated", ProductFactory())
    dispatch.freeze()
    dispatch.sweep(10)
    return endpoint


@pytest.mark.parametrize("name", ["webhookendpoint", "delivery", "deliveryattempt"])
def test_changelists_run_a_constant_number_of_queries(
    admin_client, make_endpoint, receiver, name, django_assert_max_num_queries
):
    url = reverse(f"admin:webhooks_{name}_changelist")
    _deliveries(make_endpoint, receiver, 3)
    admin_client.get(url)  # warm caches (session, permissions)
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get(url).status_code == 200
    for i in range(12):
        make_endpoint(f"{receiver.url}?n={i}")
    _deliveries(make_endpoint, receiver, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(url).status_code == 200


def test_endpoint_page_queries_do_not_grow_with_deliveries(
    admin_client, make_endpoint, receiver, django_assert_max_num_queries
):
    endpoint = _deliveries(make_endpoint, receiver, 2)
    url = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
    admin_client.get(url)
    with django_assert_max_num_queries(30) as few:
        admin_client.get(url)
    for _ in range(25):
        emit("product.updated", ProductFactory())
    dispatch.freeze()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("model", [WebhookEndpoint, Delivery, DeliveryAttempt], ids=lambda m: m.__name__)
def test_hostile_input_walk_with_rows(admin_client, superuser, make_endpoint, receiver, model):
    _deliveries(make_endpoint, receiver, 2)
    model_admin = admin.site._registry[model]
    existing = model._default_manager.order_by().values_list("pk", flat=True).first()
    request = request_for(superuser)
    cases = [
        *object_cases(admin.site, model_admin, existing),
        *changelist_cases(admin.site, model_admin, request),
        *action_cases(admin.site, model_admin, request),
    ]
    counts = (WebhookEndpoint.objects.count(), Event.objects.count(), Delivery.objects.count())
    attempts = DeliveryAttempt.objects.count()
    problems = run(admin_client, cases)
    assert problems == [], "\n".join(problems[:40])
    assert (WebhookEndpoint.objects.count(), Event.objects.count(), Delivery.objects.count()) == counts
    assert DeliveryAttempt.objects.count() == attempts


def test_secret_never_in_history_rows(make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    fields = {f.name for f in endpoint.history.model._meta.fields}
    assert "secret" not in fields and "previous_secret" not in fields
    assert not re.search("whsec_", str(list(endpoint.history.values())))
