from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog import services
from catalog.models import Category, Product, StockMovement
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_adjust_stock_writes_the_ledger_in_the_same_transaction():
    product = ProductFactory(stock=10)
    user = UserFactory()
    movement = services.adjust_stock(product, -3, reason="adjustment", reference="count 42", user=user)
    assert (movement.delta, movement.balance_after, movement.user, movement.reference) == (-3, 7, user, "count 42")
    assert Product.objects.get(pk=product.pk).stock == 7 == product.stock


def test_stock_never_goes_below_zero():
    product = ProductFactory(stock=2)
    with pytest.raises(services.InsufficientStock, match="3 requested, 2 available"):
        services.adjust_stock(product, -3, reason="adjustment")
    assert Product.objects.get(pk=product.pk).stock == 2
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(("delta", "reason"), [(0, "adjustment"), (5, "nonsense")])
def test_bad_adjustments_are_refused(delta, reason):
    with pytest.raises(ValidationError):
        services.adjust_stock(ProductFactory(), delta, reason=reason)


def test_record_sale_and_restock_keep_counters():
    product = ProductFactory(stock=10)
    services.record_sale(product, 4, reference="SO-000001")
    product.refresh_from_db()
    assert (product.stock, product.units_sold) == (6, 4) and product.last_sold_at
    services.restock_sale(product, 4, reason="cancellation", reference="SO-000001")
    product.refresh_from_db()
    assert (product.stock, product.units_sold) == (10, 0)
    assert list(StockMovement.objects.order_by("id").values_list("reason", "delta", "balance_after")) == [
        ("sale", -4, 6),
        ("cancellation", 4, 10),
    ]


@pytest.mark.parametrize(
    ("price", "mode", "value", "rounding", "expected"),
    [
        ("10.00", "percent", "10", "cent", "11.00"),
        ("19.99", "percent", "-15", "cent", "16.99"),
        ("10.00", "amount", "-2.505", "cent", "7.50"),
        ("12.40", "percent", "10", "ninety_nine", "13.99"),
        ("12.40", "percent", "10", "whole", "14"),
        ("0.50", "percent", "10", "ninety_nine", "0.55"),
    ],
)
def test_new_price_rounding(price, mode, value, rounding, expected):
    assert services.new_price(Decimal(price), mode=mode, value=Decimal(value), rounding=rounding) == Decimal(expected)


def test_new_price_never_negative():
    with pytest.raises(ValidationError, match="negative"):
        services.new_price(Decimal("3.00"), mode="amount", value=Decimal("-5"))


def test_change_price_records_history_with_reason():
    product = ProductFactory(price=Decimal("10.00"))
    assert services.change_price(product, mode="percent", value=Decimal("20")) is True
    product.refresh_from_db()
    assert product.price == Decimal("12.00")
    assert product.margin == product.price - product.cost  # generated column
    assert product.history.first().history_change_reason == "Price change"


def test_soft_delete_hides_restore_brings_back_and_sku_can_be_reused():
    product = ProductFactory(sku="ABC-1")
    assert services.soft_delete_product(product)
    assert not Product.objects.filter(pk=product.pk).exists()
    assert Product.all_objects.filter(pk=product.pk).exists()
    services.restore_product(product)
    assert Product.objects.filter(pk=product.pk).exists()

    services.soft_delete_product(product)
    newcomer = ProductFactory(sku="ABC-1")  # a deleted SKU can be used again
    with pytest.raises(ValidationError, match="another product now uses this SKU"):
        services.restore_product(product)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(sku="ABC-1")
    assert newcomer.pk != product.pk


def test_check_constraints_hold_in_the_database():
    product = ProductFactory()
    for field, value in (("price", Decimal("-1")), ("cost", Decimal("-1")), ("stock", -1)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Product.objects.filter(pk=product.pk).update(**{field: value})


def test_category_paths_follow_moves_and_renames():
    root = services.save_category(Category(name="Garden", slug="garden"))
    tools = services.save_category(Category(name="Tools", slug="tools", parent=root))
    saws = services.save_category(Category(name="Saws", slug="saws", parent=tools))
    assert saws.path == "Garden / Tools / Saws" and saws.depth == 2
    root.name = "Outdoor"
    services.save_category(root)
    assert Category.objects.get(pk=saws.pk).path == "Outdoor / Tools / Saws"
    tools.parent = saws
    with pytest.raises(ValidationError):
        services.save_category(tools)


def test_one_primary_image_per_product(django_capture_on_commit_callbacks):
    import io

    from catalog.models import ProductImage
    from media_pipeline.services import ingest_image
    from tests.media_pipeline import corpus

    product = ProductFactory()
    assets = [ingest_image(io.BytesIO(corpus.jpeg(300 + i, 200)), filename=f"{i}.jpg") for i in range(2)]
    images = services.attach_images(product, assets)
    assert [i.is_primary for i in images] == [True, False]
    assert [i.position for i in images] == [0, 1]
    assert services.attach_images(product, assets) == []  # attaching again is a no-op
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductImage.objects.filter(pk=images[1].pk).update(is_primary=True)


def test_category_factory_is_usable():
    assert CategoryFactory().path
