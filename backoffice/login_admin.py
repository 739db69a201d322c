"""The admin of login protection: failed-login records (with Unlock) and the login log.

django-axes' own admins are switched off (``AXES_ENABLE_ADMIN = False``): these are Unfold admins on the
project's ``BaseModelAdmin``, read-only, with the list columns a person unlocking a colleague needs.
"""

from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import action, display

from backoffice import login
from backoffice.admin_base import BaseModelAdmin
from backoffice.admin_helpers import redirect_after_action
from backoffice.admin_rendering import label


class LockedFilter(admin.SimpleListFilter):
    title = _("locked out")
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", _("Locked out")), ("no", _("Not locked out"))]

    def queryset(self, request, queryset):
        locked = locked_condition()
        if self.value() == "yes":
            return queryset.filter(locked)
        if self.value() == "no":
            return queryset.exclude(locked)
        return queryset


def locked_condition() -> Q:
    """Attempts that lock their username and address out now: enough failures, inside the cool-off."""
    from axes.helpers import get_cool_off

    condition = Q(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
    cool_off = get_cool_off()
    if cool_off:
        condition &= Q(attempt_time__gte=timezone.now() - cool_off)
    return condition


class ReadOnlyAdmin(BaseModelAdmin):
    def has_add_permission(self, request):
        return False  # written by axes on every login

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AccessAttempt)
class AccessAttemptAdmin(ReadOnlyAdmin):
    list_display = ["username", "ip_address", "failures_since_start", "state", "attempt_time", "path_info"]
    list_filter = [LockedFilter, ("attempt_time", RangeDateTimeFilter)]
    list_filter_submit = True
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    list_per_page = 100
    actions = ["unlock_selected"]
    actions_detail = ["unlock_detail"]
    fields = ["username", "ip_address", "failures_since_start", "attempt_time", "user_agent", "path_info"]
    readonly_fields = fields

    @display(description=_("state"))
    def state(self, obj: AccessAttempt) -> str:
        from axes.helpers import get_cool_off

        cool_off = get_cool_off()
        locked = obj.failures_since_start >= settings.AXES_FAILURE_LIMIT and (
            not cool_off or obj.attempt_time >= timezone.now() - cool_off
        )
        return label(str(_("Locked out")), "danger") if locked else label(str(_("Counting")), "warning")

    @action(description=_("Unlock selected"), permissions=["delete"])
    def unlock_selected(self, request, queryset):
        count = login.unlock(queryset, user=request.user)
        self.message_user(
            request,
            ngettext("%(count)d login unlocked.", "%(count)d logins unlocked.", count) % {"count": count},
            messages.SUCCESS,
        )

    @action(
        description=_("Unlock"),
        permissions=["delete"],
        icon="lock_open",
        url_path="unlock",
        dialog={
            "title": _("Unlock this login?"),
            "description": _("The username may log in from this address again at once; its failures are forgotten."),
            "form_submit_text": _("Unlock"),
        },
    )
    def unlock_detail(self, request, form, object_id):
        attempt = get_object_or_404(AccessAttempt, pk=object_id)
        login.unlock(AccessAttempt.objects.filter(pk=attempt.pk), user=request.user)
        self.message_user(
            request,
            _("%(username)s may log in from %(address)s again.")
            % {"username": attempt.username, "address": attempt.ip_address},
            messages.SUCCESS,
        )
        return redirect_after_action(request, reverse("admin:axes_accessattempt_changelist"))


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["username", "ip_address", "attempt_time", "logout_time", "user_agent"]
    list_filter = [("attempt_time", RangeDateTimeFilter)]
    list_filter_submit = True
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    show_full_result_count = False
    list_per_page = 100
    fields = ["username", "ip_address", "attempt_time", "logout_time", "user_agent", "path_info"]
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return False  # an audit trail; pruned with `manage.py axes_reset_logs --age DAYS`
