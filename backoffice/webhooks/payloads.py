"""The frozen bytes of events: ``{"type", "timestamp", "data"}``, ``data`` as the integration API shows
the resource.

Like backoffice/api/, this module composes the apps: it reads each resource through the read functions of
the app's ``api.py`` (imported when rendering, never at load time, so catalog and orders can import
backoffice.webhooks). Events are rendered in batches: a few queries per resource kind, whatever their number."""

from __future__ import annotations

import uuid
from collections import defaultdict

from django.conf import settings

from backoffice.api.renderers import dumps
from backoffice.webhooks.choices import RESOURCE_OF, EventType


class SiteRequest:
    """What the API's representations need of a request: absolute URLs of this site (image variants)."""

    def build_absolute_uri(self, location: str = "/") -> str:
        return settings.WEBHOOK_SITE_URL.rstrip("/") + location


def _products(ids: list[str]) -> dict[str, dict]:
    from catalog.api import product_data, product_values
    from catalog.models import Product

    rows = list(product_values(Product.all_objects.filter(pk__in=ids)))
    data, _etag = product_data(rows, SiteRequest())
    return {item["id"]: item for item in data}


def _orders(ids: list[str]) -> dict[str, dict]:
    from orders.api import ORDER_VALUES, order_data
    from orders.models import Order

    rows = list(Order.objects.filter(pk__in=ids).values(*ORDER_VALUES))
    return {str(item["id"]): item for item in order_data(rows)}


def _import_batches(ids: list[str]) -> dict[str, dict]:
    from backoffice.imports.models import ImportBatch

    fields = (
        "id",
        "resource",
        "file_name",
        "status",
        "total_rows",
        "new_rows",
        "updated_rows",
        "unchanged_rows",
        "invalid_rows",
        "created_at",
        "updated_at",
    )
    return {str(row["id"]): row for row in ImportBatch.objects.filter(pk__in=ids).values(*fields)}


READERS = {"product": _products, "order": _orders, "import_batch": _import_batches}


def _key(resource_id: str) -> str | None:
    """The dashed UUID the API shows; None for an id that is not a UUID (nothing to read)."""
    try:
        return str(uuid.UUID(resource_id))
    except (TypeError, ValueError, AttributeError):
        return None


def render(events) -> dict:
    """``{event.pk: payload bytes}`` for ``events``; a resource gone meanwhile is rendered as its id."""
    wanted = defaultdict(set)
    for event in events:
        kind = RESOURCE_OF.get(event.type)
        key = _key(event.resource_id)
        if kind in READERS and key:
            wanted[kind].add(key)
    found = {kind: READERS[kind](sorted(ids)) for kind, ids in wanted.items()}
    payloads = {}
    for event in events:
        kind = RESOURCE_OF.get(event.type)
        if kind in READERS:
            key = _key(event.resource_id)
            data = dict(found.get(kind, {}).get(key) or {"id": key or event.resource_id})
        else:
            data = {}
        if event.type == EventType.TEST:
            data.update(event.extra)
        elif event.extra:
            data["change"] = event.extra
        payloads[event.pk] = dumps({"type": event.type, "timestamp": event.created_at, "data": data})
    return payloads
