from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminFileFieldWidget

from media_pipeline import services
from media_pipeline.models import ImageAsset


class ImageUploadForm(forms.ModelForm):
    """Adds an image through ``ingest_image``: its refusals become this form's errors."""

    upload = forms.FileField(
        label=_("Image file"),
        widget=UnfoldAdminFileFieldWidget,
        help_text=_("JPEG, PNG, WebP, GIF, AVIF or HEIC. Variants are generated in the background."),
    )

    class Meta:
        model = ImageAsset
        fields = ["focal_x", "focal_y"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.duplicate = False

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if upload is None or self.errors:
            return cleaned
        started = timezone.now()
        try:
            asset = services.ingest_image(upload, filename=upload.name, uploaded_by=self.user)
        except ValidationError as exc:
            self.add_error("upload", exc)
            return cleaned
        self.duplicate = asset.created_at < started
        if not self.duplicate:
            asset.focal_x, asset.focal_y = cleaned.get("focal_x"), cleaned.get("focal_y")
        self.instance = asset
        return cleaned

    def _post_clean(self):
        # The instance is the ingested asset, already valid and saved; nothing to construct here.
        pass
