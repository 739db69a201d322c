from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import action, display

from backoffice.admin_base import BaseModelAdmin
from backoffice.admin_bulk import BulkJobActionsMixin
from backoffice.admin_helpers import EMPTY, redirect_after_action, status_label
from media_pipeline import services
from media_pipeline.forms import ImageUploadForm
from media_pipeline.models import ImageAsset
from media_pipeline.widgets import asset_preview, preview_tag

STATUS_COLOURS = {
    ImageAsset.Status.PENDING: "info",
    ImageAsset.Status.PROCESSING: "primary",
    ImageAsset.Status.READY: "success",
    ImageAsset.Status.FAILED: "danger",
}
# Where add_view hands a refusal found while saving back to the form it shows again.
REFUSAL_ATTR = "_media_pipeline_upload_refusal"
DUPLICATE_ATTR = "_media_pipeline_upload_duplicate"


class UploadRefused(Exception):
    """Ingest refused an upload in the admin's save path; carries the ValidationError to show."""

    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


# Formats every current browser shows; a HEIC original gets a link instead of a preview.
BROWSER_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "AVIF"}


@admin.register(ImageAsset)
class ImageAssetAdmin(BulkJobActionsMixin, SimpleHistoryAdmin, BaseModelAdmin):
    add_form = ImageUploadForm
    list_display = ["thumbnail", "name", "status_badge", "dimensions", "size", "format", "uploaded_by", "created_at"]
    list_display_links = ["thumbnail", "name"]
    list_filter = ["status", "format", ("created_at", RangeDateTimeFilter)]
    list_filter_submit = True
    list_select_related = ["uploaded_by"]
    search_fields = ["original_filename", "=sha256"]
    show_full_result_count = False
    list_per_page = 50
    actions = ["regenerate_selected"]
    actions_detail = ["regenerate_detail"]
    readonly_fields = [
        "gallery",
        "name",
        "status_badge",
        "error",
        "format",
        "dimensions",
        "size",
        "sha256",
        "uploaded_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["gallery"]}),
        (
            _("Details"),
            {"fields": ["name", "status_badge", "error", "format", "dimensions", "size", "sha256", "uploaded_by"]},
        ),
        (
            _("Focal point"),
            {
                "fields": [("focal_x", "focal_y")],
                "description": _(
                    "Where the subject is, from 0 to 1 across and down. Cropped variants keep it in view; "
                    "changing it renders the variants again."
                ),
            },
        ),
        (_("Dates"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    add_fieldsets = [(None, {"fields": ["upload", ("focal_x", "focal_y")]})]

    def get_queryset(self, request):
        return super().get_queryset(request).with_thumbnail()

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else super().get_readonly_fields(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, **kwargs)
        form = super().get_form(request, obj, **{**kwargs, "form": self.add_form})
        refusal = getattr(request, REFUSAL_ATTR, None)

        class UploadForm(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, user=request.user, refusal=refusal, **inner)

        return UploadForm

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except UploadRefused as refused:
            # Ingest refused the upload while saving; the view's transaction is rolled back and ingest
            # stored nothing. Show the same form again, with the refusal as the upload's error.
            setattr(request, REFUSAL_ATTR, refused.error)
            return super().add_view(request, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            self._ingest(request, obj, form)
            return
        # The focal point is the only editable field of a stored image.
        moved = services.set_focal_point(
            obj, focal_x=form.cleaned_data.get("focal_x"), focal_y=form.cleaned_data.get("focal_y"), user=request.user
        )
        if moved:
            self.message_user(request, _("The focal point changed: variants are being rendered again."))

    def _ingest(self, request, obj, form) -> None:
        """Store the upload through the media service; ``obj`` (the admin's new object) becomes the asset."""
        upload = form.cleaned_data["upload"]
        try:
            asset, created = services.ingest_image_reporting(upload, filename=upload.name, uploaded_by=request.user)
        except ValidationError as exc:
            raise UploadRefused(exc) from exc
        if not created:
            self.message_user(request, _("This image had already been uploaded; here it is."), messages.WARNING)
            setattr(request, DUPLICATE_ATTR, True)
        elif obj.focal_x is not None or obj.focal_y is not None:
            # Saved before the commit that schedules the first render, so the crops use it.
            services.set_focal_point(asset, focal_x=obj.focal_x, focal_y=obj.focal_y, user=request.user)
        obj.pk = asset.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, DUPLICATE_ATTR, False) and "_addanother" not in request.POST:
            return redirect(reverse("admin:media_pipeline_imageasset_change", args=[obj.pk]))  # "here it is"
        return super().response_add(request, obj, post_url_continue)

    def delete_model(self, request, obj):
        services.delete_assets(ImageAsset.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.delete_assets(queryset)

    # --- columns ----------------------------------------------------------------------------

    @display(description=_("Preview"))
    def thumbnail(self, obj: ImageAsset) -> str:
        return asset_preview(obj, size=48)

    @display(description=_("Name"), ordering="original_filename")
    def name(self, obj: ImageAsset) -> str:
        return str(obj)

    @display(description=_("Status"), ordering="status")
    def status_badge(self, obj: ImageAsset) -> str:
        return status_label(obj, STATUS_COLOURS)

    @display(description=_("Dimensions"), ordering="width")
    def dimensions(self, obj: ImageAsset) -> str:
        return f"{obj.width} \u00d7 {obj.height}"

    @display(description=_("Size"), ordering="bytes")
    def size(self, obj: ImageAsset) -> str:
        return filesizeformat(obj.bytes)

    @display(description=_("Variants"))
    def gallery(self, obj: ImageAsset) -> str:
        cards = [self._card(_("original"), obj.format, obj.width, obj.height, obj.bytes, obj.original.name, obj)]
        for variant in obj.variants.all():
            cards.append(
                self._card(
                    variant.spec, variant.format, variant.width, variant.height, variant.bytes, variant.file.name
                )
            )
        if obj.status == ImageAsset.Status.FAILED:
            note = format_html('<p class="text-red-600 mb-4">{}</p>', obj.error)
        elif obj.status != ImageAsset.Status.READY:
            note = format_html('<p class="mb-4">{}</p>', _("Variants are being rendered; reload in a moment."))
        else:
            note = ""
        return format_html('{}<div class="flex flex-wrap gap-4">{}</div>', note, mark_safe("".join(cards)))  # noqa: S308 - each card is built by format_html

    @staticmethod
    def _card(label, fmt, width, height, size, file_name, original=None) -> str:
        if original is not None and original.format not in BROWSER_FORMATS:
            picture = preview_tag(None, size=160)
        else:
            picture = format_html(
                '<img src="{}" alt="" loading="lazy" class="rounded-default object-contain bg-base-50 '
                'dark:bg-base-800" style="width:160px;height:160px">',
                url := _url(file_name),
            )
            picture = format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, picture)
        return format_html(
            '<figure class="border border-base-200 dark:border-base-700 rounded-default p-2 text-xs" '
            'style="width:178px">{}<figcaption class="mt-2"><strong>{}</strong> · {}<br>{} \u00d7 {} · {}</figcaption>'
            "</figure>",
            picture,
            label,
            str(fmt).upper(),
            width,
            height,
            filesizeformat(size),
        )

    # --- actions ----------------------------------------------------------------------------

    @action(description=_("Regenerate variants"), permissions=["change"])
    def regenerate_selected(self, request, queryset):
        self._start(request, "media_pipeline.regenerate_variants", queryset, {"force": True})

    @action(
        description=_("Regenerate variants"),
        permissions=["change"],
        icon="autorenew",
        url_path="regenerate",
        dialog={
            "title": _("Render this image's variants again?"),
            "description": _("Every variant is rendered again from the original, in the background."),
            "form_submit_text": _("Regenerate"),
        },
    )
    def regenerate_detail(self, request, form, object_id):
        asset = get_object_or_404(ImageAsset, pk=object_id)
        if not self.has_change_permission(request, asset):
            raise PermissionDenied
        self._start(
            request, "media_pipeline.regenerate_variants", ImageAsset.objects.filter(pk=asset.pk), {"force": True}
        )
        return redirect_after_action(request, reverse("admin:media_pipeline_imageasset_change", args=[asset.pk]))


def _url(file_name: str) -> str:
    from django.core.files.storage import default_storage

    return default_storage.url(file_name) if file_name else EMPTY
