"""The catalogue in the integration API: categories, brands, products and stock adjustments.

Thin: reads are ``values()`` rows with tags and the images (their variants inside) joined in as JSON built by
the database, one query whatever the page size, turned into plain dicts; writes go through
``catalog.services`` inside ``acting_as(api_key=...)``. The serializers below validate input; the ``*Out`` ones
only document responses.
"""

from __future__ import annotations

import functools
import re

import django_filters
import orjson
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import FileSystemStorage
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from backoffice.api.auth import scoped
from backoffice.api.filters import ChoiceInFilter, IsoDateTimeFilter, choices_pattern, run_filterset
from backoffice.api.models import Scope
from backoffice.api.pagination import KeysetPage
from backoffice.api.prepared import keyset_rows
from backoffice.api.problems import ApiError, Unprocessable, from_django_validation
from backoffice.api.renderers import dumps
from backoffice.api.schema import CURSOR_PARAMETERS, IF_MATCH, IF_NONE_MATCH, page_of
from backoffice.api.serializers import MoneyField, StrictSerializer
from backoffice.api.values import CommaJoin, as_text, datetime_text, uuid_text
from backoffice.api.views import ApiView, check_if_match, etag_of, not_modified, require_json_object
from backoffice.locking import lock_in_order
from catalog import services
from catalog.choices import ProductStatus, StockReason
from catalog.models import PATH_SEPARATOR, Brand, Category, Product, ProductImage, Supplier, Tag

INT_MAX = 2_147_483_647
STOCK_MAX = 1_000_000_000
SEARCH_MAX = 200
SKU_IN_MAX = 500
ADJUSTMENTS_MAX = 1000

CatalogRead = scoped(read=Scope.CATALOG_READ)
CatalogReadWrite = scoped(read=Scope.CATALOG_READ, write=Scope.CATALOG_WRITE)
StockWrite = scoped(write=Scope.STOCK_WRITE)


# --- categories and brands ---------------------------------------------------------------------------------

CATEGORY_VALUES = ("id", "name", "slug", "parent_id", "path", "depth", "position", "active", "created_at", "updated_at")
BRAND_VALUES = ("id", "name", "slug", "website", "created_at", "updated_at")


class CategoryOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    parent_id = serializers.UUIDField(allow_null=True)
    path = serializers.CharField(help_text=gettext_lazy("Names from the root, separated by ' / '."))
    depth = serializers.IntegerField()
    position = serializers.IntegerField()
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class BrandOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    website = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class _ReferenceList(ApiView):
    queryset = None
    values: tuple = ()

    def get(self, request):
        page = KeysetPage(request.query_params)
        rows = page.trim(list(page.paginate(self.queryset.all()).values(*self.values)))
        return Response(page.envelope(request, rows, rows))


@extend_schema(tags=["catalog"])
class CategoryList(_ReferenceList):
    permission_classes = [CatalogRead]
    queryset = Category.objects.all()
    values = CATEGORY_VALUES

    @extend_schema(operation_id="categories_list", parameters=CURSOR_PARAMETERS, responses=page_of(CategoryOut))
    def get(self, request):
        return super().get(request)


@extend_schema(tags=["catalog"])
class BrandList(_ReferenceList):
    permission_classes = [CatalogRead]
    queryset = Brand.objects.all()
    values = BRAND_VALUES

    @extend_schema(operation_id="brands_list", parameters=CURSOR_PARAMETERS, responses=page_of(BrandOut))
    def get(self, request):
        return super().get(request)


# --- products: reading -------------------------------------------------------------------------------------

PRODUCT_VALUES = (
    "sku",
    "name",
    "slug",
    "description",
    "status",
    "price",
    "cost",
    "stock",
    "low_stock_threshold",
    "barcode",
    "weight_grams",
    "category__name",
    "category__path",
    "brand__name",
)
# UUID and date-time columns read as text (backoffice.api.values): a row's id is "uid", its times "..._t".
PRODUCT_TEXT = {
    "uid": "id",
    "category_uid": "category_id",
    "brand_uid": "brand_id",
    "supplier_uid": "supplier_id",
    "published_at_t": "published_at",
    "created_at_t": "created_at",
    "updated_at_t": "updated_at",
    "deleted_at_t": "deleted_at",
}


