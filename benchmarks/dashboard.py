"""``benchmark dashboard``: the dashboard's figures over a large order table, from the daily rollup, against
the same figures computed naively from the orders (a query per day).

PostgreSQL only: ``rows`` orders (1-3 lines each) spread over 730 days are written by two ``INSERT ... SELECT
FROM generate_series`` statements, the rollup is rebuilt from them (timed), the tables are vacuumed and
analysed, and then:

- ours, cold: ``dashboard_figures()`` with the app cache empty (the database warm), p50 of several runs;
- ours, warm: the same from the cache;
- the whole dashboard page (``GET /admin/``), cold and warm;
- naive: revenue and orders by status per day from ``Order`` (one query per day over 60 days), top products
  per day from ``OrderLine`` (30 queries), the same waiting and latest orders queries.

Both give the same figures (checked). The rows written are deleted afterwards and the rollup rebuilt.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, Sum
from django.test import Client, override_settings
from django.utils import timezone

from backoffice.dashboard import dashboard_figures
from benchmarks import Result, suite
from benchmarks.measure import count_queries
from catalog.models import Category, Product
from orders import rollup, sales
from orders.models import Customer, Order, OrderLine

DAYS = 730
PRODUCTS = 500
CUSTOMERS = 1000
RUNS = 11
PREFIX = "SO-B"

# One order per g: its day (g % 730 days back), a status by age (recent orders are still open), 1-3 lines of
# products picked by g. Orders and lines compute the same products and quantities, so totals match the lines.
ORDERS_SQL = """
INSERT INTO orders_order (id, created_at, updated_at, number, customer_id, status, currency, subtotal, discount,
    shipping, tax, total, billing_address, shipping_address, placed_at, carrier, tracking_number, source)
SELECT md5('bench-order-' || g)::uuid, placed, placed, %(prefix)s || lpad(g::text, 9, '0'),
    (%(customers)s::uuid[])[1 + g %% %(n_customers)s::int],
    CASE WHEN r < 5 THEN 'cancelled' WHEN r < 7 THEN 'returned'
         WHEN age < 2 AND r < 30 THEN 'pending' WHEN age < 4 AND r < 45 THEN 'paid'
         WHEN age < 5 AND r < 55 THEN 'processing' WHEN age < 8 AND r < 70 THEN 'shipped'
         ELSE 'delivered' END,
    'EUR', amount, 0, 0, 0, amount, '{}', '{}', placed, '', '', 'api'
FROM (
    SELECT g, g %% %(days)s::int AS age, (g * 7919) %% 100 AS r,
        %(now)s - make_interval(days => (g %% %(days)s::int)::int, secs => ((g * 37) %% 86400)::float8) AS placed,
        (SELECT sum((%(prices)s::numeric[])[1 + (g * 31 + k * 17) %% %(n_products)s::int] * (1 + (g + k) %% 3))
         FROM generate_series(1, 1 + g %% 3) k) AS amount
    FROM generate_series(1, %(rows)s::bigint) g
) o
"""
LINES_SQL = """
INSERT INTO orders_orderline (order_id, product_id, sku, name, unit_price, quantity, line_total)
SELECT md5('bench-order-' || g)::uuid, (%(products)s::uuid[])[p], (%(skus)s::text[])[p], (%(skus)s::text[])[p],
    (%(prices)s::numeric[])[p], q, (%(prices)s::numeric[])[p] * q
