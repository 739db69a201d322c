"""Writes of the media pipeline: ingest an upload, render its variants."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from media_pipeline import processing
from media_pipeline.models import ImageAsset, ImageVariant
from media_pipeline.specs import EXTENSIONS, get_specs

logger = logging.getLogger(__name__)

# Longer than any render takes; a crashed worker's lock expires after it.
RENDER_LOCK_SECONDS = 15 * 60


class AssetBusy(Exception):
    """Another worker is rendering this asset right now."""


@contextmanager
def render_lock(asset_id, *, owner: str = "local") -> Iterator[None]:
    """Two workers (or a worker and a command) must never render one asset at once."""
    lock = caches["locks"]
    key = f"media:render:{asset_id}"
    if not lock.add(key, owner, timeout=RENDER_LOCK_SECONDS):
        raise AssetBusy(asset_id)
    try:
        yield
    finally:
        lock.delete(key)


ORIGINAL_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "AVIF": "avif", "HEIF": "heic"}


def _read_bounded(file) -> bytes:
    from django.conf import settings

    if hasattr(file, "seek"):
        file.seek(0)
    # Read one byte past the limit: enough to refuse an oversized file without reading all of it.
    data = file.read(settings.MEDIA_MAX_UPLOAD_BYTES + 1)
    return data if isinstance(data, bytes) else data.encode()


def original_path(sha256: str, fmt: str) -> str:
    # Content-addressed: the same bytes always land at the same path, nothing else ever does.
    return f"originals/{sha256[:2]}/{sha256[2:4]}/{sha256}.{ORIGINAL_EXTENSIONS[fmt]}"


def ingest_image(file, *, filename: str, uploaded_by=None) -> ImageAsset:
    """Validate, de-duplicate by content hash, store the original, schedule variants.

    Bad input raises ValidationError with a message a person can act on, and stores nothing.
    """
    data = _read_bounded(file)
    sha256 = hashlib.sha256(data).hexdigest()
    existing = ImageAsset.objects.filter(sha256=sha256).first()
    if existing is not None:
        return existing
    info = processing.probe(data)
    path = original_path(sha256, info.format)
    wrote = False
    if not default_storage.exists(path):
        saved = default_storage.save(path, ContentFile(data))
        if saved != path:  # the storage renamed it: never keep a second copy
            default_storage.delete(saved)
            raise ValidationError(_("The image could not be stored. Try again."))
        wrote = True
    try:
        with transaction.atomic():
            asset = ImageAsset.objects.create(
                original=path,
                original_filename=(filename or "")[:255],
                sha256=sha256,
                width=info.width,
                height=info.height,
                format=info.format,
                bytes=len(data),
                uploaded_by=uploaded_by if uploaded_by is not None and uploaded_by.is_authenticated else None,
            )
            transaction.on_commit(lambda: schedule_variants(asset.pk))
    except IntegrityError:
        # The same bytes were ingested at the same moment by someone else: theirs is ours.
        existing = ImageAsset.objects.filter(sha256=sha256).first()
        if existing is None:
            if wrote:
                default_storage.delete(path)
            raise
        return existing
    except Exception:
        if wrote:
            default_storage.delete(path)
        raise
    return asset


def schedule_variants(asset_id, *, force: bool = False) -> None:
    from media_pipeline.tasks import generate_variants

    generate_variants.delay(str(asset_id), force=force)


def variant_path(asset: ImageAsset, spec: str, fmt: str) -> str:
    return f"variants/{asset.sha256[:2]}/{asset.pk}/{spec}.{EXTENSIONS[fmt]}"


def render_variants(asset: ImageAsset, *, force: bool = False) -> list[ImageVariant]:
    """Render the variants the asset lacks (all of them with ``force``); mark it ready or failed."""
    specs = get_specs()
    existing = {(v.spec, v.format): v for v in asset.variants.all()}
    wanted = [s for s in specs if force or any((s.name, f) not in existing for f in s.formats)]
    if wanted:
        ImageAsset.objects.filter(pk=asset.pk).update(status=ImageAsset.Status.PROCESSING)
        try:
            with asset.original.open("rb") as handle:
                data = handle.read()
            rendered = processing.render(data, wanted, focal=asset.focal_point)
        except ValidationError as exc:
            _mark(asset, ImageAsset.Status.FAILED, " ".join(exc.messages))
            raise
        for result in rendered:
            if not force and (result.spec, result.format) in existing:
                continue
            path = variant_path(asset, result.spec, result.format)
            default_storage.delete(path)
            default_storage.save(path, ContentFile(result.data))
            existing[(result.spec, result.format)], _created = ImageVariant.objects.update_or_create(
                asset=asset,
                spec=result.spec,
                format=result.format,
                defaults={"width": result.width, "height": result.height, "bytes": len(result.data), "file": path},
            )
    _mark(asset, ImageAsset.Status.READY, "")
    keep = {(s.name, f) for s in specs for f in s.formats}
    return [v for key, v in existing.items() if key in keep]


def _mark(asset: ImageAsset, status: str, error: str) -> None:
    asset.status, asset.error = status, error
    asset.save(update_fields=["status", "error", "updated_at"])


def delete_assets(queryset) -> int:
    """Delete assets and, once that is committed, their files (original and variants)."""
    files = []
    for asset in queryset.prefetch_related("variants"):
        files.append(asset.original.name)
        files.extend(v.file.name for v in asset.variants.all())
    with transaction.atomic():
        count, _by_model = queryset.delete()
        transaction.on_commit(lambda: _delete_files(files))
    return count


def _delete_files(names) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # cleanup_media removes what is left behind
            logger.warning("could not delete media file %s", name, exc_info=True)


def validate_image(file) -> None:
    """The checks ``ingest_image`` makes, storing nothing: for forms that validate an upload first and
    ingest it only once every other field is valid."""
    processing.probe(_read_bounded(file))
