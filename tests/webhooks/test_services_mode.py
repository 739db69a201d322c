"""On PostgreSQL: two sweepers at once never send a delivery twice; and the whole path with a real Celery
worker, the beat sweep task and a real local HTTP receiver."""

import threading
import time

import orjson
import pytest
from django.db import connection
from django.utils import timezone

from backoffice.webhooks import dispatch, services
from backoffice.webhooks.models import Delivery, DeliveryAttempt, Event
from catalog import services as catalog
from tests.backoffice.test_celery_worker import Worker
from tests.factories import CategoryFactory, ProductFactory

pytestmark = [pytest.mark.services, pytest.mark.timeout(240)]


def test_two_sweepers_never_send_a_delivery_twice(needs_postgres, transactional_db, receiver, settings):
    settings.WEBHOOK_SWEEP_BATCH = 7  # many small claims, so the sweepers interleave
    settings.WEBHOOK_SEND_CONCURRENCY = 2
    settings.WEBHOOK_TOTAL_TIMEOUT = 10  # no retry from a slow answer on a loaded machine: each sent once
    services.create_endpoint(url=receiver.url, events=["product.updated"])
    products = [ProductFactory() for _ in range(120)]
    Event.objects.bulk_create(Event(type="product.updated", resource_id=str(p.pk)) for p in products)
    dispatch.freeze_all()
    assert Delivery.objects.count() == 120

    errors = []

    def sweeper():
        try:
            dispatch.sweep(30)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    ids = [r["headers"]["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) == 120
    assert DeliveryAttempt.objects.count() == 120
    assert set(Delivery.objects.values_list("state", flat=True)) == {"succeeded"}


def test_a_real_worker_and_the_sweep_deliver_every_event(needs_postgres, needs_redis, transactional_db, receiver):
    from backoffice.celery import app
    from backoffice.webhooks import tasks

    app.conf.task_always_eager = False
    worker = Worker("webhooks", WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1", WEBHOOK_ALLOW_HTTP="1")
    try:
        services.create_endpoint(url=receiver.url, events=["product.created", "stock.changed"])
        # Down at first: the worker's first attempts fail and are retried from next_attempt_at, never a countdown.
        receiver.stop()
        category = CategoryFactory()
        for i in range(5):
            catalog.create_product(
                sku=f"WORKER-{i}", name=f"Worker {i}", price="1.00", category=category, opening_stock=1
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and DeliveryAttempt.objects.count() < 10:
            time.sleep(0.3)
        assert DeliveryAttempt.objects.filter(succeeded=False).count() >= 10, worker.output()[-3000:]
        receiver.start_again()
        Delivery.objects.update(next_attempt_at=timezone.now())  # the retries are due now
        tasks.sweep.delay()  # what beat sends every WEBHOOK_SWEEP_SECONDS
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and Delivery.objects.filter(state="succeeded").count() < 10:
            time.sleep(0.3)
        assert Delivery.objects.filter(state="succeeded").count() == 10, worker.output()[-3000:]
        bodies = [orjson.loads(r["body"]) for r in receiver.requests]
        assert sorted(b["type"] for b in bodies) == ["product.created"] * 5 + ["stock.changed"] * 5
        assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 10
    finally:
        worker.stop()
        app.conf.task_always_eager = True
