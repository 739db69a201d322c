from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import TabularInline
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    RangeDateFilter,
    RangeDateTimeFilter,
    RangeNumericFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import action, display

from backoffice.admin_base import BaseModelAdmin
from backoffice.admin_bulk import BulkJobActionsMixin
from backoffice.admin_helpers import EMPTY, redirect_after_action, safe_next_url, status_label
from backoffice.admin_rendering import FastRowsMixin, label
from backoffice.changelists import PageThenAnnotateMixin
from backoffice.formatting import money_column
from backoffice.imports.admin import ImportExportAdminMixin
from backoffice.paginators import EstimatedCountPaginator
from catalog import services
from catalog.forms import PriceChangeForm, ProductAdminForm, StockAdjustmentForm, TagsForm
from catalog.models import Brand, Category, Product, ProductImage, StockMovement, Supplier, Tag
from catalog.querysets import count_of
from catalog.resources import BrandResource, CategoryResource, ProductResource, SupplierResource
from media_pipeline.widgets import AssetRawIdWidget, ImagePreviewInlineMixin, preview_tag

STATUS_COLOURS = {Product.Status.DRAFT: "info", Product.Status.ACTIVE: "success", Product.Status.ARCHIVED: None}
RECENT_MOVEMENTS = 10


# --- filters ---------------------------------------------------------------------------------


class DeletedFilter(admin.SimpleListFilter):
    """Deleted products are hidden unless asked for (then they can be restored)."""

    title = _("deleted")
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", _("Deleted only")), ("all", _("All, deleted too"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.deleted()
        if self.value() == "all":
            return queryset
        return queryset.alive()


