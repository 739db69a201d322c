"""Money, numbers and dates follow the language of the person, and the language switcher sticks."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from backoffice.formatting import money
from orders.models import Order
from orders.services import place_order
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"  # French and Spanish group thousands with a no-break space (Django's locale formats)
MONEY = {"en": "1,234.50", "de": "1.234,50", "fr": f"1{NBSP}234,50", "es": f"1{NBSP}234,50"}
PLACED = {"en": "Jan. 5, 2026", "de": "5. Januar 2026", "fr": "5 janvier 2026", "es": "5 de enero de 2026"}
LANGUAGES = pytest.mark.parametrize("language", ["en", "de", "fr", "es"])


@LANGUAGES
def test_money_is_grouped_and_uses_the_decimal_separator_of_the_language(language):
    with translation.override(language):
        assert money(Decimal("1234.50")) == MONEY[language]
        assert money(Decimal("1234567.5"), "EUR").endswith(" EUR")
        assert money(None) == "-"


@pytest.fixture
def order_of_1234_50():
    product = ProductFactory(sku="TOPF-24", name="Kochtopf", price=Decimal("1234.50"), stock=5)
    order = place_order(customer=CustomerFactory(), lines=[(product, 1)])
    placed = datetime.datetime(2026, 1, 5, 14, 30, tzinfo=datetime.UTC)
    # Tax and shipping are added at placement; the figure to read back is set as it is.
    Order.objects.filter(pk=order.pk).update(total=Decimal("1234.50"), placed_at=placed)
    return order


def page(client, url: str, language: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Language"] == language
    return response.content.decode()


@LANGUAGES
def test_product_price_and_order_total_in_the_admin_follow_the_language(admin_client, order_of_1234_50, language):
    products = page(admin_client, reverse("admin:catalog_product_changelist"), language)
    assert MONEY[language] in products
    orders = page(admin_client, reverse("admin:orders_order_changelist"), language)
    assert f"{MONEY[language]} EUR" in orders
    assert PLACED[language] in orders


@LANGUAGES
def test_language_switcher_posts_to_set_language_and_the_choice_sticks(admin_client, language):
    # Unfold's switcher is a form posting to Django's set_language view with the four languages.
    index = page(admin_client, reverse("admin:index"), "en")
    assert f'action="{reverse("set_language")}"' in index
    for code, _name in settings.LANGUAGES:
        assert f'value="{code}"' in index

    admin_client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    response = admin_client.post(reverse("set_language"), {"language": language, "next": reverse("admin:index")})
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == language

    # The next pages come in that language without anything else sent.
    again = admin_client.get(reverse("admin:catalog_product_changelist"))
    assert again.headers["Content-Language"] == language
    assert f'<html lang="{language}"' in again.content.decode()


def test_an_unknown_language_or_a_foreign_next_changes_nothing(admin_client):
    response = admin_client.post(reverse("set_language"), {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response.url
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
