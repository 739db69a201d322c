from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from backoffice.history import history_records
from backoffice.models import AliveManager, BaseModel, SoftDeleteModel
from orders.choices import OrderSource, OrderStatus
from orders.querysets import CustomerQuerySet, OrderQuerySet
from orders.sales import DailyProductSalesQuerySet, DailySalesQuerySet

ADDRESS_KINDS = ("billing", "shipping")
ADDRESS_PARTS = ("name", "line1", "line2", "postal_code", "city", "country")
REQUIRED_ADDRESS_PARTS = ("name", "line1", "postal_code", "city", "country")
ADDRESS_PART_LABELS = {
    "name": _("name"),
    "line1": _("address line 1"),
    "line2": _("address line 2"),
    "postal_code": _("postal code"),
    "city": _("city"),
    "country": _("country"),
}
COUNTRY_ERRORS = {"invalid_choice": _("“%(value)s” is not a country; choose one, such as DE for Germany.")}
ADDRESS_KIND_LABELS = {"billing": _("billing address"), "shipping": _("shipping address")}


def address_field_names(kind: str) -> list[str]:
    """``["billing_name", "billing_line1", ...]``: the model fields of one of a customer's addresses."""
    return [f"{kind}_{part}" for part in ADDRESS_PARTS]


ADDRESS_FIELD_NAMES = tuple(name for kind in ADDRESS_KINDS for name in address_field_names(kind))


def validate_address(value) -> None:
    """The validator of the JSON addresses customers had before migration 0004. Only migration 0001 still
    names it; kept so that migration imports. Customers now have address fields (see Customer.clean)."""
    if value in (None, {}):
        return
    if not isinstance(value, dict):
        raise ValidationError(_("An address must be an object with name, line1, postal_code, city and country."))


class Customer(SoftDeleteModel):
    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_vip = models.BooleanField(_("VIP"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    # An address is either empty or complete (see clean()); orders keep a JSON snapshot of it when placed.
    billing_name = models.CharField(_("billing name"), max_length=200, blank=True)
    billing_line1 = models.CharField(_("billing address line 1"), max_length=200, blank=True)
    billing_line2 = models.CharField(_("billing address line 2"), max_length=200, blank=True)
    billing_postal_code = models.CharField(_("billing postal code"), max_length=20, blank=True)
    billing_city = models.CharField(_("billing city"), max_length=100, blank=True)
    billing_country = CountryField(_("billing country"), blank=True, error_messages=COUNTRY_ERRORS)
    shipping_name = models.CharField(_("shipping name"), max_length=200, blank=True)
    shipping_line1 = models.CharField(_("shipping address line 1"), max_length=200, blank=True)
    shipping_line2 = models.CharField(_("shipping address line 2"), max_length=200, blank=True)
    shipping_postal_code = models.CharField(_("shipping postal code"), max_length=20, blank=True)
    shipping_city = models.CharField(_("shipping city"), max_length=100, blank=True)
    shipping_country = CountryField(
        _("shipping country"),
        blank=True,
        error_messages=COUNTRY_ERRORS,
        help_text=_("Leave the shipping address empty to ship to the billing one."),
    )

    objects = AliveManager.from_queryset(CustomerQuerySet)()
    all_objects = models.Manager.from_queryset(CustomerQuerySet)()
    history = history_records(excluded_fields=["updated_at"])

    class Meta(SoftDeleteModel.Meta):
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(deleted_at__isnull=True),
                name="customer_email_unique_ci",
                violation_error_code="email_taken",
                violation_error_message=_("Another customer already has this email address."),
            ),
        ]
        indexes = [models.Index(fields=["name"], name="customer_name")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def clean(self) -> None:
        super().clean()
        errors = {}
        for kind in ADDRESS_KINDS:
            values = {part: str(getattr(self, f"{kind}_{part}") or "").strip() for part in ADDRESS_PARTS}
            if not any(values.values()):
                continue  # an empty address is fine
            for part in REQUIRED_ADDRESS_PARTS:
                if not values[part]:
                    errors[f"{kind}_{part}"] = ValidationError(
                        _("Fill in the %(part)s to complete the %(address)s, or clear the whole address.")
                        % {"part": ADDRESS_PART_LABELS[part], "address": ADDRESS_KIND_LABELS[kind]},
                        code="incomplete_address",
                    )
        if errors:
            raise ValidationError(errors)

    def has_address(self, kind: str) -> bool:
        return any(str(getattr(self, name) or "").strip() for name in address_field_names(kind))

    def address_snapshot(self, kind: str) -> dict:
        """The address as orders keep it (JSON): ``{name, line1, line2, postal_code, city, country}``, country
        as its two-letter code; ``{}`` when that address is empty."""
        if not self.has_address(kind):
            return {}
        return {part: str(getattr(self, f"{kind}_{part}") or "").strip() for part in ADDRESS_PARTS}


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


class DailySales(models.Model):
    """The orders placed on one day (in ``settings.TIME_ZONE``) in one currency that are now in one status: how
    many, their totals and their units. Kept current by ``orders.rollup`` inside the services' transactions and
    rebuilt from the orders by ``manage.py rebuild_sales_rollup``. Derived data, so no history of its own."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField(_("day"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=12, choices=OrderStatus.choices)
    orders = models.IntegerField(_("orders"), default=0)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=Decimal("0"))
    units = models.BigIntegerField(_("units"), default=0)

    objects = DailySalesQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily sales")
        verbose_name_plural = _("daily sales")
        constraints = [
            models.UniqueConstraint(fields=["day", "currency", "status"], name="dailysales_day_currency_status"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.currency} {self.status}: {self.orders}"


class DailyProductSales(models.Model):
    """Units of one product sold on one day (orders counted as revenue, see ``orders.sales``)."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField(_("day"))
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.CASCADE, related_name="+"
    )
    units = models.BigIntegerField(_("units"), default=0)

    objects = DailyProductSalesQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily product sales")
        verbose_name_plural = _("daily product sales")
        constraints = [models.UniqueConstraint(fields=["day", "product"], name="dailyproductsales_day_product")]
        # The top products read a window of days; the unique index leads with day already.

    def __str__(self) -> str:
        return f"{self.day} {self.product_id}: {self.units}"
