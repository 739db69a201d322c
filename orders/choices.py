"""Choices of the orders app, importable by querysets and models alike without an import cycle."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    PROCESSING = "processing", _("Processing")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


class OrderSource(models.TextChoices):
    ADMIN = "admin", _("Admin")
    API = "api", _("API")
    IMPORT = "import", _("Import")
