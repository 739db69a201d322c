import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from PIL import Image

from catalog import services
from catalog.models import Product
from media_pipeline.models import ImageVariant
from tests.factories import BrandFactory, CategoryFactory, ProductFactory, TagFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"


def skus(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["sku"] for row in response.json()["results"]]


def walk(api, params=None, page_size=7):
    """Every product by following next_cursor."""
    seen, cursor = [], None
    for _ in range(1000):
        query = {**(params or {}), "page_size": page_size}
        if cursor:
            query["cursor"] = cursor
        body = api.get(URL, query).json()
        seen += [row["id"] for row in body["results"]]
        cursor = body["next_cursor"]
        if not cursor:
            return seen
    raise AssertionError("pagination did not end")


def image_asset():
    from media_pipeline.services import ingest_image, render_variants

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "teal").save(buffer, "PNG")
    buffer.seek(0)
    asset = ingest_image(buffer, filename="teal.png")
    render_variants(asset)  # the task runs after commit, which a test transaction never reaches
    return asset


# --- filters -------------------------------------------------------------------------------------------------


def test_every_status_is_listed_unless_filtered(api):
    ProductFactory(sku="A", status="active")
    ProductFactory(sku="D", status="draft")
    ProductFactory(sku="R", status="archived")
    assert sorted(skus(api.get(URL))) == ["A", "D", "R"]
    assert sorted(skus(api.get(URL, {"status": "draft,archived"}))) == ["D", "R"]
    assert api.get(URL, {"status": "bogus"}).status_code == 400


def test_category_filter_includes_descendants(api):
    root = CategoryFactory(name="Garden", path="Garden")
    child = CategoryFactory(name="Tools", path="Garden / Tools", parent=root)
    other = CategoryFactory(name="Gardening books", path="Gardening books")
    ProductFactory(sku="ROOT", category=root)
    ProductFactory(sku="CHILD", category=child)
    ProductFactory(sku="OTHER", category=other)
    assert sorted(skus(api.get(URL, {"category": str(root.pk)}))) == ["CHILD", "ROOT"]
    assert skus(api.get(URL, {"category": str(child.pk)})) == ["CHILD"]
    assert skus(api.get(URL, {"category": "00000000-0000-0000-0000-000000000000"})) == []
    assert api.get(URL, {"category": "not-a-uuid"}).status_code == 400


def test_brand_in_stock_search_and_sku_in(api):
    brand = BrandFactory()
    ProductFactory(sku="Hose-1", name="Garden hose", brand=brand, stock=0)
    ProductFactory(sku="RAKE-1", name="Steel rake", stock=3)
    assert skus(api.get(URL, {"brand": str(brand.pk)})) == ["Hose-1"]
    assert skus(api.get(URL, {"in_stock": "true"})) == ["RAKE-1"]
    assert skus(api.get(URL, {"in_stock": "false"})) == ["Hose-1"]
    assert skus(api.get(URL, {"search": "rake"})) == ["RAKE-1"]
    assert sorted(skus(api.get(URL, {"sku__in": "hose-1, rake-1,missing"}))) == ["Hose-1", "RAKE-1"]
    assert api.get(URL, {"sku__in": ",".join(f"S{i}" for i in range(501))}).status_code == 400


def test_updated_since(api):
    old = ProductFactory(sku="OLD")
    Product.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=2))
    ProductFactory(sku="NEW")
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert skus(api.get(URL, {"updated_since": since})) == ["NEW"]
    assert api.get(URL, {"updated_since": "yesterday"}).status_code == 400


def test_deleted_products_are_tombstones_only_when_asked(api):
    ProductFactory(sku="LIVE")
    gone = ProductFactory(sku="GONE")
    services.soft_delete_product(gone)
    assert skus(api.get(URL)) == ["LIVE"]
    rows = api.get(URL, {"include_deleted": "true"}).json()["results"]
    deleted = {row["sku"]: row["deleted_at"] for row in rows}
    assert deleted["LIVE"] is None and deleted["GONE"] is not None
    assert api.get(URL, {"include_deleted": "maybe"}).status_code == 400


# --- pagination ------------------------------------------------------------------------------------------------


def test_pages_cover_every_row_once_when_many_share_one_updated_at(api):
    products = ProductFactory.create_batch(40)
    same = timezone.now()
    Product.objects.update(updated_at=same)
    assert sorted(walk(api, page_size=7)) == sorted(str(p.pk) for p in products)
    assert sorted(walk(api, {"ordering": "-updated_at"}, page_size=6)) == sorted(str(p.pk) for p in products)


