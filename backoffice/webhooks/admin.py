"""The Integrations admin for webhooks: endpoints (secret shown once on create and rotate, recent deliveries
with "redeliver", "send test event"), deliveries (redeliver in bulk) and the attempt log (read-only)."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.decorators import action, display

from backoffice.admin_base import BaseModelAdmin
from backoffice.admin_helpers import EMPTY, pretty_json, redirect_after_action, status_label
from backoffice.admin_rendering import label
from backoffice.webhooks import services
from backoffice.webhooks.choices import DeliveryState
from backoffice.webhooks.forms import WebhookEndpointForm
from backoffice.webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint

RECENT_DELIVERIES = 20
STATE_COLOURS = {DeliveryState.PENDING: "warning", DeliveryState.SUCCEEDED: "success", DeliveryState.FAILED: "danger"}


def _secret_page(request, model_admin, endpoint, secret, title):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "endpoint": endpoint,
        "secret": secret,
        "opts": model_admin.opts,
    }
    response = TemplateResponse(request, "webhooks/admin/secret.html", context)
    response["Cache-Control"] = "no-store"
    return response


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(BaseModelAdmin):
    form = WebhookEndpointForm
    list_display = ["__str__", "url_display", "event_list", "state", "consecutive_failures", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = [
        "state",
        "previous_secret_expires_at",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_by",
        "created_at",
        "recent_deliveries",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["url", "description", "events"]
        return ["url", "description", "events", "is_active", *self.readonly_fields]

    @display(description=_("URL"))
    def url_display(self, obj):
        return obj.url[:80]

    @display(description=_("events"))
    def event_list(self, obj):
        return ", ".join(obj.events or ()) or EMPTY

    @display(description=_("state"))
    def state(self, obj):
        if obj.is_active:
            return label(str(_("Active")), "success")
        if obj.disabled_at:
            return label(str(_("Disabled after failures")), "danger")
        return label(str(_("Paused")), "warning")

    @display(description=_("recent deliveries"))
    def recent_deliveries(self, obj):
        """The latest deliveries (one query) with buttons that post the page's form to the actions below."""
        if obj is None or obj.pk is None:
            return EMPTY
        deliveries = list(obj.deliveries.select_related("event").order_by("-created_at", "-id")[:RECENT_DELIVERIES])
        opts = self.opts
        return render_to_string(
            "webhooks/admin/recent_deliveries.html",
            {
                "deliveries": [(d, status_label(d, STATE_COLOURS, field="state")) for d in deliveries],
                "redeliver_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_redeliver", args=[obj.pk]),
                "test_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_test", args=[obj.pk]),
                "rotate_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_rotate", args=[obj.pk]),
                "all_url": reverse("admin:webhooks_delivery_changelist") + f"?endpoint__id__exact={obj.pk}",
                "can_change": True,
            },
        )

    def changelist_view(self, request, extra_context=None):
        disabled = list(
            WebhookEndpoint.objects.filter(is_active=False, disabled_at__isnull=False).values_list("url", flat=True)[:5]
        )
        if disabled and request.method == "GET":
            self.message_user(
                request,
                _("Disabled after repeated failures: %(urls)s. Fix the receiver, then enable the endpoint again.")
                % {"urls": ", ".join(url[:80] for url in disabled)},
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        endpoint = WebhookEndpoint.objects.filter(pk=object_id).only("is_active", "disabled_reason").first()
        if request.method == "GET" and endpoint is not None and not endpoint.is_active and endpoint.disabled_reason:
            self.message_user(request, endpoint.disabled_reason, messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ("url", "description", "events") if name in form.cleaned_data}
        if change:
            data["is_active"] = form.cleaned_data.get("is_active", obj.is_active)
            saved = services.update_endpoint(obj, user=request.user, **data)
        else:
            saved, secret = services.create_endpoint(user=request.user, **data)
            request._webhook_secret = secret
        for field in WebhookEndpoint._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_webhook_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return _secret_page(request, self, obj, secret, _("Webhook endpoint created"))

    # --- the page's buttons (POST only; they submit the change form, CSRF token included) -----------------

    def get_urls(self):
        opts = self.opts
        name = f"{opts.app_label}_{opts.model_name}"
        own = [
            path(
                "<path:object_id>/redeliver/", self.admin_site.admin_view(self.redeliver_view), name=f"{name}_redeliver"
            ),
            path("<path:object_id>/test/", self.admin_site.admin_view(self.test_view), name=f"{name}_test"),
            path("<path:object_id>/rotate/", self.admin_site.admin_view(self.rotate_view), name=f"{name}_rotate"),
        ]
        return own + super().get_urls()

    def _endpoint_for_post(self, request, object_id):
        if request.method != "POST":
            return None, HttpResponseNotAllowed(["POST"])
        endpoint = get_object_or_404(WebhookEndpoint, pk=object_id)
        if not self.has_change_permission(request, endpoint):
            return None, redirect_after_action(request, reverse("admin:index"))
        return endpoint, None

    def _back(self, request, endpoint):
        return redirect_after_action(request, reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))

    def redeliver_view(self, request, object_id):
        endpoint, refusal = self._endpoint_for_post(request, object_id)
        if refusal:
            return refusal
        raw = request.POST.get("delivery", "")
        delivery = (
            Delivery.objects.filter(endpoint=endpoint, pk=int(raw)).first() if raw.isdigit() and len(raw) < 19 else None
        )
        if delivery is None:
            self.message_user(request, _("That delivery no longer exists."), messages.ERROR)
        else:
            services.redeliver([delivery])
            self.message_user(request, _("The event is being delivered again."), messages.SUCCESS)
        return self._back(request, endpoint)

    def test_view(self, request, object_id):
        endpoint, refusal = self._endpoint_for_post(request, object_id)
        if refusal:
            return refusal
        try:
            services.send_test_event(endpoint, user=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, _("A test event was sent; its delivery is listed below."), messages.SUCCESS)
        return self._back(request, endpoint)

    def rotate_view(self, request, object_id):
        endpoint, refusal = self._endpoint_for_post(request, object_id)
        if refusal:
            return refusal
        secret = services.rotate_secret(endpoint, user=request.user)
        return _secret_page(request, self, endpoint, secret, _("Webhook secret rotated"))


