from django.conf import settings
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
    focal_x = models.FloatField(_("focal point x"), null=True, blank=True)
    focal_y = models.FloatField(_("focal point y"), null=True, blank=True)
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
    id = models.BigAutoField(primary_key=True)
    asset = models.ForeignKey(ImageAsset, on_delete=models.CASCADE, related_name="variants")
    spec = models.CharField(_("spec"), max_length=30)
    format = models.CharField(_("format"), max_length=10)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    bytes = models.PositiveIntegerField(_("bytes"))
    file = models.FileField(_("file"), max_length=255)
    created_at = models.DateTimeField(_("created at"), auto_now=True)

    class Meta:
        verbose_name = _("image variant")
        verbose_name_plural = _("image variants")
        ordering = ["asset", "-width", "format"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "spec", "format"], name="imagevariant_unique_spec_format"),
        ]

    def __str__(self) -> str:
        return f"{self.spec} {self.format} {self.width}x{self.height}"
