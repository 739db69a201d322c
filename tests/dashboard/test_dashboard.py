"""The dashboard: what each person sees, how many queries it takes, and that its figures are the rollup's."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from backoffice.dashboard import dashboard_figures
from orders.models import Order
from orders.services import notifications_muted, place_order, transition
from tests.factories import CustomerFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def make_orders(count: int, *, paid: int = 0) -> list[Order]:
    products = ProductFactory.create_batch(3, stock=1000, price=Decimal("10.00"))
    customer = CustomerFactory(name="Ada <script>alert(1)</script>")
    orders = []
    with notifications_muted():
        for i in range(count):
            order = place_order(customer=customer, lines=[(products[i % 3], 1 + i % 2)])
            if i < paid:
                order = transition(order, Order.Status.PAID)
            orders.append(order)
    return orders


def test_superuser_sees_every_section(admin_client, settings):
    settings.ORDER_TAX_RATE = "0"
    orders = make_orders(4, paid=3)
    ProductFactory(sku="LOW-1", stock=1, low_stock_threshold=5)
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    content = response.content.decode()
    for text in (
        "Revenue today",
        "Revenue, last 7 days",
        "Revenue, last 30 days",
        "Orders waiting: Pending",
        "Orders waiting: Paid",
        "Low-stock products",
        "Failed images",
        "Jobs running or queued",
        "Revenue per day, last 30 days",
        "Orders by status, placed in the last 30 days",
        "Top products by units, last 30 days",
        "Latest orders",
        "Lowest stock",
        "LOW-1",
        "data-live-new-orders",
    ):
        assert text in content, text
    revenue = sum(o.total for o in orders[:3])
    assert f"{revenue:,.2f} EUR" in content
    assert orders[0].number in content
    assert "<script>alert(1)</script>" not in content and "Ada &lt;script&gt;" in content
    assert '<link rel="icon" href="/static/backoffice/favicon.svg" type="image/svg+xml" >' in content


def test_revenue_counts_paid_orders_only_and_compares_with_the_day_before(admin_client):
    orders = make_orders(3, paid=2)
    with notifications_muted():
        transition(orders[1], Order.Status.CANCELLED)
    sales = dashboard_figures(UserFactory(is_superuser=True, is_staff=True))["sales"]
    today = sales["figures"]["revenue"]["EUR"]["today"]
    assert today == (orders[0].total, Decimal("0"))
    assert sales["figures"]["orders_by_status"] == {"paid": 1, "cancelled": 1, "pending": 1}
    assert sales["waiting"] == {"paid": 1, "pending": 1}
    assert [row["units_sold"] for row in sales["top"]] == [1]


@pytest.mark.parametrize(
    ("perms", "sees", "hidden"),
    [
        (["catalog.view_product"], ["Low-stock products", "Lowest stock"], ["Revenue", "Latest orders", "Jobs"]),
        (["orders.view_order"], ["Revenue today", "Latest orders"], ["Low-stock products", "Failed images"]),
        (["media_pipeline.view_imageasset"], ["Failed images"], ["Revenue", "Orders waiting", "Lowest stock"]),
        ([], [], ["Revenue", "Orders waiting", "Low-stock", "Failed images", "Jobs running", "Latest orders"]),
    ],
)
def test_each_person_sees_only_what_their_permissions_allow(client, perms, sees, hidden):
    orders = make_orders(2, paid=1)
    client.force_login(UserFactory(is_staff=True, perms=perms))
    content = client.get(reverse("admin:index")).content.decode()
    for text in sees:
        assert text in content, text
    for text in hidden:
        assert text not in content, text
    if "orders.view_order" not in perms:
        assert orders[0].number not in content and "data-live-new-orders" not in content


def test_cached_figures_are_shared_but_not_across_permissions(client):
    make_orders(2, paid=2)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    client.get(reverse("admin:index"))  # fills the cache with every section
    client.force_login(UserFactory(is_staff=True, perms=["catalog.view_product"]))
    content = client.get(reverse("admin:index")).content.decode()
    assert "Revenue" not in content and "Latest orders" not in content


def test_query_count_is_bounded_whatever_the_data(admin_client, django_assert_max_num_queries):
    url = reverse("admin:index")
    make_orders(3, paid=2)
    admin_client.get(url)  # session, user and the like warmed
    cache.clear()
    # The whole page: the dashboard's figures plus the admin shell's own (session, user, sidebar badges, log).
    with django_assert_max_num_queries(20) as cold:
        assert admin_client.get(url).status_code == 200
    make_orders(30, paid=20)
    ProductFactory.create_batch(12, stock=0)
    cache.clear()
    with django_assert_max_num_queries(len(cold.captured_queries)):
        admin_client.get(url)


def test_figures_take_one_query_each_and_none_when_cached(django_assert_num_queries):
    make_orders(5, paid=3)
    user = UserFactory(is_superuser=True)
    # sales: rollup days, waiting orders, top products, latest orders; catalogue: low-stock count and list;
    # images: failed count; jobs: one aggregate.
    with django_assert_num_queries(8):
        cold = dashboard_figures(user)
    with django_assert_num_queries(0):
        assert dashboard_figures(user) == cold


def test_the_cached_page_is_per_language(admin_client):
    make_orders(1)
    assert "Jobs running or queued" in admin_client.get(reverse("admin:index")).content.decode()
    admin_client.post("/i18n/setlang/", {"language": "de", "next": "/admin/"})
    content = admin_client.get(reverse("admin:index")).content.decode()
    assert "Laufende oder wartende Aufträge" in content and "Jobs running or queued" not in content


def test_revenue_cards_compare_with_the_period_before(admin_client, settings):
    settings.ORDER_TAX_RATE = "0"
    product = ProductFactory(price=Decimal("10.00"), stock=100)
    customer = CustomerFactory()
    yesterday = timezone.now() - timedelta(days=1)
    with notifications_muted():
        with mock.patch("django.utils.timezone.now", return_value=yesterday):
            transition(place_order(customer=customer, lines=[(product, 4)]), Order.Status.PAID)
        transition(place_order(customer=customer, lines=[(product, 5)]), Order.Status.PAID)
    content = admin_client.get(reverse("admin:index")).content.decode()
    assert "+25.0 % vs. yesterday" in content  # 50.00 today against 40.00
    assert "none in the 7 days before" in content and "none in the 30 days before" in content
    assert "90.00 EUR" in content  # the last 7 days
