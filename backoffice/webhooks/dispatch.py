"""From the outbox to the endpoints: freeze payloads, claim due deliveries, send, record, retry.

* ``freeze`` renders the payload of events not yet frozen (once: the rows are locked, and only rows still
  unfrozen are written) and makes one delivery per active endpoint subscribed to the type.
* ``claim`` takes due deliveries with ``select_for_update(skip_locked=True)`` and moves their
  ``next_attempt_at`` past a lease in the same transaction, so two sweepers never take the same row, and a
  worker that dies mid-send leaves its rows to be retried when the lease ends.
* ``send`` posts outside any transaction; ``record`` writes the attempts and schedules the next try
  (exponential backoff with jitter, about 24 hours in all), then marks the delivery failed and disables an
  endpoint after ``WEBHOOK_DISABLE_AFTER_FAILURES`` failed deliveries in a row.
Long delays live in ``next_attempt_at``, never as broker countdowns."""

from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.webhooks import payloads, sender
from backoffice.webhooks.choices import DeliveryState
from backoffice.webhooks.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from backoffice.webhooks.signing import signature_header

logger = logging.getLogger(__name__)


# --- freezing ---------------------------------------------------------------------------------------------


def freeze(limit: int | None = None) -> int:
    """Freeze up to ``limit`` unfrozen events (oldest first) and fan them out; the number frozen."""
    limit = limit or settings.WEBHOOK_FREEZE_BATCH
    with transaction.atomic():
        events = list(
            Event.objects.select_for_update(skip_locked=True)
            .filter(frozen_at__isnull=True)
            .order_by("created_at")
            .only("id", "type", "resource_id", "extra", "created_at")[:limit]
        )
        if not events:
            return 0
        rendered = payloads.render(events)
        now = timezone.now()
        for event in events:
            event.payload, event.frozen_at = rendered[event.pk], now
        Event.objects.bulk_update(events, ["payload", "frozen_at"], batch_size=500)
        endpoints = list(WebhookEndpoint.objects.filter(is_active=True).values_list("pk", "events"))
        deliveries = [
            Delivery(endpoint_id=endpoint_id, event_id=event.pk, next_attempt_at=now, created_at=now)
            for event in events
            for endpoint_id, types in endpoints
            if event.type in (types or ())
        ]
        Delivery.objects.bulk_create(deliveries, batch_size=1000, ignore_conflicts=True)
    return len(events)


def freeze_all(budget_seconds: float | None = None) -> int:
    started, total = time.monotonic(), 0
    while True:
        frozen = freeze()
        total += frozen
        if not frozen or (budget_seconds and time.monotonic() - started > budget_seconds):
            return total


def after_commit() -> None:
    """Right after a commit that wrote events: freeze a first batch here, so their payloads show the rows
    as committed, and ask a worker to deliver (in the embedded mode it runs here, after the response's
    transaction)."""
    from backoffice.webhooks import tasks

    try:
        freeze(settings.WEBHOOK_FREEZE_INLINE)
    except Exception:  # the sweep freezes them later; the writer's commit stands
        logger.exception("Freezing webhook events after commit failed")
    tasks.kick.delay()


# --- claiming and sending ---------------------------------------------------------------------------------


def claim(limit: int | None = None) -> list[Delivery]:
    limit = limit or settings.WEBHOOK_SWEEP_BATCH
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                state=DeliveryState.PENDING,
                next_attempt_at__lte=now,
                endpoint__is_active=True,
                event__frozen_at__isnull=False,
            )
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if not rows:
            return []
        Delivery.objects.filter(pk__in=rows).update(
            next_attempt_at=now + timedelta(seconds=settings.WEBHOOK_CLAIM_LEASE_SECONDS)
        )
    return list(Delivery.objects.filter(pk__in=rows).select_related("endpoint", "event"))


def send(delivery: Delivery) -> sender.Outcome:
    event, endpoint = delivery.event, delivery.endpoint
    body = bytes(event.payload)
    timestamp = int(time.time())
    headers = {
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            endpoint.signing_secrets(), msg_id=event.webhook_id, timestamp=timestamp, body=body
        ),
    }
    try:
        return sender.post(endpoint.url, body=body, headers=headers)
    except Exception as exc:  # a bug must not lose the claim's bookkeeping
        logger.exception("Sending webhook delivery %s failed", delivery.pk)
        return sender.Outcome(None, 0.0, error=f"{type(exc).__name__}: {exc}"[:300])


