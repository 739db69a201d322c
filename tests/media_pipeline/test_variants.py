"""A variant's identity is what shaped it: spec, encoder, focal point. Its file name carries it."""

import importlib
import io

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from media_pipeline import services
from media_pipeline.models import ImageAsset, ImageVariant
from media_pipeline.services import ingest_image, render_variants, stale_asset_ids
from media_pipeline.specs import DEFAULT_SPECS, get_specs, variant_signature
from tests.media_pipeline import corpus

pytestmark = pytest.mark.django_db

SPECS = [{"name": s.name, "width": s.width, "height": s.height, "formats": list(s.formats)} for s in DEFAULT_SPECS]


def with_small_width(width: int) -> list[dict]:
    return [{**s, "width": width} if s["name"] == "small" else s for s in SPECS]


@pytest.fixture
def asset(django_capture_on_commit_callbacks) -> ImageAsset:
    with django_capture_on_commit_callbacks(execute=True):
        asset = ingest_image(io.BytesIO(corpus.jpeg(1200, 800)), filename="p.jpg")
    asset.refresh_from_db()
    assert asset.status == ImageAsset.Status.READY
    return asset


def files(asset) -> dict[tuple[str, str], str]:
    return {(v.spec, v.format): v.file.name for v in ImageVariant.objects.filter(asset=asset)}


def test_a_variant_records_what_shaped_it_and_its_name_carries_the_signature(asset):
    thumb = asset.variants.get(spec="thumb", format="webp")
    assert (thumb.spec_width, thumb.spec_height, thumb.crop, thumb.quality) == (160, 160, True, 80)
    assert (thumb.focal_x, thumb.focal_y) == (0.5, 0.5)
    assert thumb.signature == variant_signature(get_specs()[0], "webp", (0.5, 0.5))
    assert thumb.file.name == f"variants/{asset.sha256[:2]}/{asset.pk}/{thumb.signature}-thumb.webp"
    medium = asset.variants.get(spec="medium", format="jpeg")
    assert (medium.spec_width, medium.spec_height, medium.crop, medium.quality) == (960, None, False, 82)
    assert (medium.focal_x, medium.focal_y) == (None, None)  # a resize does not depend on the focal point
    assert len({v.signature for v in asset.variants.all()}) == 7


def test_changing_a_spec_renames_its_variants_and_deletes_old_files_after_commit(
    asset, settings, django_capture_on_commit_callbacks
):
    before = files(asset)
    settings.MEDIA_VARIANT_SPECS = with_small_width(400)
    assert stale_asset_ids() == [asset.pk]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        render_variants(asset)
        # until the new rows are committed the old file is what pages point to: still there
        assert default_storage.exists(before[("small", "webp")])
    after = files(asset)
    assert after[("small", "webp")] != before[("small", "webp")]
    assert {k: v for k, v in after.items() if k[0] != "small"} == {k: v for k, v in before.items() if k[0] != "small"}
    small = asset.variants.get(spec="small")
    assert (small.width, small.spec_width) == (400, 400)
    assert default_storage.exists(small.file.name)
    for callback in callbacks:
        callback()
    assert not default_storage.exists(before[("small", "webp")])
    assert all(default_storage.exists(name) for name in after.values())
    assert stale_asset_ids() == []


def test_changing_the_encoder_quality_renames_that_format_only(asset, settings, monkeypatch):
    from media_pipeline import specs

    before = files(asset)
    monkeypatch.setitem(specs.ENCODERS, "jpeg", ("JPEG", {**specs.ENCODERS["jpeg"][1], "quality": 70}))
    render_variants(asset)
    after = files(asset)
    assert [k for k in after if after[k] != before[k]] == [("medium", "jpeg")]
    assert asset.variants.get(spec="medium", format="jpeg").quality == 70


def test_focal_point_change_renames_the_crops_only(asset, admin_client, django_capture_on_commit_callbacks):
    before = files(asset)
    url = reverse("admin:media_pipeline_imageasset_change", args=[asset.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"focal_x": "0.9", "focal_y": "0.2"})
    assert response.status_code == 302
    after = files(asset)
    assert after[("thumb", "webp")] != before[("thumb", "webp")]  # a new URL: no cache serves the old crop
    assert {k: v for k, v in after.items() if k[0] != "thumb"} == {k: v for k, v in before.items() if k[0] != "thumb"}
    thumb = asset.variants.get(spec="thumb")
    assert (thumb.focal_x, thumb.focal_y) == (0.9, 0.2)
    assert not default_storage.exists(before[("thumb", "webp")])
    assert default_storage.exists(after[("thumb", "webp")])
    page = admin_client.get(url).content.decode()
    assert default_storage.url(after[("thumb", "webp")]) in page


def test_force_keeps_names_when_nothing_changed(asset):
    before = files(asset)
    render_variants(asset, force=True)
    assert files(asset) == before
    assert all(default_storage.exists(name) for name in before.values())


def test_regenerate_missing_finds_variants_of_changed_specs(asset, settings):
    out = io.StringIO()
    call_command("regenerate_variants", "--no-progress", stdout=out)
    assert "0 image(s)" in out.getvalue()
    settings.MEDIA_VARIANT_SPECS = with_small_width(300)
    out = io.StringIO()
    call_command("regenerate_variants", "--missing", "--no-progress", stdout=out)
    assert "1 image(s): 1 rendered" in out.getvalue()
    assert asset.variants.get(spec="small").width == 300


def test_a_failed_write_keeps_the_old_variants_and_leaves_no_new_file(asset, settings, monkeypatch):
    before = files(asset)
    settings.MEDIA_VARIANT_SPECS = [{**s, "width": s["width"] - 10} for s in SPECS]
    real_write, written = services._write, []

    def failing_write(path, data):
        if len(written) == 3:
            raise OSError("disk full")
        real_write(path, data)
        written.append(path)

    monkeypatch.setattr(services, "_write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        render_variants(asset)
    assert files(asset) == before
    assert all(default_storage.exists(name) for name in before.values())
    assert not any(default_storage.exists(name) for name in written)


def test_migration_fills_signatures_and_keeps_old_names(django_capture_on_commit_callbacks):
    """Variants rendered before signatures existed keep their (unsigned) files and count as current."""
    with django_capture_on_commit_callbacks(execute=False):
        asset = ingest_image(io.BytesIO(corpus.jpeg(400, 300)), filename="old.jpg")
    asset.focal_x = 0.3
    asset.save()
    for spec in get_specs():
        for fmt in spec.formats:
            name = default_storage.save(services.variant_path(asset, spec.name, fmt), ContentFile(b"old"))
            ImageVariant.objects.create(asset=asset, spec=spec.name, format=fmt, width=1, height=1, bytes=3, file=name)
    ImageVariant.objects.create(asset=asset, spec="retired", format="webp", width=1, height=1, bytes=3, file="x.webp")
    assert stale_asset_ids() == [asset.pk]

    migration = importlib.import_module("media_pipeline.migrations.0004_fill_variant_signatures")
    migration.fill_signatures(apps, None)

    thumb = ImageVariant.objects.get(asset=asset, spec="thumb")
    assert thumb.file.name.endswith("/thumb.webp")  # the old name stays valid
    assert (thumb.signature, thumb.focal_x, thumb.spec_height) == (
        variant_signature(get_specs()[0], "webp", (0.3, 0.5)),
        0.3,
        160,
    )
    assert ImageVariant.objects.get(spec="retired").signature == ""
    assert stale_asset_ids() == []
