"""Import/export resources of the catalogue (django-import-export). They write only through catalog.services.

- ``ProductResource``: keyed by SKU ignoring case; category by path or slug, brand by name or slug, supplier by
  code or name, tags by names; ``stock`` is the new quantity, moved through the ledger (reason ``import``).
- ``StockLevelResource``: SKU plus exactly one of ``quantity`` (the new stock) or ``delta``.
- ``CategoryResource`` (by slug), ``BrandResource`` (by name), ``SupplierResource`` (by code).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.db.models.functions import Lower
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields

from backoffice.imports import register
from backoffice.imports.resources import ServiceResource
from backoffice.imports.text import (
    BooleanWidget,
    DateTimeWidget,
    DecimalWidget,
    IntegerWidget,
    LookupWidget,
    NamesWidget,
    TextWidget,
    is_blank,
    unescape_formula,
)
from catalog import services
from catalog.models import Brand, Category, Product, StockMovement, Supplier, Tag


def _lower_in(queryset, field: str, keys):
    return queryset.annotate(_key=Lower(field)).filter(_key__in=list(keys))


# --- products ---------------------------------------------------------------------------------------------

_CHECKED_FIELDS = {
    name: Product._meta.get_field(name)
    for name in services.PRODUCT_FIELDS
    if name not in ("stock", "margin", "category", "brand", "supplier")
}


class ProductResource(ServiceResource):
    sku = fields.Field(attribute="sku", column_name="sku", widget=TextWidget())
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    description = fields.Field(attribute="description", column_name="description", widget=TextWidget())
    status = fields.Field(attribute="status", column_name="status", widget=TextWidget())
    category = fields.Field(
        attribute="category",
        column_name="category",
        widget=LookupWidget(Category, fields=("path", "slug"), render_field="path"),
    )
    brand = fields.Field(
        attribute="brand", column_name="brand", widget=LookupWidget(Brand, fields=("name", "slug"), render_field="name")
    )
    supplier = fields.Field(
        attribute="supplier",
        column_name="supplier",
        widget=LookupWidget(Supplier, fields=("code", "name"), render_field="code"),
    )
    tags = fields.Field(attribute="tags", column_name="tags", widget=NamesWidget(Tag))
    price = fields.Field(attribute="price", column_name="price", widget=DecimalWidget())
    cost = fields.Field(attribute="cost", column_name="cost", widget=DecimalWidget())
    stock = fields.Field(attribute="stock", column_name="stock", widget=IntegerWidget())
    low_stock_threshold = fields.Field(
        attribute="low_stock_threshold", column_name="low_stock_threshold", widget=IntegerWidget()
    )
    barcode = fields.Field(attribute="barcode", column_name="barcode", widget=TextWidget())
    weight_grams = fields.Field(attribute="weight_grams", column_name="weight_grams", widget=IntegerWidget())
    published_at = fields.Field(attribute="published_at", column_name="published_at", widget=DateTimeWidget())
    updated_at = fields.Field(attribute="updated_at", column_name="updated_at", widget=DateTimeWidget(), readonly=True)

    key = "sku"
    export_only = ("updated_at",)
    example_rows = [
        {
            "sku": "EX-0001",
            "name": "Example mug",
            "description": "Stoneware, 300 ml",
            "status": "draft",
            "category": "Kitchen / Mugs",
            "brand": "",
            "supplier": "",
            "tags": "",
            "price": "12.90",
            "cost": "4.10",
            "stock": "25",
            "low_stock_threshold": "5",
            "barcode": "",
            "weight_grams": "350",
            "published_at": "",
        }
    ]

    class Meta:
        model = Product
        fields = (
            "sku",
            "name",
            "description",
            "status",
            "category",
            "brand",
            "supplier",
            "tags",
            "price",
            "cost",
            "stock",
            "low_stock_threshold",
            "barcode",
            "weight_grams",
            "published_at",
            "updated_at",
        )
        export_order = fields
        import_id_fields = ("sku",)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._checked: dict = {}  # (field, type, value) -> the errors of the field's rules for it

    def get_queryset(self):
        return Product.objects.select_related("category", "brand", "supplier").prefetch_related("tags")

    def existing(self, keys):
        found = _lower_in(Product.objects.select_related("category", "brand", "supplier"), "sku", keys)
        if self.file_columns is None or "tags" in self.file_columns:
            # Prefetching costs as much as the rest of the look-up: only when the file has tags.
            found = found.prefetch_related(Prefetch("tags", queryset=Tag.objects.only("pk", "name")))
        return {product.sku.lower(): product for product in found}

    def clean_row(self, row, instance):
        if "sku" in row:
            row = {**row, "sku": unescape_formula(str(row["sku"])).strip()}
        return super().clean_row(row, instance)

    def validate(self, values, instance):
        errors = []
        stock = values.get("stock")
        if stock is not None and stock < 0:
            errors.append(("stock", _("Stock cannot be negative.")))
        if instance is None:
            for required in ("name", "category", "price"):
                if is_blank(values.get(required)):
                    errors.append((required, _("A new product needs a %(column)s.") % {"column": required}))
            if errors:
                return errors
        problems: dict[str, list] = {}
        for name, value in values.items():
            if name in ("description", "barcode") and value is None:
                value = ""
            self._check_field(name, value, problems)
        if instance is None and is_blank(values.get("slug")) and values.get("name"):
            slug = slugify(values["name"])[:280] or slugify(values.get("sku") or "")[:280]
            self._check_field("slug", slug, problems)
        if problems:
            errors.extend(self.errors_by_column(ValidationError(problems)))
        return errors

    def _check_field(self, name: str, value, problems: dict) -> None:
        """The model field's own rules (type, length, choices, validators) for a value the row sets, as
        ``full_clean`` would check them, without building a model instance per row. Relations were found by
        the lookup widgets (the database's foreign keys guard the write) and stock moves through the ledger."""
        field = _CHECKED_FIELDS.get(name)
        if field is None or (field.blank and value in field.empty_values):
            return
        try:
            # Equal decimals may differ in places ("12.5", "12.500"): the digits are part of the key.
            key = (name, type(value), str(value) if isinstance(value, Decimal) else value)
            known = self._checked.get(key)
        except TypeError:  # not hashable: checked every time
            key = known = None
        if known is None:
            try:
                field.clean(value, None)
                known = ()
            except ValidationError as exc:
                known = tuple(exc.error_list)
            if key is not None and len(self._checked) < 100_000:  # prices, statuses repeat; names do not
                self._checked[key] = known
        if known:
            problems[name] = list(known)

    def apply(self, instance, values, *, user, batch):
        changes = {k: v for k, v in values.items() if k != "stock" and (instance is None or k != "sku")}
        if instance is None:
            changes = {k: v for k, v in changes.items() if v is not None or k in ("brand", "supplier")}
            product = services.create_product(user=user, **self._service_values(changes))
            current = 0
        else:
            changed = {k: v for k, v in changes.items() if not self.same(k, self.current_value(instance, k), v)}
            product = (
                services.update_product(instance, user=user, **self._service_values(changed)) if changed else instance
            )
            current = instance.stock
        target = values.get("stock")
        if target is not None and target != current:
            services.adjust_stock(
                product, target - current, reason=StockMovement.Reason.IMPORT, reference=_import_reference(batch)
            )
        return product

    @staticmethod
    def _service_values(values):
        out = {}
        for name, value in values.items():
            if name in ("description", "barcode") and value is None:
                value = ""
            if name == "status" and not value:
                continue
            out[name] = value
        return out

    def apply_bulk(self, rows, *, user, batch):
        return services.import_products(
            ((instance, values) for _n, _s, _k, instance, values, _c, _e in rows), user=user, batch=batch
        )


def _import_reference(batch) -> str:
    return str(_("Import %(id)s") % {"id": str(getattr(batch, "pk", batch))[:8]})


# --- stock levels --------------------------------------------------------------------------------------------


class StockLevelResource(ServiceResource):
    sku = fields.Field(attribute="sku", column_name="sku", widget=TextWidget())
    quantity = fields.Field(attribute="stock", column_name="quantity", widget=IntegerWidget())
    delta = fields.Field(attribute="delta", column_name="delta", widget=IntegerWidget())

    key = "sku"
    example_rows = [
        {"sku": "EX-0001", "quantity": "40", "delta": ""},
        {"sku": "EX-0002", "quantity": "", "delta": "-5"},
    ]

    class Meta:
        model = Product
        fields = ("sku", "quantity", "delta")
        import_id_fields = ("sku",)

    def get_export_fields(self, selected_fields=None):
        return [field for field in super().get_export_fields(selected_fields) if field.attribute != "delta"]

    def current_value(self, instance, attribute):
        if attribute == "delta":
            return 0
        return super().current_value(instance, attribute)

    def existing(self, keys):
        return {product.sku.lower(): product for product in _lower_in(Product.objects.all(), "sku", keys)}

    def validate(self, values, instance):
        quantity, delta = values.get("stock"), values.get("delta")
        if instance is None:
            return [("sku", _("No product has this SKU; the stock-levels import changes existing products only."))]
        if (quantity is None) == (delta is None):
            return [("", _("Fill in exactly one of quantity (the new stock) or delta (the change)."))]
        new = quantity if quantity is not None else instance.stock + delta
        if new < 0:
            return [
                (
                    "quantity" if quantity is not None else "delta",
                    _("Stock would become %(stock)s; it cannot go below zero.") % {"stock": new},
                )
            ]
        return []

    def diff(self, instance, values):
        if instance is None:
            return {}
        quantity, delta = values.get("stock"), values.get("delta")
        new = quantity if quantity is not None else instance.stock + (delta or 0)
        return {} if new == instance.stock else {"stock": [str(instance.stock), str(new)]}

    def apply(self, instance, values, *, user, batch):
        quantity, delta = values.get("stock"), values.get("delta")
        change = (quantity - instance.stock) if quantity is not None else delta
        if change:
            services.adjust_stock(
                instance, change, reason=StockMovement.Reason.IMPORT, reference=_import_reference(batch), user=user
            )
        return instance


# --- reference data ------------------------------------------------------------------------------------------


class _ReferenceResource(ServiceResource):
    model_fields: tuple[str, ...] = ()

    def existing(self, keys):
        model = self._meta.model
        attribute = self.fields[self.key].attribute
        return {str(getattr(obj, attribute)).lower(): obj for obj in _lower_in(model.objects.all(), attribute, keys)}

    def build(self, instance, values):
        model = self._meta.model
        obj = model() if instance is None else model.objects.get(pk=instance.pk)
        for name, value in values.items():
            setattr(obj, name, "" if value is None and isinstance(getattr(obj, name, ""), str) else value)
        if hasattr(obj, "slug") and not obj.slug:
            obj.slug = slugify(getattr(obj, "name", "") or "")[:140]
        return obj

    def validate(self, values, instance):
        obj = self.build(instance, values)
        try:
            obj.full_clean(exclude=["path", "depth"])
        except ValidationError as exc:
            return self.errors_by_column(exc)
        return []

    def apply(self, instance, values, *, user, batch):
        return services.save_reference(self.build(instance, values), user=user)


class CategoryResource(_ReferenceResource):
    slug = fields.Field(attribute="slug", column_name="slug", widget=TextWidget())
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    parent = fields.Field(
        attribute="parent",
        column_name="parent",
        widget=LookupWidget(Category, fields=("path", "slug"), render_field="path"),
    )
    position = fields.Field(attribute="position", column_name="position", widget=IntegerWidget())
    active = fields.Field(attribute="active", column_name="active", widget=BooleanWidget())
    path = fields.Field(attribute="path", column_name="path", widget=TextWidget(), readonly=True)

    key = "slug"
    export_only = ("path",)
    example_rows = [{"slug": "mugs", "name": "Mugs", "parent": "Kitchen", "position": "0", "active": "1"}]

    class Meta:
        model = Category
        fields = ("slug", "name", "parent", "position", "active", "path")
        export_order = fields
        import_id_fields = ("slug",)

    def validate(self, values, instance):
        errors = super().validate(values, instance)
        parent = values.get("parent")
        if instance is not None and parent is not None:
            try:
                services.check_parent(instance, parent)
            except ValidationError as exc:
                errors.extend(self.errors_by_column(exc))
        return errors

    def apply(self, instance, values, *, user, batch):
        return services.save_category(self.build(instance, values), user=user)


class BrandResource(_ReferenceResource):
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    slug = fields.Field(attribute="slug", column_name="slug", widget=TextWidget())
    website = fields.Field(attribute="website", column_name="website", widget=TextWidget())

    key = "name"
    example_rows = [{"name": "Example Brand", "slug": "example-brand", "website": "https://example.com"}]

    class Meta:
        model = Brand
        fields = ("name", "slug", "website")
        export_order = fields
        import_id_fields = ("name",)


class SupplierResource(_ReferenceResource):
    code = fields.Field(attribute="code", column_name="code", widget=TextWidget())
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    contact_name = fields.Field(attribute="contact_name", column_name="contact_name", widget=TextWidget())
    email = fields.Field(attribute="email", column_name="email", widget=TextWidget())
    phone = fields.Field(attribute="phone", column_name="phone", widget=TextWidget())
    lead_time_days = fields.Field(attribute="lead_time_days", column_name="lead_time_days", widget=IntegerWidget())

    key = "code"
    example_rows = [
        {"code": "SUP0001", "name": "Example GmbH", "email": "orders@example.com", "phone": "+49 30 1234567"}
    ]

    class Meta:
        model = Supplier
        fields = ("code", "name", "contact_name", "email", "phone", "lead_time_days")
        export_order = fields
        import_id_fields = ("code",)


# --- registration (the undo handlers live in catalog.imports) ---------------------------------------------------


def _register() -> None:
    from catalog import imports as undo

    register(
        "catalog.product",
        label=gettext_lazy("Products"),
        model="catalog.Product",
        resource="catalog.resources.ProductResource",
        undo=undo.undo_products,
    )
    register(
        "catalog.stock_levels",
        label=gettext_lazy("Stock levels"),
        model="catalog.Product",
        resource="catalog.resources.StockLevelResource",
        undo=undo.undo_products,
    )
    register(
        "catalog.category",
        label=gettext_lazy("Categories"),
        model="catalog.Category",
        resource="catalog.resources.CategoryResource",
        undo=undo.undo_references(Category, services.save_category),
    )
    register(
        "catalog.brand",
        label=gettext_lazy("Brands"),
        model="catalog.Brand",
        resource="catalog.resources.BrandResource",
        undo=undo.undo_references(Brand, services.save_reference),
    )
    register(
        "catalog.supplier",
        label=gettext_lazy("Suppliers"),
        model="catalog.Supplier",
        resource="catalog.resources.SupplierResource",
        undo=undo.undo_references(Supplier, services.save_reference),
    )


_register()
