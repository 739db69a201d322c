"""Bulk admin actions that run as Jobs, with an optional intermediate form (and preview)."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backoffice import jobs


class BulkJobActionsMixin:
    def _start(self, request, kind: str, queryset, params: dict) -> None:
        ids = list(queryset.order_by().values_list("pk", flat=True))
        if not ids:
            self.message_user(request, _("None of the selected items needs this."), messages.WARNING)
            return
        job = jobs.start_job(kind, items=ids, params=params, user=request.user)
        url = reverse("admin:backoffice_job_change", args=[job.pk])
        self.message_user(
            request,
            format_html(
                '{} <a class="underline" href="{}">{}</a>',
                ngettext(
                    "%(label)s: %(count)d item queued as a job.",
                    "%(label)s: %(count)d items queued as a job.",
                    job.total,
                )
                % {"label": job.kind_label, "count": job.total},
                url,
                _("Follow its progress"),
            ),
        )

    def _bulk_form_action(self, request, queryset, *, form_class, kind, title, submit_label, params, preview=None):
        """An intermediate page with a form; applying it starts the job. Bad input re-shows the form."""
        applying = "apply" in request.POST
        previewing = "preview" in request.POST
        form = form_class(request.POST) if (applying or previewing) else form_class()
        if applying and form.is_valid():
            self._start(request, kind, queryset, params(form))
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "objects_name": self.opts.verbose_name_plural,
            "form": form,
            "action": request.POST.get("action", ""),
            "select_across": request.POST.get("select_across", "0"),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "count": queryset.count(),
            "form_url": request.get_full_path(),
            "submit_label": submit_label,
            "can_preview": preview is not None,
            "preview": preview(form) if preview and previewing and form.is_valid() else None,
        }
        return TemplateResponse(request, "backoffice/admin/bulk_action.html", context)