def product_values(queryset):
    """``values()`` rows of the API's product columns, each with its images (and their variants) as one JSON
    text built by the database (``images_json``, see images_json_sql): one query for a whole page."""
    tags = (
        Product.tags.through.objects.filter(product_id=OuterRef("pk"))
        .order_by()
        .values("product_id")
        .annotate(slugs=CommaJoin("tag__slug"))
        .values("slugs")[:1]
    )
    return queryset.values(
        *PRODUCT_VALUES,
        tag_slugs=Subquery(tags, output_field=TextField()),
        # Names from the models only, no parameter: see images_json_sql.
        images_json=RawSQL(images_json_sql(connection.vendor), (), output_field=TextField()),  # noqa: S611
        **{name: as_text(field) for name, field in PRODUCT_TEXT.items()},
    )


def _variant_model():
    # Read at call time: the media pipeline owns the variant's fields and file names.
    from media_pipeline.models import ImageVariant

    return ImageVariant


# Variant URLs in images_json are the stored name after a U+0001 marker. For the file-system storage and a plain
# name (PLAIN_NAME) the URL is the storage's base URL plus the name, so Python puts the base in front of every
# marker with one str.replace per product; a product with any other name, or another storage, is parsed and asked
# name by name (VariantUrls). The marker is matched with its key ("url":"\u0001), which no escaped string value
# can contain.
URL_KEYS = ('"url":"',)
MARK = "\\u0001"
_PLAIN_URL = r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*\""
NOT_PLAIN_URL = re.compile(r'"url":"\\u0001(?!' + _PLAIN_URL + ")")


