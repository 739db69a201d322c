"""Bulk writers put their events in the outbox in a statement or two, and none when nobody subscribes."""

import orjson
import pytest
from django.db import transaction

from backoffice.imports import engine
from backoffice.webhooks import dispatch
from backoffice.webhooks.models import Event
from catalog.services import bulk_adjust_stock
from tests.factories import ProductFactory
from tests.imports.conftest import catalogue, csv_bytes, importer, upload_file  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_bulk_stock_events_carry_each_change(make_endpoint, receiver, django_assert_max_num_queries):
    make_endpoint(receiver.url)
    products = [ProductFactory(stock=5) for _ in range(40)]
    with django_assert_max_num_queries(30) as captured, transaction.atomic():
        bulk_adjust_stock([(p.pk, 2) for p in products], reason="receipt", reference="PO-9")
    inserts = [q["sql"] for q in captured.captured_queries if 'INTO "webhooks_event"' in q["sql"]]
    assert len(inserts) == 1
    dispatch.freeze()
    events = Event.objects.filter(type="stock.changed")
    assert events.count() == 40
    payload = orjson.loads(bytes(events.first().payload))
    assert payload["data"]["stock"] == 7
    assert payload["data"]["change"] == {"delta": 2, "reason": "receipt", "reference": "PO-9"}


def test_bulk_stock_without_subscribers_writes_no_event():
    products = [ProductFactory(stock=5) for _ in range(3)]
    bulk_adjust_stock([(p.pk, 1) for p in products], reason="receipt")
    assert not Event.objects.exists()


def test_an_import_records_created_updated_stock_and_finished(make_endpoint, receiver, catalogue, importer):  # noqa: F811
    make_endpoint(receiver.url, events=["product.created", "product.updated", "stock.changed", "import.finished"])
    data = csv_bytes(
        "sku,name,price,category,stock,status\n"
        "MUG-1,Renamed mug,12.90,mugs,12,active\n"
        "MUG-2,New mug,9.90,mugs,3,active\n"
    )
    batch = engine.validate(engine.upload(upload_file("hooks.csv", data), resource="catalog.product", user=importer))
    assert batch.status == "validated", batch.message
    assert engine.claim_for_apply(batch)
    engine.apply(batch, user=importer)
    types = sorted(Event.objects.values_list("type", flat=True))
    assert types.count("product.created") == 1
    assert types.count("product.updated") == 1
    assert types.count("stock.changed") == 2
    assert types.count("import.finished") == 1
    dispatch.freeze()
    finished = orjson.loads(bytes(Event.objects.get(type="import.finished").payload))
    assert finished["data"]["status"] == "applied" and finished["data"]["updated_at"]