def retry_delay(attempts: int) -> float | None:
    """Seconds before the next try after ``attempts`` failed ones, with ±20% jitter; None when spent."""
    delays = settings.WEBHOOK_RETRY_DELAYS
    if attempts > len(delays):
        return None
    return delays[attempts - 1] * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not secrecy


def record(delivery: Delivery, outcome: sender.Outcome) -> None:
    now = timezone.now()
    number = delivery.attempts + 1
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery_id=delivery.pk,
            number=number,
            started_at=now,
            status_code=outcome.status,
            latency_ms=round(outcome.latency_ms, 2),
            response_excerpt=outcome.excerpt,
            error=outcome.error[:300],
            succeeded=outcome.ok,
        )
        common = {"attempts": number, "last_status": outcome.status, "last_error": outcome.error[:300]}
        if outcome.ok:
            Delivery.objects.filter(pk=delivery.pk).update(
                state=DeliveryState.SUCCEEDED, next_attempt_at=None, delivered_at=now, **common
            )
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, consecutive_failures__gt=0).update(
                consecutive_failures=0
            )
            return
        delay = retry_delay(number)
        if delay is not None:
            Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + timedelta(seconds=delay), **common)
            return
        Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED, next_attempt_at=None, **common)
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        disabled = WebhookEndpoint.objects.filter(
            pk=delivery.endpoint_id,
            is_active=True,
            consecutive_failures__gte=settings.WEBHOOK_DISABLE_AFTER_FAILURES,
        ).update(
            is_active=False,
            disabled_at=now,
            disabled_reason=_("Disabled after %(count)d failed deliveries in a row.")
            % {"count": settings.WEBHOOK_DISABLE_AFTER_FAILURES},
        )
        if disabled:
            from backoffice.webhooks.services import endpoint_disabled

            transaction.on_commit(lambda: endpoint_disabled(delivery.endpoint_id), robust=True)


def sweep_once(limit: int | None = None) -> int:
    """Claim a batch of due deliveries, send them side by side, record each; the number sent."""
    claimed = claim(limit)
    if not claimed:
        return 0
    workers = min(settings.WEBHOOK_SEND_CONCURRENCY, len(claimed))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook-send") as pool:
            outcomes = list(pool.map(send, claimed))
    else:
        outcomes = [send(delivery) for delivery in claimed]
    record_batch(claimed, outcomes)
    return len(claimed)


def record_batch(deliveries: list[Delivery], outcomes: list[sender.Outcome]) -> None:
    """Successes in a few statements (one INSERT of attempts, one UPDATE per status code); failures each
    through ``record`` (their next attempt differs)."""
    successes = [(d, o) for d, o in zip(deliveries, outcomes, strict=True) if o.ok]
    for delivery, outcome in zip(deliveries, outcomes, strict=True):
        if not outcome.ok:
            record(delivery, outcome)
    if not successes:
        return
    now = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(
                delivery_id=d.pk,
                number=d.attempts + 1,
                started_at=now,
                status_code=o.status,
                latency_ms=round(o.latency_ms, 2),
                response_excerpt=o.excerpt,
                succeeded=True,
            )
            for d, o in successes
        )
        by_status: dict[int, list] = {}
        for delivery, outcome in successes:
            by_status.setdefault(outcome.status, []).append(delivery.pk)
        for status, ids in by_status.items():
            Delivery.objects.filter(pk__in=ids).update(
                state=DeliveryState.SUCCEEDED,
                attempts=F("attempts") + 1,
                last_status=status,
                last_error="",
                next_attempt_at=None,
                delivered_at=now,
            )
        WebhookEndpoint.objects.filter(
            pk__in={d.endpoint_id for d, _o in successes}, consecutive_failures__gt=0
        ).update(consecutive_failures=0)


def sweep(budget_seconds: float | None = None) -> int:
    """Freeze what waits, then send due deliveries until none is due or the time budget is spent."""
    budget = settings.WEBHOOK_SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    started = time.monotonic()
    freeze_all(budget)
    sent = 0
    while True:  # at least one batch, however long the freezing took
        done = sweep_once()
        sent += done
        if not done or time.monotonic() - started >= budget:
            return sent
