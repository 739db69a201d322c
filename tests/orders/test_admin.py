import pytest
from django.db import connection
from django.urls import reverse

from backoffice.models import Job
from catalog.models import Product
from orders.models import Order
from orders.services import place_order, transition
from tests.factories import CustomerFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:orders_order_changelist")


def make_orders(count: int, *, stock: int = 10_000):
    customer = CustomerFactory()
    products = ProductFactory.create_batch(3, stock=stock)
    return [
        place_order(customer=customer, lines=[(products[i % 3], 1 + i % 2), (products[(i + 1) % 3], 1)])
        for i in range(count)
    ]


@pytest.mark.parametrize("count", [20, 200])
def test_order_changelist_constant_queries(admin_client, django_assert_num_queries, count):
    make_orders(count)
    admin_client.get(CHANGELIST)
    # user, count, page ids, the page's rows with their columns (the session and the sidebar badges come
    # from the cache); PostgreSQL asks the planner first
    expected = 5 if connection.vendor == "postgresql" else 4
    with django_assert_num_queries(expected):
        response = admin_client.get(CHANGELIST, {"o": "-5"})  # sorted by units (annotated)
    assert response.status_code == 200
    for params in ({"status__exact": "pending"}, {"q": "customer"}, {"has_tracking": "no"}):
        assert admin_client.get(CHANGELIST, params).status_code == 200


def test_search_by_number_and_customer(admin_client):
    orders = make_orders(3)
    response = admin_client.get(CHANGELIST, {"q": orders[1].number})
    assert list(response.context["cl"].result_list) == [orders[1]]
    response = admin_client.get(CHANGELIST, {"q": orders[0].customer.email.upper()})
    assert len(response.context["cl"].result_list) == 3


def test_place_order_in_the_admin(admin_client, superuser):
    customer = CustomerFactory()
    product = ProductFactory(stock=3)
    url = reverse("admin:orders_order_place")
    base = {
        "customer": str(customer.pk),
        "discount": "0",
        "shipping": "0",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, {**base, "lines-0-product": str(product.pk), "lines-0-quantity": "5"})
    assert response.status_code == 200
    assert "Not enough stock" in response.content.decode()
    assert not Order.objects.exists()
    response = admin_client.post(url, base)
    assert "Add at least one line" in response.content.decode()
    response = admin_client.post(url, {**base, "lines-0-product": str(product.pk), "lines-0-quantity": "2"})
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"{order.pk}/change/")
    assert Product.objects.get(pk=product.pk).stock == 1
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == 200 and order.number in page.content.decode()
    slip = admin_client.get(reverse("admin:orders_order_packing_slip", args=[order.pk]))
    assert slip.status_code == 200 and product.sku in slip.content.decode()


def test_detail_actions_go_through_transition(admin_client):
    order = make_orders(1)[0]
    ship = reverse("admin:orders_order_ship", args=[order.pk])
    admin_client.post(ship, {"_form_submitted": "1", "carrier": "DHL"})
    assert Order.objects.get(pk=order.pk).status == "pending"  # refused: not paid yet
    admin_client.post(reverse("admin:orders_order_mark_paid", args=[order.pk]), {"_form_submitted": "1"})
    response = admin_client.post(ship, {"_form_submitted": "1", "carrier": "", "tracking_number": "X"})
    assert "This field is required" in response.content.decode()  # dialog form error
    admin_client.post(ship, {"_form_submitted": "1", "carrier": "DHL", "tracking_number": "JJD1"})
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == ("shipped", "DHL", "JJD1")
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    html = page.content.decode()
    assert "Shipped" in html and "Paid" in html  # the timeline


def test_bulk_jobs_move_each_order_or_record_why_not(admin_client, django_capture_on_commit_callbacks):
    orders = make_orders(3)
    transition(orders[2], "cancelled")
    ids = [str(o.pk) for o in orders]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(CHANGELIST, {"action": "mark_paid_selected", "_selected_action": ids})
    job = Job.objects.get(kind="orders.mark_paid")
    assert (job.status, job.done, job.failed) == (Job.Status.PARTIAL, 2, 1)
    assert "cannot become Paid" in job.errors[0]["error"]
    assert sorted(Order.objects.values_list("status", flat=True)) == ["cancelled", "paid", "paid"]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            CHANGELIST, {"action": "ship_selected", "_selected_action": ids[:2], "carrier": "UPS", "apply": ""}
        )
    assert set(Order.objects.filter(pk__in=ids[:2]).values_list("carrier", flat=True)) == {"UPS"}


def test_actions_check_permissions(client):
    order = make_orders(1)[0]
    client.force_login(UserFactory(is_staff=True, perms=["orders.view_order"]))
    assert client.get(CHANGELIST).status_code == 200
    assert 'value="cancel_selected"' not in client.get(CHANGELIST).content.decode()
    url = reverse("admin:orders_order_cancel", args=[order.pk])
    assert client.post(url, {"_form_submitted": "1"}).status_code == 403
    assert client.get(reverse("admin:orders_order_place")).status_code == 403
    assert Order.objects.get(pk=order.pk).status == "pending"


def test_customer_admin(admin_client):
    make_orders(2)
    response = admin_client.get(reverse("admin:orders_customer_changelist"), {"o": "-6", "vip": "no"})
    assert response.status_code == 200
    assert "Customer" in response.content.decode()


def test_order_history_cannot_be_reverted(admin_client):
    order = make_orders(1)[0]
    transition(order, "paid")
    record = order.history.earliest()
    url = reverse("admin:orders_order_simple_history", args=[order.pk, record.history_id])
    assert admin_client.get(url).status_code == 200  # viewing an old version is fine
    assert admin_client.post(url, {"customer": str(order.customer_id)}).status_code == 403
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_product_autocomplete_never_offers_deleted_products(admin_client):
    from catalog.services import soft_delete_product

    alive, gone = ProductFactory(name="Hose alive"), ProductFactory(name="Hose gone")
    soft_delete_product(gone)
    params = {"app_label": "orders", "model_name": "orderline", "field_name": "product", "term": "Hose"}
    response = admin_client.get(reverse("admin:autocomplete"), params)
    assert [r["id"] for r in response.json()["results"]] == [str(alive.pk)]
