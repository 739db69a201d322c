import io

import pytest
from celery.exceptions import MaxRetriesExceededError, Retry
from django.core.cache import caches

from backoffice import jobs
from backoffice.models import Job
from media_pipeline.models import ImageAsset
from media_pipeline.services import ingest_image
from media_pipeline.tasks import generate_variants
from tests.media_pipeline import corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def asset(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the test runs the task itself
        return ingest_image(io.BytesIO(corpus.jpeg(800, 600)), filename="a.jpg")


def test_task_renders_then_is_idempotent(asset):
    assert asset.status == "pending" and not asset.variants.exists()
    assert generate_variants.apply(args=[str(asset.pk)]).get() == "ready"
    ids = set(asset.variants.values_list("id", flat=True))
    assert len(ids) == 7
    assert generate_variants.apply(args=[str(asset.pk)]).get() == "ready"
    assert set(asset.variants.values_list("id", flat=True)) == ids


def test_task_waits_while_another_worker_holds_the_lock(asset):
    caches["locks"].add(f"media:render:{asset.pk}", "other-worker", timeout=60)
    try:
        result = generate_variants.apply(args=[str(asset.pk)])
        # a worker would retry later; run in-process the retries come back at once and run out
        assert isinstance(result.result, (Retry, MaxRetriesExceededError))
        assert not asset.variants.exists()
    finally:
        caches["locks"].delete(f"media:render:{asset.pk}")


def test_invalid_original_ends_failed_with_message(asset):
    with asset.original.storage.open(asset.original.name, "wb") as handle:
        handle.write(corpus.truncated_jpeg())
    assert generate_variants.apply(args=[str(asset.pk)]).get() == "failed"
    asset.refresh_from_db()
    assert asset.status == ImageAsset.Status.FAILED
    assert asset.error


def test_task_for_a_deleted_asset_is_a_no_op():
    assert generate_variants.apply(args=["00000000-0000-0000-0000-000000000000"]).get() == "gone"


def test_regenerate_job(asset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_job(
            "media_pipeline.regenerate_variants", items=[asset.pk, "00000000-0000-0000-0000-000000000000"]
        )
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == (Job.Status.PARTIAL, 1, 1)
    assert job.errors[0]["error"] == "The image no longer exists."
    assert asset.variants.count() == 7


def test_regenerate_job_reports_an_image_being_rendered_elsewhere_clearly(asset, django_capture_on_commit_callbacks):
    caches["locks"].add(f"media:render:{asset.pk}", "other-worker", timeout=60)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = jobs.start_job("media_pipeline.regenerate_variants", items=[asset.pk])
    finally:
        caches["locks"].delete(f"media:render:{asset.pk}")
    job.refresh_from_db()
    assert (job.status, job.failed) == (Job.Status.PARTIAL, 1)
    assert job.errors[0]["error"] == (
        "Another worker was rendering this image at the same time; run the job again for it in a moment."
    )
    assert not asset.variants.exists()
