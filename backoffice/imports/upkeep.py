"""Upload files are not kept longer than they are needed: deleted once their batch is imported, and by a beat
task (``imports.prune_uploads``) ``IMPORT_FILE_RETENTION_HOURS`` after their batch last changed otherwise.

A batch whose file is gone keeps its preview, counts and history; re-validating it or downloading its failed
rows says the file was deleted and asks for a new upload (``backoffice.imports.engine.table_of``).
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backoffice.imports.models import ImportBatch

# A Job may be reading the file in these states.
BUSY = (ImportBatch.Status.VALIDATING, ImportBatch.Status.APPLYING)


def discard_upload(batch: ImportBatch) -> None:
    """Delete the batch's file once the current transaction commits (a rollback keeps it)."""
    name = batch.file.name
    if not name:
        return
    storage = batch.file.storage

    def delete() -> None:
        if ImportBatch.objects.filter(pk=batch.pk, file=name).update(file="", updated_at=timezone.now()):
            storage.delete(name)

    transaction.on_commit(delete)


def prune_uploads(*, now=None) -> int:
    """Delete the files of batches unchanged for ``IMPORT_FILE_RETENTION_HOURS`` (and of imported or undone
    ones), except while a Job may be reading them. Returns how many were deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.IMPORT_FILE_RETENTION_HOURS)
    due = ImportBatch.objects.exclude(file="").exclude(status__in=BUSY)
    pruned = 0
    for batch in due.filter(updated_at__lt=cutoff) | due.filter(
        status__in=(ImportBatch.Status.APPLIED, ImportBatch.Status.UNDONE)
    ):
        name = batch.file.name
        # Only if nothing started on the batch meanwhile (its status and file are as read).
        if ImportBatch.objects.filter(pk=batch.pk, file=name, status=batch.status).update(file=""):
            batch.file.storage.delete(name)
            pruned += 1
    return pruned


@shared_task(name="imports.prune_uploads")
def prune_uploads_task() -> int:
    return prune_uploads()
