from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import action, display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from backoffice import jobs
from backoffice.admin_base import BaseModelAdmin
from backoffice.admin_helpers import EMPTY, pretty_json, redirect_after_action, status_label
from backoffice.models import Job

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin, SimpleHistoryAdmin, BaseModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, BaseModelAdmin):
    pass


STATUS_COLOURS = {
    Job.Status.QUEUED: "info",
    Job.Status.RUNNING: "primary",
    Job.Status.SUCCEEDED: "success",
    Job.Status.PARTIAL: "warning",
    Job.Status.FAILED: "danger",
    Job.Status.CANCELLED: None,
}


def format_duration(delta) -> str:
    if delta is None:
        return EMPTY
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


@admin.register(Job)
class JobAdmin(BaseModelAdmin):
    list_display = ["kind_display", "status_badge", "progress", "counts", "requested_by", "created_at", "duration"]
    list_display_links = ["kind_display"]
    list_filter = ["status", "kind", ("created_at", RangeDateTimeFilter)]
    list_filter_submit = True
    list_select_related = ["requested_by"]
    search_fields = ["=id", "kind", "requested_by__username", "message"]
    show_full_result_count = False
    list_per_page = 50
    actions = ["cancel_selected"]
    actions_detail = ["cancel_detail", "retry_detail"]
    readonly_fields = [
        "kind_display",
        "status_badge",
        "progress",
        "counts",
        "message",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "params_display",
        "result_display",
        "download",
        "errors_display",
    ]
    fieldsets = [
        (None, {"fields": ["kind_display", "status_badge", "progress", "counts", "message"]}),
        (_("Timing"), {"fields": ["requested_by", "created_at", "started_at", "finished_at", "duration"]}),
        (_("Input and result"), {"fields": ["params_display", "result_display", "download"]}),
        (_("Errors"), {"fields": ["errors_display"]}),
    ]

    def has_add_permission(self, request):
        return False  # jobs are started by actions, imports and exports, never typed in

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<uuid:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="{}_{}_progress".format(*info),
            ),
            path(
                "<uuid:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="{}_{}_download".format(*info),
            ),
            *super().get_urls(),
        ]

    # --- columns ----------------------------------------------------------------------------

    @display(description=_("Kind"), ordering="kind")
    def kind_display(self, obj: Job) -> str:
        return obj.kind_label

    @display(description=_("Status"), ordering="status")
    def status_badge(self, obj: Job) -> str:
        return status_label(obj, STATUS_COLOURS)

    @display(description=_("Progress"))
    def progress(self, obj: Job) -> str:
        bar = render_to_string(
            "unfold/components/progress.html",
            {"value": obj.percent, "description": f"{obj.percent}%"},
        )
        if not obj.is_active:
            return format_html("<div>{}</div>", bar)
        url = reverse("admin:backoffice_job_progress", args=[obj.pk])
        return format_html(
            '<div data-job-progress="{}" data-job-id="{}" data-job-status="{}">{}</div>', url, obj.pk, obj.status, bar
        )

    @display(description=_("Done / failed / total"))
    def counts(self, obj: Job) -> str:
        return f"{obj.done:,} / {obj.failed:,} / {obj.total:,}"

    @display(description=_("Duration"))
    def duration(self, obj: Job) -> str:
        return format_duration(obj.duration)

    @display(description=_("Parameters"))
    def params_display(self, obj: Job) -> str:
        return pretty_json(obj.params)

    @display(description=_("Result"))
    def result_display(self, obj: Job) -> str:
        return pretty_json(obj.result)

    @display(description=_("Result file"))
    def download(self, obj: Job) -> str:
        if not obj.result_file:
            return EMPTY
        url = reverse("admin:backoffice_job_download", args=[obj.pk])
        return format_html('<a class="text-primary-600 underline" href="{}">{}</a>', url, _("Download"))

    @display(description=_("Item errors"))
    def errors_display(self, obj: Job) -> str:
        if not obj.errors:
            return EMPTY
        rows = format_html_join(
            "",
            "<tr><td class='pr-4 align-top font-mono'>{}</td><td>{}</td></tr>",
            ((e.get("item", ""), e.get("error", "")) for e in obj.errors),
        )
        note = ""
        if obj.failed > len(obj.errors):
            note = format_html(
                "<p class='mt-2 text-xs'>{}</p>",
                _("Showing the first %(shown)s of %(failed)s errors.")
                % {"shown": len(obj.errors), "failed": obj.failed},
            )
        return format_html("<table class='text-sm'>{}</table>{}", rows, note)

    # --- views ------------------------------------------------------------------------------

    def progress_view(self, request, object_id):
        job = get_object_or_404(Job, pk=object_id)
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        return JsonResponse(
            {
                "status": job.status,
                "status_display": job.get_status_display(),
                "active": job.is_active,
                "done": job.done,
                "failed": job.failed,
                "total": job.total,
                "percent": job.percent,
            }
        )

    def download_view(self, request, object_id):
        job = get_object_or_404(Job, pk=object_id)
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        permission = job.params.get("download_permission") if isinstance(job.params, dict) else None
        if permission and not request.user.has_perm(permission):
            raise PermissionDenied  # an export's file needs the export permission of what it holds
        if not job.result_file:
            raise Http404(_("This job has no result file, or it has expired."))
        try:
            handle = job.result_file.open("rb")
        except FileNotFoundError as exc:
            raise Http404(_("The result file of this job is gone.")) from exc
        return FileResponse(handle, as_attachment=True, filename=job.result_file.name.rsplit("/", 1)[-1])

    # --- actions ----------------------------------------------------------------------------

    @action(description=_("Cancel selected jobs"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        cancelled = sum(jobs.cancel_job(job) for job in queryset.active())
        self.message_user(
            request,
            ngettext("%(count)d job cancelled.", "%(count)d jobs cancelled.", cancelled) % {"count": cancelled},
            messages.SUCCESS if cancelled else messages.WARNING,
        )

    @action(
        description=_("Cancel"),
        permissions=["change"],
        icon="cancel",
        url_path="cancel",
        dialog={
            "title": _("Cancel this job?"),
            "description": _("Items already processed stay processed; the rest are skipped."),
            "form_submit_text": _("Cancel job"),
        },
    )
    def cancel_detail(self, request, form, object_id):
        job = get_object_or_404(Job, pk=object_id)
        if jobs.cancel_job(job):
            self.message_user(request, _("The job was cancelled. Items already processed stay processed."))
        else:
            self.message_user(
                request, _("This job has already finished; there is nothing to cancel."), messages.WARNING
            )
        return redirect_after_action(request, reverse("admin:backoffice_job_change", args=[job.pk]))

    @action(
        description=_("Retry failed items"),
        permissions=["change"],
        icon="replay",
        url_path="retry",
        dialog={
            "title": _("Retry this job?"),
            "description": _("Its failed and unprocessed items are queued again."),
            "form_submit_text": _("Retry"),
        },
    )
    def retry_detail(self, request, form, object_id):
        job = get_object_or_404(Job, pk=object_id)
        try:
            count = jobs.retry_job(job)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                ngettext("%(count)d item queued again.", "%(count)d items queued again.", count) % {"count": count},
            )
        return redirect_after_action(request, reverse("admin:backoffice_job_change", args=[job.pk]))

    def get_actions_detail(self, request, object_id):
        actions = super().get_actions_detail(request, object_id)
        job = Job.objects.filter(pk=object_id).only("status").first()
        if job is None:
            return actions
        # Offer only what can happen: cancel while it runs, retry once it is over.
        hidden = "retry_detail" if job.is_active else "cancel_detail"
        return [a for a in actions if a.action_name != f"backoffice_job_{hidden}"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        raise PermissionDenied  # every field is read-only; a crafted POST must not write

    class Media:
        js = ["backoffice/js/job_progress.js"]


# Imports: the batch admin (mapping, preview, confirm, failed rows, undo) and the import/export permissions.
# Login protection: failed-login records with Unlock, and the login log (django-axes' models).
from backoffice import login_admin as _login_admin  # noqa: E402, F401
from backoffice.imports import admin as _imports_admin  # noqa: E402, F401
