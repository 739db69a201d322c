"""Periodic upkeep of the API (scheduled by beat, see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from backoffice.api import idempotency, request_log


@shared_task(name="api.prune_idempotency_records")
def prune_idempotency_records() -> int:
    return idempotency.prune()


@shared_task(name="api.prune_request_log")
def prune_request_log() -> int:
    return request_log.prune()
