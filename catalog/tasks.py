"""Bulk work on products as Jobs: one handler per kind, each a thin call into catalog.services."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backoffice.jobs import job_kind
from catalog import services
from catalog.models import Product, Tag


def _product(item_id: str, *, deleted_too: bool = False) -> Product:
    manager = Product.all_objects if deleted_too else Product.objects
    product = manager.filter(pk=item_id).first()
    if product is None:
        raise ValidationError(_("The product no longer exists."))
    return product


@job_kind("catalog.change_prices", label=_("Change prices"), chunk_size=200)
def change_prices_item(job, item_id: str) -> None:
    params = job.params
    services.change_price(
        _product(item_id), mode=params["mode"], value=Decimal(params["value"]), rounding=params.get("rounding", "cent")
    )


@job_kind("catalog.set_status", label=_("Change status"), chunk_size=200)
def set_status_item(job, item_id: str) -> None:
    services.set_status(_product(item_id), job.params["status"])


@job_kind("catalog.add_tags", label=_("Add tags"), chunk_size=200)
def add_tags_item(job, item_id: str) -> None:
    services.add_tags(_product(item_id), Tag.objects.filter(pk__in=job.params["tag_ids"]))


@job_kind("catalog.remove_tags", label=_("Remove tags"), chunk_size=200)
def remove_tags_item(job, item_id: str) -> None:
    services.remove_tags(_product(item_id), Tag.objects.filter(pk__in=job.params["tag_ids"]))


@job_kind("catalog.soft_delete", label=_("Delete products"), chunk_size=200)
def soft_delete_item(job, item_id: str) -> None:
    services.soft_delete_product(_product(item_id, deleted_too=True))


@job_kind("catalog.restore", label=_("Restore products"), chunk_size=200)
def restore_item(job, item_id: str) -> None:
    services.restore_product(_product(item_id, deleted_too=True))


@job_kind("catalog.regenerate_images", label=_("Regenerate product images"), chunk_size=5)
def regenerate_images_item(job, item_id: str) -> None:
    from media_pipeline import services as media

    product = _product(item_id)
    for image in product.images.select_related("asset"):
        if media.render_locked(image.asset, force=True, owner=f"job:{job.pk}") is None:
            # Another worker is rendering this image right now. A clear item error, not a crash: this item's
            # rows roll back (so the rest is not rendered for nothing) and retrying the job renders it again.
            raise ValidationError(
                _(
                    "Another worker was rendering this product's image “%(image)s” at the same time; "
                    "run the job again for this product in a moment."
                )
                % {"image": image.asset},
                code="busy",
            )
