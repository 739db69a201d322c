import logging

from celery import shared_task
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backoffice.jobs import job_kind
from media_pipeline import services
from media_pipeline.models import ImageAsset

logger = logging.getLogger(__name__)
LOCK_SECONDS = 15 * 60


@shared_task(
    bind=True,
    name="media_pipeline.generate_variants",
    acks_late=True,
    autoretry_for=(OSError,),  # storage hiccups; a bad image is a ValidationError and is final
    retry_backoff=True,
    max_retries=5,
)
def generate_variants(self, asset_id: str, force: bool = False) -> str:
    asset = ImageAsset.objects.filter(pk=asset_id).first()
    if asset is None:
        return "gone"
    lock = caches["locks"]
    key = f"media:render:{asset_id}"
    # Two workers must never render one asset at once; the other one tries again shortly.
    if not lock.add(key, self.request.id or "local", timeout=LOCK_SECONDS):
        raise self.retry(countdown=10, max_retries=30, exc=None)
    try:
        services.render_variants(asset, force=force)
    except ValidationError:
        return "failed"
    finally:
        lock.delete(key)
    return "ready"


@job_kind("media_pipeline.regenerate_variants", label=_("Regenerate image variants"), chunk_size=10)
def regenerate_item(job, item_id: str) -> None:
    asset = ImageAsset.objects.filter(pk=item_id).first()
    if asset is None:
        raise ValidationError(_("The image no longer exists."))
    services.render_variants(asset, force=bool(job.params.get("force", True)))
