"""Core models every app builds on: BaseModel, SoftDeleteModel, and the Job that runs long work."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """UUID primary key (safe to expose in URLs and APIs) and indexed creation/update times."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)

    def soft_delete(self) -> int:
        return self.filter(deleted_at__isnull=True).update(deleted_at=timezone.now(), updated_at=timezone.now())

    def restore(self) -> int:
        return self.filter(deleted_at__isnull=False).update(deleted_at=None, updated_at=timezone.now())


class AliveManager(models.Manager):
    """Default manager of a soft-deleted model: deleted rows do not exist for ordinary code.

    Built per model from its queryset class: ``AliveManager.from_queryset(ProductQuerySet)()``.
    """

    def get_queryset(self):
        return super().get_queryset().alive()


SoftDeleteManager = AliveManager.from_queryset(SoftDeleteQuerySet)


class SoftDeleteModel(BaseModel):
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False, db_index=True)

    objects = SoftDeleteManager()
    all_objects = models.Manager.from_queryset(SoftDeleteQuerySet)()

    class Meta:
        abstract = True
        # Related lookups (FK descriptors, admin raw_id) must still reach a deleted row.
        base_manager_name = "all_objects"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def soft_delete(self) -> None:
        if self.deleted_at is None:
            self.deleted_at = timezone.now()
            self.save(update_fields=["deleted_at", "updated_at"])

    def restore(self) -> None:
        if self.deleted_at is not None:
            self.deleted_at = None
            self.save(update_fields=["deleted_at", "updated_at"])


class JobQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=Job.ACTIVE_STATUSES)

    def finished(self):
        return self.exclude(status__in=Job.ACTIVE_STATUSES)


class Job(BaseModel):
    """A piece of long work (bulk action, export, import, image batch) run on Celery in chunks."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        PARTIAL = "partial", _("Finished with errors")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(_("kind"), max_length=100, db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    result_file = models.FileField(_("result file"), upload_to="jobs/%Y/%m/", blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The requester's language when they started it: the worker tells them the outcome in it.
    language = models.CharField(_("language"), max_length=15, blank=True, editable=False)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="job_status_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")) & models.Q(failed__lte=models.F("total")),
                name="job_counts_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label} · {self.get_status_display()}"

    @property
    def kind_label(self) -> str:
        from backoffice.jobs import registry

        spec = registry.get(self.kind)
        return str(spec.label) if spec else self.kind

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def processed(self) -> int:
        return self.done + self.failed

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if not self.is_active else 0
        return min(100, int(self.processed * 100 / self.total))

    @property
    def duration(self):
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at


class JobItem(models.Model):
    """One unit of a Job. Its status is what makes redelivered chunks process each item once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items")
    chunk = models.PositiveIntegerField()
    item_id = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("job item")
        verbose_name_plural = _("job items")
        indexes = [models.Index(fields=["job", "chunk", "status"], name="jobitem_job_chunk_status")]
        constraints = [models.UniqueConstraint(fields=["job", "item_id"], name="jobitem_unique_item_per_job")]

    def __str__(self) -> str:
        return f"{self.item_id} ({self.get_status_display()})"


def _register_user_history() -> None:
    # Changes to staff accounts are as much audit material as changes to products.
    from django.contrib.auth.models import User
    from simple_history import register

    from backoffice.history import ActorHistory

    if not hasattr(User, "history"):
        register(User, app="backoffice", bases=[ActorHistory], excluded_fields=["password", "last_login"])


_register_user_history()

# Import batches, their row results and saved column mappings (backoffice.imports).
from backoffice.imports.models import ImportBatch, ImportMapping, ImportRow  # noqa: E402, F401