class LowStockFilter(admin.SimpleListFilter):
    title = _("stock level")
    parameter_name = "low_stock"

    def lookups(self, request, model_admin):
        return [("yes", _("Low stock")), ("out", _("Out of stock"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.low_stock()
        if self.value() == "out":
            return queryset.filter(stock=0)
        return queryset


class HasImagesFilter(admin.SimpleListFilter):
    title = _("images")
    parameter_name = "has_images"

    def lookups(self, request, model_admin):
        return [("yes", _("With images")), ("no", _("Without images"))]

    def queryset(self, request, queryset):
        from django.db.models import Exists, OuterRef

        has = Exists(ProductImage.objects.filter(product=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(has)
        if self.value() == "no":
            return queryset.filter(~has)
        return queryset


# --- inlines -----------------------------------------------------------------------------------


class ProductImageInline(ImagePreviewInlineMixin, TabularInline):
    model = ProductImage
    fields = ["preview", "asset", "alt_text", "is_primary", "position"]
    readonly_fields = ["preview"]
    ordering_field = "position"
    hide_ordering_field = True
    extra = 0
    tab = True

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "asset":
            kwargs["widget"] = AssetRawIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- products ----------------------------------------------------------------------------------


@admin.register(Product)
class ProductAdmin(
    ImportExportAdminMixin,
    BulkJobActionsMixin,
    PageThenAnnotateMixin,
    FastRowsMixin,
    SimpleHistoryAdmin,
    BaseModelAdmin,
):
    resource_classes = [ProductResource]
    import_resources = ("catalog.product", "catalog.stock_levels")
    list_display = [
        "thumbnail",
        "sku",
        "name",
        "category_path",
        "brand",
        money_column("price", _("price")),
        "stock_badge",
        "status_badge",
        "image_count",
        "margin_pct",
        "stock_value",
        "last_movement",
    ]
    list_display_links = ["sku", "name"]
    list_select_related = ["category", "brand"]
    raw_id_fields = ["supplier", "related"]
    autocomplete_fields = ["category", "brand", "tags"]
    list_filter = [
        DeletedFilter,
        "status",
        ("category", AutocompleteSelectFilter),
        ("brand", RelatedDropdownFilter),
        ("price", RangeNumericFilter),
        ("stock", RangeNumericFilter),
        LowStockFilter,
        HasImagesFilter,
        ("created_at", RangeDateFilter),
    ]
    list_filter_submit = True
    search_fields = ["sku", "barcode", "name"]
    search_help_text = _("An exact SKU or barcode, or words of the name.")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    list_max_show_all = 500
    ordering = ["-created_at"]
    inlines = [ProductImageInline]
    actions = [
        "change_prices",
        "add_tags",
        "remove_tags",
        "activate",
        "archive",
        "regenerate_images",
        "soft_delete_selected",
        "restore_selected",
    ]
    actions_detail = ["adjust_stock"]
    actions_row = ["adjust_stock"]
    readonly_fields = ["margin", "units_sold", "last_sold_at", "recent_movements", "created_at", "updated_at"]
    fieldsets = [
        (
            _("General"),
            {"classes": ["tab"], "fields": ["sku", "name", "slug", "status", "description", "published_at"]},
        ),
        (_("Pricing"), {"classes": ["tab"], "fields": [("price", "cost"), "margin"]}),
        (
            _("Inventory"),
            {
                "classes": ["tab"],
                "fields": [
                    ("stock", "low_stock_threshold"),
                    ("barcode", "weight_grams"),
                    ("units_sold", "last_sold_at"),
                    "recent_movements",
                ],
            },
        ),
        (_("Media"), {"classes": ["tab"], "fields": ["upload_images"]}),
        (
            _("Relations"),
            {"classes": ["tab"], "fields": ["category", "brand", "supplier", "tags", "related"]},
        ),
        (_("Dates"), {"classes": ["tab"], "fields": ["created_at", "updated_at"]}),
    ]
    prepopulated_fields = {"slug": ["name"]}

    # --- queryset, search, form ---------------------------------------------------------------

    def get_queryset(self, request):
        # all_objects: the deleted filter decides; deleted rows stay reachable for restore.
        queryset = Product.all_objects.get_queryset()
        if request.resolver_match and request.resolver_match.url_name == "autocomplete":
            return queryset.alive()  # pickers elsewhere (order lines) never offer a deleted product
        return queryset

    def alias_columns(self, queryset):
        return queryset.with_admin_aliases()

    def annotate_page(self, queryset):
        return queryset.select_related(*self.list_select_related).with_admin_annotations()

    def get_search_results(self, request, queryset, search_term):
        return queryset.search(search_term), False

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("stock")  # changed only through "Adjust stock", so the ledger sees every change
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **{**kwargs, "form": ProductAdminForm})

        class RequestProductForm(form):
            user = request.user

        return RequestProductForm

    def save_model(self, request, obj, form, change):
        # Every write goes through catalog.services; the form only validated.
        # All the form's fields, not just changed_data: a history revert starts from the old values.
        # The service compares with the stored row and writes only what differs.
        fields = {
            name: form.cleaned_data[name]
            for name in services.PRODUCT_FIELDS | services.PRODUCT_M2M_FIELDS
            if name in form.cleaned_data
        }
        if change:
            saved = services.update_product(obj, user=request.user, **fields)
        else:
            saved = services.create_product(
                opening_stock=form.cleaned_data.get("stock") or 0, user=request.user, **fields
            )
        # The admin goes on with ``obj`` (log entry, inlines, redirect): make it the saved row.
        obj.__dict__.update(saved.__dict__)

    def save_related(self, request, form, formsets, change):
        # Tags and related products were set by the service. The image inline is saved first, so the
        # uploads are attached after the images it keeps (and become primary only if none of those is).
        # Photos are ingested only now, after the whole form passed: a refused form stores none.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        services.attach_images(form.instance, form.ingest_uploads())

    # --- columns -----------------------------------------------------------------------------

    @display(description=_("Image"))
    def thumbnail(self, obj: Product) -> str:
        return preview_tag(getattr(obj, "thumb_file", None), size=40, alt=obj.name)

    @display(description=_("Category"), ordering="category__path")
    def category_path(self, obj: Product) -> str:
        return obj.category.path

    @display(description=_("Stock"), ordering="stock")
    def stock_badge(self, obj: Product) -> str:
        text = number_format(obj.stock, force_grouping=True)
        if obj.stock == 0:
            return label(text, "danger")
        if obj.is_low_stock:
            return label(text, "warning")
        return text

    @display(description=_("Status"), ordering="status")
    def status_badge(self, obj: Product) -> str:
        if obj.deleted_at:
            return label(str(_("Deleted")), "danger")
        return status_label(obj, STATUS_COLOURS)

    @display(description=_("Images"), ordering="image_count")
    def image_count(self, obj: Product) -> int:
        return obj.image_count

    @display(description=_("Margin %"), ordering="margin_pct")
    def margin_pct(self, obj: Product) -> str:
        return EMPTY if obj.margin_pct is None else f"{number_format(obj.margin_pct, 1)} %"

    @display(description=_("Stock value"), ordering="stock_value")
    def stock_value(self, obj: Product) -> str:
        return number_format(obj.stock_value, 2, force_grouping=True)

    @display(description=_("Last movement"), ordering="last_movement_at")
    def last_movement(self, obj: Product) -> str:
        return date_format(obj.last_movement_at, "SHORT_DATETIME_FORMAT") if obj.last_movement_at else EMPTY

    @display(description=_("Latest stock movements"))
    def recent_movements(self, obj: Product) -> str:
        if obj is None or obj.pk is None:
            return EMPTY
        movements = obj.stock_movements.select_related("user", "job")[:RECENT_MOVEMENTS]
        if not movements:
            return _("No stock movements yet.")
        rows = format_html_join(
            "",
            "<tr><td class='pr-4'>{}</td><td class='pr-4 text-right font-mono'>{}</td>"
            "<td class='pr-4 text-right'>{}</td><td class='pr-4'>{}</td><td class='pr-4'>{}</td><td>{}</td></tr>",
            (
                (
                    date_format(m.created_at, "SHORT_DATETIME_FORMAT"),
                    f"{m.delta:+d}",
                    m.balance_after,
                    m.get_reason_display(),
                    m.reference or EMPTY,
                    m.user or (m.job and m.job.kind_label) or EMPTY,
                )
                for m in movements
            ),
        )
        url = reverse("admin:catalog_stockmovement_changelist") + f"?product__id__exact={obj.pk}"
        headings = format_html_join(
            "",
            "<th class='text-left pr-4'>{}</th>",
            ((h,) for h in (_("At"), _("Change"), _("Balance"), _("Reason"), _("Reference"), _("By"))),
        )
        return format_html(
            "<table class='text-sm'><thead><tr>{}</tr></thead><tbody>{}</tbody></table>"
            "<a class='text-primary-600 underline text-sm' href='{}'>{}</a>",
            headings,
            rows,
            url,
            _("All movements of this product"),
        )

    # --- actions -------------------------------------------------------------------------------

    @action(
        description=_("Adjust stock"),
        permissions=["change"],
        icon="inventory",
        url_path="adjust-stock",
        dialog={
            "title": _("Adjust stock"),
            "description": _("The change is written to the stock ledger with its reason."),
            "form_class": StockAdjustmentForm,
            "form_submit_text": _("Adjust"),
        },
    )
    def adjust_stock(self, request, form, object_id):
        product = get_object_or_404(Product, pk=object_id)
        data = form.cleaned_data
        try:
            movement = services.adjust_stock(
                product, data["delta"], reason=data["reason"], reference=data["reference"], user=request.user
            )
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                _("Stock of %(sku)s changed by %(delta)+d to %(balance)d.")
                % {"sku": product.sku, "delta": movement.delta, "balance": movement.balance_after},
            )
        return redirect_after_action(
            request, safe_next_url(request, request.headers.get("HX-Current-URL"), self._change_url(product))
        )

    @action(description=_("Change prices..."), permissions=["change"])
    def change_prices(self, request, queryset):
        def preview(form):
            return services.price_change_preview(queryset, **form.job_params())

        return self._bulk_form_action(
            request,
            queryset,
            form_class=PriceChangeForm,
            kind="catalog.change_prices",
            title=_("Change prices"),
            submit_label=_("Change prices"),
            params=lambda form: form.job_params(),
            preview=preview,
        )

    @action(description=_("Add tags..."), permissions=["change"])
    def add_tags(self, request, queryset):
        return self._bulk_form_action(
            request,
            queryset,
            form_class=TagsForm,
            kind="catalog.add_tags",
            title=_("Add tags"),
            submit_label=_("Add tags"),
            params=lambda form: {"tag_ids": [str(t.pk) for t in form.cleaned_data["tags"]]},
        )

    @action(description=_("Remove tags..."), permissions=["change"])
    def remove_tags(self, request, queryset):
        return self._bulk_form_action(
            request,
            queryset,
            form_class=TagsForm,
            kind="catalog.remove_tags",
            title=_("Remove tags"),
            submit_label=_("Remove tags"),
            params=lambda form: {"tag_ids": [str(t.pk) for t in form.cleaned_data["tags"]]},
        )

    @action(description=_("Activate"), permissions=["change"])
    def activate(self, request, queryset):
        self._start(request, "catalog.set_status", queryset, {"status": Product.Status.ACTIVE})

    @action(description=_("Archive"), permissions=["change"])
    def archive(self, request, queryset):
        self._start(request, "catalog.set_status", queryset, {"status": Product.Status.ARCHIVED})

    @action(description=_("Regenerate images"), permissions=["change"])
    def regenerate_images(self, request, queryset):
        self._start(request, "catalog.regenerate_images", queryset, {})

    @action(description=_("Delete selected products"), permissions=["delete"])
    def soft_delete_selected(self, request, queryset):
        self._start(request, "catalog.soft_delete", queryset.alive(), {})

    @action(description=_("Restore selected products"), permissions=["change"])
    def restore_selected(self, request, queryset):
        self._start(request, "catalog.restore", queryset.deleted(), {})

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # products are soft-deleted, through a job
        return actions

    def has_delete_permission(self, request, obj=None):
        # The delete view would remove rows for good; soft delete is the bulk action above.
        return obj is None and super().has_delete_permission(request, obj)

    # --- helpers ---------------------------------------------------------------------------------

    def _change_url(self, product) -> str:
        return reverse("admin:catalog_product_change", args=[product.pk])


# --- reference data ------------------------------------------------------------------------------


class ProductCountMixin:
    """Reference data: a sortable product count per row (one correlated subquery per row of the
    page), and saves through catalog.services."""

    product_count_field = ""

    def save_model(self, request, obj, form, change):
        services.save_reference(obj, user=request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        related = Product.objects.filter(**{self.product_count_field: OuterRef("pk")})
        return queryset.annotate(product_count=count_of(related, self.product_count_field))

    @display(description=_("Products"), ordering="product_count")
    def product_count(self, obj) -> str:
        return number_format(obj.product_count, force_grouping=True)


@admin.register(Category)
class CategoryAdmin(ImportExportAdminMixin, ProductCountMixin, SimpleHistoryAdmin, BaseModelAdmin):
    resource_classes = [CategoryResource]
    import_resources = ("catalog.category",)
    product_count_field = "category"
    list_display = ["tree_name", "path", "product_count", "active", "position"]
    list_filter = ["active", "depth"]
    search_fields = ["name", "path", "slug"]
    ordering = ["path"]
    list_per_page = 100
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "parent", "position", "active", "path"]
    readonly_fields = ["path"]

    @display(description=_("Name"), ordering="path")
    def tree_name(self, obj: Category) -> str:
        return format_html('<span style="padding-left:{}rem">{}</span>', obj.depth * 1.25, obj.name)

    def save_model(self, request, obj, form, change):
        services.save_category(obj, user=request.user)  # the form has refused cycles already

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class CategoryForm(form):
            def clean(self):
                cleaned = super().clean()
                if obj is not None:
                    try:
                        services.check_parent(obj, cleaned.get("parent"))
                    except ValidationError as exc:
                        self.add_error(None, exc)
                return cleaned

        return CategoryForm


@admin.register(Brand)
class BrandAdmin(ImportExportAdminMixin, ProductCountMixin, SimpleHistoryAdmin, BaseModelAdmin):
    resource_classes = [BrandResource]
    import_resources = ("catalog.brand",)
    product_count_field = "brand"
    list_display = ["name", "slug", "website", "product_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Supplier)
class SupplierAdmin(ImportExportAdminMixin, ProductCountMixin, SimpleHistoryAdmin, BaseModelAdmin):
    resource_classes = [SupplierResource]
    import_resources = ("catalog.supplier",)
    product_count_field = "supplier"
    list_display = ["code", "name", "contact_name", "email", "phone", "lead_time_days", "product_count"]
    search_fields = ["code", "name", "contact_name", "email"]


@admin.register(Tag)
class TagAdmin(ProductCountMixin, SimpleHistoryAdmin, BaseModelAdmin):
    product_count_field = "tags"
    list_display = ["name", "slug", "product_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(StockMovement)
class StockMovementAdmin(BaseModelAdmin):
    list_display = ["created_at", "product", "delta_display", "balance_after", "reason", "reference", "author"]
    list_filter = ["reason", ("created_at", RangeDateTimeFilter)]
    list_filter_submit = True
    url_lookups = ["product__id__exact"]  # "All movements of this product" on the product page
    list_select_related = ["product", "user", "job"]
    search_fields = ["=product__sku", "reference"]
    raw_id_fields = ["product"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 100

    def has_add_permission(self, request):
        return False  # the ledger is written by catalog.services only

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description=_("Change"), ordering="delta")
    def delta_display(self, obj: StockMovement) -> str:
        return f"{obj.delta:+d}"

    @display(description=_("By"))
    def author(self, obj: StockMovement) -> str:
        if obj.job_id:
            return format_html(
                '<a href="{}">{}</a>', reverse("admin:backoffice_job_change", args=[obj.job_id]), obj.job
            )
        return str(obj.user or EMPTY)
