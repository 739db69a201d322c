from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from backoffice.models import Job
from catalog.admin import ProductAdmin
from catalog.models import Product, StockMovement
from tests.factories import BrandFactory, CategoryFactory, ProductFactory, TagFactory, UserFactory
from tests.media_pipeline import corpus

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:catalog_product_changelist")


def make_products(count: int):
    category, brand = CategoryFactory(), BrandFactory()
    return ProductFactory.create_batch(count, category=category, brand=brand)


@pytest.mark.parametrize("count", [20, 200])
def test_changelist_query_count_does_not_depend_on_page_size(admin_client, django_assert_max_num_queries, count):
    make_products(count)
    admin_client.get(CHANGELIST)  # the sidebar badges are counted once, then cached
    with django_assert_max_num_queries(10):
        response = admin_client.get(CHANGELIST, {"all": ""} if count > 50 else {})
    assert response.status_code == 200
    with django_assert_max_num_queries(10):
        # sorted by an annotated column, filtered and searched
        response = admin_client.get(CHANGELIST, {"o": "-9", "status__exact": "active", "q": "Product"})
    assert response.status_code == 200


def test_changelist_query_count_is_pinned(admin_client, django_assert_num_queries):
    make_products(20)
    admin_client.get(CHANGELIST)  # warm caches (content types, session)
    # user, count, page ids, the page's rows with their columns, filter choices (brands); the session and
    # the sidebar badges come from the cache; PostgreSQL asks the planner for an estimate before counting
    expected = 6 if connection.vendor == "postgresql" else 5
    with django_assert_num_queries(expected):
        admin_client.get(CHANGELIST)
    make_products(180)
    with django_assert_num_queries(expected):
        admin_client.get(CHANGELIST, {"o": "2"})


def test_fields_for_large_tables():
    assert ProductAdmin.raw_id_fields == ["supplier", "related"]
    assert ProductAdmin.autocomplete_fields == ["category", "brand", "tags"]


def test_autocomplete_answers_only_to_permitted_users(client):
    CategoryFactory(name="Garden")
    params = {"app_label": "catalog", "model_name": "product", "field_name": "category", "term": "Gar"}
    url = reverse("admin:autocomplete")
    client.force_login(UserFactory(is_staff=True))
    assert client.get(url, params).status_code == 403
    client.force_login(UserFactory(is_staff=True, perms=["catalog.change_product", "catalog.view_category"]))
    response = client.get(url, params)
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Garden"]


def test_price_change_job_with_history_per_product(admin_client, superuser, django_capture_on_commit_callbacks):
    products = make_products(3)
    Product.objects.update(price=Decimal("10.00"))
    data = {
        "action": "change_prices",
        "_selected_action": [str(p.pk) for p in products],
        "mode": "percent",
        "value": "15",
        "rounding": "ninety_nine",
    }
    preview = admin_client.post(CHANGELIST, {**data, "preview": ""})
    assert preview.status_code == 200
    assert "3 will change" in preview.content.decode()
    assert Job.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(CHANGELIST, {**data, "apply": ""})
    assert response.status_code == 302
    job = Job.objects.get()
    assert (job.kind, job.status, job.done) == ("catalog.change_prices", Job.Status.SUCCEEDED, 3)
    assert set(Product.objects.values_list("price", flat=True)) == {Decimal("11.99")}
    for product in products:
        record = product.history.first()
        assert (record.history_job_id, record.history_user_id) == (job.pk, superuser.pk)
        assert record.price == Decimal("11.99")


def test_bad_action_input_is_a_form_error_and_changes_nothing(admin_client):
    products = make_products(2)
    response = admin_client.post(
        CHANGELIST,
        {
            "action": "change_prices",
            "_selected_action": [str(p.pk) for p in products],
            "mode": "percent",
            "value": "-150",
            "rounding": "cent",
            "apply": "",
        },
    )
    assert response.status_code == 200
    assert "cannot fall by 100 per cent" in response.content.decode()
    assert not Job.objects.exists()

    url = reverse("admin:catalog_product_adjust_stock", args=[products[0].pk])
    response = admin_client.post(url, {"_form_submitted": "1", "delta": "0", "reason": "adjustment"})
    assert response.status_code == 200
    assert "other than zero" in response.content.decode()
    response = admin_client.post(url, {"_form_submitted": "1", "delta": "-999", "reason": "adjustment"})
    assert not StockMovement.objects.exists()
    assert Product.objects.get(pk=products[0].pk).stock == products[0].stock


