"""Place an order in the admin, then pay and ship it through the dialogs."""

import pytest
from playwright.sync_api import expect

from catalog.models import Product
from orders.models import Order
from tests.e2e.conftest import SCREENSHOTS, login
from tests.factories import CustomerFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.e2e


def choose(page, field_id: str, term: str, option: str) -> None:
    """Pick a value in a Django admin autocomplete (select2)."""
    page.locator(f"#{field_id} + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill(term)
    page.locator(".select2-results__option", has_text=option).first.click()


def test_place_pay_and_ship(page, live_server, transactional_db):
    CustomerFactory(name="Grace Hopper", email="grace@example.com")
    ProductFactory(sku="HOSE-1", name="Garden hose", stock=4)
    login(page, live_server, UserFactory(is_staff=True, is_superuser=True))

    page.goto(f"{live_server.url}/admin/orders/order/add/")
    expect(page.get_by_text("Customer and amounts")).to_be_visible()
    choose(page, "id_customer", "Grace", "Grace Hopper")
    choose(page, "id_lines-0-product", "hose", "HOSE-1")
    page.locator("#id_lines-0-quantity").fill("5")
    page.locator("button[name=place]").click()
    expect(page.locator("#place-order-errors")).to_contain_text("Not enough stock of HOSE-1")
    assert not Order.objects.exists()

    page.locator("#id_lines-0-quantity").fill("3")
    page.locator("button[name=place]").click()
    expect(page.get_by_text("placed.")).to_be_visible()
    order = Order.objects.get()
    assert Product.objects.get(sku="HOSE-1").stock == 1

    page.get_by_role("link", name="Mark paid").click()
    page.locator("#dialog").get_by_role("button", name="Mark paid").click()
    expect(page.get_by_text("is now Paid")).to_be_visible()
    page.locator("a[href$='/ship/']").click()
    dialog = page.locator("#dialog")
    dialog.locator("input[name=carrier]").fill("DHL")
    dialog.locator("input[name=tracking_number]").fill("JJD0001")
    dialog.get_by_role("button", name="Ship").click()
    expect(page.get_by_text("is now Shipped")).to_be_visible()
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == ("shipped", "JJD0001")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "order-shipped.png", full_page=True)
    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors
