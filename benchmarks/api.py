"""``benchmark api``: the integration API against a stock DRF implementation, in one run.

Ours: ``/api/v1/`` (values() rows with the images and their variants as JSON built by the database in the same
query, compiled once per page shape, plain dicts, orjson, the keyset cursor, the key cached per process). The
baseline: a ``ModelViewSet`` + ``ModelSerializer`` with nested images and variants + ``PageNumberPagination``
over the same rows, as a DRF tutorial writes it (with ``select_related`` and ``prefetch_related``, so it is not
an N+1 strawman), and for stock a ``ModelViewSet`` on the ledger whose create calls ``adjust_stock``: one request
per line, as an integrator without a batch endpoint would. Every request goes through the whole middleware stack
with the in-process test client, warm. Last, the request log's cost per API request, on and off.
"""

from __future__ import annotations

import io
import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from rest_framework import pagination, routers, serializers, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated

from benchmarks import Result, suite
from catalog import services
from catalog.models import Product, ProductImage, StockMovement
from media_pipeline.models import ImageVariant

REPEATS = 31
STOCK_LINES = 100
OWN_IMAGES_FOR = 300  # products (in page order) whose images are their own: the pages and the detail measured


# --- the baseline -----------------------------------------------------------------------------------------------


class NaiveVariantSerializer(serializers.ModelSerializer):
    url = serializers.FileField(source="file", use_url=True)

    class Meta:
        model = ImageVariant
        fields = ["spec", "format", "width", "height", "url"]


class NaiveImageSerializer(serializers.ModelSerializer):
    width = serializers.IntegerField(source="asset.width")
    height = serializers.IntegerField(source="asset.height")
    format = serializers.CharField(source="asset.format")
    variants = NaiveVariantSerializer(source="asset.variants", many=True)

    class Meta:
        model = ProductImage
        fields = ["asset", "position", "alt_text", "is_primary", "width", "height", "format", "variants"]


class NaiveProductSerializer(serializers.ModelSerializer):
    images = NaiveImageSerializer(many=True, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "slug",
            "description",
            "status",
            "price",
            "cost",
            "stock",
            "low_stock_threshold",
            "barcode",
            "weight_grams",
            "published_at",
            "category",
            "brand",
            "supplier",
            "tags",
            "images",
            "created_at",
            "updated_at",
            "deleted_at",
        ]


class NaivePagination(pagination.PageNumberPagination):
    page_size = 100


class NaiveProductViewSet(viewsets.ModelViewSet):
    serializer_class = NaiveProductSerializer
    pagination_class = NaivePagination
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    queryset = (
        Product.objects.select_related("category", "brand")
        .prefetch_related("tags", "images__asset__variants")
        .order_by("updated_at", "id")
    )


class NaiveMovementSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockMovement
        fields = ["id", "product", "delta", "reason", "reference", "balance_after"]
        read_only_fields = ["balance_after"]


class NaiveStockViewSet(viewsets.ModelViewSet):
    serializer_class = NaiveMovementSerializer
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    queryset = StockMovement.objects.all()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.adjust_stock(
            data["product"], data["delta"], reason=data["reason"], reference=data.get("reference", "")
        )


router = routers.DefaultRouter()
router.register("products", NaiveProductViewSet, basename="naive-product")
router.register("stock-movements", NaiveStockViewSet, basename="naive-stock")
urlpatterns = [
    path("api/", include("backoffice.api.urls")),
    path("naive-api/", include(router.urls)),
]


# --- data ---------------------------------------------------------------------------------------------------------


def _images(count: int) -> list:
    from PIL import Image

    from media_pipeline.services import ingest_image, render_variants

    assets = []
    for colour in ("teal", "orange", "navy")[:count]:
        buffer = io.BytesIO()
        Image.new("RGB", (1200, 900), colour).save(buffer, "PNG")
        buffer.seek(0)
        asset = ingest_image(buffer, filename=f"{colour}.png")
        render_variants(asset)
        assets.append(asset)
    return assets


