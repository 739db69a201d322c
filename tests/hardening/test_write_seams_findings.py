"""Findings 4a and 4b of issue 11, fixed in the write-seams work (catalog services, media pipeline):
here only as robustness regressions through the admin, each checking nothing was written.
(Finding 4c, address JSON nested 2,000 deep, went away with the JSON: customers have address fields.)"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import CategoryFactory, ProductFactory
from tests.media_pipeline.corpus import jpeg
from tests.test_admin_robustness import table_counts

# reset_lockouts: no login lockout left from an earlier run (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reset_lockouts")]


@pytest.fixture
def existing():
    return ProductFactory(sku="ABC-1"), CategoryFactory()


@pytest.mark.parametrize("sku", ["ABC-1", "abc-1"])
def test_duplicate_sku_on_product_add_is_a_form_error(admin_client, existing, sku):
    before = table_counts()
    _product, category = existing
    response = admin_client.post(
        reverse("admin:catalog_product_add"),
        {
            "sku": sku,
            "name": "Copy",
            "slug": "copy",
            "status": "draft",
            "price": "1",
            "cost": "1",
            "stock": "0",
            "low_stock_threshold": "0",
            "category": str(category.pk),
            "images-TOTAL_FORMS": "0",
            "images-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["sku"], errors
    assert table_counts() == before


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_jpeg_upload_is_a_form_error(admin_client, cut):
    before = table_counts()
    data = jpeg(400, 300)
    upload = SimpleUploadedFile("cut.jpg", data[: int(len(data) * cut)], content_type="image/jpeg")
    response = admin_client.post(reverse("admin:media_pipeline_imageasset_add"), {"upload": upload})
    assert response.status_code == 200
    assert "upload" in response.context["adminform"].form.errors
    assert table_counts() == before
