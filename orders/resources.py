"""Import/export resources of the orders app: customers (upsert by email, through orders.services) and orders
(export only, one row per order line with the order's columns)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields

from backoffice.imports import register
from backoffice.imports.resources import ServiceResource
from backoffice.imports.text import BooleanWidget, DateTimeWidget, DecimalWidget, IntegerWidget, TextWidget
from orders import services
from orders.models import ADDRESS_FIELD_NAMES, Customer, OrderLine


class CustomerResource(ServiceResource):
    email = fields.Field(attribute="email", column_name="email", widget=TextWidget())
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    company = fields.Field(attribute="company", column_name="company", widget=TextWidget())
    phone = fields.Field(attribute="phone", column_name="phone", widget=TextWidget())
    is_vip = fields.Field(attribute="is_vip", column_name="is_vip", widget=BooleanWidget())
    notes = fields.Field(attribute="notes", column_name="notes", widget=TextWidget())
    locals().update(
        {name: fields.Field(attribute=name, column_name=name, widget=TextWidget()) for name in ADDRESS_FIELD_NAMES}
    )

    key = "email"
    example_rows = [
        {
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "phone": "+44 20 7946 0000",
            "is_vip": "0",
            "billing_name": "Ada Lovelace",
            "billing_line1": "1 Example Street",
            "billing_postal_code": "N1 1AA",
            "billing_city": "London",
            "billing_country": "GB",
        }
    ]

    class Meta:
        model = Customer
        fields = ("email", "name", "company", "phone", "is_vip", "notes", *ADDRESS_FIELD_NAMES)
        export_order = fields
        import_id_fields = ("email",)

    def get_queryset(self):
        return Customer.objects.all()

    def existing(self, keys):
        found = Customer.objects.annotate(_key=Lower("email")).filter(_key__in=list(keys))
        return {customer.email.lower(): customer for customer in found}

    def current_value(self, instance, attribute):
        value = super().current_value(instance, attribute)
        return str(value) if attribute.endswith("_country") else value

    def validate(self, values, instance):
        candidate = Customer() if instance is None else Customer.objects.get(pk=instance.pk)
        for name, value in values.items():
            setattr(candidate, name, "" if value is None else value)
        if instance is None:
            candidate.email = services.normalise_email(values.get("email"))
        try:
            candidate.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            return self.errors_by_column(exc)
        return []

    def apply(self, instance, values, *, user, batch):
        fields_ = {name: ("" if value is None else value) for name, value in values.items() if name != "email"}
        customer, _created = services.upsert_customer(email=values["email"], user=user, **fields_)
        return customer


class OrderResource(ServiceResource):
    """Export only: one row per order line, with its order's columns."""

    number = fields.Field(attribute="order__number", column_name="order", widget=TextWidget())
    placed_at = fields.Field(attribute="order__placed_at", column_name="placed_at", widget=DateTimeWidget())
    status = fields.Field(attribute="order__status", column_name="status", widget=TextWidget())
    customer_email = fields.Field(attribute="order__customer__email", column_name="customer_email", widget=TextWidget())
    customer_name = fields.Field(attribute="order__customer__name", column_name="customer_name", widget=TextWidget())
    currency = fields.Field(attribute="order__currency", column_name="currency", widget=TextWidget())
    order_total = fields.Field(attribute="order__total", column_name="order_total", widget=DecimalWidget())
    source = fields.Field(attribute="order__source", column_name="source", widget=TextWidget())
    sku = fields.Field(attribute="sku", column_name="sku", widget=TextWidget())
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    unit_price = fields.Field(attribute="unit_price", column_name="unit_price", widget=DecimalWidget())
    quantity = fields.Field(attribute="quantity", column_name="quantity", widget=IntegerWidget())
    line_total = fields.Field(attribute="line_total", column_name="line_total", widget=DecimalWidget())

    class Meta:
        model = OrderLine
        fields = (
            "number",
            "placed_at",
            "status",
            "customer_email",
            "customer_name",
            "currency",
            "order_total",
            "source",
            "sku",
            "name",
            "unit_price",
            "quantity",
            "line_total",
        )
        export_order = fields

    def get_queryset(self):
        return OrderLine.objects.select_related("order__customer").order_by("-order__placed_at", "order_id", "id")

    def import_columns(self):
        return {}  # export only

    def for_queryset(self, orders):
        """The lines of ``orders`` (the Order changelist's queryset), in its order where it sorts by fields."""
        from orders.models import Order

        names = {f.name for f in Order._meta.concrete_fields}
        ordering = []
        for item in orders.query.order_by:
            if not isinstance(item, str) or item.lstrip("-") not in names:
                continue
            ordering.append(("-" if item.startswith("-") else "") + "order__" + item.lstrip("-"))
        lines = OrderLine.objects.filter(order__in=orders.order_by().values("pk"))
        return lines.order_by(*(ordering or ["-order__placed_at"]), "order_id", "id")

    def apply(self, instance, values, *, user, batch):  # pragma: no cover - never imported
        raise ValidationError(_("Orders are not imported."))


def _register() -> None:
    from orders import imports as undo

    register(
        "orders.customer",
        label=gettext_lazy("Customers"),
        model="orders.Customer",
        resource="orders.resources.CustomerResource",
        undo=undo.undo_customers,
    )


_register()
