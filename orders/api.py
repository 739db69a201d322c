"""Orders and customers in the integration API.

Reads are ``values()`` rows (orders: one more query for all lines of the page) turned into plain dicts;
writes go through ``orders.services`` (``upsert_customer``, ``place_order``, ``transition``) inside
``acting_as(api_key=...)``.
"""

from __future__ import annotations

from collections import defaultdict

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from backoffice.api.auth import scoped
from backoffice.api.filters import ChoiceInFilter, IsoDateTimeFilter, choices_pattern, run_filterset
from backoffice.api.models import Scope
from backoffice.api.pagination import KeysetPage
from backoffice.api.problems import ApiError, from_django_validation
from backoffice.api.schema import CURSOR_PARAMETERS, page_of
from backoffice.api.serializers import MoneyField, StrictSerializer
from backoffice.api.views import ApiView, require_json_object
from catalog.models import Product
from orders import services
from orders.choices import OrderSource, OrderStatus
from orders.models import ADDRESS_FIELD_NAMES, Customer, Order, OrderLine

LINES_MAX = 500
QUANTITY_MAX = 100_000

OrdersReadWrite = scoped(read=Scope.ORDERS_READ, write=Scope.ORDERS_WRITE)
OrdersWrite = scoped(write=Scope.ORDERS_WRITE)
CustomersReadWrite = scoped(read=Scope.CUSTOMERS_READ, write=Scope.CUSTOMERS_WRITE)
CustomersRead = scoped(read=Scope.CUSTOMERS_READ)

# --- customers ---------------------------------------------------------------------------------------------

CUSTOMER_VALUES = (
    "id",
    "email",
    "name",
    "company",
    "phone",
    "is_vip",
    "notes",
    *ADDRESS_FIELD_NAMES,
    "created_at",
    "updated_at",
)


def customer_data(row: dict) -> dict:
    data = {name: row[name] for name in CUSTOMER_VALUES if name not in ADDRESS_FIELD_NAMES}
    for kind in ("billing", "shipping"):
        data[f"{kind}_address"] = {
            part: str(row[f"{kind}_{part}"] or "")
            for part in ("name", "line1", "line2", "postal_code", "city", "country")
        }
    return data


class AddressOut(serializers.Serializer):
    name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField(help_text=gettext_lazy("ISO 3166 two-letter code, or empty."))


