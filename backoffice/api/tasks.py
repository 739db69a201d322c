"""Periodic upkeep of the API (scheduled by beat, see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from backoffice.api import idempotency


@shared_task(name="api.prune_idempotency_records")
def prune_idempotency_records() -> int:
    return idempotency.prune()
