"""The Integrations admin: create a key (its secret shown once), scopes, expiry, revoke, last use."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.decorators import action, display

from backoffice.admin_base import BaseModelAdmin
from backoffice.admin_helpers import EMPTY
from backoffice.admin_rendering import label
from backoffice.api import keys
from backoffice.api.models import IntegrationKey, Scope


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
    readonly_fields = ["prefix_display", "last_used_at", "revoked_at", "created_by", "created_at"]
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
