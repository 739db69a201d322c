"""create_product / update_product: the one door for product writes."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from backoffice.history import acting_as, bulk_history_kwargs
from catalog import services
from catalog.models import Product, ProductImage, StockMovement
from tests.factories import CategoryFactory, ProductFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fields(**extra):
    return {"sku": "AB-1", "name": "Blue mug", "category": CategoryFactory(), "price": Decimal("9.90"), **extra}


def test_create_product_puts_opening_stock_through_the_ledger_and_names_the_user():
    user = UserFactory(is_staff=True)
    product = services.create_product(opening_stock=12, user=user, **_fields())
    product.refresh_from_db()
    assert product.stock == 12
    assert product.slug == "blue-mug"
    movement = StockMovement.objects.get(product=product)
    assert (movement.delta, movement.balance_after, movement.reason, movement.user) == (
        12,
        12,
        StockMovement.Reason.RECEIPT,
        user,
    )
    assert product.history.earliest().history_user == user


def test_create_product_attaches_images_in_order_first_is_primary():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from media_pipeline.services import ingest_image
    from tests.media_pipeline.corpus import jpeg

    assets = [ingest_image(SimpleUploadedFile(f"{i}.jpg", jpeg(40 + i, 30)), filename=f"{i}.jpg") for i in range(2)]
    product = services.create_product(images=assets, **_fields())
    images = list(ProductImage.objects.filter(product=product).order_by("position"))
    assert [i.asset_id for i in images] == [a.pk for a in assets]
    assert [i.is_primary for i in images] == [True, False]


def test_create_product_refuses_a_sku_taken_in_another_case_and_writes_nothing():
    ProductFactory(sku="ab-1")
    before = Product.all_objects.count()
    with pytest.raises(ValidationError) as info:
        services.create_product(opening_stock=3, **_fields(sku="AB-1"))
    assert "Another product already uses the SKU ab-1." in info.value.message_dict["sku"]
    assert Product.all_objects.count() == before
    assert not StockMovement.objects.exists()


def test_a_deleted_product_does_not_hold_its_sku():
    old = ProductFactory(sku="AB-1")
    services.soft_delete_product(old)
    assert services.create_product(**_fields(sku="ab-1")).sku == "ab-1"


def test_the_database_refuses_a_case_variant_sku_too():
    ProductFactory(sku="ab-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(sku="AB-1")


def test_create_product_refuses_stock_unknown_fields_and_bad_values_with_field_messages():
    with pytest.raises(ValidationError) as info:
        services.create_product(stock=5, **_fields())
    assert "stock" in info.value.message_dict
    with pytest.raises(ValidationError, match="Unknown product fields: colour"):
        services.create_product(colour="blue", **_fields())
    with pytest.raises(ValidationError) as info:
        services.create_product(**_fields(price=Decimal("-1"), barcode="4006381333932"))
    assert set(info.value.message_dict) >= {"price", "barcode"}
    assert not Product.all_objects.exists()


def test_update_product_changes_only_the_given_fields_and_names_the_user():
    user = UserFactory(is_staff=True)
    product = ProductFactory(name="Old", price=Decimal("5.00"))
    updated = services.update_product(product, user=user, price="6.50")
    product.refresh_from_db()
    assert (product.price, product.name) == (Decimal("6.50"), "Old")
    assert updated.price == Decimal("6.50")
    record = product.history.latest()
    assert record.history_user == user
    assert record.price == Decimal("6.50")


def test_update_product_without_a_change_writes_nothing():
    tag = TagFactory()
    product = ProductFactory(price=Decimal("5.00"))
    product.tags.add(tag)
    rows = product.history.count()
    stamp = Product.objects.get(pk=product.pk).updated_at
    services.update_product(product, price="5.00", name=product.name, tags=[tag])
    assert product.history.count() == rows
    assert Product.objects.get(pk=product.pk).updated_at == stamp


def test_update_product_refuses_stock_and_sku_collisions():
    ProductFactory(sku="TAKEN")
    product = ProductFactory(sku="MINE", stock=4)
    with pytest.raises(ValidationError) as info:
        services.update_product(product, stock=10)
    assert "stock adjustment" in info.value.message_dict["stock"][0]
    with pytest.raises(ValidationError) as info:
        services.update_product(product, sku="taken")
    assert "sku" in info.value.message_dict
    product.refresh_from_db()
    assert (product.sku, product.stock) == ("MINE", 4)


def test_update_product_sets_tags():
    product = ProductFactory()
    tags = [TagFactory(), TagFactory()]
    services.update_product(product, tags=tags)
    assert set(product.tags.all()) == set(tags)


def test_acting_as_stamps_history_and_ledger_with_key_and_batch():
    key_id, batch_id = uuid.uuid4(), uuid.uuid4()
    product = ProductFactory()
    with acting_as(api_key=key_id), acting_as(import_batch=batch_id):
        services.update_product(product, name="Renamed")
        movement = services.adjust_stock(product, 2, reason=StockMovement.Reason.IMPORT)
    record = product.history.latest()
    assert (record.history_api_key_id, record.history_import_batch_id) == (key_id, batch_id)
    assert str(batch_id) in record.history_change_reason
    assert (movement.api_key_id, movement.import_batch_id) == (key_id, batch_id)


def test_bulk_history_kwargs_carry_the_actor():
    from simple_history.utils import bulk_update_with_history

    batch_id, user = uuid.uuid4(), UserFactory()
    products = [ProductFactory(), ProductFactory()]
    for product in products:
        product.name = product.name + " (bulk)"
    with acting_as(user=user, import_batch=batch_id):
        bulk_update_with_history(products, Product, ["name"], **bulk_history_kwargs())
    for product in products:
        record = product.history.latest()
        assert (record.history_user, record.history_import_batch_id) == (user, batch_id)


def test_activating_through_update_product_publishes_once():
    product = ProductFactory(status="draft", published_at=None)
    services.update_product(product, status="active")
    product.refresh_from_db()
    first = product.published_at
    assert first is not None
    services.update_product(product, status="archived")
    services.update_product(product, status="active")
    product.refresh_from_db()
    assert product.published_at == first


def test_save_category_validates_and_bounds_the_path():
    from catalog.models import Category

    with pytest.raises(ValidationError) as info:
        services.save_category(Category(name="x" * 500, slug="bad slug!"))
    assert {"name", "slug"} <= set(info.value.message_dict)
    parent = services.save_category(Category(name="p" * 110, slug="p"))
    for depth in range(7):
        parent = services.save_category(Category(name="n" * 110, slug=f"n{depth}", parent=parent))
    with pytest.raises(ValidationError, match="longer than 1000 characters"):
        services.save_category(Category(name="m" * 110, slug="m", parent=parent))
    assert not Category.objects.filter(slug="m").exists()
