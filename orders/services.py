"""Customers (upsert by email, update) and the order lifecycle: placement (all lines or none, stock taken
safely) and status transitions."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice import webhooks
from backoffice.history import acting_as
from backoffice.live import events as live_events
from backoffice.locking import lock_in_order
from catalog import services as catalog
from catalog.models import Product, StockMovement
from orders import rollup
from orders.models import ADDRESS_FIELD_NAMES, Counter, Customer, Order, OrderLine

CENT = Decimal("0.01")
NUMBER_PREFIX = "SO-"

# from status -> the statuses it may move to
TRANSITIONS = {
    Order.Status.PENDING: {Order.Status.PAID, Order.Status.CANCELLED},
    Order.Status.PAID: {Order.Status.PROCESSING, Order.Status.SHIPPED, Order.Status.CANCELLED},
    Order.Status.PROCESSING: {Order.Status.SHIPPED, Order.Status.CANCELLED},
    Order.Status.SHIPPED: {Order.Status.DELIVERED},
    Order.Status.DELIVERED: {Order.Status.RETURNED},
    Order.Status.CANCELLED: set(),
    Order.Status.RETURNED: set(),
}
TIMESTAMPS = {
    Order.Status.PAID: "paid_at",
    Order.Status.SHIPPED: "shipped_at",
    Order.Status.DELIVERED: "delivered_at",
    Order.Status.CANCELLED: "cancelled_at",
    Order.Status.RETURNED: "returned_at",
}
NOTIFY = {Order.Status.SHIPPED: "shipped", Order.Status.CANCELLED: "cancelled"}


class InvalidTransition(ValidationError):
    pass


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def next_order_number() -> str:
    """Unique under concurrency; gaps are fine (a failed placement may use up a number)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval('orders_order_number_seq')")
            value = cursor.fetchone()[0]
    else:
        # SQLite serialises writers, so a counter row updated in place cannot hand out a number twice.
        with transaction.atomic():
            Counter.objects.get_or_create(name="order")
            Counter.objects.filter(name="order").update(value=F("value") + 1)
            value = Counter.objects.get(name="order").value
    return f"{NUMBER_PREFIX}{value:06d}"


def compute_totals(subtotal: Decimal, *, discount=Decimal("0"), shipping=Decimal("0"), tax_rate=None) -> dict:
    """Totals in cents, rounded half up: tax on (subtotal - discount + shipping)."""
    rate = Decimal(str(settings.ORDER_TAX_RATE if tax_rate is None else tax_rate))
    subtotal, discount, shipping = money(subtotal), money(discount), money(shipping)
    if discount < 0 or shipping < 0:
        raise ValidationError(_("Discount and shipping cannot be negative."), code="negative_amount")
    if discount > subtotal:
        raise ValidationError(_("The discount cannot exceed the subtotal."), code="discount_too_large")
    taxable = subtotal - discount + shipping
    tax = money(taxable * rate)
    return {"subtotal": subtotal, "discount": discount, "shipping": shipping, "tax": tax, "total": taxable + tax}


# --- customers -------------------------------------------------------------------------------------------

# What callers may set on a customer besides the email (the key of upsert_customer).
CUSTOMER_FIELDS = frozenset({"name", "company", "phone", "is_vip", "notes", *ADDRESS_FIELD_NAMES})


def normalise_email(email) -> str:
    """Surrounding blanks removed and the domain lower-cased (Django's rule for user emails): the local part
    may be case-sensitive, so it is kept; look-ups ignore case anyway."""
    return BaseUserManager.normalize_email(str(email or "").strip())


def live_customers_with_email(email: str):
    """Live customers whose email equals ``email`` ignoring case: the same expression as the unique
    constraint ``customer_email_unique_ci``, so the database answers from that index."""
    return Customer.objects.alias(email_lower=Lower("email")).filter(email_lower=Lower(Value(email)))


