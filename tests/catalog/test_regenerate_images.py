"""The products' "Regenerate images" job: renders every image of each product under the render lock."""

import io

import pytest
from django.core.cache import caches

from backoffice import jobs
from backoffice.models import Job, JobItem
from catalog import services
from media_pipeline.models import ImageVariant
from media_pipeline.services import ingest_image
from tests.factories import ProductFactory
from tests.media_pipeline import corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(django_capture_on_commit_callbacks):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=False):  # not rendered yet: the job renders them
        assets = [ingest_image(io.BytesIO(corpus.jpeg(300 + i, 200)), filename=f"{i}.jpg") for i in range(2)]
    services.attach_images(product, assets)
    return product


def run_job(product, django_capture_on_commit_callbacks) -> Job:
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_job("catalog.regenerate_images", items=[product.pk])
    job.refresh_from_db()
    return job


def test_regenerate_images_renders_every_image_of_the_product(product, django_capture_on_commit_callbacks):
    job = run_job(product, django_capture_on_commit_callbacks)
    assert (job.status, job.done, job.failed) == (Job.Status.SUCCEEDED, 1, 0)
    assert ImageVariant.objects.filter(asset__product_images__product=product).count() == 14


def test_an_image_being_rendered_elsewhere_is_a_clear_item_error(product, django_capture_on_commit_callbacks, caplog):
    busy = product.images.order_by("position").last().asset_id
    key = f"media:render:{busy}"
    caches["locks"].add(key, "another-worker", timeout=60)
    try:
        job = run_job(product, django_capture_on_commit_callbacks)
    finally:
        caches["locks"].delete(key)
    assert (job.status, job.done, job.failed) == (Job.Status.PARTIAL, 0, 1)
    error = JobItem.objects.get(job=job).error
    assert error == job.errors[0]["error"]
    assert "Unexpected error" not in error and "AssetBusy" not in error
    assert error == (
        "Another worker was rendering this product's image “1.jpg” at the same time; "
        "run the job again for this product in a moment."
    )
    assert not [r for r in caplog.records if r.exc_info]  # no traceback logged: it is not a crash
    # the lock held by the other worker is untouched, and nothing of this item was kept half-done
    assert not ImageVariant.objects.filter(asset_id=busy).exists()


def test_retry_after_the_other_render_finished_succeeds(product, django_capture_on_commit_callbacks):
    busy = product.images.first().asset_id
    caches["locks"].add(f"media:render:{busy}", "another-worker", timeout=60)
    try:
        job = run_job(product, django_capture_on_commit_callbacks)
    finally:
        caches["locks"].delete(f"media:render:{busy}")
    assert job.failed == 1
    with django_capture_on_commit_callbacks(execute=True):
        jobs.retry_job(job)
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == (Job.Status.SUCCEEDED, 1, 0)
    assert ImageVariant.objects.filter(asset__product_images__product=product).count() == 14
