import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from orders.models import Order
from orders.services import change_customer, place_order, transition
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    return place_order(customer=CustomerFactory(), lines=[(ProductFactory(), 1)])


def test_a_pending_order_takes_the_new_customer_and_address(order, superuser):
    other = CustomerFactory(billing_city="Hamburg")
    changed = change_customer(order, other, user=superuser)
    order.refresh_from_db()
    assert order.customer == other
    assert order.billing_address["city"] == order.shipping_address["city"] == "Hamburg"
    record = order.history.latest()
    assert (record.history_user, record.history_change_reason) == (superuser, "Customer changed")
    assert changed.customer == other


def test_a_paid_order_keeps_its_customer(order):
    transition(order, Order.Status.PAID)
    with pytest.raises(ValidationError) as info:
        change_customer(order, CustomerFactory())
    assert "Only a pending order can change its customer" in info.value.message_dict["customer"][0]


def test_the_order_form_changes_the_customer_through_the_service(admin_client, order, superuser):
    other = CustomerFactory()
    url = reverse("admin:orders_order_change", args=[order.pk])
    response = admin_client.post(url, {"customer": str(other.pk), "lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content[:3000]
    order.refresh_from_db()
    assert order.customer == other
    assert order.history.latest().history_user == superuser


def test_placing_names_the_user_and_the_reason(superuser):
    order = place_order(customer=CustomerFactory(), lines=[(ProductFactory(), 1)], user=superuser)
    record = order.history.earliest()
    assert (record.history_user, record.history_change_reason) == (superuser, "Placed")


def test_customers_are_soft_deleted_from_the_admin(admin_client, superuser):
    from orders.models import Customer

    customer = CustomerFactory()
    url = reverse("admin:orders_customer_delete", args=[customer.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()
    kept = Customer.all_objects.get(pk=customer.pk)
    assert kept.deleted_at is not None
    assert kept.history.latest().history_user == superuser
