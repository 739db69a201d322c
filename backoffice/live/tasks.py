"""Beat work of the live app: badges pushed when their counts change, old notifications pruned."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from backoffice.live import events
from backoffice.live.models import Notification

_BADGES_KEY = "live:badge-counts"


@shared_task(name="live.push_badges", ignore_result=True)
def push_badges() -> dict:
    """Four count queries per run whoever is connected; only changed badges are sent."""
    counts = events.push_changed_badges(cache.get(_BADGES_KEY))
    cache.set(_BADGES_KEY, counts, timeout=settings.LIVE_BADGES_INTERVAL * 10)
    return counts


@shared_task(name="live.prune_notifications", ignore_result=True)
def prune_notifications() -> int:
    cutoff = timezone.now() - timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    deleted, _ = Notification.objects.filter(created_at__lt=cutoff).delete()
    return deleted
