"""An analyst's round trip: import a CSV with one bad row, read the error in the preview, download the failed
rows, fix them, import them, then undo the import."""

import csv
import io

import pytest
from playwright.sync_api import expect

from catalog import services
from catalog.models import Product
from tests.e2e.conftest import SCREENSHOTS, login
from tests.factories import CategoryFactory, UserFactory

pytestmark = pytest.mark.e2e


def _upload(page, live_server, name: str, data: bytes) -> None:
    page.goto(f"{live_server.url}/admin/catalog/product/import/")
    page.locator("select[name=resource]").select_option("catalog.product")
    page.locator("input[name=file]").set_input_files({"name": name, "mimeType": "text/csv", "buffer": data})
    page.locator("button[name=upload]").click()
    expect(page.locator("#import-preview")).to_be_visible()


def test_import_with_a_bad_row_then_fix_then_undo(page, live_server, transactional_db):
    mugs = CategoryFactory(name="Mugs", slug="mugs", path="Mugs")
    services.create_product(sku="MUG-1", name="Mug", slug="mug", category=mugs, price="5.00", status="active")
    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    login(page, live_server, UserFactory(is_staff=True, is_superuser=True))

    original = "sku,name,price,category\nMUG-1,Big mug,6.50,mugs\nNEW-1,Plate,4.00,mugs\nNEW-2,Bowl,cheap,mugs\n"
    _upload(page, live_server, "products.csv", original.encode())
    expect(page.locator("#import-status")).to_have_attribute("data-status", "invalid")
    bad = page.locator("#import-rows tr[data-row='4']")
    expect(bad).to_contain_text("price")
    expect(page.locator("#import-counts")).to_contain_text("1 invalid")
    assert Product.objects.get(sku="MUG-1").name == "Mug"  # nothing written while a row is invalid

    with page.expect_download() as download:
        page.locator("#failed-rows").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["sku", "name", "price", "category", "error"] and len(rows) == 2
    assert rows[1][:4] == ["NEW-2", "Bowl", "cheap", "mugs"] and "price" in rows[1][4]

    fixed = io.StringIO()
    writer = csv.writer(fixed)
    writer.writerow(rows[0][:4])
    writer.writerow([*rows[1][:2], "3.25", rows[1][3]])
    _upload(page, live_server, "products-fixed.csv", fixed.getvalue().encode())
    expect(page.locator("#import-status")).to_have_attribute("data-status", "validated")
    expect(page.locator("#import-counts")).to_contain_text("1 new")
    page.locator("button[name=confirm]").click()
    expect(page.locator("#import-status")).to_have_attribute("data-status", "applied")
    bowl = Product.objects.get(sku="NEW-2")
    assert str(bowl.price) == "3.25" and bowl.history.first().history_import_batch_id is not None

    page.locator("button[name=undo]").click()
    expect(page.locator("#import-status")).to_have_attribute("data-status", "undone")
    assert not Product.objects.filter(sku="NEW-2").exists()
    assert Product.all_objects.get(sku="NEW-2").deleted_at is not None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "import-undone.png"), full_page=True)
    # No script error on the import pages (choosing a file once failed in Unfold's file-name script) and no CSP
    # violation. Chromium's notes on sources it cannot parse in the policy text are not violations.
    assert not script_errors, script_errors
    assert not [e for e in page.csp_errors if "Refused to" in e], page.csp_errors