def _seed(rows: int, stdout) -> None:
    from catalog.seeding import seed_products

    existing = Product.objects.count()
    if existing < rows:
        started = time.perf_counter()
        seed_products(rows - existing, seed=11)
        stdout.write(f"  seeded {rows - existing:,} products in {time.perf_counter() - started:.1f} s")
    assets = _images(2)
    started = time.perf_counter()
    missing = Product.objects.exclude(images__isnull=False).values_list("pk", flat=True).iterator(chunk_size=5000)
    batch = []
    for pk in missing:
        batch += [
            ProductImage(product_id=pk, asset=assets[0], position=0, is_primary=True),
            ProductImage(product_id=pk, asset=assets[1], position=1),
        ]
        if len(batch) >= 10_000:
            ProductImage.objects.bulk_create(batch)
            batch = []
    ProductImage.objects.bulk_create(batch)
    seconds = time.perf_counter() - started
    stdout.write(f"  two images (shared, with their variants) on every product in {seconds:.1f} s")
    _own_images(assets, OWN_IMAGES_FOR)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _own_images(templates: list, count: int) -> None:
    """The first ``count`` products (the pages measured) get images of their own, each with its own variants,
    as in a real catalogue: a page then reads ~1,400 distinct variants, not the same 14 again and again."""
    import uuid as uuid_module

    from media_pipeline.models import ImageAsset

    products = list(Product.objects.order_by("updated_at", "id").values_list("pk", flat=True)[:count])
    if ProductImage.objects.filter(product_id__in=products).exclude(asset__in=templates).exists():
        return  # done by an earlier run on this database
    template_variants = {t.pk: list(ImageVariant.objects.filter(asset=t)) for t in templates}
    ProductImage.objects.filter(product_id__in=products).delete()
    assets, variants, images = [], [], []
    for pk in products:
        for position, template in enumerate(templates):
            asset = ImageAsset(
                **{
                    f.attname: getattr(template, f.attname)
                    for f in ImageAsset._meta.concrete_fields
                    if f.attname not in ("id", "sha256", "created_at", "updated_at")
                },
                id=uuid_module.uuid4(),
                sha256=uuid_module.uuid4().hex * 2,
            )
            assets.append(asset)
            for variant in template_variants[template.pk]:
                copy = ImageVariant(
                    **{
                        f.attname: getattr(variant, f.attname)
                        for f in ImageVariant._meta.concrete_fields
                        if f.attname not in ("id", "asset_id")
                    }
                )
                copy.asset_id = asset.pk
                copy.file.name = variant.file.name.replace(str(template.pk), str(asset.pk))
                variants.append(copy)
            images.append(ProductImage(product_id=pk, asset=asset, position=position, is_primary=position == 0))
    ImageAsset.objects.bulk_create(assets)
    ImageVariant.objects.bulk_create(variants)
    ProductImage.objects.bulk_create(images)


# --- measuring ------------------------------------------------------------------------------------------------------


def _measure(send, *, repeats: int = REPEATS) -> tuple[float, float, int, float]:
    """p50 and p90 seconds of ``send()``, warm, the queries of one more call, and the p50 of this thread's CPU
    time (on a machine shared with other work the wall time waits for a core; CPU time does not: it is the cost
    of our code and, on SQLite, of the database, but not of a PostgreSQL server process)."""
    send()  # warm
    timings, cpu = [], []
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.thread_time()
        response = send()
        cpu.append(time.thread_time() - cpu_started)
        timings.append(time.perf_counter() - started)
        if response.status_code >= 300:
            raise RuntimeError(f"{response.status_code}: {response.content[:500]!r}")
    with CaptureQueriesContext(connection) as captured:
        send()
    timings.sort()
    return (
        statistics.median(timings),
        timings[int(len(timings) * 0.9)],
        len(captured.captured_queries),
        statistics.median(cpu),
    )


def _pair(results: list, label: str, unit: str, units: int, naive_send, our_send, repeats: int = REPEATS) -> None:
    p50, p90, queries, cpu = _measure(naive_send, repeats=repeats)
    naive = Result(
        f"stock DRF: {label}",
        p50,
        units,
        unit,
        queries,
        1,
        extra={"p50_ms": round(p50 * 1000, 2), "p90_ms": round(p90 * 1000, 2), "cpu_p50_ms": round(cpu * 1000, 2)},
        baseline=f"stock DRF: {label}",
    )
    p50, p90, queries, cpu = _measure(our_send, repeats=repeats)
    ours = Result(
        f"ours: {label}",
        p50,
        units,
        unit,
        queries,
        1,
        extra={"p50_ms": round(p50 * 1000, 2), "p90_ms": round(p90 * 1000, 2), "cpu_p50_ms": round(cpu * 1000, 2)},
        baseline=naive.name,
    )
    results += [naive, ours]


LOG_RECORDS = 5000


