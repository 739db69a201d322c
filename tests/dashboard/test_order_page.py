"""Order page polish: postal addresses as written on an envelope (escaped), no "save and add another" on a page
that cannot add, and the packing slip using the same address."""

import pytest
from django.urls import reverse
from django.utils import translation

from orders.addresses import address_lines, format_address
from orders.services import notifications_muted, place_order
from tests.factories import CustomerFactory, ProductFactory

ADDRESS = {"name": "Ada Lovelace", "line1": "12 Market Street", "line2": "", "postal_code": "10115", "city": "Berlin"}


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("DE", ["Ada Lovelace", "12 Market Street", "10115 Berlin", "Germany"]),
        ("GB", ["Ada Lovelace", "12 Market Street", "Berlin", "10115", "United Kingdom"]),
        ("US", ["Ada Lovelace", "12 Market Street", "Berlin 10115", "United States of America"]),
        ("", ["Ada Lovelace", "12 Market Street", "10115 Berlin"]),
    ],
)
def test_address_lines_follow_the_country(country, expected):
    with translation.override("en"):
        assert address_lines({**ADDRESS, "country": country}) == expected


def test_country_name_in_the_active_language_and_nothing_for_no_address():
    with translation.override("de"):
        assert address_lines({**ADDRESS, "country": "DE"})[-1] == "Deutschland"
    assert format_address({}) == "" and format_address(None) == "" and format_address("not a dict") == ""


def test_every_part_is_escaped():
    html = format_address({**ADDRESS, "name": "<b>Eve</b> & Co", "line2": '"><script>x</script>', "country": "DE"})
    assert "<b>" not in html and "<script>" not in html
    assert html.startswith("&lt;b&gt;Eve&lt;/b&gt; &amp; Co<br>12 Market Street<br>&quot;&gt;&lt;script&gt;")


@pytest.mark.django_db
def test_order_page_shows_formatted_addresses_and_no_add_another(admin_client):
    customer = CustomerFactory(billing_name="Ada <i>L</i>", billing_country="GB", billing_postal_code="SW1A 1AA")
    with notifications_muted():
        order = place_order(customer=customer, lines=[(ProductFactory(), 1)])
    response = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Ada &lt;i&gt;L&lt;/i&gt;<br>" in content and "<br>Berlin<br>SW1A 1AA<br>United Kingdom" in content
    assert "{&#x27;name&#x27;" not in content and "&quot;line1&quot;" not in content  # no raw JSON any more
    assert "_addanother" not in content
    assert "_continue" in content  # a pending order's customer can still be changed and saved
    slip = admin_client.get(reverse("admin:orders_order_packing_slip", args=[order.pk])).content.decode()
    assert "Ada &lt;i&gt;L&lt;/i&gt;<br>" in slip and "SW1A 1AA<br>United Kingdom" in slip


@pytest.mark.django_db
def test_customer_page_keeps_add_another(admin_client):
    customer = CustomerFactory()
    content = admin_client.get(reverse("admin:orders_customer_change", args=[customer.pk])).content.decode()
    assert "_addanother" in content