FROM (
    SELECT g, 1 + (g * 31 + k * 17) %% %(n_products)s::int AS p, 1 + (g + k) %% 3 AS q
    FROM generate_series(1, %(rows)s::bigint) g, generate_series(1, 3) k
    WHERE k <= 1 + g %% 3
) l
"""


def _reference_rows() -> tuple[Category, list[Product], list[Customer]]:
    category = Category.objects.create(name="Dashboard benchmark", slug="dashboard-benchmark", path="Dashboard")
    products = Product.objects.bulk_create(
        Product(
            sku=f"DASH-{i:04d}",
            name=f"Dashboard {i}",
            slug=f"dash-{i}",
            category=category,
            price=Decimal(5 + i % 50) + Decimal("0.99"),
            cost=Decimal("2.00"),
            stock=i % 40,  # some below the threshold: the low-stock figures have rows to find
            status="active",
        )
        for i in range(PRODUCTS)
    )
    customers = Customer.objects.bulk_create(
        Customer(email=f"dashboard-bench-{i}@example.com", name=f"Bench {i}") for i in range(CUSTOMERS)
    )
    return category, products, customers


def _insert_orders(rows: int, products, customers, stdout) -> None:
    params = {
        "rows": rows,
        "prefix": PREFIX,
        "days": DAYS,
        "n_customers": CUSTOMERS,
        "n_products": PRODUCTS,
        "now": timezone.now(),
        "customers": [str(c.pk) for c in customers],
        "products": [str(p.pk) for p in products],
        "skus": [p.sku for p in products],
        "prices": [p.price for p in products],
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(ORDERS_SQL, params)
        cursor.execute(LINES_SQL, params)
    stdout.write(
        f"  inserted {rows:,} orders over {DAYS} days with their lines in {time.perf_counter() - started:.1f} s"
    )


def _vacuum() -> None:
    with connection.cursor() as cursor:
        for table in ("orders_order", "orders_orderline", "orders_dailysales", "orders_dailyproductsales"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def naive_figures(today) -> dict:
    """The dashboard's sales figures straight from the orders: a query per day, as a first version would."""
    tz = timezone.get_default_timezone()
    revenue = defaultdict(lambda: defaultdict(lambda: [Decimal("0"), Decimal("0")]))
    per_day = defaultdict(lambda: [Decimal("0")] * sales.CHART_DAYS)
    by_status = defaultdict(int)
    periods = {"today": 1, "7d": 7, "30d": sales.CHART_DAYS}
    for age in range(2 * sales.CHART_DAYS):
        day = today - timedelta(days=age)
        start = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()), tz)
        rows = (
            Order.objects.filter(placed_at__gte=start, placed_at__lt=start + timedelta(days=1))
            .values("currency", "status")
            .annotate(n=Count("pk"), amount=Sum("total"))
            .order_by()
        )
        for row in rows:
            if age < sales.CHART_DAYS:
                by_status[row["status"]] += row["n"]
            if row["status"] not in sales.REVENUE_STATUSES:
                continue
            if age < sales.CHART_DAYS:
                per_day[row["currency"]][sales.CHART_DAYS - 1 - age] += row["amount"]
            for name, length in periods.items():
                if age < 2 * length:
                    revenue[row["currency"]][name][0 if age < length else 1] += row["amount"]
    units = Counter()
    names = {}
    for age in range(sales.CHART_DAYS):
        day = today - timedelta(days=age)
        start = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()), tz)
        lines = (
            OrderLine.objects.filter(order__placed_at__gte=start, order__placed_at__lt=start + timedelta(days=1))
            .filter(Q(order__status__in=sales.REVENUE_STATUSES))
            .values("product_id", "product__sku", "product__name")
            .annotate(n=Sum("quantity"))
            .order_by()
        )
        for row in lines:
            units[row["product_id"]] += row["n"]
            names[row["product_id"]] = (row["product__sku"], row["product__name"])
    top = sorted(units.items(), key=lambda item: (-item[1], str(item[0])))[: sales.TOP_PRODUCTS]
    return {
        "figures": {
            "days": [today - timedelta(days=sales.CHART_DAYS - 1 - i) for i in range(sales.CHART_DAYS)],
            "revenue": {cur: {name: tuple(pair) for name, pair in p.items()} for cur, p in revenue.items()},
            "revenue_per_day": dict(per_day),
            "orders_by_status": dict(by_status),
        },
        "waiting": sales.waiting_orders(),
        "top": [
            {"product_id": pk, "product__sku": names[pk][0], "product__name": names[pk][1], "units_sold": n}
            for pk, n in top
        ],
        "latest": sales.latest_orders(),
    }


def _p50(func, runs: int = RUNS, before=None) -> float:
    timings = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        func()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


@suite("dashboard", default_rows=1_000_000)
def dashboard_suite(rows: int, stdout) -> list[Result]:
    if connection.vendor != "postgresql":
        raise RuntimeError("benchmark dashboard seeds with generate_series: run it with DATABASE_URL on PostgreSQL")
    user = get_user_model().objects.create(username="benchmark-dashboard", is_staff=True, is_superuser=True)
    category, products, customers = _reference_rows()
    try:
        _insert_orders(rows, products, customers, stdout)
        started = time.perf_counter()
        counts = rollup.rebuild()
        stdout.write(
            f"  rollup rebuilt in {time.perf_counter() - started:.1f} s: {counts['daily_sales']:,} day rows, "
            f"{counts['daily_product_sales']:,} day/product rows"
        )
        _vacuum()
        today = timezone.localdate(timezone=timezone.get_default_timezone())
        ours = dashboard_figures(user)["sales"]
        naive = naive_figures(today)
        if ours != naive:
            raise AssertionError("the rollup's figures differ from the naive computation")
        stdout.write("  the rollup's figures equal the naive computation")
        dashboard_figures(user)  # the database warm
        naive_seconds = _p50(lambda: naive_figures(today), runs=5)
        naive_queries = count_queries(lambda: naive_figures(today))
        cold = _p50(lambda: dashboard_figures(user), before=cache.clear)
        cache.clear()
        cold_queries = count_queries(lambda: dashboard_figures(user))
        warm = _p50(lambda: dashboard_figures(user))
        warm_queries = count_queries(lambda: dashboard_figures(user))
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False):
            client = Client()
            client.force_login(user)

            def page():
                if client.get("/admin/").status_code != 200:
                    raise RuntimeError("the dashboard did not answer 200")

            page()
            page_cold = _p50(page, before=cache.clear)
            page_warm = _p50(page)
        naive_name = f"naive: per-day queries over {rows:,} orders, p50"
        return [
            Result(naive_name, naive_seconds, 1, "dashboards", naive_queries, 1),
            Result("ours: figures from the rollup, cold cache, p50", cold, 1, "dashboards", cold_queries, 1),
            Result("ours: figures, warm cache, p50", warm, 1, "dashboards", warm_queries, 1, baseline=naive_name),
            Result("dashboard page (GET /admin/), cold cache, p50", page_cold, 1, "pages", baseline=naive_name),
            Result("dashboard page (GET /admin/), warm cache, p50", page_warm, 1, "pages", baseline=naive_name),
        ]
    finally:
        cache.clear()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM orders_orderline WHERE order_id IN (SELECT id FROM orders_order WHERE number LIKE %s)",
                [f"{PREFIX}%"],
            )
            cursor.execute("DELETE FROM orders_order WHERE number LIKE %s", [f"{PREFIX}%"])
        Product.all_objects.filter(pk__in=[p.pk for p in products]).delete()
        Customer.all_objects.filter(pk__in=[c.pk for c in customers]).delete()
        category.delete()
        user.delete()
        rollup.rebuild()
        stdout.write(f"  cleaned up in {time.perf_counter() - started:.0f} s")
