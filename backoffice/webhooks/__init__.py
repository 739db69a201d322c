"""Signed webhooks with a transactional outbox (Standard Webhooks).

Services call :func:`emit` (or :func:`emit_many` for bulk writers) inside their transaction; the event row
commits or rolls back with the change. After commit the payload is frozen once and a delivery row is made for
each subscribed endpoint; Celery sends them (backoffice.webhooks.dispatch). This module imports no models, so
any app (and ``backoffice.jobs``) may import it at load time."""

from backoffice.webhooks.outbox import collecting, emit, emit_many
from backoffice.webhooks.signing import sign

__all__ = ["collecting", "emit", "emit_many", "sign"]
