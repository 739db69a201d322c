import io

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Sum

from catalog.models import Category, Product, ProductImage, StockMovement
from catalog.seeding import ean13
from catalog.validators import validate_barcode


@pytest.mark.django_db
def test_seed_demo_builds_a_consistent_catalogue(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--products", "300", "--images", "2", "--orders", "40", stdout=out)
    assert Product.objects.count() == 300
    assert Category.objects.filter(depth=2).exists()
    assert all(" / " in path for path in Category.objects.filter(depth=2).values_list("path", flat=True))
    # the ledger explains every unit of stock
    assert StockMovement.objects.aggregate(s=Sum("delta"))["s"] == Product.objects.aggregate(s=Sum("stock"))["s"]
    assert ProductImage.objects.count() == 2
    assert ProductImage.objects.filter(asset__status="ready").count() == 2
    for barcode in Product.objects.values_list("barcode", flat=True)[:20]:
        validate_barcode(barcode)
    from orders.models import Order

    assert 30 <= Order.objects.count() <= 40
    assert {"pending", "delivered"} <= set(Order.objects.values_list("status", flat=True))
    assert not mail.outbox  # demo orders email nobody
    sold = Product.objects.aggregate(s=Sum("units_sold"))["s"]
    assert (
        sold
        == -StockMovement.objects.filter(reason__in=["sale", "cancellation", "return"]).aggregate(s=Sum("delta"))["s"]
    )
    call_command("seed_demo", "--products", "300", stdout=out)  # running again adds nothing
    assert Product.objects.count() == 300
    assert "already has 300 products" in out.getvalue()


def test_barcodes():
    validate_barcode("4006381333931")  # a real EAN-13
    validate_barcode(ean13(987654321))
    assert len(ean13(5)) == 13
    with pytest.raises(ValidationError, match="check digit"):
        validate_barcode("4006381333932")
    with pytest.raises(ValidationError, match="8, 12, 13 or 14 digits"):
        validate_barcode("12345")
