"""The tour: the whole product in one browser session, in the order a new team member would see it.

Each step is what one kind of user does on a working day; together they are the end-to-end story and the
source of the README's screenshots. With SCREENSHOTS=1 (``make screenshots``) every step also writes a
1280x800 PNG to docs/screenshots/. The narrower browser tests (test_*_admin.py) cover the error paths of each
screen; the tour keeps to the main road and checks the database after every step.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from playwright.sync_api import expect

from backoffice import jobs
from backoffice.models import Job
from catalog import services as catalog_services
from catalog.models import Product
from orders import services as order_services
from orders.models import Order
from tests.e2e.conftest import login
from tests.factories import BrandFactory, CategoryFactory, CustomerFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The whole tour on 2 shared CPU cores takes well under this; CI fails it rather than wait on a hang.
TOUR_BUDGET_SECONDS = 240


def shoot(page, name: str) -> None:
    """With SCREENSHOTS=1, the viewport as an optimised PNG in docs/screenshots/ (a palette of 256 colours
    keeps a screen of the admin under ~100 KB without visible loss)."""
    if os.environ.get("SCREENSHOTS") != "1":
        return
    from PIL import Image

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        SCREENSHOTS / f"{name}.png", optimize=True
    )


def open_tab(page, name: str) -> None:
    """A fieldset tab of an Unfold change form (a link without an address, switched by Alpine)."""
    page.locator(f"a[x-on\\:click]:text-is('{name}')").click()


class Tour:
    """What the steps share: the page and the server."""

    def __init__(self, page, server):
        self.page = page
        self.server = server
        self.url = server.url

    def go(self, path: str) -> None:
        self.page.goto(f"{self.url}{path}")


def build_catalogue() -> dict:
    garden = CategoryFactory(name="Garden", slug="garden", path="Garden")
    kitchen = CategoryFactory(name="Kitchen", slug="kitchen", path="Kitchen")
    acme, gardena = BrandFactory(name="Acme", slug="acme"), BrandFactory(name="Gardena", slug="gardena")
    supplier = SupplierFactory(code="SUP-GREEN", name="Greenhouse Wholesale")
    SupplierFactory(code="SUP-STEEL", name="Steelworks Ltd")
    rows = [
        ("HOSE-25", "Garden hose 25 m", garden, gardena, "29.90", 40),
        ("HOSE-50", "Garden hose 50 m", garden, gardena, "49.90", 12),
        ("RAKE-1", "Leaf rake", garden, acme, "14.50", 3),
        ("SPADE-1", "Spade", garden, acme, "24.00", 25),
        ("SHEAR-1", "Hedge shears", garden, gardena, "34.00", 8),
        ("MUG-1", "Stoneware mug", kitchen, acme, "6.50", 120),
        ("PAN-28", "Frying pan 28 cm", kitchen, acme, "39.00", 15),
    ]
    products = {
        sku: catalog_services.create_product(
            sku=sku,
            name=name,
            slug=sku.lower(),
            category=category,
            brand=brand,
            price=Decimal(price),
            cost=(Decimal(price) * Decimal("0.55")).quantize(Decimal("0.01")),
            status="active",
            opening_stock=stock,
        )
        for sku, name, category, brand, price, stock in rows
    }
    return {"products": products, "supplier": supplier, "acme": acme, "gardena": gardena}


def place_orders(products: dict, user) -> Order:
    """Two paid orders for the dashboard's charts; the second one is shipped later in the tour."""
    grace = CustomerFactory(name="Grace Hopper", email="grace@example.com")
    ada = CustomerFactory(name="Ada Lovelace", email="ada@example.com")
    orders = [
        order_services.place_order(customer=customer, lines=lines, user=user)
        for customer, lines in [
            (ada, [(products["HOSE-25"], 2), (products["SPADE-1"], 1)]),
            (grace, [(products["MUG-1"], 4), (products["PAN-28"], 1)]),
        ]
    ]
    return [order_services.transition(order, "paid", user=user) for order in orders][-1]


