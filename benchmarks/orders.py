"""``benchmark orders``: concurrent order placement on shared products, and the Order changelist.

Placement is timed with one placer and with several at once on the same work; afterwards every
product must satisfy ``stock + units sold == starting stock`` and its ledger must explain its stock.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.db.models import Sum
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from benchmarks import Result, suite
from catalog.models import Category, Product, StockMovement
from catalog.services import InsufficientStock
from orders.models import Customer, Notification, Order
from orders.seeding import bulk_orders
from orders.services import notifications_muted, place_order

THREADS = 8
PRODUCTS = 40
START_STOCK = 1_000_000


def _place_many(plans, customers, products, threads: int) -> tuple[float, int, int]:
    """Place the planned orders on ``threads`` threads; returns seconds, placed, refused."""
    chunks = [plans[i::threads] for i in range(threads)]
    placed, refused = [0] * threads, [0] * threads
    barrier = threading.Barrier(threads + 1)

    def work(index: int) -> None:
        try:
            with notifications_muted():
                barrier.wait()
                for customer_index, lines in chunks[index]:
                    try:
                        place_order(
                            customer=customers[customer_index],
                            lines=[(products[p], q) for p, q in lines],
                            source="api",
                        )
                        placed[index] += 1
                    except InsufficientStock:
                        refused[index] += 1
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started, sum(placed), sum(refused)


def _check_invariants(products) -> None:
    for product in Product.objects.filter(pk__in=[p.pk for p in products]):
        ledger = StockMovement.objects.filter(product=product).aggregate(s=Sum("delta"))["s"] or 0
        if product.stock + product.units_sold != START_STOCK or product.stock != ledger:
            raise AssertionError(f"stock of {product.sku} does not add up: {product.stock} + {product.units_sold}")


def _changelist(rows_label: str, stdout) -> Result:
    user = get_user_model().objects.create(username="benchmark-orders", is_staff=True, is_superuser=True)
    try:
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False):
            client = Client()
            client.force_login(user)
            timings = []
            for _ in range(9):
                started = time.perf_counter()
                if client.get("/admin/orders/order/").status_code != 200:
                    raise RuntimeError("the order changelist did not answer 200")
                timings.append(time.perf_counter() - started)
            with CaptureQueriesContext(connection) as captured:
                client.get("/admin/orders/order/", {"o": "-5"})
        name = f"order changelist p50 ({rows_label})"  # compared with nothing: a figure against its target
        return Result(name, statistics.median(timings), 1, "pages", len(captured.captured_queries), 1, baseline=name)
    finally:
        user.delete()


PLACEMENTS = 2000


@suite("orders", default_rows=1_000_000)
def orders_suite(rows: int, stdout) -> list[Result]:
    """``rows`` is the size of the order table for the changelist; placement runs min(rows, 2,000) orders."""
    rng = random.Random(11)  # noqa: S311 - a reproducible workload
    category = Category.objects.create(name="Benchmark", slug=f"benchmark-{rng.randint(0, 10**9)}", path="Benchmark")
    products = Product.objects.bulk_create(
        Product(
            sku=f"BENCH-{i:04d}-{category.slug}",
            name=f"Benchmark {i}",
            slug=f"bench-{i}",
            category=category,
            price=Decimal("9.99"),
            cost=Decimal("5.00"),
            stock=START_STOCK,
            status="active",
        )
        for i in range(PRODUCTS)
    )
    StockMovement.objects.bulk_create(
        StockMovement(product=p, delta=START_STOCK, balance_after=START_STOCK, reason="receipt") for p in products
    )
    customers = Customer.objects.bulk_create(
        Customer(email=f"bench-{category.slug}-{i}@example.com", name=f"Bench {i}") for i in range(50)
    )
    plans = [
        (
            rng.randrange(len(customers)),
            [(p, rng.randint(1, 3)) for p in rng.sample(range(PRODUCTS), rng.randint(1, 4))],
        )
        for _ in range(min(rows, PLACEMENTS))
    ]
    stdout.write(f"  {len(plans):,} orders of 1-4 lines over {PRODUCTS} shared products, database {connection.vendor}")
    try:
        one_seconds, one_placed, _r = _place_many(plans, customers, products, 1)
        many_seconds, many_placed, _r = _place_many(plans, customers, products, THREADS)
        _check_invariants(products)
        stdout.write(f"  invariant holds for every product: stock + units sold == {START_STOCK:,}; ledger == stock")
        results = [
            Result("placement, 1 placer", one_seconds, one_placed, "orders"),
            Result(
                f"placement, {THREADS} concurrent placers",
                many_seconds,
                many_placed,
                "orders",
                baseline="placement, 1 placer",
            ),
        ]
        with transaction.atomic():  # the bulk history is rolled back afterwards
            missing = rows - Order.objects.count()
            if missing > 0:
                started = time.perf_counter()
                bulk_orders(missing, customers=customers, products=products)
                stdout.write(
                    f"  inserted {missing:,} past orders for the changelist in {time.perf_counter() - started:.0f} s"
                )
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            results.append(_changelist(f"{Order.objects.count():,} orders", stdout))
            transaction.set_rollback(True)
        return results
    finally:
        orders = Order.objects.filter(customer__in=customers)
        Notification.objects.filter(order__in=orders).delete()
        orders.delete()
        StockMovement.objects.filter(product__in=products).delete()
        Product.all_objects.filter(pk__in=[p.pk for p in products]).delete()
        Customer.all_objects.filter(pk__in=[c.pk for c in customers]).delete()
        category.delete()
