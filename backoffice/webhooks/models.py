"""Endpoints (subscriptions), the outbox of events, one delivery per endpoint and event, and the attempt log."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.history import history_records
from backoffice.models import BaseModel
from backoffice.webhooks.choices import DeliveryState, EventType


class WebhookEndpoint(BaseModel):
    """Where events go. The secret signs; after a rotation the previous one signs too until it expires."""

    url = models.CharField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    secret = models.CharField(_("secret"), max_length=120, editable=False)
    previous_secret = models.CharField(_("previous secret"), max_length=120, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(_("previous secret valid until"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failed deliveries"), default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Secrets never go into history rows.
    history = history_records(excluded_fields=["secret", "previous_secret"])

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.description or self.url[:80]

    def signing_secrets(self, now=None) -> list[str]:
        """The secrets that sign a send now: the current one, and the previous one during the overlap."""
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets


class Event(models.Model):
    """An outbox row, written in the transaction of the change. ``payload`` is frozen once after commit;
    every send of the event (retries, redeliveries) carries these bytes and ``id`` as Webhook-Id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=EventType.choices, db_index=True)
    resource_id = models.CharField(_("resource id"), max_length=64, blank=True)
    extra = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("occurred at"), default=timezone.now, db_index=True)
    payload = models.BinaryField(_("payload"), null=True, blank=True)
    frozen_at = models.DateTimeField(_("payload frozen at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        indexes = [
            models.Index(fields=["created_at"], name="webhooks_event_unfrozen", condition=Q(frozen_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    @property
    def webhook_id(self) -> str:
        return f"evt_{self.id.hex}"


class Delivery(models.Model):
    """One event to one endpoint. A sweep claims due rows and moves ``next_attempt_at`` on after each attempt."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(_("state"), max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("last status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhooks_delivery_once")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="webhooks_delivery_due", condition=Q(state=DeliveryState.PENDING)
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_delivery_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} -> {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One HTTP request (or the reason none was made): status, latency, the first KB of the answer, the error."""

    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    latency_ms = models.FloatField(_("latency (ms)"), default=0)
    response_excerpt = models.TextField(_("response (first KB)"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error[:40]}"
