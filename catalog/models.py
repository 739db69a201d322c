from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from backoffice.history import history_records
from backoffice.models import AliveManager, BaseModel, SoftDeleteModel
from catalog.choices import ProductStatus, StockReason
from catalog.querysets import CategoryQuerySet, ProductQuerySet
from catalog.validators import validate_barcode

PATH_SEPARATOR = " / "


class Category(BaseModel):
    """A node of the category tree. ``path`` (names from the root) is kept up to date by the services,
    so the admin shows and sorts full paths without walking the tree."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=140, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    path = models.CharField(_("path"), max_length=1000, editable=False, db_index=True)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)

    objects = CategoryQuerySet.as_manager()
    history = history_records(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_per_parent"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.path or self.name


class Brand(BaseModel):
    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=140, unique=True)
    website = models.URLField(_("website"), blank=True)

    history = history_records(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Supplier(BaseModel):
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    contact_name = models.CharField(_("contact"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=7)

    history = history_records(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Tag(BaseModel):
    name = models.CharField(_("name"), max_length=60, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)

    history = history_records(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(SoftDeleteModel):
    Status = ProductStatus

    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=255)
    slug = models.SlugField(_("slug"), max_length=280)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="products"
    )
    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    supplier = models.ForeignKey(
        Supplier,
        verbose_name=_("supplier"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="products",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="products")
    related = models.ManyToManyField("self", verbose_name=_("related products"), blank=True, symmetrical=False)
    price = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    cost = models.DecimalField(
        _("cost"), max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    margin = models.GeneratedField(
        expression=F("price") - F("cost"),
        output_field=models.DecimalField(max_digits=13, decimal_places=2),
        db_persist=True,
        verbose_name=_("margin"),
    )
    stock = models.IntegerField(_("stock"), default=0, validators=[MinValueValidator(0)])
    low_stock_threshold = models.PositiveIntegerField(_("low-stock threshold"), default=5)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    barcode = models.CharField(_("barcode"), max_length=14, blank=True, validators=[validate_barcode])
    weight_grams = models.PositiveIntegerField(_("weight (g)"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Maintained by the orders app through catalog.services.record_sale / restock_sale.
    units_sold = models.PositiveIntegerField(_("units sold"), default=0, editable=False)
    last_sold_at = models.DateTimeField(_("last sold at"), null=True, blank=True, editable=False)

    objects = AliveManager.from_queryset(ProductQuerySet)()
    all_objects = models.Manager.from_queryset(ProductQuerySet)()
    history = history_records(excluded_fields=["updated_at", "margin"], m2m_fields=[tags])

    class Meta(SoftDeleteModel.Meta):
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["-created_at"]
        constraints = [
            # Case-insensitive among live products: "ab-1" and "AB-1" are one article to a warehouse.
            models.UniqueConstraint(
                Lower("sku"),
                condition=Q(deleted_at__isnull=True),
                name="product_sku_unique_alive_ci",
                violation_error_message=_("Another product already uses this SKU."),
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="product_cost_not_negative"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_not_negative"),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="product_status_created"),
            models.Index(fields=["category", "status"], name="product_category_status"),
            models.Index(fields=["brand", "status"], name="product_brand_status"),
            models.Index(fields=["price"], name="product_price"),
            models.Index(fields=["stock"], name="product_stock"),
            models.Index(fields=["name"], name="product_name"),
            models.Index(fields=["barcode"], name="product_barcode"),
            models.Index(fields=["margin"], name="product_margin"),
            # The API's keyset cursor: pages in (updated_at, id) order, ties included, without sorting.
            models.Index(fields=["updated_at", "id"], name="product_updated_id"),
            # The admin sorts by stock value; matching the expression lets a sort of a million rows stop
            # after one page.
            models.Index(F("stock") * F("cost"), name="product_stock_value"),
            # Low stock is a small share of the catalogue: this index holds only those rows, by status.
            models.Index(
                fields=["status", "stock"], condition=Q(stock__lte=F("low_stock_threshold")), name="product_low_stock"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def is_low_stock(self) -> bool:
        return self.stock <= self.low_stock_threshold


# The product fields a writer (admin, import, API) may set. Stock moves only through the ledger, and
# the sales counters only through sales.
PRODUCT_WRITABLE_FIELDS = (
    "sku",
    "name",
    "slug",
    "description",
    "category",
    "brand",
    "supplier",
    "price",
    "cost",
    "low_stock_threshold",
    "status",
    "barcode",
    "weight_grams",
    "published_at",
)


class ProductImage(BaseModel):
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="images")
    asset = models.ForeignKey(
        "media_pipeline.ImageAsset", verbose_name=_("image"), on_delete=models.PROTECT, related_name="product_images"
    )
    position = models.PositiveIntegerField(_("position"), default=0, db_index=True)
    alt_text = models.CharField(_("alt text"), max_length=255, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    history = history_records(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["position", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["product"], condition=Q(is_primary=True), name="productimage_one_primary_per_product"
            ),
            models.UniqueConstraint(fields=["product", "asset"], name="productimage_asset_once_per_product"),
        ]
        indexes = [models.Index(fields=["product", "-is_primary", "position"], name="productimage_product_order")]

    def __str__(self) -> str:
        return self.alt_text or str(self.asset)


class StockMovement(models.Model):
    """Append-only stock ledger: every change of a product's stock, with its reason and author.

    It is its own audit trail (rows are never changed), so it keeps no separate history.
    """

    Reason = StockReason

    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="stock_movements"
    )
    delta = models.IntegerField(_("change"))
    balance_after = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL
    )
    job = models.ForeignKey(
        "backoffice.Job", verbose_name=_("job"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Ids, like the history columns of the same name (backoffice.history.ActorHistory).
    api_key_id = models.UUIDField(_("integration key"), null=True, blank=True)
    import_batch_id = models.UUIDField(_("import batch"), null=True, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["product", "-id"], name="stockmovement_product_latest"),
            models.Index(fields=["reason", "-id"], name="stockmovement_reason"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="stockmovement_delta_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="stockmovement_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.get_reason_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Stock movements are append-only.")
        super().save(*args, **kwargs)