class AsgiServer:
    """The ASGI app (HTTP and the /ws/live/ socket) under uvicorn in a thread of the test process, as
    production serves it; pytest-django's live_server speaks HTTP only, so its pages never go live."""

    def __init__(self):
        import uvicorn
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        from backoffice.asgi import application

        config = uvicorn.Config(
            ASGIStaticFilesHandler(application), host="127.0.0.1", port=0, lifespan="off", log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.server.serve(),), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def run_in_server(self, function, *args):
        """Run sync ``function`` as the server's own code does (a worker thread of its event loop), so the
        events it publishes reach the sockets even on the in-memory channel layer."""
        from asgiref.sync import sync_to_async

        return asyncio.run_coroutine_threadsafe(sync_to_async(function)(*args), self.loop).result(timeout=60)

    def stop(self):
        from django.db import connections

        # The server's sync code keeps its connections (CONN_MAX_AGE); close them from the server's own
        # context so the test database can be flushed and dropped. Terminating "every other backend" from
        # here also killed the test's own connection (the browser's event loop gives this thread another
        # context), and every later test failed with "the connection is closed".
        self.run_in_server(connections.close_all)
        self.server.should_exit = True
        self.thread.join(timeout=10)


def hose_photo() -> bytes:
    """A product shot of sorts (a coiled green hose on a light backdrop): the variants in the screenshots look
    like a catalogue's, and a JPEG of this size takes the real encoding path."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 900))
    draw = ImageDraw.Draw(image)
    for y in range(900):
        draw.line([(0, y), (1200, y)], fill=(246 - y // 36, 245 - y // 40, 240 - y // 45))
    for radius in range(110, 330, 27):
        box = [600 - radius, 470 - radius * 0.75, 600 + radius, 470 + radius * 0.75]
        draw.ellipse(box, outline=(21, 128, 61), width=17)
    draw.rounded_rectangle([585, 90, 640, 200], radius=12, fill=(202, 138, 4))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


# --- the steps ------------------------------------------------------------------------------------


def step_dashboard(tour: Tour, user) -> None:
    page = tour.page
    login(page, tour.server, user)
    expect(page.get_by_text("Revenue per day, last 30 days")).to_be_visible()
    expect(page.get_by_text("Orders by status, placed in the last 30 days")).to_be_visible()
    # Chart.js drew both charts (a canvas it has sized), not just the cards around them.
    page.wait_for_function("document.querySelectorAll('canvas').length >= 2")
    page.wait_for_function("[...document.querySelectorAll('canvas')].every(c => c.width > 0 && c.height > 0)")
    expect(page.locator("#content")).to_contain_text("Grace Hopper")  # latest orders
    shoot(page, "01-dashboard")


def step_find_products(tour: Tour) -> None:
    page = tour.page
    tour.go("/admin/catalog/product/")
    page.locator("#searchbar").fill("hose")
    page.locator("#searchbar").press("Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("HOSE-50")

    # Filters: Acme products from 20.00 up (the sheet's fields are submitted together).
    tour.go("/admin/catalog/product/")
    page.locator(".filter-open-button").click()
    page.locator("select[name=brand__id__exact]").select_option(label="Acme")
    page.locator("input[name=price_from]").fill("20")
    shoot(page, "02-product-filters")
    page.get_by_role("button", name="Apply Filters").click()
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("SPADE-1")
    expect(page.locator("#result_list")).to_contain_text("PAN-28")

    tour.go("/admin/catalog/product/")
    page.get_by_role("link", name="Price", exact=True).click()
    page.wait_for_url("**o=*")
    expect(rows.first).to_contain_text("MUG-1")  # cheapest first
    shoot(page, "03-products-sorted")


def step_relations(tour: Tour, catalogue: dict) -> None:
    """A supplier through the raw-id lookup popup, a brand through autocomplete."""
    page = tour.page
    rake = catalogue["products"]["RAKE-1"]
    tour.go(f"/admin/catalog/product/{rake.pk}/change/")
    open_tab(page, "Relations")
    page.locator("#lookup_id_supplier").click()
    # Unfold opens the lookup in a dialog holding the popup page in an iframe.
    lookup = page.frame_locator("iframe.related-modal-frame")
    lookup.locator("#searchbar").fill("green")
    lookup.locator("#searchbar").press("Enter")
    expect(lookup.locator("#result_list tbody tr")).to_have_count(1)
    shoot(page, "04-supplier-lookup")
    lookup.locator("#result_list a", has_text="SUP-GREEN").click()
    expect(page.locator("iframe.related-modal-frame")).to_be_hidden()
    expect(page.locator("#id_supplier")).to_have_value(str(catalogue["supplier"].pk))

    page.locator("#id_brand + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("Garde")
    page.locator(".select2-results__option", has_text="Gardena").click()
    shoot(page, "05-product-relations")
    page.locator("button[name=_save]").click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    rake.refresh_from_db()
    assert (rake.supplier_id, rake.brand_id) == (catalogue["supplier"].pk, catalogue["gardena"].pk)


def step_change_prices(tour: Tour, monkeypatch) -> Job:
    """The job is held when it is queued and run once its page is open, as a worker would pick it up:
    the page must follow it to 100% by itself."""
    page = tour.page
    held, dispatch = [], jobs.dispatch_chunks
    monkeypatch.setattr(jobs, "dispatch_chunks", lambda job_id, chunks: held.append((job_id, list(chunks))))
    tour.go("/admin/catalog/product/?q=hose")
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("change_prices")
    page.locator("button[name=index]").first.click()
    page.locator("input[name=value]").fill("10")
    page.locator("button[name=preview]").click()
    expect(page.locator("#bulk-preview")).to_contain_text("2 will change")
    shoot(page, "06-change-prices-preview")
    page.locator("button[name=apply]").click()
    expect(page.get_by_text("2 items queued as a job")).to_be_visible()
    monkeypatch.setattr(jobs, "dispatch_chunks", dispatch)

    job = Job.objects.get(kind="catalog.change_prices")
    tour.go(f"/admin/backoffice/job/{job.pk}/change/")
    progress = page.locator(f"[data-job-id='{job.pk}'][data-job-progress]")
    expect(progress).to_have_attribute("data-job-status", Job.Status.QUEUED)
    unread = page.locator("[data-live-unread]")
    expect(unread).to_be_hidden()  # nothing to read yet
    expect(page.locator("[data-live-state]")).to_have_text("Live")  # the page's socket is open
    [(job_id, chunks)] = held
    tour.server.run_in_server(jobs.dispatch_chunks, job_id, chunks)  # in-process: done when this returns
    # The socket brings the progress and the end, then the page reloads to show the result.
    expect(page.locator("h1").first).to_contain_text("Succeeded", timeout=15_000)
    expect(page.locator("#content")).to_contain_text("100%")
    shoot(page, "07-job-done")
    # Whoever started the job is told it finished: the bell counts up, its panel says what happened.
    expect(unread).to_have_text("1")
    page.locator("[data-live-bell]").click()
    expect(page.locator("[data-live-list]")).to_contain_text("Change prices completed")
    shoot(page, "08-notifications")
    page.locator("[data-live-bell]").click()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.done == 2
    assert Product.objects.get(sku="HOSE-25").price == Decimal("32.89")
    return job


def step_photo(tour: Tour, catalogue: dict, tmp_path: Path) -> None:
    page = tour.page
    photo = tmp_path / "hose.jpg"
    photo.write_bytes(hose_photo())
    hose = catalogue["products"]["HOSE-25"]
    tour.go(f"/admin/catalog/product/{hose.pk}/change/")
    open_tab(page, "Media")
    page.set_input_files("input[name=upload_images]", str(photo))
    page.locator("button[name=_continue]").click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    image = hose.images.select_related("asset").get()
    tour.go(f"/admin/media_pipeline/imageasset/{image.asset.pk}/change/")
    figures = page.locator("figure img")
    expect(figures).to_have_count(1 + image.asset.variants.count())
    figures.last.scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('figure img')].every(i => i.complete && i.naturalWidth > 0)")
    shoot(page, "09-photo-variants")


def step_export_xlsx(tour: Tour) -> None:
    from openpyxl import load_workbook

    page = tour.page
    tour.go("/admin/catalog/product/?q=hose")
    page.get_by_role("link", name="Export").click()
    page.locator("select[name=format]").select_option(label="xlsx")
    shoot(page, "10-export")
    with page.expect_download() as download:
        page.get_by_role("button", name="Submit").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    skus = sorted(row[header.index("sku")] for row in rows[1:])
    assert skus == ["HOSE-25", "HOSE-50"]


def step_import_and_undo(tour: Tour) -> None:
    page = tour.page

    def upload(name: str, text: str) -> None:
        tour.go("/admin/catalog/product/import/")
        page.locator("select[name=resource]").select_option("catalog.product")
        upload = {"name": name, "mimeType": "text/csv", "buffer": text.encode()}
        page.locator("input[name=file]").set_input_files(upload)
        page.locator("button[name=upload]").click()
        expect(page.locator("#import-preview")).to_be_visible()

    upload("prices.csv", "sku,name,price,category\nSPADE-1,Spade,26.00,garden\nTROWEL-1,Trowel,cheap,garden\n")
    expect(page.locator("#import-status")).to_have_attribute("data-status", "invalid")
    expect(page.locator("#import-rows tr[data-row='3']")).to_contain_text("price")
    shoot(page, "11-import-invalid-row")
    assert Product.objects.get(sku="SPADE-1").price == Decimal("24.00")

    upload("prices-fixed.csv", "sku,name,price,category\nSPADE-1,Spade,26.00,garden\nTROWEL-1,Trowel,7.50,garden\n")
    expect(page.locator("#import-status")).to_have_attribute("data-status", "validated")
    page.locator("button[name=confirm]").click()
    expect(page.locator("#import-status")).to_have_attribute("data-status", "applied")
    assert Product.objects.get(sku="TROWEL-1").price == Decimal("7.50")
    shoot(page, "12-import-applied")

    page.locator("button[name=undo]").click()
    expect(page.locator("#import-status")).to_have_attribute("data-status", "undone")
    assert not Product.objects.filter(sku="TROWEL-1").exists()
    assert Product.objects.get(sku="SPADE-1").price == Decimal("24.00")


def step_ship_order(tour: Tour, order: Order) -> None:
    page = tour.page
    tour.go(f"/admin/orders/order/{order.pk}/change/")
    page.locator("a[href$='/ship/']").click()
    dialog = page.locator("#dialog")
    dialog.locator("input[name=carrier]").fill("DHL")
    dialog.locator("input[name=tracking_number]").fill("JJD000390007")
    shoot(page, "13-ship-order")
    dialog.get_by_role("button", name="Ship").click()
    expect(page.get_by_text("is now Shipped")).to_be_visible()
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == (Order.Status.SHIPPED, "JJD000390007")


def step_german(tour: Tour) -> None:
    page = tour.page
    tour.go("/admin/")
    # The user menu's language list: one small form per language, posting to Django's set_language.
    german = page.locator("form:has(input[name=language][value=de])")
    expect(german).to_have_count(1)
    german.evaluate("form => form.requestSubmit()")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    tour.go("/admin/catalog/product/")
    expect(page.get_by_role("link", name="Preis", exact=True)).to_be_visible()
    shoot(page, "14-german")


def step_analyst(tour: Tour, catalogue: dict) -> None:
    from django.core.management import call_command

    page = tour.page
    call_command("setup_roles", verbosity=0)
    analyst = UserFactory(username="ana", first_name="Ana", is_staff=True)
    analyst.groups.add(Group.objects.get(name="Analyst"))
    page.context.clear_cookies()
    login(page, tour.server, analyst)
    tour.go("/admin/catalog/product/")
    expect(page.locator("#result_list")).to_contain_text("HOSE-25")
    expect(page.get_by_role("link", name="Export")).to_be_visible()
    assert page.locator("a[href$='/add/']").count() == 0
    # The one bulk action offered is exporting the selection.
    actions = page.locator("select[name=action] option").evaluate_all("options => options.map(o => o.value)")
    assert set(actions) <= {"", "export_admin_action"}, actions
    shoot(page, "15-analyst")
    tour.go(f"/admin/catalog/product/{catalogue['products']['HOSE-25'].pk}/change/")
    expect(page.locator("#content")).to_contain_text("HOSE-25")
    assert page.locator("button[name=_save], button[name=_continue], a[href$='/delete/']").count() == 0


@pytest.fixture
def asgi_server(transactional_db):
    server = AsgiServer()
    yield server
    server.stop()


@pytest.fixture
def shop(transactional_db):
    """The data, made before the browser starts: Playwright's event loop in this thread would keep the
    services' live events from being sent."""
    catalogue = build_catalogue()
    user = UserFactory(username="olivia", first_name="Olivia", last_name="Ops", is_staff=True, is_superuser=True)
    order = place_orders(catalogue["products"], user)
    cache.clear()  # the dashboard's figures are cached per day: none left by other tests
    return catalogue, user, order


def test_tour(shop, page, asgi_server, tmp_path, monkeypatch):
    started = time.monotonic()
    page.set_viewport_size(VIEWPORT)
    catalogue, user, order = shop
    tour = Tour(page, asgi_server)

    steps = [
        (step_dashboard, tour, user),
        (step_find_products, tour),
        (step_relations, tour, catalogue),
        (step_change_prices, tour, monkeypatch),
        (step_photo, tour, catalogue, tmp_path),
        (step_export_xlsx, tour),
        (step_import_and_undo, tour),
        (step_ship_order, tour, order),
        (step_german, tour),
        (step_analyst, tour, catalogue),
    ]
    timings = []
    for step, *args in steps:
        began = time.monotonic()
        step(*args)
        timings.append(f"{step.__name__} {time.monotonic() - began:.1f}s")
    print("tour:", ", ".join(timings), f"total {time.monotonic() - started:.1f}s")

    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors
    assert time.monotonic() - started < TOUR_BUDGET_SECONDS, timings
