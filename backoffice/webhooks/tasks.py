"""Celery wrappers of backoffice.webhooks.dispatch and services. Each is safe to run twice at once: claims
skip locked rows, and a claimed row is leased, so nothing is sent twice by two sweeps."""

from celery import shared_task
from django.conf import settings

from backoffice.webhooks import dispatch, services


@shared_task(name="webhooks.sweep", acks_late=True, ignore_result=True)
def sweep() -> int:
    """Beat's sweep: freeze waiting events and send what is due, within a time budget."""
    return dispatch.sweep()


@shared_task(name="webhooks.kick", acks_late=True, ignore_result=True)
def kick() -> int:
    """Dispatched after a commit that wrote events, so they go out now rather than at the next sweep."""
    return dispatch.sweep(settings.WEBHOOK_KICK_BUDGET_SECONDS)


@shared_task(name="webhooks.prune", acks_late=True, ignore_result=True)
def prune() -> dict:
    return services.prune()
