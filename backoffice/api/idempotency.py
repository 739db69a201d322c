"""``Idempotency-Key`` on POST: a retried request gets the first answer, never a second effect.

The record is scoped to the caller (key or user), the method and the path; its fingerprint is SHA-256 over
the raw body. Claiming a key is one INSERT under a unique index, so of two racing requests exactly one runs;
the other gets 409 ``idempotency-in-progress`` (or the replay, once the first finished). A different body
under the same key is 409 ``idempotency-key-mismatch``. 5xx answers are never stored (the client may retry).
Records live in the database for ``API_IDEMPOTENCY_TTL_SECONDS`` and are pruned by beat.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.api.models import IdempotencyRecord
from backoffice.api.problems import ApiError, Conflict

HEADER = "Idempotency-Key"
STORED_HEADERS = ("Content-Type", "Location", "ETag")


class Replay(Exception):
    def __init__(self, response):
        self.response = response


def _caller(request) -> str:
    from backoffice.api.auth import integration_key

    key = integration_key(request)
    if key is not None:
        return f"key:{key.pk}"
    return f"user:{getattr(request.user, 'pk', None)}"


def _valid(value: str) -> bool:
    return 1 <= len(value) <= 255 and value.isascii() and value.isprintable()


def claim(request) -> IdempotencyRecord | None:
    """Claim the request's Idempotency-Key, or raise ``Replay``/``Conflict``. None without the header."""
    value = request.META.get("HTTP_IDEMPOTENCY_KEY")
    if value is None:
        return None
    if not _valid(value):
        raise ApiError(
            _("Idempotency-Key must be 1 to 255 printable ASCII characters."),
            errors=[{"field": HEADER, "code": "invalid", "detail": _("1 to 255 printable ASCII characters.")}],
        )
    scope = "\n".join((_caller(request), request.method, request.path, value))
    scope_hash = hashlib.sha256(scope.encode()).hexdigest()
    fingerprint = hashlib.sha256(request._request.body).hexdigest()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    scope_hash=scope_hash, fingerprint=fingerprint, method=request.method, path=request.path[:500]
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(scope_hash=scope_hash).first()
            if existing is None:
                continue  # finished with a 5xx and deleted in between: claim again
            if _expired(existing):
                IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
                continue
            if existing.fingerprint != fingerprint:
                raise Conflict(
                    _("This Idempotency-Key was used with a different request body."), slug="idempotency-key-mismatch"
                ) from None
            if existing.state == IdempotencyRecord.State.IN_PROGRESS:
                raise Conflict(
                    _("A request with this Idempotency-Key is still in progress; retry in a moment."),
                    slug="idempotency-in-progress",
                    headers={"Retry-After": "1"},
                ) from None
            raise Replay(_replay(existing)) from None
    raise Conflict(_("This Idempotency-Key is busy; retry in a moment."), slug="idempotency-in-progress")


def _expired(record: IdempotencyRecord) -> bool:
    age = timezone.now() - record.created_at
    if record.state == IdempotencyRecord.State.IN_PROGRESS:
        return age > timedelta(seconds=settings.API_IDEMPOTENCY_LOCK_SECONDS)
    return age > timedelta(seconds=settings.API_IDEMPOTENCY_TTL_SECONDS)


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code)
    for name, value in record.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def finish(record: IdempotencyRecord, response) -> None:
    """Store the answer; a 5xx releases the key instead (the request may be retried)."""
    if response.status_code >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.DONE, status_code=response.status_code, headers=headers, body=response.content
    )


def release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def prune(now=None) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.API_IDEMPOTENCY_TTL_SECONDS)
    deleted, _details = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
