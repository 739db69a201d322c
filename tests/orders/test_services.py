from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from catalog.models import Product, StockMovement
from catalog.services import InsufficientStock
from orders import services
from orders.models import Customer, Notification, Order
from orders.services import InvalidTransition, place_order, transition
from orders.tasks import send_order_notification
from tests.factories import CustomerFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return CustomerFactory()


def test_place_order_takes_stock_and_computes_totals(customer, settings, django_capture_on_commit_callbacks):
    settings.ORDER_TAX_RATE = "0.19"
    a = ProductFactory(price=Decimal("19.99"), stock=10)
    b = ProductFactory(price=Decimal("0.33"), stock=10)
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(customer=customer, lines=[(a, 2), (b, 3), (a, 1)], user=user, shipping=Decimal("4.90"))
    assert order.number.startswith("SO-")
    assert order.subtotal == Decimal("60.96")  # 3 x 19.99 + 3 x 0.33
    assert order.tax == Decimal("12.51")  # 19% of 65.86, rounded half up
    assert order.total == Decimal("78.37")
    assert [(line.sku, line.quantity) for line in order.lines.all()] == [(a.sku, 3), (b.sku, 3)]
    assert Product.objects.get(pk=a.pk).stock == 7 and Product.objects.get(pk=a.pk).units_sold == 3
    assert set(StockMovement.objects.values_list("reference", flat=True)) == {order.number}
    assert order.billing_address == customer.address_snapshot("billing")
    assert order.shipping_address == order.billing_address  # no shipping address: ships to billing
    assert order.billing_address["country"] == "DE" and order.billing_address["city"] == "Berlin"
    assert len(mail.outbox) == 1 and order.number in mail.outbox[0].subject


def test_all_or_nothing(customer):
    plenty, scarce = ProductFactory(stock=10), ProductFactory(stock=1)
    with pytest.raises(InsufficientStock):
        place_order(customer=customer, lines=[(plenty, 2), (scarce, 2)])
    assert Product.objects.get(pk=plenty.pk).stock == 10
    assert not Order.objects.exists() and not StockMovement.objects.exists()


@pytest.mark.parametrize("lines", [[], "zero"])
def test_bad_lines_are_refused(customer, lines):
    if lines == "zero":
        lines = [(ProductFactory(), 0)]
    with pytest.raises(ValidationError):
        place_order(customer=customer, lines=lines)


def test_inactive_products_are_not_for_sale(customer):
    with pytest.raises(ValidationError, match="not active"):
        place_order(customer=customer, lines=[(ProductFactory(status="draft"), 1)])


def test_external_ref_is_idempotent(customer):
    product = ProductFactory(stock=10)
    first = place_order(customer=customer, lines=[(product, 1)], source="api", external_ref="shop-1")
    again = place_order(customer=customer, lines=[(product, 1)], source="api", external_ref="shop-1")
    assert first.pk == again.pk
    assert Product.objects.get(pk=product.pk).stock == 9
    other_source = place_order(customer=customer, lines=[(product, 1)], source="import", external_ref="shop-1")
    assert other_source.pk != first.pk


def test_lifecycle_and_invalid_moves(customer, django_capture_on_commit_callbacks):
    product = ProductFactory(stock=5)
    user = UserFactory()
    order = place_order(customer=customer, lines=[(product, 2)])
    with pytest.raises(InvalidTransition, match="is Pending; it cannot become Shipped"):
        transition(order, "shipped", carrier="DHL")
    order = transition(order, "paid", user=user)
    assert order.paid_at and order.history.first().history_user == user
    with pytest.raises(ValidationError, match="carrier"):
        transition(order, "shipped")
    with django_capture_on_commit_callbacks(execute=True):
        order = transition(order, "shipped", carrier="DHL", tracking_number="JJD000123")
    assert (order.carrier, order.tracking_number) == ("DHL", "JJD000123")
    assert "on its way" in mail.outbox[-1].subject
    order = transition(order, "delivered")
    with pytest.raises(InvalidTransition):
        transition(order, "cancelled")
    order = transition(order, "returned")
    assert Product.objects.get(pk=product.pk).stock == 5
    assert Product.objects.get(pk=product.pk).units_sold == 0


def test_cancelling_twice_restocks_once(customer):
    product = ProductFactory(stock=5)
    order = place_order(customer=customer, lines=[(product, 3)])
    transition(order, "cancelled")
    with pytest.raises(InvalidTransition, match="Cancelled"):
        transition(order, "cancelled")
    assert Product.objects.get(pk=product.pk).stock == 5
    assert StockMovement.objects.filter(reason="cancellation").count() == 1


def test_notification_sent_once_even_if_the_task_runs_twice(customer):
    order = place_order(customer=customer, lines=[(ProductFactory(stock=5), 1)])
    mail.outbox.clear()
    assert send_order_notification.apply(args=[str(order.pk), "placed"]).get() == "sent"
    assert send_order_notification.apply(args=[str(order.pk), "placed"]).get() == "already sent"
    assert len(mail.outbox) == 1
    assert Notification.objects.filter(order=order, kind="placed").count() == 1
    body, html = mail.outbox[0].body, mail.outbox[0].alternatives[0][0]
    assert order.number in body and order.number in html


def test_order_numbers_are_unique_and_increasing(customer):
    product = ProductFactory(stock=50)
    numbers = [place_order(customer=customer, lines=[(product, 1)]).number for _ in range(5)]
    assert len(set(numbers)) == 5 and numbers == sorted(numbers)


def test_totals_rounding():
    totals = services.compute_totals(Decimal("10.005"), tax_rate="0.07")
    assert totals["subtotal"] == Decimal("10.01") and totals["tax"] == Decimal("0.70")
    with pytest.raises(ValidationError):
        services.compute_totals(Decimal("5"), discount=Decimal("6"))


def test_customer_stats(customer):
    product = ProductFactory(stock=50, price=Decimal("10.00"))
    place_order(customer=customer, lines=[(product, 1)])
    cancelled = place_order(customer=customer, lines=[(product, 2)])
    transition(cancelled, "cancelled")
    row = Customer.objects.with_order_stats().get(pk=customer.pk)
    assert row.order_count == 2
    assert row.lifetime_value == Decimal("11.90")  # the cancelled order does not count
    assert row.last_order_at == cancelled.placed_at
