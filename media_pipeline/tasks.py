import logging

from celery import shared_task
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backoffice.jobs import job_kind
from media_pipeline import services
from media_pipeline.models import ImageAsset

logger = logging.getLogger(__name__)


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
    try:
        rendered = services.render_locked(asset, force=force, owner=self.request.id or "local")
    except ValidationError:
        return "failed"
    if rendered is None:
        # Another worker renders it now; try again shortly, by then there is little or nothing left to do
        # (what it renders is current unless the focal point or the specs changed meanwhile: then we render).
        raise self.retry(countdown=10, max_retries=30, exc=None)
    return "ready"


@job_kind("media_pipeline.regenerate_variants", label=_("Regenerate image variants"), chunk_size=10)
def regenerate_item(job, item_id: str) -> None:
    asset = ImageAsset.objects.filter(pk=item_id).first()
    if asset is None:
        raise ValidationError(_("The image no longer exists."))
    rendered = services.render_locked(asset, force=bool(job.params.get("force", True)), owner=f"job:{job.pk}")
    if rendered is None:
        raise ValidationError(
            _("Another worker was rendering this image at the same time; run the job again for it in a moment."),
            code="busy",
        )
