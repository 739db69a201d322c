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
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from media_pipeline import processing
from media_pipeline.models import ImageAsset, ImageVariant
from media_pipeline.specs import EXTENSIONS, VariantSpec, get_specs, variant_identity, variant_signature

logger = logging.getLogger(__name__)

# Longer than any render takes; a crashed worker's lock expires after it.
RENDER_LOCK_SECONDS = 15 * 60


class AssetBusy(Exception):
    """Another worker is rendering this asset right now."""


def _lock_key(asset_id) -> str:
    return f"media:render:{asset_id}"


def _acquire_render_lock(asset_id, owner: str) -> bool:
    return caches["locks"].add(_lock_key(asset_id), owner, timeout=RENDER_LOCK_SECONDS)


def _release_render_lock(asset_id) -> None:
    caches["locks"].delete(_lock_key(asset_id))


@contextmanager
def render_lock(asset_id, *, owner: str = "local") -> Iterator[None]:
    """Two workers (or a worker and a command) must never render one asset at once."""
    if not _acquire_render_lock(asset_id, owner):
        raise AssetBusy(asset_id)
    try:
        yield
    finally:
        _release_render_lock(asset_id)


def render_locked(asset: ImageAsset, *, force: bool = False, owner: str) -> list[ImageVariant] | None:
    """Render the asset's variants under its render lock: the one way tasks, jobs and commands render.

    Returns the variants, or ``None`` when another worker holds the lock (is rendering it right now);
    each caller decides what that means for it (retry later, report, skip). A bad image raises
    ValidationError, a storage failure OSError, as :func:`render_variants` does.
    """
    if not _acquire_render_lock(asset.pk, owner):
        return None
    try:
        return render_variants(asset, force=force)
    finally:
        _release_render_lock(asset.pk)


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


def check_image(file) -> processing.Probe:
    """Validate an upload as :func:`ingest_image` would (size, format, pixels, a full decode), storing nothing.

    For forms: they check an upload in ``clean()`` with this and ingest it only when they save.
    """
    return processing.probe(_read_bounded(file))


def ingest_image(file, *, filename: str, uploaded_by=None) -> ImageAsset:
    """Validate, de-duplicate by content hash, store the original, schedule variants.

    Bad input raises ValidationError with a message a person can act on, and stores nothing.
    """
    asset, _created = ingest_image_reporting(file, filename=filename, uploaded_by=uploaded_by)
    return asset


def ingest_image_reporting(file, *, filename: str, uploaded_by=None) -> tuple[ImageAsset, bool]:
    """:func:`ingest_image`, also saying whether the asset is new (``False``: the same bytes were already stored)."""
    data = _read_bounded(file)
    sha256 = hashlib.sha256(data).hexdigest()
    existing = ImageAsset.objects.filter(sha256=sha256).first()
    if existing is not None:
        return existing, False
    info = processing.probe(data)
    path = original_path(sha256, info.format)
    wrote = False
    if not default_storage.exists(path):
        saved = default_storage.save(path, ContentFile(data))
        if saved != path:  # the storage renamed it: never keep a second copy
            default_storage.delete(saved)
            raise ValidationError(_("The image could not be stored. Try again."), code="storage")
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
        return existing, False
    except Exception:
        if wrote:
            default_storage.delete(path)
        raise
    return asset, True


def set_focal_point(asset: ImageAsset, *, focal_x, focal_y, user=None) -> bool:
    """Move the subject's point; True when it moved. Only these columns are written (a render that
    finished meanwhile keeps its status), and the cropped variants are rendered again after commit:
    their signatures change, so they get new names and the old files go."""
    from backoffice.history import acting_as

    for name, value in (("focal_x", focal_x), ("focal_y", focal_y)):
        if value is not None and not 0 <= value <= 1:
            raise ValidationError({name: _("Enter a value from 0 to 1.")}, code="focal_range")
    with acting_as(user=user), transaction.atomic():
        locked = ImageAsset.objects.select_for_update().get(pk=asset.pk)
        if (locked.focal_x, locked.focal_y) == (focal_x, focal_y):
            return False
        locked.focal_x, locked.focal_y = focal_x, focal_y
        locked._change_reason = _("Focal point moved")
        locked.save(update_fields=["focal_x", "focal_y", "updated_at"])
        asset_id = locked.pk
        transaction.on_commit(lambda: schedule_variants(asset_id))
    asset.focal_x, asset.focal_y = focal_x, focal_y
    return True


def schedule_variants(asset_id, *, force: bool = False) -> None:
    from media_pipeline.tasks import generate_variants

    generate_variants.delay(str(asset_id), force=force)