def _request_log(results: list, ours) -> None:
    """The request log's cost per API request: queuing one row (in the request) and its share of a bulk write
    (off the request path), measured directly; and a small request's p50 with the log on and off."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from backoffice.api import request_log

    request = RequestFactory().get("/api/v1/brands/", HTTP_IDEMPOTENCY_KEY="bench")
    request.request_id = "benchmark"
    response = HttpResponse(status=200)
    request_log.flush()
    started, cpu_started = time.perf_counter(), time.thread_time()
    for _ in range(LOG_RECORDS):
        request_log.record(request, response, started)
    queued, queued_cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    started, cpu_started = time.perf_counter(), time.thread_time()
    written = request_log.flush()
    flushed, flushed_cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    per_request = (queued + flushed) / LOG_RECORDS
    small = {"page_size": 1}
    with override_settings(API_REQUEST_LOG_ENABLED=False):
        off_p50, _p90, queries, off_cpu = _measure(lambda: ours.get("/api/v1/brands/", small), repeats=201)
    on_p50, _p90, _queries, on_cpu = _measure(lambda: ours.get("/api/v1/brands/", small), repeats=201)
    request_log.flush()
    off = Result(
        "request log off: brands, page of 1",
        off_p50,
        1,
        "requests",
        queries,
        1,
        extra={"p50_ms": round(off_p50 * 1000, 3), "cpu_p50_ms": round(off_cpu * 1000, 3)},
        baseline="request log off: brands, page of 1",
    )
    on = Result(
        "request log on: brands, page of 1",
        on_p50,
        1,
        "requests",
        queries,
        1,
        extra={
            "p50_ms": round(on_p50 * 1000, 3),
            "cpu_p50_ms": round(on_cpu * 1000, 3),
            "log_us_per_request": round(per_request * 1e6, 1),
            "queue_us": round(queued / LOG_RECORDS * 1e6, 1),
            "bulk_write_us_per_row": round(flushed / max(written, 1) * 1e6, 1),
            "log_cpu_us_per_request": round((queued_cpu + flushed_cpu) / LOG_RECORDS * 1e6, 1),
        },
        baseline=off.name,
    )
    results += [off, on]


@suite("api", default_rows=100_000)
def api_suite(rows: int, stdout) -> list[Result]:
    from backoffice.api.keys import issue_key
    from backoffice.api.models import Scope

    with (
        override_settings(
            ROOT_URLCONF=__name__,
            ALLOWED_HOSTS=["testserver"],
            SECURE_SSL_REDIRECT=False,
            API_RATE_LIMIT_PER_KEY=10**9,
            API_RATE_LIMIT_PER_IP=10**9,
            # The log is written by this thread when the suite asks (_request_log): a writer thread would wait
            # for the suite's transaction on SQLite.
            API_REQUEST_LOG_BACKGROUND=False,
            API_REQUEST_LOG_BATCH_SIZE=10**9,
            API_REQUEST_LOG_FLUSH_SECONDS=10**9,
        ),
        transaction.atomic(),
    ):
        _seed(rows, stdout)
        total = Product.objects.count()
        _key, secret = issue_key(name="benchmark", scopes=Scope.values)
        ours = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
        naive = Client()
        naive.force_login(get_user_model().objects.create(username="benchmark-api", is_staff=True, is_superuser=True))
        stdout.write(f"  {total:,} products; p50 of {REPEATS} warm requests each, through the whole middleware stack")

        results: list[Result] = []
        cursor = ours.get("/api/v1/products/", {"page_size": 100}).json()["next_cursor"]
        _pair(
            results,
            "products list, page 2 of 100 with images",
            "pages",
            1,
            lambda: naive.get("/naive-api/products/", {"page": 2}),
            lambda: ours.get("/api/v1/products/", {"page_size": 100, "cursor": cursor}),
        )
        product = Product.objects.order_by("updated_at", "id")[150]
        _pair(
            results,
            "product detail",
            "requests",
            1,
            lambda: naive.get(f"/naive-api/products/{product.pk}/"),
            lambda: ours.get(f"/api/v1/products/{product.pk}/"),
        )
        targets = list(Product.objects.order_by("pk").values_list("pk", "sku")[:STOCK_LINES])
        batch = {
            "adjustments": [{"sku": sku, "delta": 1, "reason": "receipt", "reference": "bench"} for _pk, sku in targets]
        }

        def naive_lines():
            response = None
            for pk, _sku in targets:
                response = naive.post(
                    "/naive-api/stock-movements/",
                    {"product": str(pk), "delta": 1, "reason": "receipt", "reference": "bench"},
                    content_type="application/json",
                )
            return response

        _pair(
            results,
            f"stock batch of {STOCK_LINES} lines",
            "lines",
            STOCK_LINES,
            naive_lines,
            lambda: ours.post("/api/v1/stock/adjustments/", batch, content_type="application/json"),
            repeats=7,
        )
        _request_log(results, ours)
        transaction.set_rollback(True)  # leave the database as it was
    for result in results:
        extra = ", ".join(f"{name} {value}" for name, value in result.extra.items())
        stdout.write(f"    {result.name}: {extra}, {result.queries} queries")
    return results
