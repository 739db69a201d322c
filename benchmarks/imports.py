"""``benchmark import``: a product import through our flow against django-import-export's default row-by-row
import of the same kind of rows, in one run.

The file has ``rows`` products, half updates of existing products (name, price and stock changed) and half new
ones. Ours runs the whole flow on it: upload (row count), the preview (validation of every row), then the apply,
which re-validates every row and writes through ``catalog.services.import_products`` (set-based writes, bulk
history stamped with the user and batch, stock through the bulk ledger) in one committed transaction. The
baseline is a stock ``ModelResource`` (``ForeignKeyWidget`` for the category) run with ``import_data(...,
dry_run=False, use_transactions=True)``: one ``save()`` per row, history kept by simple-history's signal, stock
written directly. It runs on ``min(rows, 2,000)`` rows of the same shape; compare the per-row rates.

Everything the suite creates is committed (the figures include the commit) and deleted afterwards.
"""

from __future__ import annotations

import csv
import io
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import override_settings

from benchmarks import Result, suite

BASELINE_MAX = 2_000
PREFIX = "BENCH-IMP-"
HEADERS = ["sku", "name", "price", "cost", "stock", "category", "status"]


def _seed(count: int, start: int, category) -> list:
    """``count`` existing products numbered from ``start`` (committed), stock 10 each."""
    from catalog.models import Product

    now_products = []
    for i in range(start, start + count):
        now_products.append(
            Product(
                sku=f"{PREFIX}{i:08d}",
                name=f"Benchmark product {i}",
                slug=f"benchmark-product-{i}",
                category=category,
                price=Decimal("10.00"),
                cost=Decimal("4.00"),
                stock=10,
                status="active",
            )
        )
    with transaction.atomic():
        Product.objects.bulk_create(now_products, batch_size=2000)
    return [p.sku for p in now_products]


def _rows(existing: list[str], new_from: int, new_count: int, category_slug: str) -> list[list]:
    rows = []
    for index, sku in enumerate(existing):
        rows.append([sku, f"Renamed product {index}", "12.50", "4.00", "7", category_slug, "active"])
    for i in range(new_from, new_from + new_count):
        rows.append([f"{PREFIX}{i:08d}", f"New product {i}", "9.90", "3.10", "5", category_slug, "active"])
    return rows


def _csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _baseline_resource():
    from import_export import fields, resources
    from import_export.widgets import ForeignKeyWidget

    from catalog.models import Category, Product

    class StockProductResource(resources.ModelResource):
        category = fields.Field(attribute="category", column_name="category", widget=ForeignKeyWidget(Category, "slug"))

        class Meta:
            model = Product
            import_id_fields = ("sku",)
            fields = tuple(HEADERS)
            skip_unchanged = False

    return StockProductResource()


def _cleanup() -> None:
    """Delete every row the suite wrote (history, ledger, tags, batches, products), set-based."""
    from backoffice.imports.models import ImportBatch
    from catalog.models import Product, StockMovement

    products = Product.all_objects.filter(sku__startswith=PREFIX)
    ids = products.values("pk")
    with transaction.atomic():
        StockMovement.objects.filter(product_id__in=ids)._raw_delete(connection.alias)
        Product.tags.through.objects.filter(product_id__in=ids)._raw_delete(connection.alias)
        Product.history.model.objects.filter(sku__startswith=PREFIX)._raw_delete(connection.alias)
        products._raw_delete(connection.alias)
        for batch in ImportBatch.objects.filter(resource="catalog.product", file_name__startswith="bench-import"):
            batch.file.delete(save=False)
            batch.delete()


