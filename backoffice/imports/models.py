"""The models of imports: a batch (one uploaded file on its way through mapping, preview, apply and undo),
the per-row results of its last validation, and the column mappings people saved."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from backoffice.models import BaseModel


class ImportBatch(BaseModel):
    """One uploaded file. History rows and ledger rows it writes carry its id (``history_import_batch_id``)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        VALIDATING = "validating", _("Validating")
        VALIDATED = "validated", _("Ready to import")
        INVALID = "invalid", _("Has invalid rows")
        APPLYING = "applying", _("Importing")
        APPLIED = "applied", _("Imported")
        FAILED = "failed", _("Failed, nothing written")
        UNDONE = "undone", _("Undone")

    resource = models.CharField(_("resource"), max_length=100, db_index=True)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=300)
    file_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=10)
    file_size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    headers = models.JSONField(_("headers"), default=list, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    saved_mapping = models.ForeignKey(
        "backoffice.ImportMapping",
        verbose_name=_("saved mapping"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    new_rows = models.PositiveIntegerField(_("new"), default=0)
    updated_rows = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_rows = models.PositiveIntegerField(_("unchanged"), default=0)
    invalid_rows = models.PositiveIntegerField(_("invalid"), default=0)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    job = models.ForeignKey(
        "backoffice.Job", verbose_name=_("job"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)
    applied_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="importbatch_user_created")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class ImportRow(models.Model):
    """A row of the last validation that is new, updated or invalid (unchanged rows are only counted).
    ``number`` is the spreadsheet row number (the header is row 1)."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        UPDATED = "updated", _("Updated")
        UNCHANGED = "unchanged", _("Unchanged")
        INVALID = "invalid", _("Invalid")

    id = models.BigAutoField(primary_key=True)
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(_("row"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    key = models.CharField(_("key"), max_length=255, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)  # {column: [old, new]}
    errors = models.JSONField(_("errors"), default=list, blank=True)  # [[column, message], ...]

    class Meta:
        verbose_name = _("import row")
        verbose_name_plural = _("import rows")
        ordering = ["number"]
        indexes = [models.Index(fields=["batch", "status", "number"], name="importrow_batch_status")]

    def __str__(self) -> str:
        return f"{self.number} {self.status}"


class ImportMapping(BaseModel):
    """The column mapping a person chose for a resource, offered again next time: ``{header: field or ""}``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    resource = models.CharField(_("resource"), max_length=100)
    columns = models.JSONField(_("columns"), default=dict)

    class Meta:
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        constraints = [models.UniqueConstraint(fields=["user", "resource"], name="importmapping_one_per_user")]

    def __str__(self) -> str:
        return f"{self.resource} ({self.user})"