def upsert_customer(*, email, user=None, **fields) -> tuple[Customer, bool]:
    """The live customer with this email (ignoring case), created or updated with ``fields``: only the
    fields given change. Returns ``(customer, created)``; writes nothing (and no history row) when nothing
    changes. Bad values raise ``ValidationError`` keyed by field; nothing is stored then."""
    email = normalise_email(email)
    changes = _checked_changes(fields, allowed=CUSTOMER_FIELDS)
    try:
        with transaction.atomic():
            return _upsert(email, changes, user)
    except IntegrityError:
        # Another caller created this email between our look-up and our insert: theirs is ours, update it.
        with transaction.atomic():
            return _upsert(email, changes, user)


def update_customer(customer: Customer, *, user=None, **changes) -> Customer:
    """Change the given fields of a live customer, the email included (kept unique ignoring case).
    Returns the customer as saved; writes nothing when nothing changes."""
    changes = _checked_changes(changes, allowed=CUSTOMER_FIELDS | {"email"})
    if "email" in changes:
        changes["email"] = normalise_email(changes["email"])
    try:
        with transaction.atomic():
            locked = Customer.objects.select_for_update().filter(pk=customer.pk).first()
            if locked is None:
                raise ValidationError(_("This customer was deleted; it cannot be changed."), code="deleted")
            if "email" in changes and changes["email"] != locked.email:
                check_email_free(changes["email"], exclude=locked)
            return _apply(locked, changes, user)
    except IntegrityError as exc:  # the same email was taken by someone else at the same moment
        raise ValidationError({"email": _email_taken_message()}, code="email_taken") from exc


def check_email_free(email: str, *, exclude: Customer | None = None) -> None:
    """Raise ``ValidationError({"email": ...})`` when another live customer has this email (ignoring case)."""
    others = live_customers_with_email(normalise_email(email))
    if exclude is not None and exclude.pk is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise ValidationError({"email": _email_taken_message()}, code="email_taken")


def _email_taken_message() -> str:
    return _("Another customer already has this email address; search for it and change that customer instead.")


def _checked_changes(fields: dict, *, allowed) -> dict:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError(
            _("Customers have no field %(fields)s; use %(allowed)s.")
            % {"fields": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))},
            code="unknown_field",
        )
    changes = {}
    for name, value in fields.items():
        field = Customer._meta.get_field(name)
        if isinstance(field, models.CharField | models.TextField) and not field.null:
            value = "" if value is None else value
            value = str(value).strip() if isinstance(value, str) or name.endswith("_country") else value
            if name.endswith("_country"):
                value = value.upper()  # ISO 3166 codes are upper case; "de" means DE
        changes[name] = value
    return changes


def _upsert(email: str, changes: dict, user) -> tuple[Customer, bool]:
    existing = live_customers_with_email(email).select_for_update().first()
    if existing is not None:
        return _apply(existing, changes, user), False
    return _apply(Customer(email=email), changes, user), True


def _apply(customer: Customer, changes: dict, user) -> Customer:
    """Set, validate and save the fields that really change (values compared after cleaning)."""
    errors, changed = {}, {}
    for name, value in changes.items():
        field = Customer._meta.get_field(name)
        try:
            value = field.clean(value, customer)
        except ValidationError as exc:
            errors[name] = exc.error_list
            continue
        if field.get_prep_value(value) != field.get_prep_value(getattr(customer, name)):
            changed[name] = value
    if not changed and not errors and not customer._state.adding:
        return customer
    for name, value in changed.items():
        setattr(customer, name, value)
    try:
        # Uniqueness of the email is checked by the look-up before (and the database constraint under a race).
        customer.full_clean(exclude=list(errors), validate_constraints=False)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    if user is not None and getattr(user, "is_authenticated", False):
        customer._history_user = user
    customer.save()
    return customer


# --- orders ----------------------------------------------------------------------------------------------