@suite("import", default_rows=100_000)
def import_suite(rows: int, stdout) -> list[Result]:
    from backoffice.imports import engine
    from catalog.models import Category, Product

    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(
        username="benchmark-import", defaults={"is_staff": True, "is_superuser": True}
    )
    category, _created = Category.objects.get_or_create(
        slug="benchmark-imports", defaults={"name": "Benchmark imports", "path": "Benchmark imports"}
    )
    _cleanup()
    results = []
    try:
        # --- the baseline: django-import-export's default, one save() per row ------------------------------
        from tablib import Dataset

        base_rows = min(rows, BASELINE_MAX)
        existing = _seed(base_rows // 2, 0, category)
        data = Dataset(headers=HEADERS)
        for row in _rows(existing, 10_000_000, base_rows - len(existing), category.slug):
            data.append(row)
        resource = _baseline_resource()
        started = time.perf_counter()
        result = resource.import_data(data, dry_run=False, use_transactions=True, raise_errors=True)
        baseline_seconds = time.perf_counter() - started
        if result.has_errors() or result.has_validation_errors():
            raise RuntimeError("the baseline import reported errors")
        results.append(
            Result(
                "django-import-export default (row by row, history, stock written directly)",
                baseline_seconds,
                base_rows,
                "rows",
                extra={"totals": dict(result.totals)},
            )
        )

        # --- ours: upload, preview, apply through import_products ---------------------------------------------
        existing = _seed(rows // 2, 20_000_000, category)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Product._meta.db_table}")  # the whole database could outlast the timeout
        content = _csv(_rows(existing, 30_000_000, rows - len(existing), category.slug))
        stdout.write(
            f"  {rows:,} rows ({len(existing):,} updates, {rows - len(existing):,} new), CSV of "
            f"{len(content) / 1e6:.1f} MB; baseline on {base_rows:,} rows of the same shape"
        )
        with override_settings(IMPORT_JOB_THRESHOLD=0, IMPORT_MAX_BYTES=max(len(content) + 1, 50 * 1024 * 1024)):
            started = time.perf_counter()
            batch = engine.upload(
                SimpleUploadedFile("bench-import.csv", content), resource="catalog.product", user=user
            )
            upload_seconds = time.perf_counter() - started
            started, cpu = time.perf_counter(), time.process_time()
            batch = engine.validate(batch)
            validate_seconds, validate_cpu = time.perf_counter() - started, time.process_time() - cpu
            if batch.status != "validated":
                raise RuntimeError(f"the benchmark file did not validate: {batch.message}")
            if not engine.claim_for_apply(batch):
                raise RuntimeError("the benchmark batch could not be claimed")
            started, cpu = time.perf_counter(), time.process_time()
            batch = engine.apply(batch, user=user)
            apply_seconds, apply_cpu = time.perf_counter() - started, time.process_time() - cpu
        if (batch.new_rows, batch.updated_rows) != (rows - len(existing), len(existing)):
            raise RuntimeError(f"unexpected counts: {batch.new_rows} new, {batch.updated_rows} updated")
        history = Product.history.model.objects.filter(history_import_batch_id=batch.pk).count()
        if history != rows:
            raise RuntimeError(f"{history} history records for {rows} rows")
        baseline_name = results[0].name
        results.append(
            Result(
                "ours: apply (re-validate + import_products, history + ledger, committed)",
                apply_seconds,
                rows,
                "rows",
                baseline=baseline_name,
                # On a shared machine the wall time includes waiting for a core; this process's own CPU time
                # (the database server's is not in it) tells how much of it was ours.
                extra={"history_records": history, "cpu_seconds": round(apply_cpu, 2)},
            )
        )
        results.append(
            Result(
                "ours: preview (validate every row, store the result)",
                validate_seconds,
                rows,
                "rows",
                baseline=baseline_name,
                extra={"cpu_seconds": round(validate_cpu, 2)},
            )
        )
        results.append(Result("ours: upload (store, count rows)", upload_seconds, rows, "rows", baseline=baseline_name))
        results.append(
            Result(
                "ours: whole flow (upload + preview + apply)",
                upload_seconds + validate_seconds + apply_seconds,
                rows,
                "rows",
                baseline=baseline_name,
            )
        )
        results.append(_apply_with_endpoint(rows, category, user, baseline_name))
    finally:
        _cleanup()
    return results


def _apply_with_endpoint(rows: int, category, user, baseline_name: str) -> Result:
    """The same apply with one webhook endpoint subscribed to the product and stock events: the outbox rows
    are bulk-inserted in the import's transaction. Delivery is not timed here (``benchmark webhooks``): the
    after-commit kick is not dispatched, the first batch's payloads are frozen as after any commit."""
    from unittest import mock

    from django.utils import timezone

    from backoffice.imports import engine
    from backoffice.webhooks import services as webhook_services
    from backoffice.webhooks import tasks as webhook_tasks
    from backoffice.webhooks.models import Event, WebhookEndpoint

    _cleanup()
    existing = _seed(rows // 2, 40_000_000, category)
    content = _csv(_rows(existing, 50_000_000, rows - len(existing), category.slug))
    with override_settings(
        IMPORT_JOB_THRESHOLD=0,
        IMPORT_MAX_BYTES=max(len(content) + 1, 50 * 1024 * 1024),
        WEBHOOK_ALLOW_HTTP=True,
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True,
    ):
        endpoint, _secret = webhook_services.create_endpoint(
            url="http://127.0.0.1:9/bench-import",
            events=["product.created", "product.updated", "stock.changed", "import.finished"],
        )
        before, since = Event.objects.count(), timezone.now()
        try:
            batch = engine.upload(
                SimpleUploadedFile("bench-import-hooks.csv", content), resource="catalog.product", user=user
            )
            batch = engine.validate(batch)
            if batch.status != "validated" or not engine.claim_for_apply(batch):
                raise RuntimeError(f"the benchmark file did not validate: {batch.message}")
            with mock.patch.object(webhook_tasks.kick, "delay"):
                started = time.perf_counter()
                engine.apply(batch, user=user)
                seconds = time.perf_counter() - started
            events = Event.objects.count() - before
        finally:
            Event.objects.filter(created_at__gte=since).delete()
            WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
    return Result(
        "ours: apply with one subscribed webhook endpoint (events in the outbox)",
        seconds,
        rows,
        "rows",
        baseline=baseline_name,
        extra={"webhook_events": events},
    )