class CustomerOut(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    name = serializers.CharField()
    company = serializers.CharField()
    phone = serializers.CharField()
    is_vip = serializers.BooleanField()
    notes = serializers.CharField()
    billing_address = AddressOut()
    shipping_address = AddressOut()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AddressIn(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = serializers.ChoiceField(
        choices=[(code, code) for code, _name in countries],
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("ISO 3166 two-letter code, such as DE."),
    )


class CustomerIn(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    is_vip = serializers.BooleanField(required=False)
    notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    billing_address = AddressIn(required=False)
    shipping_address = AddressIn(required=False)


def customer_fields(validated: dict) -> dict:
    """Serializer data as ``upsert_customer`` keywords (addresses flattened to their fields)."""
    fields = {name: value for name, value in validated.items() if not name.endswith("_address")}
    for kind in ("billing", "shipping"):
        for part, value in (validated.get(f"{kind}_address") or {}).items():
            fields[f"{kind}_{part}"] = value
    return fields


# Service errors name model fields (billing_city); the API names them as sent (billing_address.city).
CUSTOMER_FIELD_MAP = {
    f"{kind}_{part}": f"{kind}_address.{part}"
    for kind in ("billing", "shipping")
    for part in ("name", "line1", "line2", "postal_code", "city", "country")
}


class CustomerFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(method="filter_email", max_length=254)
    updated_since = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields: list = []

    def filter_email(self, queryset, name, value):
        return queryset.alias(email_lower=Lower("email")).filter(email_lower=value.strip().lower())


@extend_schema(tags=["customers"])
class CustomerList(ApiView):
    permission_classes = [CustomersRead]

    @extend_schema(
        operation_id="customers_list",
        parameters=[
            OpenApiParameter("email", OpenApiTypes.STR, description=gettext_lazy("An email, ignoring case.")),
            OpenApiParameter("updated_since", OpenApiTypes.DATETIME),
            *CURSOR_PARAMETERS,
        ],
        responses=page_of(CustomerOut),
    )
    def get(self, request):
        page = KeysetPage(request.query_params)
        queryset = run_filterset(CustomerFilter, request, Customer.objects.all())
        rows = page.trim(list(page.paginate(queryset).values(*CUSTOMER_VALUES)))
        return Response(page.envelope(request, [customer_data(row) for row in rows], rows))


@extend_schema(tags=["customers"])
class CustomerDetail(ApiView):
    permission_classes = [CustomersRead]

    @extend_schema(operation_id="customers_retrieve", responses=CustomerOut)
    def get(self, request, pk):
        row = Customer.objects.filter(pk=pk).values(*CUSTOMER_VALUES).first()
        if row is None:
            raise exceptions.NotFound(_("No customer matches."))
        return Response(customer_data(row))


@extend_schema(tags=["customers"])
class CustomerByEmail(ApiView):
    permission_classes = [CustomersReadWrite]

    @extend_schema(
        operation_id="customers_upsert",
        parameters=[OpenApiParameter("email", OpenApiTypes.EMAIL, OpenApiParameter.PATH)],
        request=CustomerIn,
        responses={200: CustomerOut, 201: CustomerOut},
        examples=[
            OpenApiExample(
                "A customer with a billing address",
                value={
                    "name": "Ada Lovelace",
                    "billing_address": {
                        "name": "Ada Lovelace",
                        "line1": "12 Analytical Way",
                        "postal_code": "10115",
                        "city": "Berlin",
                        "country": "DE",
                    },
                },
                request_only=True,
            )
        ],
        description=gettext_lazy(
            "Create the customer with this email (201) or update the live one, ignoring case (200). "
            "Only the fields sent change; an address is empty or complete."
        ),
    )
    def put(self, request, email):
        email = email.strip()
        try:
            if "\x00" in email or len(email) > 254:
                raise DjangoValidationError(_("Enter a valid email address."), code="invalid")
            validate_email(email)
        except DjangoValidationError:
            raise ApiError(
                _("Enter a valid email address."),
                errors=[{"field": "email", "code": "invalid", "detail": _("Enter a valid email address.")}],
            ) from None
        data = require_json_object(request.data)
        serializer = CustomerIn(data=data)
        serializer.is_valid(raise_exception=True)
        fields = customer_fields(serializer.validated_data)
        exists = services.live_customers_with_email(services.normalise_email(email)).exists()
        if not exists and not fields.get("name"):
            detail = _("A new customer needs a name.")
            raise ApiError(detail, errors=[{"field": "name", "code": "required_to_create", "detail": detail}])
        try:
            with self.acting():
                customer, created = services.upsert_customer(email=email, user=self.acting_user, **fields)
        except DjangoValidationError as exc:
            raise from_django_validation(exc, field_map=CUSTOMER_FIELD_MAP) from exc
        row = Customer.objects.filter(pk=customer.pk).values(*CUSTOMER_VALUES).get()
        return Response(customer_data(row), status=201 if created else 200)


# --- orders ------------------------------------------------------------------------------------------------

ORDER_VALUES = (
    "id",
    "number",
    "status",
    "currency",
    "subtotal",
    "discount",
    "shipping",
    "tax",
    "total",
    "billing_address",
    "shipping_address",
    "placed_at",
    "paid_at",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "returned_at",
    "carrier",
    "tracking_number",
    "source",
    "external_ref",
    "customer_id",
    "customer__email",
    "customer__name",
    "created_at",
    "updated_at",
)
LINE_VALUES = ("order_id", "id", "product_id", "sku", "name", "unit_price", "quantity", "line_total")


def order_data(rows: list) -> list[dict]:
    lines_of = defaultdict(list)
    if rows:
        for line in (
            OrderLine.objects.filter(order_id__in=[row["id"] for row in rows]).order_by("id").values(*LINE_VALUES)
        ):
            order_id = line.pop("order_id")
            lines_of[order_id].append(line)
    data = []
    for row in rows:
        item = {name: row[name] for name in ORDER_VALUES if not name.startswith("customer")}
        item["customer"] = {"id": row["customer_id"], "email": row["customer__email"], "name": row["customer__name"]}
        item["lines"] = lines_of.get(row["id"], [])
        data.append(item)
    return data


def order_representation(order) -> dict | None:
    """One order (an instance or its id) exactly as the API shows it, as plain JSON types (what a webhook payload
    or a test compares); None when there is no such order."""
    import orjson

    from backoffice.api.renderers import dumps

    rows = list(Order.objects.filter(pk=getattr(order, "pk", order)).values(*ORDER_VALUES)[:1])
    return orjson.loads(dumps(order_data(rows)[0])) if rows else None


class LineOut(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.UUIDField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)


class CustomerRef(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    name = serializers.CharField()


class SnapshotOut(serializers.Serializer):
    name = serializers.CharField(required=False)
    line1 = serializers.CharField(required=False)
    line2 = serializers.CharField(required=False)
    postal_code = serializers.CharField(required=False)
    city = serializers.CharField(required=False)
    country = serializers.CharField(required=False)


class OrderOut(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    currency = serializers.CharField()
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
    discount = serializers.DecimalField(max_digits=14, decimal_places=2)
    shipping = serializers.DecimalField(max_digits=14, decimal_places=2)
    tax = serializers.DecimalField(max_digits=14, decimal_places=2)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    billing_address = SnapshotOut(help_text=gettext_lazy("The address when the order was placed; {} if none."))
    shipping_address = SnapshotOut()
    placed_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    returned_at = serializers.DateTimeField(allow_null=True)
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    source = serializers.ChoiceField(choices=OrderSource.choices)
    external_ref = serializers.CharField(allow_null=True)
    customer = CustomerRef()
    lines = LineOut(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OrderFilter(django_filters.FilterSet):
    status = ChoiceInFilter(field_name="status", choices=OrderStatus.choices)
    updated_since = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    customer_email = django_filters.CharFilter(method="filter_customer_email", max_length=254)

    class Meta:
        model = Order
        fields: list = []

    def filter_customer_email(self, queryset, name, value):
        return queryset.alias(customer_email_lower=Lower("customer__email")).filter(
            customer_email_lower=value.strip().lower()
        )


class LineIn(StrictSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=QUANTITY_MAX)


class OrderCustomerIn(CustomerIn):
    email = serializers.EmailField(max_length=254)


class OrderIn(StrictSerializer):
    external_ref = serializers.CharField(
        max_length=100,
        help_text=gettext_lazy("Your order's id: placing the same external_ref again returns the first order (200)."),
    )
    source = serializers.ChoiceField(choices=[OrderSource.API, OrderSource.IMPORT], default=OrderSource.API)
    customer = OrderCustomerIn()
    lines = serializers.ListField(child=LineIn(), min_length=1, max_length=LINES_MAX)
    shipping = MoneyField(default="0")
    discount = MoneyField(default="0")


class TransitionDetailsIn(StrictSerializer):
    carrier = serializers.CharField(max_length=60, required=False, allow_blank=True)
    tracking_number = serializers.CharField(max_length=80, required=False, allow_blank=True)


class TransitionIn(StrictSerializer):
    to = serializers.ChoiceField(choices=OrderStatus.choices)
    details = TransitionDetailsIn(required=False, help_text=gettext_lazy("carrier (and tracking_number) to ship."))


def _order_or_404(pk) -> dict:
    rows = list(Order.objects.filter(pk=pk).values(*ORDER_VALUES)[:1])
    if not rows:
        raise exceptions.NotFound(_("No order matches."))
    return order_data(rows)[0]


ORDER_EXAMPLE = OpenApiExample(
    "An order from a shop front",
    value={
        "external_ref": "SHOP-100231",
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "lines": [{"sku": "GARDEN-HOSE-25", "quantity": 2}],
        "shipping": "4.90",
        "discount": "0.00",
    },
    request_only=True,
)


@extend_schema(tags=["orders"])
class OrderList(ApiView):
    permission_classes = [OrdersReadWrite]

    @extend_schema(
        operation_id="orders_list",
        parameters=[
            OpenApiParameter(
                "status",
                {"type": "string", "pattern": choices_pattern(OrderStatus.choices)},
                description=gettext_lazy("Comma-separated statuses."),
            ),
            OpenApiParameter("updated_since", OpenApiTypes.DATETIME),
            OpenApiParameter("customer_email", OpenApiTypes.STR, description=gettext_lazy("Ignoring case.")),
            *CURSOR_PARAMETERS,
        ],
        responses=page_of(OrderOut),
    )
    def get(self, request):
        page = KeysetPage(request.query_params)
        queryset = run_filterset(OrderFilter, request, Order.objects.all())
        rows = page.trim(list(page.paginate(queryset).values(*ORDER_VALUES)))
        return Response(page.envelope(request, order_data(rows), rows))

    @extend_schema(
        operation_id="orders_create",
        request=OrderIn,
        responses={201: OrderOut, 200: OrderOut},
        examples=[ORDER_EXAMPLE],
        description=gettext_lazy(
            "Place an order: the customer is upserted by email, every line or none is taken from stock. "
            "201 when placed; 200 with the existing order when this external_ref (per source) was placed before."
        ),
    )
    def post(self, request):
        serializer = OrderIn(data=require_json_object(request.data))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        existing = Order.objects.filter(source=data["source"], external_ref=data["external_ref"]).values("pk").first()
        if existing is not None:
            return Response(_order_or_404(existing["pk"]), status=200)
        wanted = {line["sku"].lower() for line in data["lines"]}
        products = {
            p.sku.lower(): p for p in Product.objects.alias(sku_lower=Lower("sku")).filter(sku_lower__in=wanted)
        }
        errors = [
            {"field": f"lines[{i}].sku", "code": "does_not_exist", "detail": _("No product has this SKU.")}
            for i, line in enumerate(data["lines"])
            if line["sku"].lower() not in products
        ]
        if errors:
            raise ApiError(_("Some SKUs are unknown; nothing was placed."), errors=errors)
        customer_input = dict(data["customer"])
        email = customer_input.pop("email")
        lines = [(products[line["sku"].lower()], line["quantity"]) for line in data["lines"]]
        # One transaction: an order refused (stock, not for sale) leaves the customer as it was, too.
        try:
            with self.acting(), transaction.atomic():
                try:
                    customer, _created = services.upsert_customer(
                        email=email, user=self.acting_user, **customer_fields(customer_input)
                    )
                except DjangoValidationError as exc:
                    raise from_django_validation(exc, prefix="customer", field_map=CUSTOMER_FIELD_MAP) from exc
                order = services.place_order(
                    customer=customer,
                    lines=lines,
                    source=data["source"],
                    external_ref=data["external_ref"],
                    user=self.acting_user,
                    discount=data["discount"],
                    shipping=data["shipping"],
                )
        except DjangoValidationError as exc:
            raise from_django_validation(exc) from exc
        response = Response(_order_or_404(order.pk), status=201)
        response["Location"] = request.build_absolute_uri(f"/api/v1/orders/{order.pk}/")
        return response


@extend_schema(tags=["orders"])
class OrderDetail(ApiView):
    permission_classes = [OrdersReadWrite]

    @extend_schema(operation_id="orders_retrieve", responses=OrderOut)
    def get(self, request, pk):
        return Response(_order_or_404(pk))


@extend_schema(tags=["orders"])
class OrderTransition(ApiView):
    permission_classes = [OrdersWrite]

    @extend_schema(
        operation_id="orders_transition",
        request=TransitionIn,
        responses={200: OrderOut},
        examples=[
            OpenApiExample(
                "Shipped",
                value={"to": "shipped", "details": {"carrier": "DHL", "tracking_number": "00340434161094042557"}},
                request_only=True,
            )
        ],
        description=gettext_lazy(
            "Move the order along its lifecycle (pending -> paid -> processing -> shipped -> delivered; "
            "cancelled, returned). A move the lifecycle refuses is a 422."
        ),
    )
    def post(self, request, pk):
        serializer = TransitionIn(data=require_json_object(request.data))
        serializer.is_valid(raise_exception=True)
        order = Order.objects.filter(pk=pk).first()
        if order is None:
            raise exceptions.NotFound(_("No order matches."))
        try:
            with self.acting():
                services.transition(
                    order,
                    serializer.validated_data["to"],
                    user=self.acting_user,
                    **serializer.validated_data.get("details", {}),
                )
        except services.InvalidTransition as exc:
            raise from_django_validation(exc) from exc
        except DjangoValidationError as exc:
            raise from_django_validation(exc, prefix="details") from exc
        return Response(_order_or_404(pk))


def urlpatterns():
    from django.urls import path

    return [
        path("orders/", OrderList.as_view(), name="orders"),
        path("orders/<uuid:pk>/", OrderDetail.as_view(), name="order"),
        path("orders/<uuid:pk>/transition/", OrderTransition.as_view(), name="order-transition"),
        path("customers/", CustomerList.as_view(), name="customers"),
        path("customers/<uuid:pk>/", CustomerDetail.as_view(), name="customer"),
        path("customers/by-email/<str:email>/", CustomerByEmail.as_view(), name="customer-by-email"),
    ]
