"""Undo as a Job above the threshold, and upload files not kept longer than needed."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone

from backoffice.imports import engine
from backoffice.imports.models import ImportBatch
from backoffice.imports.readers import SourceError
from backoffice.imports.upkeep import prune_uploads
from backoffice.models import Job
from catalog import services
from catalog.models import Product
from tests.imports.conftest import csv_bytes, upload_file

CSV = "sku,name,price,category,stock\nMUG-1,Big mug,15.00,mugs,12\nNEW-1,Bowl,3.50,mugs,4\nNEW-2,Plate,2.50,mugs,0\n"


def _applied(importer, on_commit, text=CSV):
    batch = engine.upload(upload_file("u.csv", csv_bytes(text)), resource="catalog.product", user=importer)
    engine.validate(batch)
    with on_commit(execute=True):
        assert engine.start_apply(batch, user=importer) is None
    batch.refresh_from_db()
    assert batch.status == "applied"
    return batch


def test_undo_above_the_threshold_runs_as_a_job(catalogue, importer, settings, django_capture_on_commit_callbacks):
    batch = _applied(importer, django_capture_on_commit_callbacks)
    settings.IMPORT_JOB_THRESHOLD = 2  # the batch wrote 3 rows
    with django_capture_on_commit_callbacks(execute=True):
        job = engine.start_undo(batch, user=importer)
    assert job is not None
    job.refresh_from_db()
    batch.refresh_from_db()
    assert job.kind == "imports.undo" and job.status == Job.Status.SUCCEEDED, job.message
    assert job.result["deleted"] == 2 and job.result["restored"] == 1
    assert batch.status == "undone" and batch.job_id == job.pk
    assert Product.objects.get(sku="MUG-1").name == catalogue["product"].name
    assert not Product.objects.filter(sku__in=["NEW-1", "NEW-2"]).exists()


def test_undo_job_refuses_after_a_later_change(catalogue, importer, settings, django_capture_on_commit_callbacks):
    batch = _applied(importer, django_capture_on_commit_callbacks)
    services.update_product(Product.objects.get(sku="NEW-1"), name="Changed since", user=importer)
    settings.IMPORT_JOB_THRESHOLD = 2
    with django_capture_on_commit_callbacks(execute=True):
        job = engine.start_undo(batch, user=importer)
    job.refresh_from_db()
    batch.refresh_from_db()
    assert job.status == Job.Status.FAILED and "NEW-1" in job.message
    assert batch.status == "applied" and "NEW-1" in batch.message
    assert Product.objects.get(sku="NEW-2").deleted_at is None  # nothing undone


def test_undo_below_the_threshold_runs_in_the_request_and_only_once(
    catalogue, importer, django_capture_on_commit_callbacks
):
    batch = _applied(importer, django_capture_on_commit_callbacks)
    assert engine.start_undo(batch, user=importer) is None
    batch.refresh_from_db()
    assert batch.status == "undone"
    with pytest.raises(ValidationError, match="undone already"):
        engine.start_undo(batch, user=importer)


def test_a_second_undo_while_the_job_is_queued_is_refused(
    catalogue, importer, settings, django_capture_on_commit_callbacks
):
    batch = _applied(importer, django_capture_on_commit_callbacks)
    settings.IMPORT_JOB_THRESHOLD = 2
    with django_capture_on_commit_callbacks(execute=False):  # the Job stays queued
        assert engine.start_undo(batch, user=importer) is not None
        with pytest.raises(ValidationError, match="being undone"):
            engine.start_undo(batch, user=importer)


def test_the_upload_is_deleted_once_imported(catalogue, importer, django_capture_on_commit_callbacks):
    batch = engine.upload(upload_file("u.csv", csv_bytes(CSV)), resource="catalog.product", user=importer)
    name = batch.file.name
    assert default_storage.exists(name)
    engine.validate(batch)
    with django_capture_on_commit_callbacks(execute=True):
        engine.start_apply(batch, user=importer)
    batch.refresh_from_db()
    assert batch.status == "applied" and not batch.file and not default_storage.exists(name)


def test_a_failed_apply_keeps_the_upload(catalogue, importer, django_capture_on_commit_callbacks):
    data = csv_bytes("sku,name,price,category,brand\nNEW-1,A,1,mugs,\nNEW-2,B,2,mugs,acme\n")
    batch = engine.upload(upload_file("u.csv", data), resource="catalog.product", user=importer)
    engine.validate(batch)
    catalogue["brand"].delete()  # row 3 turns invalid between the preview and the confirm
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError, match="Row 3"):
        engine.start_apply(batch, user=importer)
    batch.refresh_from_db()
    assert batch.status == "invalid" and batch.file and default_storage.exists(batch.file.name)
    assert engine.failed_rows_file(batch)[0].count(b"\n") == 2  # the failed rows still come from the file


def test_prune_deletes_old_and_imported_uploads_but_not_busy_ones(catalogue, importer):
    def uploaded(status, age_hours):
        batch = engine.upload(upload_file("p.csv", csv_bytes(CSV)), resource="catalog.product", user=importer)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=status, updated_at=timezone.now() - timedelta(hours=age_hours)
        )
        batch.refresh_from_db()
        return batch

    old = uploaded("invalid", 100)
    fresh = uploaded("validated", 1)
    busy = uploaded("applying", 100)
    done = uploaded("applied", 1)
    names = {b.pk: b.file.name for b in (old, fresh, busy, done)}
    assert prune_uploads() == 2
    for batch, kept in ((old, False), (fresh, True), (busy, True), (done, False)):
        batch.refresh_from_db()
        assert bool(batch.file) is kept
        assert default_storage.exists(names[batch.pk]) is kept
    with pytest.raises(SourceError, match="deleted"):
        engine.failed_rows_file(old)
    old = engine.validate(old)  # re-validating a pruned batch fails clearly, it does not crash
    assert old.status == "failed" and "Upload it again" in old.message