def test_adjust_stock_dialog(admin_client):
    product = make_products(1)[0]
    url = reverse("admin:catalog_product_adjust_stock", args=[product.pk])
    response = admin_client.post(
        url, {"_form_submitted": "1", "delta": "-5", "reason": "adjustment", "reference": "stock take"}
    )
    assert response.status_code in (204, 302)
    movement = StockMovement.objects.get()
    assert (movement.delta, movement.balance_after, movement.reference) == (-5, 45, "stock take")


def test_user_without_change_permission_sees_no_bulk_actions_and_gets_403(client):
    product = make_products(1)[0]
    client.force_login(UserFactory(is_staff=True, perms=["catalog.view_product"]))
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("change_prices", "add_tags", "activate", "soft_delete_selected"):
        assert f'value="{name}"' not in html
    url = reverse("admin:catalog_product_adjust_stock", args=[product.pk])
    assert client.post(url, {"_form_submitted": "1", "delta": "5", "reason": "receipt"}).status_code == 403
    response = client.post(CHANGELIST, {"action": "archive", "_selected_action": [str(product.pk)]})
    assert response.status_code in (200, 302)
    assert not Job.objects.exists()
    assert Product.objects.get(pk=product.pk).status == "active"


def test_tags_activate_archive_delete_restore_as_jobs(admin_client, django_capture_on_commit_callbacks):
    products = make_products(2)
    tag = TagFactory()
    ids = [str(p.pk) for p in products]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(CHANGELIST, {"action": "add_tags", "_selected_action": ids, "tags": [tag.pk], "apply": ""})
        admin_client.post(CHANGELIST, {"action": "archive", "_selected_action": ids})
        admin_client.post(CHANGELIST, {"action": "soft_delete_selected", "_selected_action": ids})
    assert all(set(p.tags.all()) == {tag} for p in products)
    assert not Product.objects.exists()
    assert Product.all_objects.filter(status="archived").count() == 2
    page = admin_client.get(CHANGELIST, {"deleted": "yes"})
    assert products[0].sku in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(CHANGELIST + "?deleted=yes", {"action": "restore_selected", "_selected_action": ids})
    assert Product.objects.count() == 2
    assert Job.objects.filter(status=Job.Status.SUCCEEDED).count() == 4


def test_add_product_with_photos_and_opening_stock(admin_client, superuser, django_capture_on_commit_callbacks):
    category = CategoryFactory()
    data = {
        "sku": "NEW-1",
        "name": "New thing",
        "slug": "new-thing",
        "status": "draft",
        "price": "9.90",
        "cost": "4.00",
        "stock": "12",
        "low_stock_threshold": "2",
        "category": str(category.pk),
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "upload_images": [
            SimpleUploadedFile("a.jpg", corpus.jpeg(400, 300)),
            SimpleUploadedFile("b.jpg", corpus.jpeg(401, 300)),
        ],
    }
    bad = {**data, "upload_images": [SimpleUploadedFile("x.jpg", corpus.truncated_jpeg())]}
    response = admin_client.post(reverse("admin:catalog_product_add"), bad)
    assert response.status_code == 200
    assert "x.jpg: The image is damaged" in response.content.decode()
    assert not Product.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:catalog_product_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(sku="NEW-1")
    assert product.stock == 12
    assert StockMovement.objects.get(product=product).user == superuser
    assert product.images.count() == 2 and product.images.filter(is_primary=True).count() == 1
    page = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    assert page.status_code == 200
    assert "thumb.webp" in page.content.decode()


def test_reference_admins_render_with_counts(admin_client):
    make_products(3)
    for name in ("category", "brand", "supplier", "tag", "stockmovement"):
        response = admin_client.get(reverse(f"admin:catalog_{name}_changelist"))
        assert response.status_code == 200, name
    assert admin_client.get(reverse("admin:catalog_stockmovement_add")).status_code == 403


def test_history_shows_the_diff_and_can_revert(admin_client):
    from catalog import services

    product = make_products(1)[0]
    old_price = product.price
    services.change_price(product, mode="amount", value=Decimal("5"))
    page = admin_client.get(reverse("admin:catalog_product_history", args=[product.pk]))
    assert page.status_code == 200
    assert "Price change" in page.content.decode()
    first = product.history.earliest()
    url = reverse("admin:catalog_product_simple_history", args=[product.pk, first.history_id])
    assert admin_client.get(url).status_code == 200
    data = {
        "sku": product.sku,
        "name": product.name,
        "slug": product.slug,
        "status": product.status,
        "price": str(old_price),
        "cost": str(product.cost),
        "low_stock_threshold": "5",
        "category": str(product.category_id),
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
    }
    assert admin_client.post(url, data).status_code == 302
    assert Product.objects.get(pk=product.pk).price == old_price
