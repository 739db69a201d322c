"""PostgreSQL specifics of imports and exports: the Job's progress through its own connection, the Jobs'
statement_timeout, and imports answered in a web request staying under the web statement_timeout."""

import time

import pytest
from django.db import connection, transaction

from backoffice import exports, jobs
from backoffice.imports import engine
from backoffice.models import Job
from catalog.models import Product
from catalog.resources import ProductResource
from tests.imports.conftest import csv_bytes, upload_file


@pytest.mark.django_db(transaction=True)
def test_stream_progress_is_seen_before_the_commit_and_never_waits_on_a_lock(needs_postgres):
    job = Job.objects.create(kind="imports.apply", total=10)
    report = jobs.stream_reporter(job)
    try:
        with transaction.atomic():
            report(5)  # through a connection of its own: visible to others before this transaction commits
            assert Job.objects.get(pk=job.pk).done == 5
            Job.objects.select_for_update().get(pk=job.pk)  # the job's own transaction holds the row
            started = time.monotonic()
            report(7)  # best effort: gives up after the side connection's lock_timeout, raises nothing
            assert time.monotonic() - started < 10
        assert Job.objects.get(pk=job.pk).done == 5
    finally:
        report.close()


def test_stream_jobs_run_under_the_jobs_statement_timeout(needs_postgres, settings, db):
    settings.DATABASE_JOB_STATEMENT_TIMEOUT_MS = 123_456

    def current():
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            return cursor.fetchone()[0]

    before = current()
    with jobs._job_statement_timeout():
        assert current() in ("123456ms", "123456")
    assert current() == before


def test_imports_and_exports_in_a_request_stay_under_the_web_statement_timeout(
    needs_postgres, settings, catalogue, importer
):
    rows = 2 * engine.CHUNK + 100  # several chunks of look-ups, below the Job threshold
    settings.IMPORT_JOB_THRESHOLD = rows
    settings.EXPORT_JOB_THRESHOLD = rows
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, false)", [f"{settings.DATABASE_STATEMENT_TIMEOUT_MS}ms"]
        )
    try:
        lines = ["sku,name,price,category,stock"] + [
            f"W-{i:05d},Web {i},{i % 90 + 1}.50,mugs,{i % 7}" for i in range(rows)
        ]
        batch = engine.upload(
            upload_file("w.csv", csv_bytes("\n".join(lines))), resource="catalog.product", user=importer
        )
        assert engine.start_validation(batch, user=importer) is None  # in the request
        batch.refresh_from_db()
        assert batch.status == "validated" and batch.new_rows == rows
        assert engine.start_apply(batch, user=importer) is None
        batch.refresh_from_db()
        assert batch.status == "applied"
        data = exports.export_bytes(ProductResource(), Product.objects.order_by("sku"), "csv")
        assert data.count(b"\r\n") == rows + 2  # header, the catalogue's product, the imported rows
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', '0', false)")


def test_the_copy_exporter_equals_resource_export(needs_postgres, catalogue, settings):
    from django.utils import timezone

    from backoffice import exports_postgres
    from catalog import services
    from tests.factories import ProductFactory, TagFactory

    settings.TIME_ZONE = "Europe/Berlin"  # date-times are rendered in the current time zone, to the second
    timezone.activate("Europe/Berlin")
    try:
        products = ProductFactory.create_batch(40, name="=risky", supplier=catalogue["supplier"])
        zebra, apple = TagFactory(name="Zebra", slug="zebra"), TagFactory(name="apple, green", slug="apple")
        services.update_product(
            products[0],
            description='+49 123, "quoted"\nline',
            tags=[zebra, apple, catalogue["red"]],
            published_at=timezone.now(),
        )
        services.update_product(products[1], barcode="", name="'@already quoted", weight_grams=250)
        queryset = Product.objects.order_by("-price", "sku")
        resource = ProductResource()
        columns = exports.columns_of(resource, queryset)
        assert exports_postgres.sql_of(columns, queryset) is not None  # the COPY path serves this resource
        expected = resource.export(queryset=queryset)
        fast = list(exports.iter_rows(resource, queryset))
        assert fast[0] == expected.headers
        assert fast[1:] == [list(row) for row in expected]
        assert any(cell.startswith("'=") for cell in fast[1])  # formula cells escaped
        selected = list(exports.iter_rows(resource, queryset.filter(pk=products[0].pk), ["sku", "tags"]))
        assert selected[1] == [products[0].sku, "apple, green, red, Zebra"]
    finally:
        timezone.deactivate()
