"""Integration keys and the stored answers of idempotent requests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.models import BaseModel


class Scope(models.TextChoices):
    CATALOG_READ = "catalog:read", _("Catalog: read")
    CATALOG_WRITE = "catalog:write", _("Catalog: write")
    STOCK_WRITE = "stock:write", _("Stock: write")
    ORDERS_READ = "orders:read", _("Orders: read")
    ORDERS_WRITE = "orders:write", _("Orders: write")
    CUSTOMERS_READ = "customers:read", _("Customers: read")
    CUSTOMERS_WRITE = "customers:write", _("Customers: write")


class IntegrationKeyQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class IntegrationKey(BaseModel):
    """A secret an integration sends as ``Authorization: Bearer bo_<prefix>_<random>``.

    Only an HMAC-SHA256 of the secret (keyed with ``API_KEY_PEPPER``) is stored; the secret is shown once.
    """

    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(_("prefix"), max_length=8, editable=False, db_index=True)
    secret_hash = models.CharField(_("secret hash"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = IntegrationKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("integration key")
        verbose_name_plural = _("integration keys")
        ordering = ["name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (bo_{self.prefix}_…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or ())


class IdempotencyRecord(models.Model):
    """The answer to one ``Idempotency-Key``, scoped to the caller, the method and the path.

    ``scope_hash`` is SHA-256 over (caller, method, path, key), unique, so two racing requests insert one row;
    the loser sees it in progress (409) or finished (replay). Rows are pruned by beat after
    ``API_IDEMPOTENCY_TTL_SECONDS``.
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    id = models.BigAutoField(primary_key=True)
    scope_hash = models.CharField(max_length=64, unique=True)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField(default=b"", blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.state})"


class ApiRequestQuerySet(models.QuerySet):
    def since(self, when):
        return self.filter(created_at__gte=when)

    def errors(self):
        return self.filter(status__gte=400)

    def throttled(self):
        return self.filter(status=429)


class ApiRequest(models.Model):
    """One answered ``/api/`` request: who, what, how it ended and how long it took. Never a body.

    Written in bulk off the request path (``backoffice.api.request_log``), read in the admin, pruned by beat
    after ``API_REQUEST_LOG_RETENTION_DAYS``. A log line is a fact, not business data: no history.
    """

    id = models.BigAutoField(primary_key=True)
    # No database constraint: rows are buffered, and a key deleted meanwhile must not fail the whole batch
    # (its rows keep the id; the admin shows them without a key).
    key = models.ForeignKey(
        IntegrationKey,
        verbose_name=_("integration key"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="requests",
    )
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    status = models.PositiveSmallIntegerField(_("status"))
    latency_ms = models.FloatField(_("latency (ms)"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, db_index=True)
    created_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)

    objects = ApiRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("API request")
        verbose_name_plural = _("API requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            # A key's recent requests and its error counts over a window; its last 429s.
            models.Index(fields=["key", "-created_at"], name="api_request_key_recent"),
            models.Index(fields=["key", "status", "-created_at"], name="api_request_key_status"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"