def test_rows_changed_while_paging_come_at_the_end_and_nothing_is_missed(api):
    products = ProductFactory.create_batch(10)
    first = api.get(URL, {"page_size": 4}).json()
    seen = [row["id"] for row in first["results"]]
    ProductFactory(sku="INSERTED")
    services.update_product(Product.objects.get(pk=seen[0]), name="changed")  # moves to the end
    cursor = first["next_cursor"]
    while cursor:
        body = api.get(URL, {"page_size": 4, "cursor": cursor}).json()
        seen += [row["id"] for row in body["results"]]
        cursor = body["next_cursor"]
    expected = {str(p.pk) for p in products} | {str(Product.objects.get(sku="INSERTED").pk)}
    assert set(seen) == expected


def test_page_size_limits_and_bad_cursors_are_400(api):
    ProductFactory()
    assert api.get(URL, {"page_size": "500"}).status_code == 200
    for value in ("501", "0", "-1", "1e9", "9" * 40, "abc", "\x00"):
        response = api.get(URL, {"page_size": value})
        assert response.status_code == 400, value
        assert response.json()["errors"][0]["field"] == "page_size"
    for cursor in ("garbage", "\x00\x00", "eyJhIjoxfQ", "W10", "A" * 1000, "WyJ1cGRhdGVkX2F0IiwxLDJd"):
        response = api.get(URL, {"cursor": cursor})
        assert response.status_code == 400, cursor
        assert response.json()["errors"][0]["field"] == "cursor"
    assert api.get(URL, {"ordering": "price"}).status_code == 400


def test_a_cursor_keeps_its_ordering(api):
    ProductFactory.create_batch(3)
    cursor = api.get(URL, {"page_size": 1}).json()["next_cursor"]
    assert api.get(URL, {"page_size": 1, "cursor": cursor, "ordering": "-created_at"}).status_code == 400


def test_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    tag = TagFactory()
    asset = image_asset()
    for product in ProductFactory.create_batch(30):
        product.tags.add(tag)
        services.attach_images(product, [asset])
    with django_assert_max_num_queries(8):
        small = api.get(URL, {"page_size": 2})
    with django_assert_max_num_queries(8):
        big = api.get(URL, {"page_size": 30})
    assert len(big.json()["results"]) == 30 and len(small.json()["results"]) == 2


# --- representation ---------------------------------------------------------------------------------------------


def test_images_carry_variant_urls_sizes_and_formats(api):
    asset = image_asset()
    product = ProductFactory()
    services.attach_images(product, [asset])
    image = api.get(f"{URL}{product.pk}/").json()["images"][0]
    assert image["id"] == str(asset.pk) and image["is_primary"] is True
    assert (image["width"], image["height"]) == (640, 480)
    variants = image["variants"]
    assert variants and len(variants) == ImageVariant.objects.filter(asset=asset).count()
    for variant in variants:
        assert variant["url"].startswith("http://testserver/")
        assert variant["width"] > 0 and variant["height"] > 0 and variant["format"]


def test_detail_by_id_and_by_sku_ignoring_case(api):
    product = ProductFactory(sku="Hose-25")
    assert api.get(f"{URL}{product.pk}/").json()["sku"] == "Hose-25"
    assert api.get(f"{URL}sku/hOSE-25/").json()["id"] == str(product.pk)
    assert api.get(f"{URL}sku/nope/").status_code == 404
    assert api.get(f"{URL}00000000-0000-0000-0000-000000000000/").status_code == 404
    assert api.get(f"{URL}not-a-uuid/").status_code == 404
    assert api.get(f"{URL}sku/%00/").status_code == 404


# --- caching ---------------------------------------------------------------------------------------------------


