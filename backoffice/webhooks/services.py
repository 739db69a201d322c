"""Endpoint management and housekeeping: create, change, rotate the secret, re-enable, redeliver, send a
test event, prune. Admin actions and the benchmark call these; delivery itself is in dispatch.py."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.history import acting_as
from backoffice.webhooks.addresses import validate_endpoint_url
from backoffice.webhooks.choices import SUBSCRIBABLE_VALUES, DeliveryState, EventType
from backoffice.webhooks.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from backoffice.webhooks.outbox import forget_subscriptions
from backoffice.webhooks.signing import new_secret

ENDPOINT_FIELDS = frozenset({"url", "description", "events", "is_active"})


def clean_events(events) -> list[str]:
    events = list(dict.fromkeys(str(e) for e in (events or ())))
    unknown = [e for e in events if e not in SUBSCRIBABLE_VALUES]
    if unknown:
        raise ValidationError(
            {"events": _("Unknown event types: %(types)s.") % {"types": ", ".join(sorted(unknown))[:300]}},
            code="unknown_event",
        )
    if not events:
        raise ValidationError({"events": _("Choose at least one event.")}, code="required")
    return events


def _check(endpoint: WebhookEndpoint) -> None:
    endpoint.events = clean_events(endpoint.events)
    try:
        validate_endpoint_url(endpoint.url)
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from exc
    endpoint.full_clean(exclude=["secret"])


def create_endpoint(*, url: str, events, description: str = "", is_active: bool = True, user=None):
    """A new endpoint and its secret (returned once; shown once by the admin)."""
    secret = new_secret()
    endpoint = WebhookEndpoint(
        url=url, events=events, description=description, is_active=is_active, secret=secret, created_by=user
    )
    _check(endpoint)
    with acting_as(user=user), transaction.atomic():
        endpoint.save(force_insert=True)
        transaction.on_commit(forget_subscriptions)
    forget_subscriptions()
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, *, user=None, **changes) -> WebhookEndpoint:
    unknown = set(changes) - ENDPOINT_FIELDS
    if unknown:
        raise ValidationError(_("Unknown endpoint fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    with acting_as(user=user), transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        was_active = locked.is_active
        for name, value in changes.items():
            setattr(locked, name, value)
        if locked.is_active and not was_active:
            locked.consecutive_failures, locked.disabled_at, locked.disabled_reason = 0, None, ""
        _check(locked)
        locked.save()
        transaction.on_commit(forget_subscriptions)
    return locked


def rotate_secret(endpoint: WebhookEndpoint, *, user=None) -> str:
    """A new secret; the current one keeps signing for WEBHOOK_SECRET_OVERLAP_HOURS, so receivers can
    switch without losing a message. Returns the new secret (shown once)."""
    secret = new_secret()
    with acting_as(user=user), transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_expires_at = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
        locked.secret = secret
        locked._change_reason = _("Secret rotated")
        locked.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return secret


def _kick() -> None:
    from backoffice.webhooks import tasks

    transaction.on_commit(tasks.kick.delay, robust=True)


def redeliver(deliveries) -> int:
    """Send these deliveries (or delivery ids) again, now, with their frozen bytes and event id (a fresh retry
    schedule)."""
    ids = [getattr(d, "pk", d) for d in deliveries]
    with transaction.atomic():
        count = Delivery.objects.filter(pk__in=ids).update(
            state=DeliveryState.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
        )
        if count:
            _kick()
    return count


def send_test_event(endpoint: WebhookEndpoint, *, user=None) -> Delivery:
    """A ``webhook.test`` event to this endpoint alone, delivered like any other (signed, retried, logged)."""
    from backoffice.webhooks import payloads

    if not endpoint.is_active:
        raise ValidationError(_("This endpoint is disabled; enable it before sending a test event."), code="inactive")
    now = timezone.now()
    with transaction.atomic():
        event = Event(
            type=EventType.TEST,
            resource_id=str(endpoint.pk),
            extra={"endpoint_id": str(endpoint.pk), "message": "This is a test event from the back office."},
            created_at=now,
            frozen_at=now,
        )
        event.payload = payloads.render([event])[event.pk]
        event.save(force_insert=True)
        delivery = Delivery.objects.create(endpoint=endpoint, event=event, next_attempt_at=now, created_at=now)
        _kick()
    return delivery


def endpoint_disabled(endpoint_id) -> None:
    """After an endpoint was disabled for failing: the admin shows it (see admin.py); its creator is told."""
    forget_subscriptions()
    endpoint = WebhookEndpoint.objects.select_related("created_by").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.created_by is None:
        return
    try:
        from backoffice.live import notify
    except ImportError:  # the live cockpit is optional to this app
        return
    from django.urls import reverse

    notify(
        endpoint.created_by,
        title=_("Webhook endpoint disabled"),
        body=_("%(url)s failed %(count)d deliveries in a row and no longer receives events.")
        % {"url": endpoint.url[:200], "count": endpoint.consecutive_failures},
        url=reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        level="error",
    )


def prune(now=None) -> dict:
    """Delete attempts older than WEBHOOK_ATTEMPT_RETENTION_DAYS and finished events (with their deliveries)
    older than WEBHOOK_EVENT_RETENTION_DAYS, in batches so no statement runs long."""
    now = now or timezone.now()
    attempts_before = now - timedelta(days=settings.WEBHOOK_ATTEMPT_RETENTION_DAYS)
    events_before = now - timedelta(days=settings.WEBHOOK_EVENT_RETENTION_DAYS)
    attempts = _delete_in_batches(DeliveryAttempt.objects.filter(started_at__lt=attempts_before))
    old_events = Event.objects.filter(created_at__lt=events_before).exclude(deliveries__state=DeliveryState.PENDING)
    events = _delete_in_batches(old_events)
    return {"attempts": attempts, "events": events}


def _delete_in_batches(queryset, size: int = 5000) -> int:
    total = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:size])
        if not ids:
            return total
        with transaction.atomic():
            queryset.model.objects.filter(pk__in=ids).delete()
        total += len(ids)