@functools.cache
def images_json_sql(vendor: str) -> str:
    """A correlated subquery on the outer ``catalog_product`` row: its images as a JSON array, primary first,
    then by position, each with its variants (largest first, as the covering variant index orders them) and
    marked variant URLs. Table and column names come from the models; nothing from a request goes in."""
    variant = _variant_model()._meta
    image = ProductImage._meta
    asset = image.get_field("asset").related_model._meta
    quote = connection.ops.quote_name
    c = {
        name: quote(field.column)
        for name, field in (
            ("v_asset", variant.get_field("asset")),
            ("spec", variant.get_field("spec")),
            ("v_format", variant.get_field("format")),
            ("v_width", variant.get_field("width")),
            ("v_height", variant.get_field("height")),
            ("file", variant.get_field("file")),
            ("i_asset", image.get_field("asset")),
            ("i_product", image.get_field("product")),
            ("position", image.get_field("position")),
            ("alt_text", image.get_field("alt_text")),
            ("is_primary", image.get_field("is_primary")),
            ("i_created", image.get_field("created_at")),
            ("a_id", asset.pk),
            ("a_width", asset.get_field("width")),
            ("a_height", asset.get_field("height")),
            ("a_format", asset.get_field("format")),
        )
    }
    variants, images, assets = quote(variant.db_table), quote(image.db_table), quote(asset.db_table)
    product_id = f"{quote(Product._meta.db_table)}.{quote(Product._meta.pk.column)}"
    if vendor == "postgresql":
        # The JSON text concatenated, as on SQLite below: json_agg(json_build_object(...) ORDER BY ...) sorts
        # every image's variants again and measured about twice as slow.
        return f"""('[' || COALESCE((SELECT string_agg(
            '{{"id":"' || i.{c["i_asset"]} || '","position":' || i.{c["position"]}
            || ',"alt_text":' || to_json(i.{c["alt_text"]})
            || ',"is_primary":' || CASE WHEN i.{c["is_primary"]} THEN 'true' ELSE 'false' END
            || ',"width":' || i.{c["a_width"]} || ',"height":' || i.{c["a_height"]}
            || ',"format":' || to_json(i.{c["a_format"]}) || ',"variants":[' || COALESCE((SELECT string_agg(
                    '{{"spec":' || to_json(spec) || ',"format":' || to_json(format) || ',"width":' || width
                    || ',"height":' || height || ',"url":' || to_json(chr(1) || file) || '}}', ',')
                FROM (SELECT v.{c["spec"]} AS spec, v.{c["v_format"]} AS format, v.{c["v_width"]} AS width,
                        v.{c["v_height"]} AS height, v.{c["file"]} AS file
                    FROM {variants} AS v WHERE v.{c["v_asset"]} = i.{c["i_asset"]}
                    ORDER BY v.{c["v_width"]} DESC, v.{c["v_format"]}, v.{c["spec"]}) AS v), '') || ']}}', ',')
        FROM (SELECT i.{c["i_asset"]}, i.{c["position"]}, i.{c["alt_text"]}, i.{c["is_primary"]},
                a.{c["a_width"]}, a.{c["a_height"]}, a.{c["a_format"]}
            FROM {images} AS i INNER JOIN {assets} AS a ON a.{c["a_id"]} = i.{c["i_asset"]}
            WHERE i.{c["i_product"]} = {product_id}
            ORDER BY i.{c["is_primary"]} DESC, i.{c["position"]}, i.{c["i_created"]}) AS i), '') || ']')"""  # noqa: S608
    # SQLite: the JSON text concatenated (json_object inside json_group_array would parse every image and
    # variant again; group_concat keeps the order of the subquery's rows). Ids are stored as 32 hex digits.
    asset_id = f"i.{c['i_asset']}"
    dashed = " || '-' || ".join(f"substr({asset_id}, {start}, {length})" for start, length in DASHES)
    return f"""('[' || coalesce((SELECT group_concat(
            '{{"id":"' || {dashed} || '","position":' || i.{c["position"]}
            || ',"alt_text":' || json_quote(i.{c["alt_text"]})
            || ',"is_primary":' || CASE WHEN i.{c["is_primary"]} THEN 'true' ELSE 'false' END
            || ',"width":' || i.{c["a_width"]} || ',"height":' || i.{c["a_height"]}
            || ',"format":' || json_quote(i.{c["a_format"]}) || ',"variants":[' || coalesce((SELECT group_concat(
                    json_object('spec', spec, 'format', format, 'width', width, 'height', height,
                        'url', char(1) || file), ',')
                FROM (SELECT v.{c["spec"]} AS spec, v.{c["v_format"]} AS format, v.{c["v_width"]} AS width,
                        v.{c["v_height"]} AS height, v.{c["file"]} AS file
                    FROM {variants} AS v WHERE v.{c["v_asset"]} = i.{c["i_asset"]}
                    ORDER BY v.{c["v_width"]} DESC, v.{c["v_format"]}, v.{c["spec"]})), '') || ']}}', ',')
        FROM (SELECT i.{c["i_asset"]}, i.{c["position"]}, i.{c["alt_text"]}, i.{c["is_primary"]},
                a.{c["a_width"]}, a.{c["a_height"]}, a.{c["a_format"]}
            FROM {images} AS i INNER JOIN {assets} AS a ON a.{c["a_id"]} = i.{c["i_asset"]}
            WHERE i.{c["i_product"]} = {product_id}
            ORDER BY i.{c["is_primary"]} DESC, i.{c["position"]}, i.{c["i_created"]}) AS i), '') || ']')"""  # noqa: S608


DASHES = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))


# A stored name FileSystemStorage.url() returns unchanged after its base URL: segments of URL-safe characters,
# none starting with a dot (so no "." or ".." segment for urljoin to resolve), nothing to percent-encode.
PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


class VariantUrls:
    """Variant file names to URLs through the variant field's storage, absolute for a local storage.

    A page carries ~1,400 variants; FileSystemStorage.url() (quote + urljoin) costs ~5 us each, so for it a plain
    name is appended to the base URL directly (the same result; tests/api/test_products.py checks it). Other
    storages (S3, which signs each URL) are always asked."""

    def __init__(self, request):
        self.storage = _variant_model()._meta.get_field("file").storage
        self.base = request.build_absolute_uri("/").rstrip("/")
        self.prefix = None
        storage = self.storage
        if isinstance(storage, LazyObject):  # default_storage
            if storage._wrapped is empty:
                storage._setup()
            storage = storage._wrapped
        if type(storage) is FileSystemStorage:
            base_url = storage.base_url
            self.prefix = self.base + base_url if base_url.startswith("/") else base_url
            self.replacements = [(key + MARK, key + _json_string_body(self.prefix)) for key in URL_KEYS]

    def __call__(self, name: str) -> str:
        if self.prefix is not None and PLAIN_NAME.fullmatch(name):
            return self.prefix + name
        url = self.storage.url(name)
        return self.base + url if url.startswith("/") else url

    def images(self, images_json: str | None) -> orjson.Fragment:
        """The images array of one product (images_json) with its variant URLs, as JSON ready to embed."""
        if not images_json or images_json == "[]":
            return EMPTY_LIST
        if self.prefix is not None and not NOT_PLAIN_URL.search(images_json):
            text = images_json
            for marked, resolved in self.replacements:
                text = text.replace(marked, resolved)
            return orjson.Fragment(text)
        images = orjson.loads(images_json)
        for image in images:
            for variant in image["variants"]:
                variant["url"] = self(variant["url"][1:])
        return orjson.Fragment(orjson.dumps(images))


