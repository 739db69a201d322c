import io
import json

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
        call_command("seed_demo", "--products", "300", "--images", "2", "--orders", "40", "--render-now", stdout=out)
    assert Product.objects.count() == 300
    assert Category.objects.filter(depth=2).exists()
    assert all(" / " in path for path in Category.objects.filter(depth=2).values_list("path", flat=True))
    # the ledger explains every unit of stock
    assert StockMovement.objects.aggregate(s=Sum("delta"))["s"] == Product.objects.aggregate(s=Sum("stock"))["s"]
    # two photos shared by every product, rendered (--render-now)
    assert ProductImage.objects.filter(is_primary=True).count() == 300
    assert ProductImage.objects.values("asset").distinct().count() == 2
    assert ProductImage.objects.exclude(asset__status="ready").count() == 0
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
    first = out.getvalue()
    again = io.StringIO()
    call_command("seed_demo", "--products", "300", stdout=again)  # running again adds nothing
    assert Product.objects.count() == 300
    assert "already has 300 products" in again.getvalue()
    # the integration key's secret is printed once, when it is made
    assert "Integration key (shown once" in first and "Integration key" not in again.getvalue()


@pytest.mark.django_db
def test_seed_demo_makes_the_roles_users_jobs_import_key_and_endpoint(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import User

    from backoffice.api.models import IntegrationKey
    from backoffice.imports.models import ImportBatch
    from backoffice.management.commands.seed_demo import ROLE_USERS
    from backoffice.models import Job
    from backoffice.webhooks.models import WebhookEndpoint

    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--products", "120", "--images", "0", "--orders", "10", stdout=out)
    text = out.getvalue()
    passwords = json.loads((tmp_path / "demo-users.json").read_text())
    assert (tmp_path / "demo-users.json").stat().st_mode & 0o777 == 0o600
    for username, role in ROLE_USERS.items():
        user = User.objects.get(username=username)
        assert user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.check_password(passwords[username])
        assert f"{username:<14} {passwords[username]}" in text
    assert Job.objects.count() == 3
    assert set(Job.objects.values_list("status", flat=True)) == {"succeeded"}
    batch = ImportBatch.objects.get()
    assert batch.status == "applied" and batch.updated_rows == 25
    assert IntegrationKey.objects.filter(name="Demo shop").count() == 1
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.url == "http://127.0.0.1:8765/"
    assert f"webhook_listen --endpoint {endpoint.pk}" in text
    call_command("seed_demo", "--products", "120", stdout=io.StringIO())
    assert Job.objects.count() == 3 and ImportBatch.objects.count() == 1 and WebhookEndpoint.objects.count() == 1
    assert json.loads((tmp_path / "demo-users.json").read_text()) == passwords


@pytest.mark.django_db
def test_seed_images_leaves_the_variants_to_the_background():
    from catalog.seeding import seed_images
    from media_pipeline.models import ImageAsset, ImageVariant
    from tests.factories import ProductFactory

    ProductFactory.create_batch(5)
    assert seed_images(2, render=False) == 2
    assert ProductImage.objects.count() == 5
    assert ImageAsset.objects.count() == 2
    assert not ImageVariant.objects.exists() and not ImageAsset.objects.filter(status="ready").exists()


def test_barcodes():
    validate_barcode("4006381333931")  # a real EAN-13
    validate_barcode(ean13(987654321))
    assert len(ean13(5)) == 13
    with pytest.raises(ValidationError, match="check digit"):
        validate_barcode("4006381333932")
    with pytest.raises(ValidationError, match="8, 12, 13 or 14 digits"):
        validate_barcode("12345")
