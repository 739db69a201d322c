"""Chainable reads of images, and the thumbnail subquery other apps annotate with."""

from __future__ import annotations

from django.db import models
from django.db.models import OuterRef, Subquery

THUMB_SPEC = "thumb"
THUMB_FORMAT = "webp"


def variant_file(asset_ref: str = "pk", *, spec: str = THUMB_SPEC, fmt: str = THUMB_FORMAT) -> Subquery:
    """The stored file name of one variant of the asset at ``asset_ref``, as a correlated subquery.

    One indexed lookup per row of the page (the unique asset+spec+format constraint), never a join
    over the whole variants table: ``Product.objects.annotate(thumb=variant_file("primary_asset_id"))``.
    """
    from media_pipeline.models import ImageVariant

    return Subquery(
        ImageVariant.objects.filter(asset_id=OuterRef(asset_ref), spec=spec, format=fmt).values("file")[:1],
        output_field=models.CharField(),
    )


class ImageAssetQuerySet(models.QuerySet):
    def ready(self):
        return self.filter(status="ready")

    def failed(self):
        return self.filter(status="failed")

    def with_thumbnail(self):
        return self.annotate(thumb_file=variant_file("pk"))

    def with_variant_count(self):
        return self.annotate(variant_count=models.Count("variants"))