@admin.register(Delivery)
class DeliveryAdmin(BaseModelAdmin):
    list_display = [
        "event_type",
        "endpoint",
        "state_display",
        "attempts",
        "last_status",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["state", "endpoint"]
    list_select_related = ["endpoint", "event"]
    search_fields = ["last_error"]
    fields = [
        "endpoint",
        "event_id_display",
        "event_type",
        "state_display",
        "attempts",
        "next_attempt_at",
        "last_status",
        "last_error",
        "delivered_at",
        "created_at",
        "payload_display",
        "attempt_list",
    ]
    readonly_fields = fields
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description=_("event"))
    def event_type(self, obj):
        return obj.event.type

    @display(description=_("Webhook-Id"))
    def event_id_display(self, obj):
        return obj.event.webhook_id

    @display(description=_("state"))
    def state_display(self, obj):
        return status_label(obj, STATE_COLOURS, field="state")

    @display(description=_("payload"))
    def payload_display(self, obj):
        import orjson

        payload = obj.event.payload
        if payload is None:
            return EMPTY
        try:
            return pretty_json(orjson.loads(bytes(payload)))
        except orjson.JSONDecodeError:
            return EMPTY

    @display(description=_("attempts"))
    def attempt_list(self, obj):
        return render_to_string(
            "webhooks/admin/attempts.html", {"attempts": list(obj.attempt_log.order_by("-started_at", "-id")[:50])}
        )

    @action(description=_("Redeliver selected deliveries"), permissions=["redeliver"])
    def redeliver(self, request, queryset):
        count = services.redeliver(list(queryset.order_by().values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d delivery will be sent again.", "%(count)d deliveries will be sent again.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def has_redeliver_permission(self, request):
        return request.user.has_perm("webhooks.change_webhookendpoint")


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(BaseModelAdmin):
    list_display = ["started_at", "delivery", "number", "status_code", "latency_ms", "succeeded", "error"]
    list_filter = ["succeeded"]
    list_select_related = ["delivery__endpoint", "delivery__event"]
    search_fields = ["error"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
