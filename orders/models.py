from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from backoffice.history import history_records
from backoffice.models import AliveManager, BaseModel, SoftDeleteModel
from orders.choices import OrderSource, OrderStatus
from orders.querysets import CustomerQuerySet, OrderQuerySet

ADDRESS_FIELDS = ("name", "line1", "line2", "postal_code", "city", "country")
REQUIRED_ADDRESS_FIELDS = ("name", "line1", "postal_code", "city", "country")


def validate_address(value) -> None:
    """An address is a dict: name, line1, (line2), postal_code, city, country (ISO 3166 alpha-2)."""
    if value in (None, {}):
        return
    if not isinstance(value, dict):
        raise ValidationError(_("An address must be an object with name, line1, postal_code, city and country."))
    unknown = set(value) - set(ADDRESS_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown address fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    missing = [f for f in REQUIRED_ADDRESS_FIELDS if not str(value.get(f, "")).strip()]
    if missing:
        raise ValidationError(_("The address lacks: %(fields)s.") % {"fields": ", ".join(missing)})
    country = str(value["country"])
    if len(country) != 2 or not country.isalpha() or not country.isupper():
        raise ValidationError(_("The country is a two-letter code such as DE or FR."))


class Customer(SoftDeleteModel):
    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_vip = models.BooleanField(_("VIP"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    billing_address = models.JSONField(_("billing address"), default=dict, blank=True, validators=[validate_address])
    shipping_address = models.JSONField(_("shipping address"), default=dict, blank=True, validators=[validate_address])

    objects = AliveManager.from_queryset(CustomerQuerySet)()
    all_objects = models.Manager.from_queryset(CustomerQuerySet)()
    history = history_records(excluded_fields=["updated_at"])

    class Meta(SoftDeleteModel.Meta):
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=Q(deleted_at__isnull=True), name="customer_email_unique_ci"
            ),
        ]
        indexes = [models.Index(fields=["name"], name="customer_name")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Order(BaseModel):
    Status = OrderStatus
    Source = OrderSource

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    subtotal = models.DecimalField(_("subtotal"), max_digits=14, decimal_places=2, default=Decimal("0"))
    discount = models.DecimalField(_("discount"), max_digits=14, decimal_places=2, default=Decimal("0"))
    shipping = models.DecimalField(_("shipping"), max_digits=14, decimal_places=2, default=Decimal("0"))
    tax = models.DecimalField(_("tax"), max_digits=14, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    billing_address = models.JSONField(_("billing address"), default=dict, blank=True)
    shipping_address = models.JSONField(_("shipping address"), default=dict, blank=True)
    placed_at = models.DateTimeField(_("placed at"), db_index=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    carrier = models.CharField(_("carrier"), max_length=60, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=80, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.ADMIN)
    # NULL, not "": the uniqueness per source applies only to orders that have one.
    external_ref = models.CharField(_("external reference"), max_length=100, null=True, blank=True)  # noqa: DJ001

    objects = OrderQuerySet.as_manager()
    history = history_records(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_ref"],
                condition=Q(external_ref__isnull=False),
                name="order_external_ref_unique_per_source",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]
        indexes = [
            models.Index(fields=["status", "-placed_at"], name="order_status_placed"),
            models.Index(fields=["customer", "-placed_at"], name="order_customer_placed"),
            models.Index(fields=["total"], name="order_total"),
            models.Index(fields=["source", "-placed_at"], name="order_source_placed"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="order_lines"
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=255)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"))
    line_total = models.DecimalField(_("line total"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class Notification(models.Model):
    """One row per order and kind actually sent: the task checks it, so nothing is sent twice."""

    class Kind(models.TextChoices):
        PLACED = "placed", _("Order placed")
        SHIPPED = "shipped", _("Order shipped")
        CANCELLED = "cancelled", _("Order cancelled")

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    recipient = models.EmailField(_("recipient"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["order", "kind"], name="notification_once_per_order_kind")]

    def __str__(self) -> str:
        return f"{self.order} {self.kind}"


class Counter(models.Model):
    """Named counters for human-readable numbers where the database has no sequences (SQLite)."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
