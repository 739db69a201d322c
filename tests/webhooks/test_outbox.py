"""Events are written in the change's transaction, frozen once after commit, and cost nothing unsubscribed."""

import orjson
import pytest
from django.db import transaction

from backoffice import jobs
from backoffice.webhooks import dispatch, emit_many
from backoffice.webhooks.models import Delivery, Event
from catalog import services as catalog
from catalog.models import Product, StockMovement
from orders.services import place_order, transition
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


def product_fields(**extra):
    return {"sku": "HOOK-1", "name": "Hook", "price": "9.90", "category": CategoryFactory(), **extra}


def test_nothing_is_written_when_no_endpoint_subscribes(django_assert_num_queries):
    product = ProductFactory()
    catalog.update_product(product, name="Renamed")
    assert not Event.objects.exists()
    with django_assert_num_queries(0):  # the subscription set is cached
        assert emit_many("product.updated", [product.pk] * 100) == 0


def test_a_rolled_back_change_leaves_no_event(make_endpoint, receiver, django_capture_on_commit_callbacks):
    make_endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        catalog.create_product(**product_fields())
        raise RuntimeError("the surrounding work failed")
    assert not Event.objects.exists()
    assert not Product.all_objects.filter(sku="HOOK-1").exists()
    dispatch.sweep(2)
    assert receiver.requests == []


def test_services_emit_and_the_payload_is_frozen_at_commit(make_endpoint, receiver, django_capture_on_commit_callbacks):
    make_endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        product = catalog.create_product(opening_stock=5, **product_fields())
    assert {e.type for e in Event.objects.all()} == {"product.created", "stock.changed"}
    created = Event.objects.get(type="product.created")
    assert created.frozen_at is not None
    payload = orjson.loads(bytes(created.payload))
    assert set(payload) == {"type", "timestamp", "data"}
    assert payload["type"] == "product.created"
    # The state as committed: the opening stock taken after the insert is in the snapshot.
    assert payload["data"]["sku"] == "HOOK-1" and payload["data"]["stock"] == 5
    assert payload["data"]["updated_at"]
    stock = orjson.loads(bytes(Event.objects.get(type="stock.changed").payload))
    assert stock["data"]["change"] == {"delta": 5, "reason": "receipt", "reference": "Opening stock"}
    # The receiver already has both (the kick ran after commit, in-process in tests).
    assert sorted(orjson.loads(r["body"])["type"] for r in receiver.requests) == ["product.created", "stock.changed"]

    frozen = bytes(created.payload)
    with django_capture_on_commit_callbacks(execute=True):
        catalog.update_product(product, name="Changed later")
    created.refresh_from_db()
    assert bytes(created.payload) == frozen  # a later change does not touch an earlier event
    updated = orjson.loads(bytes(Event.objects.get(type="product.updated").payload))
    assert updated["data"]["name"] == "Changed later"

    with django_capture_on_commit_callbacks(execute=True):
        catalog.soft_delete_product(Product.objects.get(pk=product.pk))
    deleted = orjson.loads(bytes(Event.objects.get(type="product.deleted").payload))
    assert deleted["data"]["deleted_at"]


def test_order_lifecycle_events(make_endpoint, receiver, django_capture_on_commit_callbacks):
    make_endpoint(receiver.url, events=["order.created", "order.paid", "order.shipped", "order.cancelled"])
    product = ProductFactory(stock=10, status=Product.Status.ACTIVE)
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(customer=CustomerFactory(), lines=[(product, 2)])
        transition(order, "paid")
        transition(order, "shipped", carrier="DHL")
    types = [orjson.loads(r["body"])["type"] for r in receiver.requests]
    assert sorted(types) == ["order.created", "order.paid", "order.shipped"]
    paid = orjson.loads(bytes(Event.objects.get(type="order.paid").payload))
    assert paid["data"]["number"] == order.number
    assert paid["data"]["lines"][0]["quantity"] == 2
    assert paid["data"]["change"] == {"from_status": "pending"}
    assert paid["data"]["updated_at"]


def test_emit_many_is_one_insert(make_endpoint, receiver, django_assert_num_queries):
    make_endpoint(receiver.url)
    products = [ProductFactory() for _ in range(30)]
    with transaction.atomic():
        emit_many("product.updated", products)  # warms the subscription cache
    Event.objects.all().delete()
    with django_assert_num_queries(3), transaction.atomic():  # SAVEPOINT, INSERT, RELEASE
        assert emit_many("product.updated", products, extra_of=lambda p: {"sku": p.sku}) == 30
    assert Event.objects.count() == 30


def test_a_bulk_job_inserts_its_events_once_per_chunk_and_drops_failed_items(
    make_endpoint, receiver, superuser, django_capture_on_commit_callbacks
):
    make_endpoint(receiver.url)
    products = [ProductFactory(status=Product.Status.DRAFT) for _ in range(5)]
    # One item fails (it is gone by the time the job runs): its event must not be sent.
    gone = products[-1]
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_job(
            "catalog.set_status", items=[p.pk for p in products], params={"status": "active"}, user=superuser
        )
        Product.all_objects.filter(pk=gone.pk).delete()
    job.refresh_from_db()
    assert job.failed == 1
    events = Event.objects.filter(type="product.updated")
    assert sorted(events.values_list("resource_id", flat=True)) == sorted(str(p.pk) for p in products[:-1])


def test_freezing_is_once_even_when_run_again():
    event = Event.objects.create(type="product.updated", resource_id="x")
    assert dispatch.freeze() == 1
    event.refresh_from_db()
    first = bytes(event.payload)
    assert dispatch.freeze() == 0
    event.refresh_from_db()
    assert bytes(event.payload) == first
    assert not Delivery.objects.exists()  # no endpoint subscribed when it was frozen


def test_stock_movement_ledger_unchanged_by_webhooks(make_endpoint, receiver):
    make_endpoint(receiver.url)
    product = ProductFactory(stock=3)
    catalog.adjust_stock(product, -1, reason=StockMovement.Reason.SALE)
    assert StockMovement.objects.filter(product=product).count() == 1
    assert Event.objects.filter(type="stock.changed").count() == 1