EMPTY_LIST = orjson.Fragment(b"[]")


def _json_string_body(text: str) -> str:
    """``text`` as it appears between the quotes of a JSON string."""
    return orjson.dumps(text).decode()[1:-1]


def product_data(rows: list, request) -> tuple[list[dict], str]:
    """Plain dicts for ``rows`` of product_values, and an ETag over what they are made of.

    ``images`` is an ``orjson.Fragment`` (JSON text embedded as it is by the renderer); product_representation
    gives a product with its images as lists and dicts."""
    etag = etag_of(rows)
    url = VariantUrls(request)
    data = [
        {
            "id": uuid_text(row["uid"]),
            "sku": row["sku"],
            "name": row["name"],
            "slug": row["slug"],
            "description": row["description"],
            "status": row["status"],
            "price": row["price"],
            "cost": row["cost"],
            "stock": row["stock"],
            "low_stock_threshold": row["low_stock_threshold"],
            "barcode": row["barcode"],
            "weight_grams": row["weight_grams"],
            "published_at": datetime_text(row["published_at_t"]),
            "category": {
                "id": uuid_text(row["category_uid"]),
                "name": row["category__name"],
                "path": row["category__path"],
            },
            "brand": {"id": uuid_text(row["brand_uid"]), "name": row["brand__name"]} if row["brand_uid"] else None,
            "supplier_id": uuid_text(row["supplier_uid"]),
            "tags": sorted(row["tag_slugs"].split(",")) if row["tag_slugs"] else [],
            "images": url.images(row["images_json"]),
            "created_at": datetime_text(row["created_at_t"]),
            "updated_at": datetime_text(row["updated_at_t"]),
            "deleted_at": datetime_text(row["deleted_at_t"]),
        }
        for row in rows
    ]
    return data, etag


def product_representation(product, request) -> dict | None:
    """One product (an instance or its id, soft-deleted ones included) exactly as the API shows it, as plain
    JSON types (what a webhook payload or a test compares); None when there is no such product. ``request``
    gives the site for absolute image URLs (anything with ``build_absolute_uri``)."""
    pk = getattr(product, "pk", product)
    rows = list(product_values(Product.all_objects.filter(pk=pk))[:1])
    if not rows:
        return None
    data, _etag = product_data(rows, request)
    return orjson.loads(dumps(data[0]))


class VariantOut(serializers.Serializer):
    spec = serializers.CharField()
    format = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    url = serializers.URLField()


class ImageOut(serializers.Serializer):
    id = serializers.UUIDField(help_text=gettext_lazy("The image asset's id."))
    position = serializers.IntegerField()
    alt_text = serializers.CharField()
    is_primary = serializers.BooleanField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    format = serializers.CharField()
    variants = VariantOut(many=True)


class CategoryRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    path = serializers.CharField()


class BrandRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ProductOut(serializers.Serializer):
    id = serializers.UUIDField()
    sku = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=ProductStatus.choices)
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    cost = serializers.DecimalField(max_digits=12, decimal_places=2)
    stock = serializers.IntegerField()
    low_stock_threshold = serializers.IntegerField()
    barcode = serializers.CharField()
    weight_grams = serializers.IntegerField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    category = CategoryRef()
    brand = BrandRef(allow_null=True)
    supplier_id = serializers.UUIDField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    images = ImageOut(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    deleted_at = serializers.DateTimeField(
        allow_null=True, help_text=gettext_lazy("Set on a tombstone (a deleted product, with include_deleted=true).")
    )


class ProductFilter(django_filters.FilterSet):
    status = ChoiceInFilter(field_name="status", choices=ProductStatus.choices)
    category = django_filters.UUIDFilter(method="filter_category")
    brand = django_filters.UUIDFilter(field_name="brand_id")
    updated_since = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    sku__in = django_filters.CharFilter(method="filter_sku_in", max_length=SKU_IN_MAX * 65)
    in_stock = django_filters.BooleanFilter(method="filter_in_stock")
    search = django_filters.CharFilter(method="filter_search", max_length=SEARCH_MAX)

    class Meta:
        model = Product
        fields: list = []

    def filter_category(self, queryset, name, value):
        category = Category.objects.filter(pk=value).values_list("path", flat=True).first()
        if category is None:
            return queryset.none()
        return queryset.filter(Q(category_id=value) | Q(category__path__startswith=category + PATH_SEPARATOR))

    def filter_sku_in(self, queryset, name, value):
        skus = [sku.strip().lower() for sku in value.split(",") if sku.strip()]
        if len(skus) > SKU_IN_MAX:
            raise ApiError(
                _("sku__in takes at most %(max)s SKUs.") % {"max": SKU_IN_MAX},
                errors=[{"field": "sku__in", "code": "max_items", "detail": _("Too many SKUs.")}],
            )
        return queryset.alias(sku_lower=Lower("sku")).filter(sku_lower__in=skus)

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(stock__gt=0) if value else queryset.filter(stock=0)

    def filter_search(self, queryset, name, value):
        return queryset.search(value)


def _bool_param(params, name: str) -> bool:
    raw = params.get(name, "false").lower()
    if raw in ("false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    raise ApiError(
        _("%(name)s must be true or false.") % {"name": name},
        errors=[{"field": name, "code": "invalid", "detail": _("Use true or false.")}],
    )


def filtered_products(request):
    params = request.query_params
    base = Product.all_objects.all() if _bool_param(params, "include_deleted") else Product.objects.all()
    return run_filterset(ProductFilter, request, base)


PRODUCT_FILTER_PARAMETERS = [
    OpenApiParameter(
        "status",
        {"type": "string", "pattern": choices_pattern(ProductStatus.choices)},
        description=gettext_lazy("Comma-separated statuses (draft, active, archived). Every status when absent."),
    ),
    OpenApiParameter(
        "category", OpenApiTypes.UUID, description=gettext_lazy("A category id; its descendants are included.")
    ),
    OpenApiParameter("brand", OpenApiTypes.UUID, description=gettext_lazy("A brand id.")),
    OpenApiParameter(
        "updated_since", OpenApiTypes.DATETIME, description=gettext_lazy("Products changed at or after this time.")
    ),
    OpenApiParameter(
        "sku__in",
        OpenApiTypes.STR,
        description=gettext_lazy("Comma-separated SKUs, ignoring case (at most 500)."),
    ),
    OpenApiParameter("in_stock", OpenApiTypes.BOOL, description=gettext_lazy("true: stock above 0; false: none.")),
    OpenApiParameter(
        "search", OpenApiTypes.STR, description=gettext_lazy("Exact SKU or barcode, else words of the name.")
    ),
    OpenApiParameter(
        "include_deleted",
        OpenApiTypes.BOOL,
        description=gettext_lazy("Add deleted products as tombstones (deleted_at set), so a sync learns of deletions."),
    ),
]


def _product_or_404(lookup: Q) -> dict:
    rows = list(product_values(Product.objects.filter(lookup))[:1])
    if not rows:
        raise exceptions.NotFound(_("No product matches."))
    return rows[0]


def _detail_response(request, row: dict, *, status: int = 200) -> Response:
    data, etag = product_data([row], request)
    return Response(data[0], status=status, headers={"ETag": etag})


# --- products: writing -------------------------------------------------------------------------------------


class ProductIn(StrictSerializer):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=255)
    slug = serializers.SlugField(max_length=280, required=False, allow_blank=True)
    description = serializers.CharField(max_length=20_000, required=False, allow_blank=True, trim_whitespace=False)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), pk_field=serializers.UUIDField())
    brand = serializers.PrimaryKeyRelatedField(
        queryset=Brand.objects.all(), pk_field=serializers.UUIDField(), allow_null=True, required=False
    )
    supplier = serializers.PrimaryKeyRelatedField(
        queryset=Supplier.objects.all(), pk_field=serializers.UUIDField(), allow_null=True, required=False
    )
    price = MoneyField()
    cost = MoneyField(required=False)
    low_stock_threshold = serializers.IntegerField(min_value=0, max_value=INT_MAX, required=False)
    status = serializers.ChoiceField(choices=ProductStatus.choices, required=False)
    barcode = serializers.CharField(max_length=14, required=False, allow_blank=True)
    weight_grams = serializers.IntegerField(min_value=0, max_value=INT_MAX, required=False, allow_null=True)
    published_at = serializers.DateTimeField(required=False, allow_null=True)
    tags = serializers.ListField(child=serializers.UUIDField(), max_length=100, required=False)
    images = serializers.ListField(
        child=serializers.UUIDField(),
        max_length=50,
        required=False,
        help_text=gettext_lazy("Ids of existing images, in order; the first becomes the primary one."),
    )
    opening_stock = serializers.IntegerField(min_value=0, max_value=STOCK_MAX, required=False, default=0)


