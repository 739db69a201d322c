"""The write side of the daily sales rollup: ``orders.services`` calls ``record_placement`` and
``record_transition`` inside its transactions, so the rollup commits or rolls back with the order.

Each change is a conditional ``F()`` update of the one row it concerns, inserted when missing (a savepoint
catches the insert that loses a race, and the update is repeated). Services call these last, just before
their commit, because concurrent orders of one day wait for each other on the day's row until then.
``rebuild()`` recomputes everything from the orders (``manage.py rebuild_sales_rollup``, migration 0005).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from orders.sales import REVENUE_STATUSES


def sales_day(moment):
    """The day an order counts for: its placement, in the project's time zone (not the viewer's)."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def record_placement(order, units_by_product: dict) -> None:
    """A new order (pending): count it, its total and its units on its day."""
    _bump_sales(order, order.status, +1, sum(units_by_product.values()))
    if order.status in REVENUE_STATUSES:  # placed straight into a revenue status (not done by place_order today)
        _bump_products(sales_day(order.placed_at), units_by_product, +1)


def record_transition(order, from_status: str) -> None:
    """``order`` (saved with its new status) moved from ``from_status``: its figures move with it."""
    from orders.models import OrderLine

    if from_status == order.status:
        return
    units_by_product = dict(
        OrderLine.objects.filter(order_id=order.pk)
        .order_by("product_id")
        .values("product_id")
        .annotate(units=Sum("quantity"))
        .values_list("product_id", "units")
    )
    units = sum(units_by_product.values())
    # The lifecycle only moves forward (see services.TRANSITIONS), so rows are locked old status first.
    _bump_sales(order, from_status, -1, units)
    _bump_sales(order, order.status, +1, units)
    was, now = from_status in REVENUE_STATUSES, order.status in REVENUE_STATUSES
    if was != now:
        _bump_products(sales_day(order.placed_at), units_by_product, +1 if now else -1)


def _bump_sales(order, status: str, sign: int, units: int) -> None:
    from orders.models import DailySales

    key = {"day": sales_day(order.placed_at), "currency": order.currency, "status": status}
    _upsert(DailySales, key, {"orders": sign, "total": sign * Decimal(order.total), "units": sign * units})


def _bump_products(day, units_by_product: dict, sign: int) -> None:
    from orders.models import DailyProductSales

    for product_id in sorted(units_by_product):  # one lock order for every writer
        _upsert(
            DailyProductSales, {"day": day, "product_id": product_id}, {"units": sign * units_by_product[product_id]}
        )


def _upsert(model, key: dict, deltas: dict) -> None:
    changes = {name: F(name) + delta for name, delta in deltas.items()}
    if model.objects.filter(**key).update(**changes):
        return
    try:
        with transaction.atomic():
            model.objects.create(**key, **deltas)
    except IntegrityError:  # another transaction inserted the row first; it is there now
        model.objects.filter(**key).update(**changes)


# --- rebuild -----------------------------------------------------------------------------------------------


def rebuild(*, apps=None) -> dict:
    """Replace the rollup with figures computed from the orders, in one transaction. ``apps`` is a migration's
    app registry (historical models); the live models otherwise. Returns the row counts written."""
    if apps is None:
        from django.apps import apps
    order_model = apps.get_model("orders", "Order")
    line_model = apps.get_model("orders", "OrderLine")
    sales_model = apps.get_model("orders", "DailySales")
    product_model = apps.get_model("orders", "DailyProductSales")
    tz = timezone.get_default_timezone()
    alias = router.db_for_write(sales_model)
    with transaction.atomic(using=alias):
        sales_model.objects.all().delete()
        product_model.objects.all().delete()
        rows = defaultdict(lambda: {"orders": 0, "total": Decimal("0"), "units": 0})
        per_order = (
            order_model.objects.annotate(day=TruncDate("placed_at", tzinfo=tz))
            .order_by()
            .values("day", "currency", "status")
            .annotate(n=Count("pk"), amount=Sum("total"))
        )
        for row in per_order:
            key = (row["day"], row["currency"], row["status"])
            rows[key]["orders"], rows[key]["total"] = row["n"], row["amount"] or Decimal("0")
        per_line = (
            line_model.objects.annotate(day=TruncDate("order__placed_at", tzinfo=tz))
            .order_by()
            .values("day", "order__currency", "order__status")
            .annotate(n=Sum("quantity"))
        )
        for row in per_line:
            rows[(row["day"], row["order__currency"], row["order__status"])]["units"] = row["n"] or 0
        sales_model.objects.bulk_create(
            (
                sales_model(day=day, currency=currency, status=status, **values)
                for (day, currency, status), values in rows.items()
            ),
            batch_size=2000,
        )
        products = _insert_product_units(line_model, product_model, tz, alias)
    return {"daily_sales": len(rows), "daily_product_sales": products}


def _insert_product_units(line_model, product_model, tz, alias: str) -> int:
    """One ``INSERT ... SELECT`` of the units per (day, product): up to days x products rows, which the ORM
    would carry through Python one object at a time. The SELECT is the ORM's own SQL (same on every vendor);
    its columns come in the order of ``values()`` and the annotation."""
    select = (
        line_model.objects.filter(order__status__in=REVENUE_STATUSES)
        .annotate(day=TruncDate("order__placed_at", tzinfo=tz))
        .order_by()
        .values("day", "product_id")
        .annotate(n=Sum("quantity"))
    )
    sql, params = select.query.sql_with_params()
    meta = product_model._meta
    columns = ", ".join(
        connections[alias].ops.quote_name(meta.get_field(f).column) for f in ("day", "product", "units")
    )
    with connections[alias].cursor() as cursor:
        cursor.execute(f"INSERT INTO {connections[alias].ops.quote_name(meta.db_table)} ({columns}) {sql}", params)
        return cursor.rowcount
