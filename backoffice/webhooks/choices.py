"""Event types and delivery states, shared by models, services and forms without an import cycle."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    ORDER_CREATED = "order.created", _("Order created")
    ORDER_PAID = "order.paid", _("Order paid")
    ORDER_SHIPPED = "order.shipped", _("Order shipped")
    ORDER_CANCELLED = "order.cancelled", _("Order cancelled")
    PRODUCT_CREATED = "product.created", _("Product created")
    PRODUCT_UPDATED = "product.updated", _("Product updated")
    PRODUCT_DELETED = "product.deleted", _("Product deleted")
    STOCK_CHANGED = "stock.changed", _("Stock changed")
    IMPORT_FINISHED = "import.finished", _("Import finished")
    TEST = "webhook.test", _("Test event")


# What an endpoint can subscribe to; a test event goes to the one endpoint it was sent for.
SUBSCRIBABLE = [choice for choice in EventType.choices if choice[0] != EventType.TEST]
SUBSCRIBABLE_VALUES = frozenset(value for value, _label in SUBSCRIBABLE)

# The resource an event type renders (backoffice.webhooks.payloads).
RESOURCE_OF = {
    EventType.ORDER_CREATED: "order",
    EventType.ORDER_PAID: "order",
    EventType.ORDER_SHIPPED: "order",
    EventType.ORDER_CANCELLED: "order",
    EventType.PRODUCT_CREATED: "product",
    EventType.PRODUCT_UPDATED: "product",
    EventType.PRODUCT_DELETED: "product",
    EventType.STOCK_CHANGED: "product",
    EventType.IMPORT_FINISHED: "import_batch",
    EventType.TEST: "test",
}


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")
