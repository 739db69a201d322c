"""The product form validates; catalog.services writes. Nothing is stored when the form fails."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Product, StockMovement
from media_pipeline.models import ImageAsset
from tests.factories import CategoryFactory, ProductFactory
from tests.media_pipeline import corpus

pytestmark = pytest.mark.django_db
ADD = "admin:catalog_product_add"


def _data(**extra):
    return {
        "sku": "NEW-1",
        "name": "New thing",
        "slug": "new-thing",
        "status": "draft",
        "price": "9.90",
        "cost": "4.00",
        "stock": "3",
        "low_stock_threshold": "2",
        "category": str(CategoryFactory().pk),
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        **extra,
    }


def _stored_files(settings):
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_duplicate_sku_in_another_case_is_a_form_error_and_stores_nothing(admin_client, settings):
    ProductFactory(sku="new-1")
    photo = SimpleUploadedFile("a.jpg", corpus.jpeg(300, 200))
    response = admin_client.post(reverse(ADD), _data(upload_images=[photo]))
    assert response.status_code == 200
    assert "Another product already uses the SKU new-1." in response.content.decode()
    assert Product.objects.count() == 1
    assert not StockMovement.objects.exists()
    assert not ImageAsset.objects.exists()
    assert _stored_files(settings) == []


def test_a_form_failing_on_another_field_stores_no_photo(admin_client, settings):
    photo = SimpleUploadedFile("a.jpg", corpus.jpeg(300, 200))
    response = admin_client.post(reverse(ADD), _data(price="-5", upload_images=[photo]))
    assert response.status_code == 200
    assert not Product.objects.exists()
    assert not ImageAsset.objects.exists()
    assert _stored_files(settings) == []


def test_editing_a_product_goes_through_update_product(admin_client, superuser):
    product = ProductFactory(stock=7)
    url = reverse("admin:catalog_product_change", args=[product.pk])
    data = _data(sku=product.sku, name="Renamed", slug=product.slug, category=str(product.category_id))
    data.pop("stock")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    product.refresh_from_db()
    assert (product.name, product.stock) == ("Renamed", 7)
    assert product.history.latest().history_user == superuser
    rows = product.history.count()
    assert admin_client.post(url, data).status_code == 302
    assert product.history.count() == rows  # saved again unchanged: no new history row


def test_an_upload_beside_an_inline_primary_image_keeps_one_primary(admin_client):
    from media_pipeline.services import ingest_image

    existing = ingest_image(SimpleUploadedFile("old.jpg", corpus.jpeg(320, 200)), filename="old.jpg")
    data = _data(
        **{
            "images-TOTAL_FORMS": "1",
            "images-0-asset": str(existing.pk),
            "images-0-is_primary": "on",
            "images-0-position": "0",
            "upload_images": [SimpleUploadedFile("new.jpg", corpus.jpeg(300, 200))],
        }
    )
    response = admin_client.post(reverse(ADD), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(sku="NEW-1")
    images = list(product.images.order_by("position"))
    assert len(images) == 2 and images[0].asset_id == existing.pk
    assert [i.is_primary for i in images] == [True, False]


def test_a_rule_broken_between_form_and_save_is_a_message_not_a_500(admin_client, monkeypatch):
    from catalog import forms

    # Another writer takes the SKU after the form checked it: the service refuses inside the save.
    monkeypatch.setattr(forms.ProductAdminForm, "clean_sku", lambda self: self.cleaned_data["sku"])
    ProductFactory(sku="new-1")
    response = admin_client.post(reverse(ADD), _data(), follow=True)
    assert response.status_code == 200
    assert "Another product already uses the SKU new-1." in response.content.decode()
    assert Product.objects.count() == 1
    assert not StockMovement.objects.exists()
