import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from backoffice.api import idempotency
from backoffice.api.models import IdempotencyRecord
from catalog.models import Product, StockMovement
from orders.models import Order
from tests.api.conftest import ApiClient
from tests.factories import ProductFactory

STOCK = "/api/v1/stock/adjustments/"
BODY = {"adjustments": [{"sku": "A-1", "delta": 1, "reason": "receipt"}]}


@pytest.fixture
def product(db):
    return ProductFactory(sku="A-1", stock=0)


def test_a_retry_replays_the_first_answer_without_a_second_effect(api, product):
    first = api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == "application/json"
    assert Product.objects.get(pk=product.pk).stock == 1 and StockMovement.objects.count() == 1
    assert api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k-2").status_code == 200
    assert Product.objects.get(pk=product.pk).stock == 2


def test_errors_below_500_are_replayed_too(api, product):
    bad = {"adjustments": [{"sku": "A-1", "delta": -5, "reason": "sale"}]}
    first = api.post(STOCK, bad, HTTP_IDEMPOTENCY_KEY="k")
    again = api.post(STOCK, bad, HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == again.status_code == 422
    assert again.content == first.content and again["Content-Type"] == "application/problem+json"


def test_the_same_key_with_another_body_is_409(api, product):
    api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k")
    other = api.post(
        STOCK, {"adjustments": [{"sku": "A-1", "delta": 2, "reason": "receipt"}]}, HTTP_IDEMPOTENCY_KEY="k"
    )
    assert other.status_code == 409 and other.json()["type"].endswith("idempotency-key-mismatch")
    assert Product.objects.get(pk=product.pk).stock == 1


def test_keys_are_scoped_to_caller_and_path(api, make_key, product):
    api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k")
    other_caller = ApiClient(make_key()[1])
    assert other_caller.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k").status_code == 200
    assert Product.objects.get(pk=product.pk).stock == 2


def test_a_duplicate_still_in_flight_is_409(api, product):
    real_claim = idempotency.claim
    seen = {}

    def claim_then_retry(request):
        record = real_claim(request)
        if record is not None and "nested" not in seen:
            seen["nested"] = api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k")  # while the first is running
        return record

    with mock.patch.object(idempotency, "claim", claim_then_retry):
        first = api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == 200
    nested = seen["nested"]
    assert nested.status_code == 409 and nested.json()["type"].endswith("idempotency-in-progress")
    assert nested["Retry-After"]
    assert Product.objects.get(pk=product.pk).stock == 1


def test_server_errors_are_not_stored(api, product):
    with mock.patch("catalog.services.adjust_stock", side_effect=RuntimeError("boom")):
        api.raise_request_exception = False
        failed = api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k")
    assert failed.status_code == 500 and failed["Content-Type"] == "application/problem+json"
    assert not IdempotencyRecord.objects.exists()
    assert api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k").status_code == 200


@pytest.mark.parametrize("value", ["", "x" * 256, "ä", "a\x00b"])
def test_malformed_keys_are_400(api, product, value):
    response = api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY=value)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_records_are_pruned_after_a_day(api, product):
    api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k")
    assert idempotency.prune() == 0
    assert idempotency.prune(now=timezone.now() + timedelta(hours=25)) == 1
    from backoffice.api.tasks import prune_idempotency_records

    assert prune_idempotency_records() == 0


def test_an_abandoned_in_progress_record_is_taken_over(api, product, settings):
    api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k")
    IdempotencyRecord.objects.update(
        state=IdempotencyRecord.State.IN_PROGRESS, created_at=timezone.now() - timedelta(hours=1)
    )
    assert api.post(STOCK, BODY, HTTP_IDEMPOTENCY_KEY="k").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_racing_have_one_effect(make_key, needs_postgres):
    # In-memory test SQLite locks whole tables across threads; the claim itself is one INSERT under a unique
    # index on every database (the in-flight test above covers it on SQLite).
    ProductFactory(sku="A-1", stock=10)
    secret = make_key()[1]
    from catalog import services

    real = services.record_sale

    def slow_sale(*args, **kwargs):
        time.sleep(0.3)
        return real(*args, **kwargs)

    body = {
        "external_ref": "RACE",
        "customer": {"email": "r@example.com", "name": "R"},
        "lines": [{"sku": "A-1", "quantity": 1}],
    }
    results = []
    barrier = threading.Barrier(2)

    def send():
        barrier.wait()
        try:
            results.append(ApiClient(secret).post("/api/v1/orders/", body, HTTP_IDEMPOTENCY_KEY="race").status_code)
        finally:
            connection.close()

    with mock.patch("catalog.services.record_sale", slow_sale):
        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert sorted(results) in ([201, 409], [200, 201], [201, 201])
    assert Order.objects.count() == 1 and Product.objects.get(sku="A-1").stock == 9