def test_etag_and_if_none_match_on_list_and_detail(api):
    product = ProductFactory()
    for url in (URL, f"{URL}{product.pk}/"):
        first = api.get(url)
        etag = first["ETag"]
        again = api.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304 and again["ETag"] == etag and again.content == b""
        services.update_product(Product.objects.get(pk=product.pk), name=f"renamed {url}")
        assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_if_match_on_patch(api):
    product = ProductFactory(name="Old")
    etag = api.get(f"{URL}{product.pk}/")["ETag"]
    services.update_product(Product.objects.get(pk=product.pk), name="Changed elsewhere")
    stale = api.patch(f"{URL}{product.pk}/", {"name": "Mine"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale["Content-Type"] == "application/problem+json"
    fresh = api.get(f"{URL}{product.pk}/")["ETag"]
    ok = api.patch(f"{URL}{product.pk}/", {"name": "Mine"}, HTTP_IF_MATCH=fresh)
    assert ok.status_code == 200 and ok.json()["name"] == "Mine" and ok["ETag"] != fresh
    assert api.patch(f"{URL}{product.pk}/", {"name": "No precondition"}).status_code == 200


# --- writes ------------------------------------------------------------------------------------------------------


def test_create_product_through_the_service_naming_the_key(api, key_and_secret):
    key, _secret = key_and_secret
    category = CategoryFactory()
    asset = image_asset()
    body = {
        "sku": "NEW-1",
        "name": "New thing",
        "category": str(category.pk),
        "price": "12.50",
        "status": "active",
        "opening_stock": 5,
        "images": [str(asset.pk)],
    }
    response = api.post(URL, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["stock"] == 5 and data["price"] == "12.50" and data["images"][0]["id"] == str(asset.pk)
    assert response["Location"].endswith(f"/api/v1/products/{data['id']}/")
    product = Product.objects.get(pk=data["id"])
    record = product.history.latest()
    assert record.history_api_key_id == key.pk and record.history_user_id is None
    assert product.stock_movements.get().api_key_id == key.pk


def test_create_refusals_name_their_fields(api):
    ProductFactory(sku="TAKEN")
    category = CategoryFactory()
    taken = api.post(URL, {"sku": "taken", "name": "x", "category": str(category.pk), "price": "1"})
    assert taken.status_code == 400
    assert taken.json()["errors"][0]["field"] == "sku"
    bad = api.post(
        URL,
        {"sku": "A\x00", "name": "", "category": "nope", "price": "-1", "weight_grams": 10**30, "images": ["x"]},
    )
    fields = {error["field"] for error in bad.json()["errors"]}
    assert bad.status_code == 400 and {"sku", "name", "category", "price", "weight_grams", "images[0]"} <= fields
    stock = api.post(URL, {"sku": "S", "name": "n", "category": str(category.pk), "price": "1", "stock": 4})
    assert stock.status_code == 400 and stock.json()["errors"][0]["field"] == "stock"


def test_patch_changes_only_given_fields_and_refuses_stock(api, key_and_secret):
    product = ProductFactory(name="Before", price=Decimal("10.00"))
    response = api.patch(f"{URL}{product.pk}/", {"price": "11.00"})
    assert response.status_code == 200 and response.json()["price"] == "11.00"
    assert response.json()["name"] == "Before"
    assert Product.objects.get(pk=product.pk).history.latest().history_api_key_id == key_and_secret[0].pk
    refused = api.patch(f"{URL}{product.pk}/", {"stock": 1})
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "stock"


@pytest.mark.parametrize(
    "name",
    [
        "variants/84/3b0d-46ba/cefac9546b-large.avif",
        "a b/ü.webp",
        "variants/../secret.jpg",
        "variants/./x.jpg",
        ".hidden/x.jpg",
        "x?y#z.jpg",
        "C:\\x.jpg",
    ],
)
def test_variant_urls_match_the_storage(rf, name):
    from django.core.files.storage import default_storage

    from catalog.api import VariantUrls

    urls = VariantUrls(rf.get("/"))
    assert urls.prefix == "http://testserver/media/"  # the fast path is on for the file system storage
    assert urls(name) == "http://testserver" + default_storage.url(name)


@pytest.mark.parametrize(
    "name",
    [
        "variants/84/3b0d-46ba/cefac9546b-large.avif",
        "a b/ü.webp",
        "variants/../secret.jpg",
        ".hidden/x.jpg",
        'x"y\\z.jpg',
        "variants//x.jpg",
    ],
)
def test_images_built_by_the_database_match_the_storage(api, name):
    """images_json marks every variant URL; plain names get the base URL in front, the others the storage's url()."""
    from django.core.files.storage import default_storage

    asset = image_asset()
    product = ProductFactory()
    services.attach_images(product, [asset])
    ImageVariant.objects.filter(asset=asset).update(file=name)
    Product.objects.filter(pk=product.pk).update(updated_at=timezone.now())
    from catalog.models import ProductImage

    ProductImage.objects.filter(product=product).update(alt_text='A "quoted" \\ alt\n\u0001text')
    image = api.get(f"{URL}{product.pk}/").json()["images"][0]
    assert image["alt_text"] == 'A "quoted" \\ alt\n\u0001text'
    assert {variant["url"] for variant in image["variants"]} == {"http://testserver" + default_storage.url(name)}
    listed = api.get(URL, {"sku__in": product.sku}).json()["results"][0]["images"]
    assert listed == [image]


def test_images_through_a_storage_that_is_not_the_file_system(api, monkeypatch):
    """Another storage (S3 signing each URL) is asked for every variant."""
    from catalog import api as catalog_api

    asset = image_asset()
    product = ProductFactory()
    services.attach_images(product, [asset])
    storage = ImageVariant._meta.get_field("file").storage

    class Signing:
        def url(self, name):
            return f"https://cdn.example.com/{name}?signature=abc"

    monkeypatch.setattr(ImageVariant._meta.get_field("file"), "storage", Signing())
    try:
        variants = api.get(f"{URL}{product.pk}/").json()["images"][0]["variants"]
    finally:
        ImageVariant._meta.get_field("file").storage = storage
    names = set(ImageVariant.objects.filter(asset=asset).values_list("file", flat=True))
    assert {v["url"] for v in variants} == {f"https://cdn.example.com/{n}?signature=abc" for n in names}
    assert catalog_api.NOT_PLAIN_URL.search('"url":"\\u0001a b.jpg"')
    assert not catalog_api.NOT_PLAIN_URL.search('"url":"\\u0001variants/a-b.jpg"')


def test_product_representation_is_what_the_api_shows(api):
    from catalog.api import product_representation

    asset = image_asset()
    product = ProductFactory()
    services.attach_images(product, [asset])
    request = type("Site", (), {"build_absolute_uri": lambda self, location="/": "http://testserver" + location})()
    assert product_representation(product, request) == api.get(f"{URL}{product.pk}/").json()
    assert product_representation(product.pk, request)["images"][0]["variants"]
    services.soft_delete_product(product)
    assert product_representation(product.pk, request)["deleted_at"] is not None
    assert product_representation("00000000-0000-0000-0000-000000000000", request) is None


def test_an_unfiltered_page_is_compiled_once_and_reads_what_the_orm_reads(api):
    """backoffice.api.prepared: the same rows as the ORM for every shape, the cursor put in its place."""
    from django.db import connections
    from django.http import QueryDict

    from backoffice.api import prepared
    from backoffice.api.pagination import KeysetPage
    from catalog.api import product_values

    asset = image_asset()
    same = timezone.now()
    for product in ProductFactory.create_batch(9):
        services.attach_images(product, [asset])
    Product.objects.update(updated_at=same)  # ties: the cursor's id decides
    services.soft_delete_product(Product.objects.order_by("pk").first())
    for ordering in ("updated_at", "-created_at"):
        for manager, shape in ((Product.objects, "alive"), (Product.all_objects, "with deleted")):
            walked, cursor = [], None
            while True:
                params = QueryDict(mutable=True)
                params.update({"page_size": "4", "ordering": ordering, **({"cursor": cursor} if cursor else {})})
                page = KeysetPage(params)
                orm = list(product_values(page.paginate(manager.all())))
                prepared_rows = prepared.keyset_rows(
                    page, Product, f"test {shape}", lambda p, m=manager: product_values(p.paginate(m.all()))
                )
                assert prepared_rows == orm
                rows = page.trim(prepared_rows)
                walked += [row["uid"] for row in rows]
                cursor = page.next_cursor(rows, id_key="uid", text_suffix="_t")
                if cursor is None:
                    break
            assert sorted(walked) == sorted(row["uid"] for row in product_values(manager.all()))
    cached = connections["default"].__dict__["_api_keyset_queries"]
    assert all(entry is not prepared.UNCACHEABLE for key, entry in cached.items() if key[1].startswith("test "))


def test_an_unfiltered_list_runs_one_query_once_the_key_is_known(api, django_assert_num_queries):
    for product in ProductFactory.create_batch(5):
        services.attach_images(product, [image_asset()])
    first = api.get(URL, {"page_size": 2}).json()
    with django_assert_num_queries(1):
        assert api.get(URL, {"page_size": 2, "cursor": first["next_cursor"]}).status_code == 200
