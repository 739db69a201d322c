from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminFileFieldWidget

from media_pipeline import services
from media_pipeline.models import ImageAsset


class ImageUploadForm(forms.ModelForm):
    """Adds an image. Validating it stores nothing: ``clean()`` checks the upload as ingest would
    (:func:`services.check_image`); the admin ingests it when it saves (:func:`services.ingest_image_reporting`).

    A refusal found only while saving is handed back with :meth:`refuse_upload` and shown as this form's error.
    """

    upload = forms.FileField(
        label=_("Image file"),
        widget=UnfoldAdminFileFieldWidget,
        help_text=_("JPEG, PNG, WebP, GIF, AVIF or HEIC. Variants are generated in the background."),
    )

    class Meta:
        model = ImageAsset
        fields = ["focal_x", "focal_y"]

    def __init__(self, *args, user=None, refusal: ValidationError | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.refusal = refusal

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        if self.refusal is not None:  # ingest refused this very upload when the admin saved it
            raise self.refusal
        services.check_image(upload)
        return upload