class ProductPatch(ProductIn):
    images = None
    opening_stock = None

    def unknown_field_message(self, name: str) -> str:
        if name == "stock":
            return _("Stock changes go through POST /api/v1/stock/adjustments/, so the ledger records every unit.")
        return super().unknown_field_message(name)

    def __init__(self, *args, **kwargs):
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


def _resolve_many(model, ids: list, field: str) -> list:
    found = model.objects.in_bulk(ids)
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise ApiError(
            _("Unknown ids: %(ids)s.") % {"ids": ", ".join(missing[:10])},
            errors=[
                {
                    "field": field,
                    "code": "does_not_exist",
                    "detail": _("Unknown ids: %(ids)s.") % {"ids": ", ".join(missing[:10])},
                }
            ],
        )
    return [found[pk] for pk in dict.fromkeys(ids)]


def _model_fields(values: dict) -> dict:
    fields = dict(values)
    if "tags" in fields:
        fields["tags"] = _resolve_many(Tag, fields["tags"], "tags")
    return fields


PRODUCT_EXAMPLE = OpenApiExample(
    "A new product",
    value={
        "sku": "GARDEN-HOSE-25",
        "name": "Garden hose 25 m",
        "category": "0b9f5a5e-5d4c-4b7e-9d61-2f3c1a0e7b11",
        "price": "39.90",
        "status": "active",
        "opening_stock": 40,
    },
    request_only=True,
)


@extend_schema(tags=["catalog"])
class ProductList(ApiView):
    permission_classes = [CatalogReadWrite]

    @extend_schema(
        operation_id="products_list",
        parameters=[*PRODUCT_FILTER_PARAMETERS, *CURSOR_PARAMETERS, IF_NONE_MATCH],
        responses={200: page_of(ProductOut), 304: None},
        description=gettext_lazy(
            "Every product, paged by a keyset cursor on (updated_at, id): follow next_cursor until it is null. "
            "A sync keeps the last page's cursor, or the greatest updated_at it saw for updated_since."
        ),
    )
    def get(self, request):
        page = KeysetPage(request.query_params)
        if any(name in request.query_params for name in ProductFilter.base_filters):
            rows = list(product_values(page.paginate(filtered_products(request))))
        else:  # a sync's plain walk: the query compiled once per shape (backoffice.api.prepared)
            deleted = _bool_param(request.query_params, "include_deleted")
            manager = Product.all_objects if deleted else Product.objects
            rows = keyset_rows(
                page,
                Product,
                "with deleted" if deleted else "alive",
                lambda p: product_values(p.paginate(manager.all())),
            )
        rows = page.trim(rows)
        data, etag = product_data(rows, request)
        cached = not_modified(request, etag)
        if cached is not None:
            return cached
        return Response(page.envelope(request, data, rows, id_key="uid", text_suffix="_t"), headers={"ETag": etag})

    @extend_schema(
        operation_id="products_create",
        request=ProductIn,
        responses={201: ProductOut},
        examples=[PRODUCT_EXAMPLE],
        description=gettext_lazy(
            "Create a product through the catalogue's rules; opening stock goes through the ledger."
        ),
    )
    def post(self, request):
        data = require_json_object(request.data)
        serializer = ProductIn(data=data)
        serializer.is_valid(raise_exception=True)
        fields = _model_fields(serializer.validated_data)
        images = _resolve_many(_asset_model(), fields.pop("images", []), "images")
        opening_stock = fields.pop("opening_stock", 0)
        try:
            with self.acting():
                product = services.create_product(
                    opening_stock=opening_stock, images=images, user=self.acting_user, **fields
                )
        except DjangoValidationError as exc:
            raise from_django_validation(exc) from exc
        response = _detail_response(request, _product_or_404(Q(pk=product.pk)), status=201)
        response["Location"] = request.build_absolute_uri(f"/api/v1/products/{product.pk}/")
        return response


