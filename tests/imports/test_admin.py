"""The admin flow: permissions, upload -> preview -> confirm -> undo, failed rows, exports of the changelist."""

import csv
import io
from pathlib import Path

import pytest
from django.urls import reverse

from backoffice.imports.models import ImportBatch
from catalog.models import Product
from tests.factories import ProductFactory, UserFactory
from tests.imports.conftest import csv_bytes, upload_file

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


def export_form(fmt: str, *columns: str) -> dict:
    """The export form's data: format 0 is CSV, 1 XLSX; every column of ProductResource unless named."""
    from catalog.resources import ProductResource

    names = columns or ProductResource().get_export_order()
    return {"format": fmt, "resource": "0", **{f"productresource_{name}": "on" for name in names}}


def test_libreoffice_file_reads_cached_formula_values_and_dates(client, catalogue, importer):
    client.force_login(importer)
    with open(FIXTURES / "libreoffice-products.xlsx", "rb") as handle:
        response = client.post(
            reverse("admin:catalog_product_import"),
            {"resource": "catalog.product", "file": upload_file("libreoffice-products.xlsx", handle.read())},
        )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and batch.status == "validated", batch.message
    assert batch.new_rows == 2
    row = batch.rows.get(number=2)
    assert row.changes["price"][1] == "9" and row.changes["stock"][1] == "5"
    assert row.changes["published_at"][1] == "2025-01-31 14:30:00"
    assert batch.rows.get(number=3).changes["name"][1] == "=not a formula"


def test_whole_flow_with_one_bad_row(client, catalogue, importer):
    client.force_login(importer)
    data = csv_bytes("sku,name,price,category\nMUG-1,Renamed,abc,mugs\nNEW-1,New,2,mugs\n")
    response = client.post(
        reverse("admin:catalog_product_import"), {"resource": "catalog.product", "file": upload_file("p.csv", data)}
    )
    batch = ImportBatch.objects.get()
    preview = client.get(response["Location"])
    assert preview.status_code == 200 and "abc" in preview.content.decode() and batch.status == "invalid"
    assert b"Import these rows" not in preview.content
    failed = client.get(reverse("admin:backoffice_importbatch_failed", args=[batch.pk]))
    rows = list(csv.reader(io.StringIO(failed.content.decode("utf-8-sig"))))
    assert rows[1][:3] == ["MUG-1", "Renamed", "abc"] and len(rows) == 2
    # nothing written; fix the failed rows and import them
    assert client.post(reverse("admin:backoffice_importbatch_confirm", args=[batch.pk])).status_code == 302
    assert not Product.objects.filter(sku="NEW-1").exists()
    fixed = csv_bytes("sku,name,price,category\nMUG-1,Renamed,14,mugs\n")
    client.post(
        reverse("admin:catalog_product_import"), {"resource": "catalog.product", "file": upload_file("f.csv", fixed)}
    )
    second = ImportBatch.objects.order_by("-created_at").first()
    assert second.status == "validated"
    client.post(reverse("admin:backoffice_importbatch_confirm", args=[second.pk]))
    client.post(reverse("admin:backoffice_importbatch_confirm", args=[second.pk]))  # repeated: harmless
    second.refresh_from_db()
    assert second.status == "applied" and Product.objects.get(sku="MUG-1").name == "Renamed"
    client.post(reverse("admin:backoffice_importbatch_undo", args=[second.pk]))
    second.refresh_from_db()
    assert second.status == "undone" and Product.objects.get(sku="MUG-1").name.startswith("=HYPERLINK")


def test_mapping_step_is_remembered(client, catalogue, importer):
    client.force_login(importer)
    data = csv_bytes("Artikel,Bezeichnung,Extra\nMUG-1,Umbenannt,x\n")
    response = client.post(
        reverse("admin:catalog_product_import"), {"resource": "catalog.product", "file": upload_file("p.csv", data)}
    )
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("admin:backoffice_importbatch_map", args=[batch.pk])
    client.post(response["Location"], {"column_0": "sku", "column_1": "name", "column_2": ""})
    batch.refresh_from_db()
    assert batch.status == "validated" and batch.updated_rows == 1 and batch.saved_mapping.columns["Artikel"] == "sku"
    client.post(
        reverse("admin:catalog_product_import"), {"resource": "catalog.product", "file": upload_file("q.csv", data)}
    )
    again = ImportBatch.objects.order_by("-created_at").first()
    page = client.get(reverse("admin:backoffice_importbatch_map", args=[again.pk])).content.decode()
    assert 'value="sku" selected' in page