def place_order(
    *,
    customer,
    lines,
    source: str = "admin",
    external_ref: str | None = None,
    user=None,
    discount=Decimal("0"),
    shipping=Decimal("0"),
    currency: str = "EUR",
) -> Order:
    """Place an order for ``lines`` [(product, quantity), ...]: every line or none.

    Stock is taken through catalog.services with conditional updates, product by product in primary
    key order, so two orders sharing products can never deadlock. Idempotent on
    ``(source, external_ref)``: placing the same external order again returns the first one.
    """
    if external_ref:
        existing = Order.objects.filter(source=source, external_ref=external_ref).first()
        if existing is not None:
            return existing
    if source not in Order.Source.values:
        raise ValidationError(_("Unknown order source: %(source)s.") % {"source": source}, code="source")
    if customer is None or getattr(customer, "deleted_at", None):
        raise ValidationError(_("Choose an existing customer."), code="customer")
    merged: OrderedDict = OrderedDict()
    for product, quantity in lines:
        quantity = int(quantity)
        if quantity <= 0:
            raise ValidationError(_("Every line needs a quantity of at least 1."), code="quantity")
        merged[product.pk] = (product, merged.get(product.pk, (product, 0))[1] + quantity)
    if not merged:
        raise ValidationError(_("An order needs at least one line."), code="no_lines")
    try:
        with acting_as(user=user), transaction.atomic():
            return _place(customer, merged, source, external_ref, user, discount, shipping, currency)
    except IntegrityError:
        # The same external order was placed at the same moment by someone else: theirs is ours.
        if external_ref:
            existing = Order.objects.filter(source=source, external_ref=external_ref).first()
            if existing is not None:
                return existing
        raise


def _place(customer, merged, source, external_ref, user, discount, shipping, currency) -> Order:
    # Every product of the order is locked up front, in the project's one lock order.
    products = {p.pk: p for p in lock_in_order(Product.objects.filter(pk__in=merged.keys()))}
    missing = [str(product) for pk, (product, _q) in merged.items() if pk not in products]
    if missing:
        raise ValidationError(_("Not available: %(products)s.") % {"products": ", ".join(missing)}, code="gone")
    inactive = [p.sku for p in products.values() if p.status != Product.Status.ACTIVE]
    if inactive:
        raise ValidationError(
            _("Not for sale (not active): %(skus)s.") % {"skus": ", ".join(sorted(inactive))}, code="inactive"
        )
    number = next_order_number()
    subtotal = sum((products[pk].price * quantity for pk, (_p, quantity) in merged.items()), Decimal("0"))
    order = Order(
        number=number,
        customer=customer,
        currency=currency,
        billing_address=customer.address_snapshot("billing"),
        shipping_address=customer.address_snapshot("shipping") or customer.address_snapshot("billing"),
        placed_at=timezone.now(),
        source=source,
        external_ref=external_ref or None,
        **compute_totals(subtotal, discount=discount, shipping=shipping),
    )
    order._change_reason = _("Placed")
    order.save(force_insert=True)
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product_id=pk,
            sku=products[pk].sku,
            name=products[pk].name,
            unit_price=products[pk].price,
            quantity=quantity,
            line_total=money(products[pk].price * quantity),
        )
        for pk, (_p, quantity) in merged.items()
    )
    for pk, (_p, quantity) in merged.items():
        catalog.record_sale(products[pk], quantity, reference=number, user=user)
    rollup.record_placement(order, {pk: quantity for pk, (_p, quantity) in merged.items()})
    _schedule_notification(order, "placed")
    live_events.order_created(order)  # "N new orders: refresh" on open pages, after commit
    webhooks.emit("order.created", order)
    return order


def soft_delete_customers(queryset, *, user=None) -> int:
    """Customers are soft-deleted (their orders keep pointing at them); history names the user."""
    count = 0
    with acting_as(user=user), transaction.atomic():
        for customer in lock_in_order(queryset.filter(deleted_at__isnull=True)):
            customer._change_reason = _("Deleted")
            customer.soft_delete()
            count += 1
    return count


