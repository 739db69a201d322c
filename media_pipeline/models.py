from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from backoffice.history import history_records
from backoffice.models import BaseModel
from media_pipeline.querysets import ImageAssetQuerySet


class ImageAsset(BaseModel):
    """An uploaded original. Its bytes decide its identity (sha256) and where it is stored."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    original = models.FileField(_("original"), max_length=255)
    original_filename = models.CharField(_("original file name"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True, editable=False)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    format = models.CharField(_("format"), max_length=10, db_index=True)
    bytes = models.PositiveBigIntegerField(_("bytes"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(_("error"), blank=True)
    # Where the subject is, as fractions of width and height; thumbnails are cropped around it.
    focal_x = models.FloatField(
        _("focal point x"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    focal_y = models.FloatField(
        _("focal point y"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True, on_delete=models.SET_NULL
    )

    objects = ImageAssetQuerySet.as_manager()
    history = history_records(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("image")
        verbose_name_plural = _("images")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="imageasset_status_created")]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(focal_x__isnull=True) | models.Q(focal_x__gte=0, focal_x__lte=1))
                & (models.Q(focal_y__isnull=True) | models.Q(focal_y__gte=0, focal_y__lte=1)),
                name="imageasset_focal_point_within_image",
                violation_error_message=_("The focal point must lie within the image: 0 to 1 across and down."),
            ),
        ]

    def __str__(self) -> str:
        return self.original_filename or self.sha256[:12]

    @property
    def focal_point(self) -> tuple[float, float]:
        return (
            self.focal_x if self.focal_x is not None else 0.5,
            self.focal_y if self.focal_y is not None else 0.5,
        )


class ImageVariant(models.Model):
    """One rendered size and format of an asset. It records what shaped it (the spec's size and crop, the
    encoder quality, the focal point a crop used) and their ``signature``, which is also in its file name:
    a variant made differently is a different file, at a different URL."""

    id = models.BigAutoField(primary_key=True)
    asset = models.ForeignKey(ImageAsset, on_delete=models.CASCADE, related_name="variants")
    spec = models.CharField(_("spec"), max_length=30)
    format = models.CharField(_("format"), max_length=10)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    bytes = models.PositiveIntegerField(_("bytes"))
    file = models.FileField(_("file"), max_length=255)
    # Empty for a variant whose spec is no longer configured when signatures were first recorded.
    signature = models.CharField(_("signature"), max_length=16, blank=True, default="")
    spec_width = models.PositiveIntegerField(_("spec width"), null=True, blank=True)
    spec_height = models.PositiveIntegerField(
        _("spec height"), null=True, blank=True, help_text=_("Set when the variant is cropped to a fixed size.")
    )
    quality = models.PositiveSmallIntegerField(_("encoder quality"), null=True, blank=True)
    focal_x = models.FloatField(_("focal point x"), null=True, blank=True)
    focal_y = models.FloatField(_("focal point y"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now=True)

    class Meta:
        verbose_name = _("image variant")
        verbose_name_plural = _("image variants")
        ordering = ["asset", "-width", "format"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "spec", "format"], name="imagevariant_unique_spec_format"),
        ]
        indexes = [
            # The API reads an asset's variants in this order with these columns (catalog.api): from the index
            # alone, without a sort or a visit to the table.
            models.Index(fields=["asset", "-width", "format", "spec", "height", "file"], name="imagevariant_api_order"),
        ]

    def __str__(self) -> str:
        return f"{self.spec} {self.format} {self.width}x{self.height}"

    @property
    def crop(self) -> bool:
        return self.spec_height is not None
