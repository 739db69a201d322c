import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import services
from tests.factories import BrandFactory, CategoryFactory, SupplierFactory, TagFactory, UserFactory


@pytest.fixture
def catalogue(db):
    root = CategoryFactory(name="Kitchen", slug="kitchen", path="Kitchen")
    mugs = CategoryFactory(name="Mugs", slug="mugs", parent=root, path="Kitchen / Mugs")
    brand = BrandFactory(name="Acme", slug="acme")
    supplier = SupplierFactory(code="SUP1", name="Supplies Ltd")
    red, blue = TagFactory(name="red", slug="red"), TagFactory(name="blue", slug="blue")
    product = services.create_product(
        sku="MUG-1",
        name='=HYPERLINK("http://x")',
        slug="mug-1",
        description="-5 degrees safe\nsecond line",
        category=mugs,
        brand=brand,
        supplier=supplier,
        price="12.90",
        cost="4.10",
        status="active",
        tags=[red],
        opening_stock=10,
    )
    return {
        "root": root,
        "mugs": mugs,
        "brand": brand,
        "supplier": supplier,
        "red": red,
        "blue": blue,
        "product": product,
    }


@pytest.fixture
def importer(db):
    return UserFactory(
        is_staff=True,
        perms=[
            "catalog.import_product",
            "catalog.export_product",
            "catalog.view_product",
            "catalog.change_product",
            "orders.import_customer",
            "orders.view_customer",
        ],
    )


def upload_file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def csv_bytes(text: str, *, bom: bool = False) -> bytes:
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def xlsx_bytes(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