def change_customer(order: Order, customer, *, user=None) -> Order:
    """Give a pending order another customer; its address snapshots follow. A paid order keeps its
    customer (invoices and shipments name them)."""
    with acting_as(user=user), transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.customer_id == customer.pk:
            return locked
        if locked.status != Order.Status.PENDING:
            raise ValidationError(
                {
                    "customer": _("Only a pending order can change its customer; %(number)s is %(status)s.")
                    % {"number": locked.number, "status": locked.get_status_display()}
                },
                code="not_pending",
            )
        if customer.deleted_at is not None:
            raise ValidationError({"customer": _("Choose an existing customer.")}, code="customer")
        locked.customer = customer
        locked.billing_address = customer.address_snapshot("billing")
        locked.shipping_address = customer.address_snapshot("shipping") or locked.billing_address
        locked._change_reason = _("Customer changed")
        locked.save(update_fields=["customer", "billing_address", "shipping_address", "updated_at"])
    return locked


# Lifecycle moves integrators hear about (backoffice.webhooks).
WEBHOOK_EVENTS = {
    Order.Status.PAID: "order.paid",
    Order.Status.SHIPPED: "order.shipped",
    Order.Status.CANCELLED: "order.cancelled",
}


def transition(order: Order, to_status: str, *, user=None, **details) -> Order:
    """Move an order to ``to_status`` if the lifecycle allows it; puts stock back exactly once on
    cancel and return; records history with the user; notifies the customer after commit."""
    if to_status not in Order.Status.values:
        raise InvalidTransition(_("Unknown order status: %(status)s.") % {"status": to_status}, code="status")
    with transaction.atomic():
        # The row lock makes concurrent moves of one order take turns; the loser sees the new status.
        locked = Order.objects.select_for_update().get(pk=order.pk)
        current = locked.status
        if to_status not in TRANSITIONS[current]:
            raise InvalidTransition(
                _("Order %(number)s is %(current)s; it cannot become %(target)s.")
                % {
                    "number": locked.number,
                    "current": Order.Status(current).label,
                    "target": Order.Status(to_status).label,
                },
                code="invalid_transition",
            )
        if to_status == Order.Status.SHIPPED:
            carrier = (details.get("carrier") or "").strip()
            if not carrier:
                raise ValidationError({"carrier": _("Name the carrier to ship an order.")}, code="carrier")
            locked.carrier = carrier[:60]
            locked.tracking_number = (details.get("tracking_number") or "").strip()[:80]
        if to_status in (Order.Status.CANCELLED, Order.Status.RETURNED):
            reason = (
                StockMovement.Reason.CANCELLATION
                if to_status == Order.Status.CANCELLED
                else StockMovement.Reason.RETURN
            )
            lines = list(locked.lines.all())
            products = {
                p.pk: p for p in lock_in_order(Product.all_objects.filter(pk__in=[x.product_id for x in lines]))
            }
            for line in lines:
                line.product = products[line.product_id]
                catalog.restock_sale(line.product, line.quantity, reason=reason, reference=locked.number, user=user)
        locked.status = to_status
        if to_status in TIMESTAMPS:
            setattr(locked, TIMESTAMPS[to_status], timezone.now())
        if user is not None and user.is_authenticated:
            locked._history_user = user
        locked._change_reason = _("Status: %(status)s") % {"status": Order.Status(to_status).label}
        locked.save()
        rollup.record_transition(locked, current)
        if to_status in WEBHOOK_EVENTS:
            webhooks.emit(WEBHOOK_EVENTS[to_status], locked, extra={"from_status": current})
        if to_status in NOTIFY:
            _schedule_notification(locked, NOTIFY[to_status])
    return locked


_muted: ContextVar[bool] = ContextVar("orders_notifications_muted", default=False)


@contextmanager
def notifications_muted() -> Iterator[None]:
    """Place and move orders without emailing anyone (demo data, back-filled history)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def _schedule_notification(order: Order, kind: str) -> None:
    from orders.tasks import send_order_notification

    if _muted.get():
        return

    order_id = str(order.pk)
    transaction.on_commit(lambda: send_order_notification.delay(order_id, kind))
