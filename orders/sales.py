"""The read side of the daily sales rollup (``DailySales``, ``DailyProductSales``): what revenue means and the
chainable reads the dashboard uses. The write side is ``orders.rollup``.

Revenue is the total (tax and shipping included) of the orders that are paid and neither cancelled nor
returned, that is whose status is one of ``REVENUE_STATUSES``, counted on the day the order was placed (in
``settings.TIME_ZONE``). An order paid today that was placed yesterday adds to yesterday; a cancelled or
returned order leaves the revenue of its day. Pending orders are not revenue yet. Units sold per product follow
the same rule.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Sum

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
