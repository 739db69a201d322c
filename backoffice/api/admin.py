"""The Integrations admin: create a key (its secret shown once), scopes, expiry, revoke, last use; the API
request log (read-only), with a summary of each key's recent requests on the key's page."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import action, display

from backoffice.admin_base import BaseModelAdmin
from backoffice.admin_helpers import EMPTY
from backoffice.admin_rendering import label
from backoffice.api import keys
from backoffice.api.models import ApiRequest, IntegrationKey, Scope
from backoffice.paginators import EstimatedCountPaginator

SUMMARY_WINDOW = timedelta(hours=24)
SUMMARY_RECENT = 10
SUMMARY_THROTTLED = 5


class IntegrationKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = IntegrationKey
        fields = ["name", "scopes", "expires_at"]


@admin.register(IntegrationKey)
class IntegrationKeyAdmin(BaseModelAdmin):
    form = IntegrationKeyForm
    list_display = ["name", "prefix_display", "scope_list", "state", "expires_at", "last_used_at", "created_at"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix_display", "last_used_at", "revoked_at", "created_by", "created_at", "request_summary"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "scopes", "expires_at"]
        return [
            "name",
            "prefix_display",
            "scopes",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "created_by",
            "created_at",
            "request_summary",
        ]

    @display(description=_("key"))
    def prefix_display(self, obj):
        return f"bo_{obj.prefix}_…" if obj.prefix else EMPTY

    @display(description=_("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes or ()) or EMPTY

    @display(description=_("state"))
    def state(self, obj):
        if obj.is_revoked:
            return label(str(_("Revoked")), "danger")
        if obj.is_expired:
            return label(str(_("Expired")), "warning")
        return label(str(_("Active")), "success")

    @display(description=_("requests"))
    def request_summary(self, obj):
        """The last 24 hours in figures, the latest requests and the latest 429s: three queries."""
        if obj is None or obj.pk is None:
            return EMPTY
        since = timezone.now() - SUMMARY_WINDOW
        of_key = ApiRequest.objects.filter(key=obj)
        counts = of_key.since(since).aggregate(
            total=Count("id"),
            errors=Count("id", filter=Q(status__gte=400)),
            server_errors=Count("id", filter=Q(status__gte=500)),
            throttled=Count("id", filter=Q(status=429)),
        )
        total = counts["total"]
        changelist = reverse("admin:api_apirequest_changelist")
        return render_to_string(
            "api/admin/key_requests.html",
            {
                "counts": counts,
                "error_rate": (100.0 * counts["errors"] / total) if total else None,
                "recent": list(of_key.order_by("-created_at", "-id")[:SUMMARY_RECENT]),
                "throttled": list(of_key.throttled().order_by("-created_at", "-id")[:SUMMARY_THROTTLED]),
                "all_url": f"{changelist}?key__id__exact={obj.pk}",
                "throttled_url": f"{changelist}?key__id__exact={obj.pk}&outcome=429",
            },
        )

    def save_model(self, request, obj, form, change):
        if change:
            obj.scopes = keys.clean_scopes(obj.scopes)
            super().save_model(request, obj, form, change)
            return
        key, secret = keys.issue_key(name=obj.name, scopes=obj.scopes, expires_at=obj.expires_at, user=request.user)
        for field in IntegrationKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state.adding = False
        request._issued_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_issued_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Integration key created"),
            "key": obj,
            "secret": secret,
            "opts": self.opts,
        }
        response = TemplateResponse(request, "api/admin/key_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @action(description=_("Revoke selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = sum(keys.revoke_key(key) for key in queryset)
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", revoked) % {"count": revoked},
            messages.SUCCESS,
        )


class OutcomeFilter(admin.SimpleListFilter):
    title = _("outcome")
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [
            ("2xx", _("Success (2xx)")),
            ("3xx", _("Not modified or redirect (3xx)")),
            ("4xx", _("Client error (4xx)")),
            ("429", _("Rate limited (429)")),
            ("5xx", _("Server error (5xx)")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "429":
            return queryset.throttled()
        if value in ("2xx", "3xx", "4xx", "5xx"):
            low = int(value[0]) * 100
            return queryset.filter(status__gte=low, status__lt=low + 100)
        return queryset


class MethodFilter(admin.SimpleListFilter):
    # Fixed choices: a DISTINCT over a log of millions of rows would cost more than the page itself.
    title = _("method")
    parameter_name = "method"

    def lookups(self, request, model_admin):
        return [(method, method) for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")]

    def queryset(self, request, queryset):
        if self.value() in dict(self.lookups(request, None)):
            return queryset.filter(method=self.value())
        return queryset


@admin.register(ApiRequest)
class ApiRequestAdmin(BaseModelAdmin):
    """Read-only: rows come from backoffice.api.request_log only."""

    list_display = ["created_at", "key_link", "method", "path", "status_display", "latency_ms", "request_id"]
    list_filter = [OutcomeFilter, MethodFilter, "key", ("created_at", RangeDateTimeFilter)]
    list_filter_submit = True
    list_select_related = ["key"]
    search_fields = ["=request_id"]
    search_help_text = _("An exact Request-Id.")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 100
    fields = ["created_at", "key", "method", "path", "status", "latency_ms", "idempotency_key", "request_id"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # beat prunes after API_REQUEST_LOG_RETENTION_DAYS

    @display(description=_("integration key"), ordering="key__name")
    def key_link(self, obj: ApiRequest):
        if obj.key is None:
            return EMPTY
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:api_integrationkey_change", args=[obj.key_id]), obj.key
        )

    @display(description=_("status"), ordering="status")
    def status_display(self, obj: ApiRequest):
        return label(str(obj.status), status_kind(obj.status))


def status_kind(status: int) -> str:
    if status >= 500:
        return "danger"
    if status == 429 or status >= 400:
        return "warning"
    return "success"