def _asset_model():
    from media_pipeline.models import ImageAsset

    return ImageAsset


@extend_schema(tags=["catalog"])
class ProductDetail(ApiView):
    permission_classes = [CatalogReadWrite]

    @extend_schema(operation_id="products_retrieve", parameters=[IF_NONE_MATCH], responses={200: ProductOut, 304: None})
    def get(self, request, pk):
        data, etag = product_data([_product_or_404(Q(pk=pk))], request)
        return not_modified(request, etag) or Response(data[0], headers={"ETag": etag})

    @extend_schema(
        operation_id="products_partial_update",
        request=ProductPatch,
        parameters=[IF_MATCH],
        responses={200: ProductOut},
        description=gettext_lazy(
            "Change only the fields sent. With If-Match (the ETag of a read), a product changed since is a 412."
        ),
    )
    def patch(self, request, pk):
        data = require_json_object(request.data)
        serializer = ProductPatch(data=data)
        serializer.is_valid(raise_exception=True)
        changes = _model_fields(serializer.validated_data)
        try:
            with self.acting(), transaction.atomic():
                product = get_object_or_404(Product.objects.select_for_update(), pk=pk)
                _data, etag = product_data([_product_or_404(Q(pk=pk))], request)
                check_if_match(request, etag)
                services.update_product(product, user=self.acting_user, **changes)
        except DjangoValidationError as exc:
            raise from_django_validation(exc) from exc
        return _detail_response(request, _product_or_404(Q(pk=pk)))


@extend_schema(tags=["catalog"])
class ProductBySku(ApiView):
    permission_classes = [CatalogRead]

    @extend_schema(operation_id="products_by_sku", parameters=[IF_NONE_MATCH], responses={200: ProductOut, 304: None})
    def get(self, request, sku):
        if "\x00" in sku or len(sku) > 64:
            raise exceptions.NotFound(_("No product matches."))
        data, etag = product_data([_product_or_404(Q(sku__iexact=sku))], request)
        return not_modified(request, etag) or Response(data[0], headers={"ETag": etag})


# --- stock -------------------------------------------------------------------------------------------------


@extend_schema_field({"type": "integer", "minimum": -STOCK_MAX, "maximum": STOCK_MAX, "not": {"enum": [0]}})
class StockDeltaField(serializers.IntegerField):
    pass


class AdjustmentIn(StrictSerializer):
    sku = serializers.CharField(max_length=64)
    delta = StockDeltaField(
        min_value=-STOCK_MAX, max_value=STOCK_MAX, required=False, help_text=gettext_lazy("A change, not zero.")
    )
    quantity = serializers.IntegerField(
        min_value=0, max_value=STOCK_MAX, required=False, help_text=gettext_lazy("The stock to set (a count).")
    )
    reason = serializers.ChoiceField(choices=StockReason.choices)
    reference = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")

    schema_extra = {"oneOf": [{"required": ["delta"]}, {"required": ["quantity"]}]}

    def validate(self, attrs):
        if ("delta" in attrs) == ("quantity" in attrs):
            raise serializers.ValidationError(_("Give exactly one of delta or quantity."), code="delta_or_quantity")
        if attrs.get("delta") == 0:
            raise serializers.ValidationError({"delta": _("A stock change cannot be zero.")}, code="zero_delta")
        return attrs


