import random

import pytest

from orders.models import Customer, Order
from orders.seeding import seed_customers, seed_orders
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_demo_customers_have_complete_addresses_and_orders_snapshot_them():
    ProductFactory.create_batch(5, stock=500)
    user = UserFactory()
    assert seed_orders(20, seed=7, user=user) > 0
    customers = list(Customer.objects.all())
    assert len(customers) == 20 and all(c.has_address("billing") for c in customers)
    for customer in customers:
        customer.full_clean()  # every address is complete, every country a real one
    assert customers[0].history.get().history_user == user
    order = Order.objects.select_related("customer").first()
    expected = order.customer.address_snapshot("shipping") or order.customer.address_snapshot("billing")
    assert order.shipping_address == expected


def test_seeding_customers_again_updates_the_same_ones():
    first = seed_customers(5, random.Random(1))
    again = seed_customers(5, random.Random(1))
    assert [c.pk for c in again] == [c.pk for c in first] and Customer.objects.count() == 5
