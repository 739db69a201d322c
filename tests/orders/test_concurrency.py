import threading

import pytest
from django.db import connection
from django.db.models import Sum

from catalog.models import Product, StockMovement
from catalog.services import InsufficientStock
from orders.models import Order
from orders.services import place_order
from tests.factories import CustomerFactory, ProductFactory


@pytest.mark.django_db(transaction=True)
def test_twenty_placers_race_for_the_last_five_units(needs_postgres):
    product = ProductFactory(stock=5)
    filler = ProductFactory(stock=1000)  # a second line, so orders lock two rows in a fixed order
    customer = CustomerFactory()
    start = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def placer() -> None:
        try:
            start.wait()
            try:
                place_order(customer=customer, lines=[(filler, 1), (product, 1)])
                result = "ok"
            except InsufficientStock:
                result = "refused"
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=placer) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok"] * 5 + ["refused"] * 15
    assert Product.objects.get(pk=product.pk).stock == 0
    assert Order.objects.count() == 5
    assert len(set(Order.objects.values_list("number", flat=True))) == 5
    for item, start_stock in ((product, 5), (filler, 1000)):
        fresh = Product.objects.get(pk=item.pk)
        ledger = StockMovement.objects.filter(product=item).aggregate(s=Sum("delta"))["s"]
        assert fresh.stock == start_stock + ledger  # the ledger explains the stock
        assert fresh.stock + fresh.units_sold == start_stock
