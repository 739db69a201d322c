import io

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from media_pipeline.models import ImageAsset, ImageVariant
from media_pipeline.services import ingest_image
from tests.media_pipeline import corpus

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def pending(django_capture_on_commit_callbacks):
    """Two images stored but not rendered yet (as if no worker had run)."""
    with django_capture_on_commit_callbacks(execute=False):
        return [ingest_image(io.BytesIO(corpus.jpeg(400 + i, 300)), filename=f"{i}.jpg") for i in range(2)]


def test_regenerate_missing_renders_only_what_lacks(pending):
    out = run("regenerate_variants", "--missing", "--batch-size", "1", "--no-progress")
    assert "2 image(s): 2 rendered, 0 failed" in out
    assert ImageVariant.objects.count() == 14
    assert "0 image(s)" in run("regenerate_variants", "--no-progress")  # --missing is the default
    ImageVariant.objects.filter(spec="thumb").first().delete()
    assert "1 image(s): 1 rendered" in run("regenerate_variants", "--missing", "--no-progress")


def test_regenerate_all_and_one_asset(pending):
    run("regenerate_variants", "--all", "--no-progress")
    first = ImageVariant.objects.get(asset=pending[0], spec="thumb").created_at
    out = run("regenerate_variants", "--asset", str(pending[0].pk))
    assert "1 image(s): 1 rendered" in out and "1/1" in out  # with a progress bar
    assert ImageVariant.objects.get(asset=pending[0], spec="thumb").created_at > first


def test_regenerate_refuses_unknown_ids_and_skips_locked_assets(pending):
    with pytest.raises(CommandError, match="No image with id"):
        run("regenerate_variants", "--asset", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(CommandError, match="Not an image id"):
        run("regenerate_variants", "--asset", "nope")
    caches["locks"].add(f"media:render:{pending[0].pk}", "worker", timeout=60)
    try:
        out = run("regenerate_variants", "--no-progress")
    finally:
        caches["locks"].delete(f"media:render:{pending[0].pk}")
    assert "1 rendered, 0 failed, 1 skipped" in out


def test_regenerate_reports_failures(pending):
    with default_storage.open(pending[0].original.name, "wb") as handle:
        handle.write(corpus.truncated_jpeg())
    with pytest.raises(CommandError, match="1 image"):
        run("regenerate_variants", "--no-progress")
    assert ImageAsset.objects.get(pk=pending[0].pk).status == ImageAsset.Status.FAILED


def test_cleanup_dry_run_lists_and_real_run_deletes(pending):
    run("regenerate_variants", "--no-progress")
    orphan = default_storage.save("variants/ff/stray/thumb.webp", ContentFile(b"x"))
    lost_variant = ImageVariant.objects.filter(asset=pending[0], spec="small").get()
    default_storage.delete(lost_variant.file.name)
    default_storage.delete(pending[1].original.name)

    out = run("cleanup_media", "--dry-run", "--grace-minutes", "0")
    assert f"would delete file with no row: {orphan}" in out
    assert f"variant row whose file is gone: {lost_variant.file.name}" in out
    assert f"image row whose original is gone: {pending[1].original.name}" in out
    assert "Dry run: 1 file(s) with no row, 1 variant row(s) and 1 image row(s)" in out
    assert default_storage.exists(orphan)
    assert ImageVariant.objects.filter(pk=lost_variant.pk).exists()
    assert ImageAsset.objects.count() == 2

    out = run("cleanup_media", "--grace-minutes", "0")
    assert "Deleted 1 file(s) with no row" in out
    assert not default_storage.exists(orphan)
    assert not ImageVariant.objects.filter(pk=lost_variant.pk).exists()
    assert list(ImageAsset.objects.values_list("pk", flat=True)) == [pending[0].pk]
    assert "Dry run: 0 file(s) with no row, 0 variant row(s) and 0 image row(s)" in run("cleanup_media", "--dry-run")


def test_cleanup_leaves_fresh_files_alone(pending):
    orphan = default_storage.save("originals/00/00/fresh.jpg", ContentFile(b"x"))
    assert "0 file(s) with no row" in run("cleanup_media")
    assert default_storage.exists(orphan)
