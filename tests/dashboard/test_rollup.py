"""The daily sales rollup against the same figures computed naively from the orders."""

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from catalog.services import InsufficientStock
from orders import rollup
from orders.models import DailyProductSales, DailySales, Order
from orders.sales import REVENUE_STATUSES
from orders.services import TRANSITIONS, notifications_muted, place_order, transition
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


def naive_figures():
    """Per (day, currency, status): orders, total, units; per (day, product): units of revenue orders."""
    sales = defaultdict(lambda: [0, Decimal("0"), 0])
    products = Counter()
    for order in Order.objects.prefetch_related("lines"):
        day = rollup.sales_day(order.placed_at)
        row = sales[(day, order.currency, order.status)]
        row[0] += 1
        row[1] += order.total
        for line in order.lines.all():
            row[2] += line.quantity
            if order.status in REVENUE_STATUSES:
                products[(day, line.product_id)] += line.quantity
    return {k: tuple(v) for k, v in sales.items()}, +products


def rollup_figures():
    sales = {
        (r.day, r.currency, r.status): (r.orders, r.total, r.units)
        for r in DailySales.objects.all()
        if (r.orders, r.total, r.units) != (0, 0, 0)
    }
    products = Counter({(r.day, r.product_id): r.units for r in DailyProductSales.objects.all() if r.units})
    return sales, products


def at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_rollup_equals_the_naive_figures_after_placements_and_transitions():
    rng = random.Random(7)
    products = ProductFactory.create_batch(6, stock=10_000)
    customers = CustomerFactory.create_batch(4)
    now = timezone.now()
    orders = []
    with notifications_muted():
        for i in range(60):
            placed = now - timedelta(days=rng.randint(0, 9), hours=rng.randint(0, 23))
            lines = [(p, rng.randint(1, 4)) for p in rng.sample(products, rng.randint(1, 3))]
            with at(placed):
                orders.append(
                    place_order(
                        customer=rng.choice(customers),
                        lines=lines,
                        currency="USD" if i % 7 == 0 else "EUR",
                        shipping=Decimal("4.90"),
                    )
                )
        for order in orders:
            for _step in range(rng.randint(0, 4)):
                choices = sorted(TRANSITIONS[order.status])
                if not choices:
                    break
                order = transition(order, rng.choice(choices), carrier="DHL")
    statuses = set(Order.objects.values_list("status", flat=True))
    assert {"pending", "paid", "cancelled", "shipped"} <= statuses  # the mix did cover the lifecycle
    expected = naive_figures()
    assert rollup_figures() == expected
    call_command("rebuild_sales_rollup")
    assert rollup_figures() == expected


def test_refused_work_leaves_the_rollup_as_it_was():
    product = ProductFactory(stock=2)
    customer = CustomerFactory()
    with notifications_muted():
        order = place_order(customer=customer, lines=[(product, 2)])
        before = rollup_figures()
        with pytest.raises(InsufficientStock):
            place_order(customer=customer, lines=[(product, 1)])
        with pytest.raises(ValidationError):
            transition(order, Order.Status.DELIVERED)
        with pytest.raises(ValidationError):  # shipping needs a carrier; checked before anything is written
            transition(transition(order, Order.Status.PAID), Order.Status.SHIPPED)
    after = rollup_figures()
    day = rollup.sales_day(order.placed_at)
    assert before[0] == {(day, "EUR", "pending"): (1, order.total, 2)}
    assert after[0] == {(day, "EUR", "paid"): (1, order.total, 2)}
    assert after[1] == Counter({(day, product.pk): 2})


def test_an_order_counts_on_its_day_in_the_project_time_zone(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    product = ProductFactory()
    late_evening_utc = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    with notifications_muted(), at(late_evening_utc):
        place_order(customer=CustomerFactory(), lines=[(product, 1)])
    assert list(DailySales.objects.values_list("day", flat=True)) == [late_evening_utc.date() + timedelta(days=1)]


def test_rebuild_replaces_whatever_was_there():
    product = ProductFactory()
    with notifications_muted():
        order = transition(place_order(customer=CustomerFactory(), lines=[(product, 3)]), Order.Status.PAID)
    DailySales.objects.update(orders=99)
    DailyProductSales.objects.create(
        day=rollup.sales_day(order.placed_at) - timedelta(days=1), product=product, units=5
    )
    counts = rollup.rebuild()
    assert counts == {"daily_sales": 1, "daily_product_sales": 1}
    assert rollup_figures() == naive_figures()
