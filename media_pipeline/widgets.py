"""Image previews for any admin: a tag helper, a raw-id widget with a thumbnail, an inline mixin.

Other apps (the catalog first) show media through these, so a preview looks and costs the same
everywhere: the thumbnail's file name comes from :func:`media_pipeline.querysets.variant_file`,
annotated on the page's queryset, so a column of previews adds no query per row.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.widgets import UnfoldForeignKeyRawIdWidget

from media_pipeline.querysets import THUMB_FORMAT, THUMB_SPEC, variant_file

PLACEHOLDER_CLASSES = (
    "flex items-center justify-center rounded-default border border-base-200 bg-base-50 text-base-400 "
    "dark:border-base-700 dark:bg-base-800"
)


def preview_tag(file_name: str | None, *, size: int = 48, alt: str = "", link: str | None = None) -> str:
    """An ``<img>`` of a stored variant, or a neutral placeholder while there is none yet."""
    if not file_name:
        return format_html(
            '<span class="{}" style="width:{}px;height:{}px" title="{}">'
            '<span class="material-symbols-outlined">image</span></span>',
            PLACEHOLDER_CLASSES,
            size,
            size,
            _("No preview yet"),
        )
    img = format_html(
        '<img src="{}" alt="{}" width="{}" height="{}" loading="lazy" decoding="async" '
        'class="rounded-default object-cover" style="width:{}px;height:{}px">',
        default_storage.url(file_name),
        alt,
        size,
        size,
        size,
        size,
    )
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', link, img) if link else img


def asset_preview(asset, *, size: int = 48) -> str:
    """Thumbnail of an asset: from ``thumb_file`` when annotated, else from its (prefetched) variants."""
    if asset is None:
        return preview_tag(None, size=size)
    if hasattr(asset, "thumb_file"):
        file_name = asset.thumb_file
    else:
        thumb = next((v for v in asset.variants.all() if (v.spec, v.format) == (THUMB_SPEC, THUMB_FORMAT)), None)
        file_name = thumb.file.name if thumb else None
    return preview_tag(file_name, size=size, alt=str(asset))


class AssetRawIdWidget(UnfoldForeignKeyRawIdWidget):
    """Raw-id input for an ImageAsset foreign key that also shows the chosen image's thumbnail."""

    template_name = "media_pipeline/widgets/asset_raw_id.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        asset = None
        if value:
            model = self.rel.model
            asset = model.objects.filter(pk=value).with_thumbnail().first() if _is_pk(model, value) else None
        context["preview"] = asset_preview(asset, size=64) if asset else ""
        return context


def _is_pk(model, value) -> bool:
    try:
        model._meta.pk.to_python(value)
    except Exception:  # noqa: BLE001 - a mistyped id just shows no preview; the form reports it
        return False
    return True


class ImagePreviewInlineMixin:
    """For inlines of a model with an ``asset`` foreign key to ImageAsset: a read-only preview column.

    Add ``"preview"`` to the inline's ``fields``/``readonly_fields``; the queryset is annotated so
    the previews cost one subquery in the inline's single query.
    """

    preview_asset_field = "asset"
    preview_size = 64

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(thumb_file=variant_file(f"{self.preview_asset_field}_id"))

    def preview(self, obj) -> str:
        if obj is None or obj.pk is None:
            return preview_tag(None, size=self.preview_size)
        return preview_tag(getattr(obj, "thumb_file", None), size=self.preview_size, alt=str(obj))

    preview.short_description = gettext_lazy("Preview")
