"""An operator's round: find a product, adjust its stock through the dialog, change prices in bulk."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from backoffice.models import Job
from catalog.models import Product, StockMovement
from tests.e2e.conftest import SCREENSHOTS, login
from tests.factories import BrandFactory, CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_adjust_stock_and_bulk_price_change(page, live_server, transactional_db):
    category, brand = CategoryFactory(name="Garden"), BrandFactory()
    products = [
        ProductFactory(sku=f"E2E-{i}", price=Decimal("10.00"), stock=20, category=category, brand=brand)
        for i in range(3)
    ]
    login(page, live_server, UserFactory(is_staff=True, is_superuser=True))

    page.goto(f"{live_server.url}/admin/catalog/product/?q=E2E-1")
    expect(page.locator("#result_list")).to_contain_text("E2E-1")
    page.goto(f"{live_server.url}/admin/catalog/product/{products[1].pk}/change/")
    page.get_by_role("link", name="Adjust stock").click()
    dialog = page.locator("#dialog")
    dialog.locator("input[name=delta]").fill("-25")  # more than there is: refused with a message
    dialog.locator("select[name=reason]").select_option("adjustment")
    dialog.get_by_role("button", name="Adjust").click()
    expect(page.get_by_text("Not enough stock of E2E-1")).to_be_visible()
    assert Product.objects.get(pk=products[1].pk).stock == 20

    page.get_by_role("link", name="Adjust stock").click()
    dialog = page.locator("#dialog")
    dialog.locator("input[name=delta]").fill("-5")
    dialog.locator("input[name=reference]").fill("stock take")
    dialog.get_by_role("button", name="Adjust").click()
    expect(page.get_by_text("changed by -5 to 15")).to_be_visible()
    assert StockMovement.objects.get(product=products[1]).balance_after == 15

    page.goto(f"{live_server.url}/admin/catalog/product/?q=E2E")
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("change_prices")
    page.locator("button[name=index]").first.click()
    page.locator("input[name=value]").fill("10")
    page.locator("button[name=preview]").click()
    expect(page.locator("#bulk-preview")).to_contain_text("3 will change")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "bulk-price-change.png", full_page=True)
    page.locator("button[name=apply]").click()
    expect(page.get_by_text("3 items queued as a job")).to_be_visible()
    assert Job.objects.get(kind="catalog.change_prices").status == Job.Status.SUCCEEDED
    assert set(Product.objects.values_list("price", flat=True)) == {Decimal("11.00")}
    page.goto(f"{live_server.url}/admin/catalog/product/")
    page.screenshot(path=SCREENSHOTS / "product-changelist.png", full_page=True)
    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors
