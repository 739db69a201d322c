from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import TabularInline
from unfold.contrib.filters.admin import RangeDateTimeFilter, RangeNumericFilter
from unfold.decorators import action, display

from backoffice.admin_base import BaseModelAdmin
from backoffice.admin_bulk import BulkJobActionsMixin
from backoffice.admin_helpers import EMPTY, redirect_after_action, status_label
from backoffice.admin_rendering import FastRowsMixin
from backoffice.changelists import PageThenAnnotateMixin
from backoffice.formatting import money_column
from backoffice.imports.admin import ImportExportAdminMixin
from backoffice.paginators import EstimatedCountPaginator
from orders import services
from orders.addresses import format_address
from orders.forms import CustomerAdminForm, LineFormSet, PlaceOrderForm, ShipDialogForm, ShipForm
from orders.models import Customer, Notification, Order, OrderLine
from orders.resources import CustomerResource, OrderResource

# The total grouped per language with its currency (1.234,50 EUR in German; backoffice/formatting.py).
ORDER_TOTAL = money_column("total", _("total"), "currency")

STATUS_COLOURS = {
    Order.Status.PENDING: "info",
    Order.Status.PAID: "primary",
    Order.Status.PROCESSING: "primary",
    Order.Status.SHIPPED: "warning",
    Order.Status.DELIVERED: "success",
    Order.Status.CANCELLED: None,
    Order.Status.RETURNED: "danger",
}


class HasTrackingFilter(admin.SimpleListFilter):
    title = _("tracking")
    parameter_name = "has_tracking"

    def lookups(self, request, model_admin):
        return [("yes", _("With tracking number")), ("no", _("Without tracking number"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(tracking_number="")
        if self.value() == "no":
            return queryset.filter(tracking_number="")
        return queryset


class OrderLineInline(TabularInline):
    model = OrderLine
    fields = ["sku", "name", "product", "unit_price", "quantity", "line_total"]
    readonly_fields = fields  # snapshots of the moment the order was placed
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(
    ImportExportAdminMixin,
    BulkJobActionsMixin,
    PageThenAnnotateMixin,
    FastRowsMixin,
    SimpleHistoryAdmin,
    BaseModelAdmin,
):
    resource_classes = [OrderResource]  # export only: one row per order line
    list_before_template = "live/new_orders.html"  # "N new orders: refresh", filled by the live script
    list_display = ["number", "customer", "status_badge", "line_count", "units", ORDER_TOTAL, "placed_at", "source"]
    list_select_related = ["customer"]
    list_filter = [
        "status",
        ("placed_at", RangeDateTimeFilter),
        ("total", RangeNumericFilter),
        "source",
        HasTrackingFilter,
    ]
    list_filter_submit = True
    search_fields = ["number", "external_ref", "customer__email", "customer__name"]
    search_help_text = _("Order number, external reference, customer email or name.")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    ordering = ["-placed_at"]
    autocomplete_fields = ["customer"]
    inlines = [OrderLineInline]
    actions = ["mark_paid_selected", "ship_selected", "cancel_selected"]
    actions_detail = ["mark_paid", "ship", "deliver", "cancel", "packing_slip_link"]
    fieldsets = [
        (None, {"fields": ["number", "status_badge", "customer", "source", "external_ref"]}),
        (_("Amounts"), {"fields": [("subtotal", "discount"), ("shipping", "tax"), "total", "currency"]}),
        (
            _("Shipping"),
            {"fields": ["carrier", "tracking_number", "shipping_address_display", "billing_address_display"]},
        ),
        (_("Timeline"), {"fields": ["timeline"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = [f.name for f in Order._meta.fields if f.name != "customer"]
        fields += ["status_badge", "timeline", "shipping_address_display", "billing_address_display"]
        if obj is not None and obj.status != Order.Status.PENDING:
            fields.append("customer")  # a placed order keeps its customer once paid
        return fields

    def alias_columns(self, queryset):
        return queryset.with_line_aliases()

    def annotate_page(self, queryset):
        return queryset.select_related("customer").with_line_stats()

    def get_search_results(self, request, queryset, search_term):
        return queryset.search(search_term), False

    def has_delete_permission(self, request, obj=None):
        return False  # orders are cancelled, never deleted

    def save_model(self, request, obj, form, change):
        # The only editable field is the customer of a pending order (see get_readonly_fields).
        if "customer" in form.cleaned_data:
            saved = services.change_customer(obj, form.cleaned_data["customer"], user=request.user)
            obj.__dict__.update(saved.__dict__)

    def revert_disabled(self, request, obj=None):
        return True  # an order moves only through transition(); reverting history would bypass stock rules

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied  # the hidden revert button must not be reachable by a crafted POST
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_urls(self):
        return [
            path("place/", self.admin_site.admin_view(self.place_order_view), name="orders_order_place"),
            path(
                "<uuid:object_id>/packing-slip/",
                self.admin_site.admin_view(self.packing_slip_view),
                name="orders_order_packing_slip",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:orders_order_place")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Orders are added through the place-order page, never after saving another order's customer.
        extra_context = {**(extra_context or {}), "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, extra_context)

    # --- columns -------------------------------------------------------------------------------

    @display(description=_("Status"), ordering="status")
    def status_badge(self, obj: Order) -> str:
        return status_label(obj, STATUS_COLOURS)

    @display(description=_("Shipping address"))
    def shipping_address_display(self, obj: Order) -> str:
        return format_address(obj.shipping_address) or EMPTY

    @display(description=_("Billing address"))
    def billing_address_display(self, obj: Order) -> str:
        return format_address(obj.billing_address) or EMPTY

    @display(description=_("Lines"), ordering="line_count")
    def line_count(self, obj: Order) -> int:
        return obj.line_count

    @display(description=_("Units"), ordering="units")
    def units(self, obj: Order) -> int:
        return obj.units

    @display(description=_("Timeline"))
    def timeline(self, obj: Order) -> str:
        if obj is None or obj.pk is None:
            return EMPTY
        records = obj.history.select_related("history_user").order_by("history_date")
        events, previous = [], None
        for record in records:
            if record.status == previous:
                continue
            previous = record.status
            who = record.history_user or (record.history_job_id and _("a job")) or _("the system")
            events.append((record.history_date, record.get_status_display(), who))
        events += [
            (n.sent_at, _("Email: %(kind)s") % {"kind": n.get_kind_display()}, n.recipient)
            for n in Notification.objects.filter(order=obj)
        ]
        events.sort(key=lambda event: event[0])
        rows = [(date_format(at, "SHORT_DATETIME_FORMAT"), what, who) for at, what, who in events]
        return format_html(
            "<ol class='text-sm flex flex-col gap-1'>{}</ol>",
            format_html_join(
                "", "<li><span class='font-mono'>{}</span> &middot; <strong>{}</strong> &middot; {}</li>", rows
            ),
        )

    # --- views ---------------------------------------------------------------------------------

    def place_order_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PlaceOrderForm(request.POST or None)
        formset = LineFormSet(request.POST or None, prefix="lines")
        errors = []
        if request.method == "POST" and form.is_valid() and formset.is_valid():
            lines = [(f.cleaned_data["product"], f.cleaned_data["quantity"]) for f in formset if f.cleaned_data]
            try:
                order = services.place_order(
                    customer=form.cleaned_data["customer"],
                    lines=lines,
                    source=Order.Source.ADMIN,
                    user=request.user,
                    discount=form.cleaned_data["discount"],
                    shipping=form.cleaned_data["shipping"],
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                self.message_user(request, _("Order %(number)s placed.") % {"number": order.number})
                return redirect("admin:orders_order_change", order.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Place an order"),
            "form": form,
            "formset": formset,
            "errors": errors,
            "media": self.media + form.media + formset.media,
        }
        return TemplateResponse(request, "orders/admin/place_order.html", context)

    def packing_slip_view(self, request, object_id):
        order = get_object_or_404(Order.objects.select_related("customer"), pk=object_id)
        if not self.has_view_permission(request, order):
            raise PermissionDenied
        lines = list(order.lines.all())
        context = {
            "order": order,
            "lines": lines,
            "units": sum(line.quantity for line in lines),
            "ship_to": format_address(order.shipping_address),
        }
        return TemplateResponse(request, "orders/admin/packing_slip.html", context)

    # --- detail actions ----------------------------------------------------------------------------

    def _move(self, request, object_id, to_status, **details):
        order = get_object_or_404(Order, pk=object_id)
        try:
            order = services.transition(order, to_status, user=request.user, **details)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                _("Order %(number)s is now %(status)s.")
                % {"number": order.number, "status": order.get_status_display()},
            )
        return redirect_after_action(request, reverse("admin:orders_order_change", args=[object_id]))

    @action(
        description=_("Mark paid"),
        permissions=["change"],
        icon="payments",
        url_path="mark-paid",
        dialog={"title": _("Mark this order paid?"), "form_submit_text": _("Mark paid")},
    )
    def mark_paid(self, request, form, object_id):
        return self._move(request, object_id, Order.Status.PAID)

    @action(
        description=_("Ship"),
        permissions=["change"],
        icon="local_shipping",
        url_path="ship",
        dialog={"title": _("Ship this order"), "form_class": ShipDialogForm, "form_submit_text": _("Ship")},
    )
    def ship(self, request, form, object_id):
        return self._move(request, object_id, Order.Status.SHIPPED, **form.cleaned_data)

    @action(
        description=_("Deliver"),
        permissions=["change"],
        icon="done_all",
        url_path="deliver",
        dialog={"title": _("Mark this order delivered?"), "form_submit_text": _("Delivered")},
    )
    def deliver(self, request, form, object_id):
        return self._move(request, object_id, Order.Status.DELIVERED)

    @action(
        description=_("Cancel"),
        permissions=["change"],
        icon="cancel",
        url_path="cancel",
        dialog={
            "title": _("Cancel this order?"),
            "description": _("Its stock goes back on the shelf and the customer is told."),
            "form_submit_text": _("Cancel order"),
        },
    )
    def cancel(self, request, form, object_id):
        return self._move(request, object_id, Order.Status.CANCELLED)

    @action(description=_("Packing slip"), permissions=["view"], icon="print", url_path="packing-slip-link")
    def packing_slip_link(self, request, object_id):
        return redirect("admin:orders_order_packing_slip", object_id)

    def get_actions_detail(self, request, object_id):
        actions = super().get_actions_detail(request, object_id)
        order = Order.objects.filter(pk=object_id).only("status").first()
        if order is None:
            return actions
        allowed = services.TRANSITIONS[order.status]
        wanted = {
            "mark_paid": Order.Status.PAID,
            "ship": Order.Status.SHIPPED,
            "deliver": Order.Status.DELIVERED,
            "cancel": Order.Status.CANCELLED,
        }
        return [
            a
            for a in actions
            if (name := a.action_name.removeprefix("orders_order_")) not in wanted or wanted[name] in allowed
        ]

    # --- bulk actions ----------------------------------------------------------------------------------

    @action(description=_("Mark paid"), permissions=["change"])
    def mark_paid_selected(self, request, queryset):
        self._start(request, "orders.mark_paid", queryset, {})

    @action(description=_("Ship..."), permissions=["change"])
    def ship_selected(self, request, queryset):
        return self._bulk_form_action(
            request,
            queryset,
            form_class=ShipForm,
            kind="orders.ship",
            title=_("Ship orders"),
            submit_label=_("Ship"),
            params=lambda form: {"carrier": form.cleaned_data["carrier"]},
        )

    @action(description=_("Cancel"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        self._start(request, "orders.cancel", queryset, {})


class VipFilter(admin.SimpleListFilter):
    title = _("VIP")
    parameter_name = "vip"

    def lookups(self, request, model_admin):
        return [("yes", _("VIP")), ("no", _("Not VIP"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(is_vip=self.value() == "yes")
        return queryset


@admin.register(Customer)
class CustomerAdmin(ImportExportAdminMixin, FastRowsMixin, SimpleHistoryAdmin, BaseModelAdmin):
    resource_classes = [CustomerResource]
    import_resources = ("orders.customer",)
    list_display = ["name", "email", "company", "vip", "order_count", "lifetime_value", "last_order_at"]
    list_filter = [VipFilter]
    search_fields = ["name", "email", "company", "phone"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    form = CustomerAdminForm
    fieldsets = [
        (None, {"fields": ["name", "email", "company", "phone", "is_vip", "notes"]}),
        (
            _("Billing address"),
            {
                "classes": ["tab"],
                "fields": [
                    "billing_name",
                    "billing_line1",
                    "billing_line2",
                    ("billing_postal_code", "billing_city"),
                    "billing_country",
                ],
                "description": _("Leave every field empty, or fill in all but line 2."),
            },
        ),
        (
            _("Shipping address"),
            {
                "classes": ["tab"],
                "fields": [
                    "shipping_name",
                    "shipping_line1",
                    "shipping_line2",
                    ("shipping_postal_code", "shipping_city"),
                    "shipping_country",
                ],
                "description": _("Leave every field empty to ship to the billing address."),
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        """Saved through orders.services, never here; the form has already checked the same rules."""
        values = {name: form.cleaned_data[name] for name in form.cleaned_data if name in services.CUSTOMER_FIELDS}
        if change:  # also a revert from history: every field is passed, the service writes what differs
            saved = services.update_customer(obj, user=request.user, email=form.cleaned_data["email"], **values)
        else:
            saved, created = services.upsert_customer(email=form.cleaned_data["email"], user=request.user, **values)
            if not created:  # someone added this email since the form checked it: never overwrite them
                services.check_email_free(form.cleaned_data["email"])
        obj.pk, obj._state.adding, obj._state.db = saved.pk, False, saved._state.db

    def delete_model(self, request, obj):
        services.soft_delete_customers(Customer.objects.filter(pk=obj.pk), user=request.user)

    def delete_queryset(self, request, queryset):
        services.soft_delete_customers(queryset, user=request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).with_order_stats()

    @display(description=_("VIP"), ordering="is_vip", boolean=True)
    def vip(self, obj: Customer) -> bool:
        return obj.is_vip

    @display(description=_("Orders"), ordering="order_count")
    def order_count(self, obj: Customer) -> str:
        return number_format(obj.order_count, force_grouping=True)

    @display(description=_("Lifetime value"), ordering="lifetime_value")
    def lifetime_value(self, obj: Customer) -> str:
        return number_format(obj.lifetime_value, 2, force_grouping=True)

    @display(description=_("Last order"), ordering="last_order_at")
    def last_order_at(self, obj: Customer) -> str:
        return date_format(obj.last_order_at, "SHORT_DATETIME_FORMAT") if obj.last_order_at else EMPTY
