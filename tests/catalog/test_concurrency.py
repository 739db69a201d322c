import threading

import pytest
from django.db import connection

from catalog import services
from catalog.models import Product, StockMovement
from tests.factories import ProductFactory


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_never_take_stock_below_zero(needs_postgres):
    product = ProductFactory(stock=50)
    start = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            start.wait()
            for _ in range(5):  # 20 threads x 5 takes of 1 unit = 100 asked, 50 in stock
                try:
                    services.adjust_stock(
                        Product.objects.get(pk=product.pk), -1, reason="adjustment", reference=str(index)
                    )
                    result = "ok"
                except services.InsufficientStock:
                    result = "refused"
                with lock:
                    outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("ok") == 50 and outcomes.count("refused") == 50
    product.refresh_from_db()
    assert product.stock == 0
    movements = StockMovement.objects.filter(product=product)
    assert movements.count() == 50
    assert sum(movements.values_list("delta", flat=True)) == -50
    # the ledger's balances are a permutation-free countdown: every balance from 49 to 0 exactly once
    assert sorted(movements.values_list("balance_after", flat=True)) == list(range(50))
