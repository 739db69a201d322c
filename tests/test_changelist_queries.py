"""Every changelist runs the same number of queries whatever the number of rows on the page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog import services
from orders.services import place_order
from tests.factories import BrandFactory, CategoryFactory, CustomerFactory, ProductFactory, SupplierFactory, TagFactory

pytestmark = pytest.mark.django_db


def fill(rows: int) -> None:
    category, brand, supplier = CategoryFactory(), BrandFactory(), SupplierFactory()
    tags = TagFactory.create_batch(2)
    for _ in range(rows):
        CategoryFactory()
        BrandFactory()
        SupplierFactory()
        TagFactory()
        product = ProductFactory(category=category, brand=brand, supplier=supplier, stock=100)
        product.tags.add(*tags)
        services.adjust_stock(product, 1, reason="receipt")
        place_order(customer=CustomerFactory(), lines=[(product, 1)])


@pytest.mark.parametrize(
    "name",
    [
        "catalog_category",
        "catalog_brand",
        "catalog_supplier",
        "catalog_tag",
        "catalog_stockmovement",
        "orders_customer",
        "media_pipeline_imageasset",
        "backoffice_job",
    ],
)
def test_changelist_queries_do_not_grow_with_rows(admin_client, name):
    url = reverse(f"admin:{name}_changelist")
    fill(3)
    admin_client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    fill(30)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(many) == len(few) <= 10, [q["sql"][:120] for q in many.captured_queries]
