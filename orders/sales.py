"""The read side of the daily sales rollup (``DailySales``, ``DailyProductSales``): what revenue means and the
chainable reads the dashboard uses. The write side is ``orders.rollup``.

Revenue is the total (tax and shipping included) of the orders that are paid and neither cancelled nor
returned, that is whose status is one of ``REVENUE_STATUSES``, counted on the day the order was placed (in
``settings.TIME_ZONE``). An order paid today that was placed yesterday adds to yesterday; a cancelled or
returned order leaves the revenue of its day. Pending orders are not revenue yet. Units sold per product follow
the same rule.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import models
from django.db.models import Count, Sum

from orders.choices import OrderStatus

REVENUE_STATUSES = (OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
WAITING_STATUSES = (OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PROCESSING)


class DailySalesQuerySet(models.QuerySet):
    def between(self, first, last):
        """Days from ``first`` to ``last``, both included."""
        return self.filter(day__gte=first, day__lte=last)

    def revenue(self):
        return self.filter(status__in=REVENUE_STATUSES)

    def per_day_currency_status(self):
        """One row per (day, currency, status) as dicts; the table is unique on these, so this is the rows."""
        return self.order_by("day", "currency", "status").values(
            "day", "currency", "status", "orders", "total", "units"
        )


class DailyProductSalesQuerySet(models.QuerySet):
    def between(self, first, last):
        return self.filter(day__gte=first, day__lte=last)

    def top_products(self, limit: int):
        """The ``limit`` products with the most units sold, as dicts ``{product_id, sku, name, units}``."""
        return (
            self.values("product_id")
            .annotate(units_sold=Sum("units"))
            .filter(units_sold__gt=0)
            .order_by("-units_sold", "product_id")
            .values("product_id", "product__sku", "product__name", "units_sold")[:limit]
        )


# --- the figures the dashboard shows -----------------------------------------------------------------------

CHART_DAYS = 30
TOP_PRODUCTS = 5
LATEST_ORDERS = 8


def sales_figures(today: date) -> dict:
    """Revenue of today, 7 and 30 days with the periods before them, revenue per day over 30 days and the
    orders of those 30 days by status, per currency; from the rollup (one query over at most 60 days)."""
    from orders.models import DailySales

    first = today - timedelta(days=2 * CHART_DAYS - 1)
    rows = list(DailySales.objects.between(first, today).per_day_currency_status())
    periods = {"today": 1, "7d": 7, "30d": CHART_DAYS}
    revenue = defaultdict(
        lambda: defaultdict(lambda: [Decimal("0"), Decimal("0")])
    )  # currency -> period -> now, before
    per_day = defaultdict(lambda: [Decimal("0")] * CHART_DAYS)  # currency -> the last 30 days, oldest first
    by_status = defaultdict(int)
    for row in rows:
        age = (today - row["day"]).days  # 0 is today
        if age < CHART_DAYS:
            by_status[row["status"]] += row["orders"]
        if row["status"] not in REVENUE_STATUSES:
            continue
        if age < CHART_DAYS:
            per_day[row["currency"]][CHART_DAYS - 1 - age] += row["total"]
        for name, length in periods.items():
            if age < 2 * length:
                revenue[row["currency"]][name][0 if age < length else 1] += row["total"]
    return {
        "days": [today - timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)],
        "revenue": {cur: {name: tuple(pair) for name, pair in p.items()} for cur, p in revenue.items()},
        "revenue_per_day": dict(per_day),
        "orders_by_status": dict(by_status),
    }


def waiting_orders() -> dict:
    """Orders waiting for someone, by status (all of them, whatever their day: from the status index)."""
    from orders.models import Order

    counts = Order.objects.filter(status__in=WAITING_STATUSES).values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in counts}


def top_products(today: date) -> list[dict]:
    from orders.models import DailyProductSales

    first = today - timedelta(days=CHART_DAYS - 1)
    return list(DailyProductSales.objects.between(first, today).top_products(TOP_PRODUCTS))


def latest_orders() -> list[dict]:
    from orders.models import Order

    return list(
        Order.objects.order_by("-placed_at").values(
            "pk", "number", "status", "total", "currency", "placed_at", "customer__name"
        )[:LATEST_ORDERS]
    )
