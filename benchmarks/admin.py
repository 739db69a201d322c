"""``benchmark admin``: the Product changelist at scale, ours against a naive admin, in one run.

Both admins render through the full request stack (middleware, session, Unfold templates). The naive
one shows the same columns the common way: a method per column that queries per row, no
``list_select_related``, exact counts, a filter that lists every category and brand. It lives on a second
admin site served by this module's own URLconf, used only while the suite runs.
"""

from __future__ import annotations

import statistics
import time

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from unfold.admin import ModelAdmin
from unfold.sites import UnfoldAdminSite

from benchmarks import Result, suite
from catalog.admin import ProductAdmin
from catalog.models import Product

REPEATS = 9
naive_site = UnfoldAdminSite(name="naive_admin")


class NaiveProductAdmin(ModelAdmin):
    list_display = [
        "thumbnail",
        "sku",
        "name",
        "category_path",
        "brand",
        "price",
        "stock",
        "status",
        "image_count",
        "margin_pct",
        "stock_value",
        "last_movement",
    ]
    list_filter = ["status", "category", "brand"]
    search_fields = ["sku", "barcode", "name"]
    list_per_page = ProductAdmin.list_per_page  # the same page for both

    def thumbnail(self, obj):
        image = obj.images.order_by("-is_primary", "position").first()
        variant = image and image.asset.variants.filter(spec="thumb", format="webp").first()
        return variant.file.url if variant else ""

    def category_path(self, obj):
        names, node = [], obj.category
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))

    def image_count(self, obj):
        return obj.images.count()

    def margin_pct(self, obj):
        return round((obj.price - obj.cost) * 100 / obj.price, 1) if obj.price else None

    def stock_value(self, obj):
        return obj.stock * obj.cost

    def last_movement(self, obj):
        movement = obj.stock_movements.order_by("-id").first()
        return movement.created_at if movement else None


naive_site.register(Product, NaiveProductAdmin)
urlpatterns = [
    path("admin/", admin.site.urls),
    path("naive-admin/", naive_site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("live/", include("backoffice.live.urls")),  # the header's notification bell links there
]


def _column(admin_class, name: str) -> int:
    # Changelist ordering (?o=) counts list_display columns, the action checkbox first.
    return (["action_checkbox", *admin_class.list_display]).index(name)


def _scenarios(base: str, admin_class, sort_column: str, search: str) -> dict[str, dict]:
    return {
        "default page": {},
        f"sorted by {sort_column}": {"o": f"-{_column(admin_class, sort_column)}"},
        "filtered (active, low stock)" if admin_class is ProductAdmin else "filtered (active)": (
            {"status__exact": "active", "low_stock": "yes"}
            if admin_class is ProductAdmin
            else {"status__exact": "active"}
        ),
        "searched": {"q": search},
    }


def _measure(client: Client, url: str, params: dict) -> tuple[float, int]:
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(url, params)
        timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{url} {params} answered {response.status_code}")
    with CaptureQueriesContext(connection) as captured:
        client.get(url, params)
    return statistics.median(timings), len(captured.captured_queries)


@suite("admin", default_rows=100_000)
def admin_suite(rows: int, stdout) -> list[Result]:
    from catalog.seeding import seed_products

    with (
        override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False),
        transaction.atomic(),
    ):
        existing = Product.objects.count()
        if existing < rows:
            started = time.perf_counter()
            seed_products(rows - existing, seed=7)
            stdout.write(f"  seeded {rows - existing:,} products in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        total = Product.objects.count()
        user = get_user_model().objects.create(username="benchmark-admin", is_staff=True, is_superuser=True)
        client = Client()
        client.force_login(user)
        search = Product.objects.values_list("name", flat=True).first().split()[1]  # a material: many matches
        stdout.write(f"  {total:,} products; p50 of {REPEATS} requests per scenario; search term {search!r}")

        results = []
        naive = _scenarios("/naive-admin/", NaiveProductAdmin, "price", search)
        ours = _scenarios("/admin/", ProductAdmin, "stock_value", search)
        for (naive_name, naive_params), (our_name, our_params) in zip(naive.items(), ours.items(), strict=True):
            seconds, queries = _measure(client, "/naive-admin/catalog/product/", naive_params)
            naive_result = Result(f"naive admin: {naive_name}", seconds, 1, "pages", queries, 1)
            seconds, queries = _measure(client, "/admin/catalog/product/", our_params)
            results += [
                naive_result,
                Result(f"ours: {our_name}", seconds, 1, "pages", queries, 1, baseline=naive_result.name),
            ]
        transaction.set_rollback(True)  # leave the database as it was
    return results