def test_permissions(client, catalogue):
    exporter = UserFactory(is_staff=True, perms=["catalog.view_product", "catalog.export_product"])
    client.force_login(exporter)
    changelist = client.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert reverse("admin:catalog_product_import") not in changelist
    assert reverse("admin:catalog_product_export") in changelist
    assert client.get(reverse("admin:catalog_product_import")).status_code == 403
    assert (
        client.get(reverse("admin:catalog_product_import_example", args=["catalog-product", "csv"])).status_code == 403
    )
    response = client.post(reverse("admin:catalog_product_export"), export_form("0", "sku", "name"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    viewer = UserFactory(is_staff=True, perms=["catalog.view_product"])
    client.force_login(viewer)
    assert client.post(reverse("admin:catalog_product_export"), export_form("0")).status_code == 403


def test_example_file(client, catalogue, importer):
    client.force_login(importer)
    response = client.get(reverse("admin:catalog_product_import_example", args=["catalog-product", "xlsx"]))
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert client.get(reverse("admin:catalog_product_import_example", args=["nope", "csv"])).status_code == 404


def test_export_of_filtered_changelist_equals_the_changelist(admin_client, catalogue):
    ProductFactory.create_batch(3, status="draft")
    ProductFactory.create_batch(2, status="archived")
    url = reverse("admin:catalog_product_export") + "?status__exact=draft&o=2"
    response = admin_client.post(url, export_form("0"))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    expected = list(Product.objects.filter(status="draft").order_by("sku", "-pk").values_list("sku", flat=True))
    assert [row["sku"] for row in rows] == expected


def test_xlsx_export_above_threshold_runs_as_a_job(
    admin_client, catalogue, settings, django_capture_on_commit_callbacks
):
    from backoffice.models import Job

    settings.EXPORT_JOB_THRESHOLD = 1
    ProductFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:catalog_product_export"), export_form("1"))
    job = Job.objects.get(kind="backoffice.export")
    assert response.status_code == 302 and job.status == "succeeded" and job.result["rows"] == 4
    download = admin_client.get(reverse("admin:backoffice_job_download", args=[job.pk]))
    assert download.status_code == 200
    viewer = UserFactory(is_staff=True, perms=["backoffice.view_job"])
    admin_client.force_login(viewer)
    assert admin_client.get(reverse("admin:backoffice_job_download", args=[job.pk])).status_code == 403


def test_hostile_batch_urls(client, catalogue, importer):
    client.force_login(importer)
    for view in ("preview", "confirm", "failed", "undo", "map"):
        for bad in ("not-a-uuid", "00000000-0000-0000-0000-000000000000", "%00"):
            response = client.get(f"/admin/backoffice/importbatch/{bad}/{view}/")
            assert response.status_code in (302, 404), (view, bad)


def test_export_files_expire_sooner_than_other_job_files(admin_client, catalogue, settings):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from backoffice import jobs
    from backoffice.models import Job

    settings.EXPORT_FILE_RETENTION_HOURS = 2
    settings.JOB_RESULT_RETENTION_DAYS = 7
    made = {}
    for kind, hours in (("backoffice.export", 3), ("backoffice.export", 1), ("imports.validate", 3)):
        job = Job.objects.create(kind=kind, total=1, status=Job.Status.SUCCEEDED)
        job.result_file.save(f"{kind}-{hours}.csv", ContentFile(b"x"), save=False)
        Job.objects.filter(pk=job.pk).update(
            result_file=job.result_file.name, finished_at=timezone.now() - timedelta(hours=hours)
        )
        made[(kind, hours)] = job.pk
    assert jobs.expire_result_files() == 1
    kept = dict(Job.objects.values_list("pk", "result_file"))
    assert kept[made[("backoffice.export", 3)]] == ""
    assert kept[made[("backoffice.export", 1)]] and kept[made[("imports.validate", 3)]]


def test_importers_see_only_their_batches_of_what_they_may_import(client, catalogue, importer):
    from backoffice.imports.models import ImportBatch

    mine = ImportBatch.objects.create(resource="catalog.product", file_name="mine.csv", created_by=importer)
    ImportBatch.objects.create(resource="catalog.brand", file_name="brands.csv", created_by=importer)
    ImportBatch.objects.create(resource="catalog.product", file_name="theirs.csv", created_by=UserFactory())
    client.force_login(importer)
    response = client.get(reverse("admin:backoffice_importbatch_changelist"))
    assert response.status_code == 200
    assert [b.pk for b in response.context["cl"].result_list] == [mine.pk]