def variant_path(asset: ImageAsset, spec: str, fmt: str, signature: str = "") -> str:
    """Where a variant is stored. The signature (what shaped the bytes) is part of the name, so a variant
    made differently (another size, quality or focal point) gets another URL and caches never serve stale bytes."""
    # The spec and format stay the end of the name ("thumb.webp"), so people and scripts still recognise it.
    name = f"{signature}-{spec}" if signature else spec
    return f"variants/{asset.sha256[:2]}/{asset.pk}/{name}.{EXTENSIONS[fmt]}"


def _is_current(variant: ImageVariant | None, spec: VariantSpec, fmt: str, focal) -> bool:
    return variant is not None and variant.signature == variant_signature(spec, fmt, focal)


def stale_specs(asset: ImageAsset, specs=None) -> list[VariantSpec]:
    """The specs of which the asset lacks a variant, or has one made from other settings or another focal point.

    Uses ``asset.variants.all()``, so a prefetch makes it free.
    """
    specs = get_specs() if specs is None else specs
    existing = {(v.spec, v.format): v for v in asset.variants.all()}
    focal = asset.focal_point
    return [s for s in specs if not all(_is_current(existing.get((s.name, f)), s, f, focal) for f in s.formats)]


def stale_asset_ids(*, batch_size: int = 500) -> list:
    """Ids (oldest first) of the assets :func:`render_variants` would render: a variant missing, or made
    from another spec, encoder setting or focal point than the current ones (its signature differs).

    Checked in Python with the same rule as the render, over batches of assets with their variants.
    """
    specs = get_specs()
    assets = (
        ImageAsset.objects.only("pk", "focal_x", "focal_y", "created_at")
        .order_by("created_at", "pk")
        .prefetch_related(
            Prefetch("variants", queryset=ImageVariant.objects.only("pk", "asset_id", "spec", "format", "signature"))
        )
    )
    return [asset.pk for asset in assets.iterator(chunk_size=batch_size) if stale_specs(asset, specs)]


def render_variants(asset: ImageAsset, *, force: bool = False) -> list[ImageVariant]:
    """Render the variants the asset lacks or whose spec or focal point changed (all of them with ``force``);
    mark it ready or failed. Files replaced by a new name are deleted once the new rows are committed."""
    specs = get_specs()
    focal = asset.focal_point
    existing = {(v.spec, v.format): v for v in asset.variants.all()}
    stored_before = {v.file.name for v in existing.values()}
    wanted = list(specs) if force else stale_specs(asset, specs)
    if wanted:
        ImageAsset.objects.filter(pk=asset.pk).update(status=ImageAsset.Status.PROCESSING)
        try:
            with asset.original.open("rb") as handle:
                data = handle.read()
            rendered = processing.render(data, wanted, focal=focal)
        except ValidationError as exc:
            _mark(asset, ImageAsset.Status.FAILED, " ".join(exc.messages))
            raise
        by_name = {spec.name: spec for spec in wanted}
        written: list[str] = []
        replaced: list[str] = []
        try:
            with transaction.atomic():
                for result in rendered:
                    spec = by_name[result.spec]
                    current = existing.get((result.spec, result.format))
                    if not force and _is_current(current, spec, result.format, focal):
                        continue
                    signature = variant_signature(spec, result.format, focal)
                    path = variant_path(asset, result.spec, result.format, signature)
                    _write(path, result.data)
                    written.append(path)
                    if current is not None and current.file.name and current.file.name != path:
                        replaced.append(current.file.name)
                    existing[(result.spec, result.format)], _created = ImageVariant.objects.update_or_create(
                        asset=asset,
                        spec=result.spec,
                        format=result.format,
                        defaults={
                            "width": result.width,
                            "height": result.height,
                            "bytes": len(result.data),
                            "file": path,
                            **variant_identity(spec, result.format, focal),
                        },
                    )
                # The old files are still what the old rows (and pages cached with them) point to until commit.
                transaction.on_commit(lambda: _delete_files(replaced))
        except Exception:
            # No row points to the new files: remove them, unless a file kept its name (same signature).
            _delete_files([path for path in written if path not in stored_before])
            raise
    _mark(asset, ImageAsset.Status.READY, "")
    keep = {(s.name, f) for s in specs for f in s.formats}
    return [v for key, v in existing.items() if key in keep]


def _write(path: str, data: bytes) -> None:
    # A file already at this name is the same variant (same signature) rendered before, or one left by
    # a render rolled back: replace it, never let the storage save a renamed second copy.
    default_storage.delete(path)
    saved = default_storage.save(path, ContentFile(data))
    if saved != path:
        default_storage.delete(saved)
        raise OSError(f"storage stored {path} as {saved}")


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
