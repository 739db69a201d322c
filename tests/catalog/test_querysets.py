import io
from decimal import Decimal

import pytest

from catalog import services
from catalog.models import Product
from media_pipeline.services import ingest_image
from tests.factories import ProductFactory
from tests.media_pipeline import corpus

pytestmark = pytest.mark.django_db


def test_admin_annotations(django_capture_on_commit_callbacks):
    product = ProductFactory(price=Decimal("20.00"), cost=Decimal("15.00"), stock=4, low_stock_threshold=5)
    bare = ProductFactory(price=Decimal("0.00"), cost=Decimal("0.00"), stock=10)
    with django_capture_on_commit_callbacks(execute=True):
        assets = [ingest_image(io.BytesIO(corpus.jpeg(300 + i, 200)), filename=f"{i}.jpg") for i in range(3)]
    services.attach_images(product, assets)
    movement = services.adjust_stock(product, 2, reason="receipt")

    rows = {p.pk: p for p in Product.objects.with_admin_annotations()}
    annotated = rows[product.pk]
    assert annotated.image_count == 3
    assert annotated.thumb_file == assets[0].variants.get(spec="thumb", format="webp").file.name
    assert annotated.stock_value == Decimal("90.00")  # 6 x 15.00
    assert annotated.margin_pct == Decimal("25.0")
    assert annotated.last_movement_at == movement.created_at
    empty = rows[bare.pk]
    assert (empty.image_count, empty.thumb_file, empty.margin_pct, empty.last_movement_at) == (0, None, None, None)


def test_low_stock_and_active():
    low = ProductFactory(stock=3, low_stock_threshold=5)
    ProductFactory(stock=30, low_stock_threshold=5)
    draft_low = ProductFactory(stock=0, status="draft")
    assert set(Product.objects.low_stock()) == {low, draft_low}
    assert set(Product.objects.low_stock().active()) == {low}


def test_search_exact_sku_or_barcode_first_then_name():
    exact = ProductFactory(sku="AB-100", name="Garden hose")
    ProductFactory(sku="AB-1000", name="Garden hose reel")
    by_barcode = ProductFactory(barcode="4006381333931", name="Pen")
    assert list(Product.objects.search("AB-100")) == [exact]
    assert list(Product.objects.search("4006381333931")) == [by_barcode]
    assert {p.name for p in Product.objects.search("hose garden")} == {"Garden hose", "Garden hose reel"}
    assert Product.objects.search("").count() == 3
