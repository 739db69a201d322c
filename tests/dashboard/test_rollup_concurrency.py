import threading

import pytest
from django.db import connection

from orders.models import Order
from orders.services import notifications_muted, place_order, transition
from tests.dashboard.test_rollup import naive_figures, rollup_figures
from tests.factories import CustomerFactory, ProductFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_placements_and_transitions_keep_the_rollup_exact(needs_postgres):
    """Eight writers on disjoint products meet only on the day's rollup rows, which none of them has yet: the
    first inserts race (one wins, the others update), then every update must add up."""
    products = ProductFactory.create_batch(8, stock=1000)
    customer = CustomerFactory()
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            start.wait()
            with notifications_muted():
                for step in range(6):
                    order = place_order(customer=customer, lines=[(products[index], 1 + step % 3)])
                    if step % 2:
                        order = transition(order, Order.Status.PAID)
                    if step % 3 == 2:
                        transition(order, Order.Status.CANCELLED)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Order.objects.count() == 48
    assert rollup_figures() == naive_figures()