class AdjustmentsIn(StrictSerializer):
    adjustments = serializers.ListField(child=AdjustmentIn(), min_length=1, max_length=ADJUSTMENTS_MAX)


class AdjustmentResultOut(serializers.Serializer):
    sku = serializers.CharField()
    stock = serializers.IntegerField()
    movement_id = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("Null when nothing changed."))


class AdjustmentsOut(serializers.Serializer):
    results = AdjustmentResultOut(many=True)


@extend_schema(tags=["stock"])
class StockAdjustments(ApiView):
    permission_classes = [StockWrite]

    @extend_schema(
        operation_id="stock_adjustments_create",
        request=AdjustmentsIn,
        responses={200: AdjustmentsOut},
        examples=[
            OpenApiExample(
                "Goods received and a count",
                value={
                    "adjustments": [
                        {"sku": "GARDEN-HOSE-25", "delta": 24, "reason": "receipt", "reference": "PO-1042"},
                        {"sku": "RAKE-XL", "quantity": 7, "reason": "adjustment", "reference": "count 2026-11"},
                    ]
                },
                request_only=True,
            )
        ],
        description=gettext_lazy(
            "All lines or none. delta changes the stock; quantity sets it (the change is recorded in the ledger). "
            "A refused batch is a problem listing every failing line (adjustments[i].field)."
        ),
    )
    def post(self, request):
        serializer = AdjustmentsIn(data=require_json_object(request.data))
        serializer.is_valid(raise_exception=True)
        lines = serializer.validated_data["adjustments"]
        wanted = {line["sku"].lower() for line in lines}
        products = {
            p.sku.lower(): p
            for p in Product.objects.alias(sku_lower=Lower("sku")).filter(sku_lower__in=wanted).only("pk", "sku")
        }
        errors = [
            {"field": f"adjustments[{i}].sku", "code": "does_not_exist", "detail": _("No product has this SKU.")}
            for i, line in enumerate(lines)
            if line["sku"].lower() not in products
        ]
        if errors:
            raise ApiError(_("Some SKUs are unknown; nothing was changed."), errors=errors)
        with self.acting(), transaction.atomic():
            locked = {p.pk: p for p in lock_in_order(Product.objects.filter(pk__in=[p.pk for p in products.values()]))}
            stock = {pk: p.stock for pk, p in locked.items()}
            plan = []
            for i, line in enumerate(lines):
                product = locked[products[line["sku"].lower()].pk]
                delta = line["delta"] if "delta" in line else line["quantity"] - stock[product.pk]
                if stock[product.pk] + delta < 0:
                    errors.append(
                        {
                            "field": f"adjustments[{i}].delta",
                            "code": "insufficient_stock",
                            "detail": _(
                                "Not enough stock of %(sku)s: %(requested)s requested, %(available)s available."
                            )
                            % {"sku": product.sku, "requested": -delta, "available": stock[product.pk]},
                        }
                    )
                    continue
                stock[product.pk] += delta
                plan.append((product, delta, line))
            if errors:
                raise Unprocessable(_("Some lines cannot be applied; nothing was changed."), errors=errors)
            results = []
            try:
                for product, delta, line in plan:
                    movement = None
                    if delta:
                        movement = services.adjust_stock(
                            product, delta, reason=line["reason"], reference=line["reference"], user=self.acting_user
                        )
                    results.append(
                        {"sku": product.sku, "stock": product.stock, "movement_id": getattr(movement, "pk", None)}
                    )
            except DjangoValidationError as exc:
                raise from_django_validation(exc) from exc
        return Response({"results": results})


# Everything the catalogue adds to /api/v1/ (composed in backoffice/api/urls.py).
def urlpatterns():
    from django.urls import path

    return [
        path("categories/", CategoryList.as_view(), name="categories"),
        path("brands/", BrandList.as_view(), name="brands"),
        path("products/", ProductList.as_view(), name="products"),
        path("products/sku/<str:sku>/", ProductBySku.as_view(), name="product-by-sku"),
        path("products/<uuid:pk>/", ProductDetail.as_view(), name="product"),
        path("stock/adjustments/", StockAdjustments.as_view(), name="stock-adjustments"),
    ]
