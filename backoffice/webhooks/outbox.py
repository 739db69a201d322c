"""Writing events: the services' side of the outbox.

``emit`` adds one event row to the caller's transaction; ``emit_many`` adds many in one INSERT. Neither
writes anything when no active endpoint subscribes to the type (a set read from the cache, kept briefly).
Inside ``collecting()`` (the job engine wraps each chunk in it) events wait in memory and go out in one
INSERT when the block ends; ``item()`` drops the events of an item whose savepoint rolled back.

After commit the new events are frozen at once (their payload rendered from the committed rows, see
backoffice.webhooks.dispatch.freeze) and a delivery kick is dispatched; the beat sweep is the safety net."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

SUBSCRIBED_KEY = "webhooks:subscribed-types"
_buffer: ContextVar[list | None] = ContextVar("webhook_event_buffer", default=None)


def subscribed_types() -> frozenset[str]:
    types = cache.get(SUBSCRIBED_KEY)
    if types is None:
        from backoffice.webhooks.models import WebhookEndpoint

        types = frozenset(
            event_type
            for events in WebhookEndpoint.objects.filter(is_active=True).values_list("events", flat=True)
            for event_type in (events or ())
        )
        cache.set(SUBSCRIBED_KEY, types, settings.WEBHOOK_SUBSCRIPTION_CACHE_SECONDS)
    return types


def forget_subscriptions() -> None:
    """Called when an endpoint changes, so this process sees it at once (others within the cache time)."""
    cache.delete(SUBSCRIBED_KEY)


def _resource_id(resource) -> str:
    pk = getattr(resource, "pk", resource)
    return "" if pk is None else str(pk)


def _row(event_type: str, resource, extra: dict | None, now):
    from backoffice.webhooks.models import Event

    return Event(type=event_type, resource_id=_resource_id(resource), extra=extra or {}, created_at=now)


def emit(event_type: str, resource, *, extra: dict | None = None) -> bool:
    """Record ``event_type`` for ``resource`` (a model instance or its id) in the current transaction.
    True when a row was written (or buffered)."""
    if event_type not in subscribed_types():
        return False
    row = _row(event_type, resource, extra, timezone.now())
    buffer = _buffer.get()
    if buffer is not None:
        buffer.append(row)
    else:
        row.save(force_insert=True)
        _after_commit()
    return True


def emit_many(event_type: str, resources: Iterable, *, extra_of=None, id_of=None) -> int:
    """Record one event per resource in one INSERT; ``extra_of(resource)`` gives each event's details, ``id_of``
    the resource's id when ``resources`` are not instances or ids (e.g. ``(id, delta, balance)`` tuples)."""
    if event_type not in subscribed_types():
        return 0
    now = timezone.now()
    rows = [
        _row(event_type, id_of(resource) if id_of else resource, extra_of(resource) if extra_of else None, now)
        for resource in resources
    ]
    if not rows:
        return 0
    buffer = _buffer.get()
    if buffer is not None:
        buffer.extend(rows)
    else:
        _insert(rows)
    return len(rows)


def _insert(rows: list) -> None:
    from backoffice.webhooks.models import Event

    Event.objects.bulk_create(rows, batch_size=settings.WEBHOOK_INSERT_BATCH)
    _after_commit()


class _Collector:
    def __init__(self):
        self.rows: list = []

    @contextmanager
    def item(self) -> Iterator[None]:
        """Events of one item; dropped when the item raises (its savepoint is rolled back)."""
        mark = len(self.rows)
        try:
            yield
        except BaseException:
            del self.rows[mark:]
            raise


@contextmanager
def collecting() -> Iterator[_Collector]:
    """Buffer the events emitted inside, and insert them in one statement when the block ends normally."""
    collector = _Collector()
    outer = _buffer.get()
    token = _buffer.set(collector.rows)
    try:
        yield collector
    finally:
        _buffer.reset(token)
    if not collector.rows:
        return
    if outer is not None:
        outer.extend(collector.rows)
    else:
        _insert(collector.rows)


class _FreezeAndKick:
    """The after-commit callback; one per transaction, however many events it wrote."""

    ran = False

    def __call__(self) -> None:
        from backoffice.webhooks import dispatch

        self.ran = True
        dispatch.after_commit()


def _after_commit() -> None:
    from django.db import connection

    pending = getattr(connection, "_webhook_after_commit", None)
    if (
        connection.in_atomic_block
        and pending is not None
        and not pending.ran
        and any(func is pending for _sids, func, _robust in connection.run_on_commit)
    ):
        return
    callback = _FreezeAndKick()
    connection._webhook_after_commit = callback
    transaction.on_commit(callback, robust=True)
