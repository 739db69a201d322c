"""Admin side of imports and exports.

``ImportExportAdminMixin`` goes on a ModelAdmin (before ``BaseModelAdmin``'s subclasses' other mixins) with
``resource_classes`` (what it exports) and ``import_resources`` (registry keys it imports):

- **permissions**: ``<app>.import_<model>`` and ``<app>.export_<model>``, created for every such admin after
  migrate; a user without the import permission sees no Import button and gets 403 on the URLs;
- **export**: the current changelist (filters, search, ordering) or the selected rows, chosen columns, CSV or
  XLSX; answered in the request up to ``EXPORT_JOB_THRESHOLD`` rows, a Job with a downloadable file above;
- **import**: upload here, then the batch's own pages (``ImportBatchAdmin``): mapping, preview, confirm,
  failed rows, undo.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.admin import ExportActionMixin
from import_export.formats import base_formats
from unfold.contrib.import_export.forms import SelectableFieldsExportForm
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminFileFieldWidget

from backoffice import exports
from backoffice.admin_base import BaseModelAdmin
from backoffice.admin_helpers import EMPTY, redirect_after_action
from backoffice.imports import engine, get_spec, registry
from backoffice.imports.models import ImportBatch, ImportRow
from backoffice.imports.readers import SourceError

PREVIEW_PAGE = 50
FORMAT_NAMES = {base_formats.CSV: "csv", base_formats.XLSX: "xlsx"}


def can_import(user, spec) -> bool:
    return bool(user and user.is_active and user.is_staff and user.has_perm(spec.import_permission))


# --- permissions ---------------------------------------------------------------------------------------------


@receiver(post_migrate)
def create_import_export_permissions(sender, app_config=None, using="default", **kwargs):
    """``import_<model>``/``export_<model>`` for every admin with ImportExportAdminMixin, per migrated app
    (after its content types, created here in Django's own order as auth's permissions do)."""
    from django.contrib.contenttypes.management import create_contenttypes

    app_config = app_config or sender
    models = [
        model
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ImportExportAdminMixin) and model._meta.app_label == app_config.label
    ]
    if not models:
        return
    create_contenttypes(app_config, verbosity=0, using=using)
    for model in models:
        content_type = ContentType.objects.db_manager(using).get_for_model(model)
        for verb, label in (("import", _("Can import %(name)s")), ("export", _("Can export %(name)s"))):
            Permission.objects.db_manager(using).get_or_create(
                content_type=content_type,
                codename=f"{verb}_{model._meta.model_name}",
                defaults={"name": str(label % {"name": model._meta.verbose_name_plural})[:255]},
            )


# --- forms ----------------------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    resource = forms.ChoiceField(label=gettext_lazy("What the file holds"))
    file = forms.FileField(
        label=gettext_lazy("File"),
        # Unfold's script fills the name of the chosen file into the text box this widget draws; with Django's
        # plain input it found no box and failed ("Cannot read properties of null (reading 'setAttribute')").
        widget=UnfoldAdminFileFieldWidget,
        help_text=gettext_lazy("CSV (UTF-8, comma or semicolon) or XLSX; the first row names the columns."),
    )

    def __init__(self, *args, resources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [(spec.key, spec.label) for spec in resources]
        if len(resources) == 1:
            self.fields["resource"].initial = resources[0].key
            self.fields["resource"].widget = forms.HiddenInput()


class MappingForm(forms.Form):
    def __init__(self, *args, batch, columns, initial_mapping, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— ignore this column —")), *[(c, c) for c in columns]]
        self.headers = []
        for index, header in enumerate(batch.headers):
            name = f"column_{index}"
            guess = initial_mapping.get(header, header if header in columns else "")
            self.fields[name] = forms.ChoiceField(
                label=header or _("(column %(n)s without a name)") % {"n": index + 1},
                choices=choices,
                required=False,
                initial=guess,
            )
            self.headers.append((name, header))

    def mapping(self) -> dict:
        return {header: self.cleaned_data.get(name) or "" for name, header in self.headers}


# --- the model admin mixin --------------------------------------------------------------------------------------


class ImportExportAdminMixin(ExportActionMixin):
    import_resources: tuple[str, ...] = ()
    formats = [base_formats.CSV, base_formats.XLSX]
    export_form_class = SelectableFieldsExportForm
    import_export_change_list_template = "admin/import_export/change_list_import_export.html"

    # --- permissions

    def _perm(self, verb: str) -> str:
        return f"{self.opts.app_label}.{verb}_{self.opts.model_name}"

    def has_import_permission(self, request) -> bool:
        return bool(self.import_resources) and request.user.has_perm(self._perm("import"))

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(self._perm("export"))

    def get_export_formats(self):
        return [f for f in self.formats if f().can_export()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_import_permission": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    # --- URLs

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("import/", self.admin_site.admin_view(self.import_upload_view), name="{}_{}_import".format(*info)),
            path(
                "import/example/<slug:resource>/<slug:fmt>/",
                self.admin_site.admin_view(self.import_example_view),
                name="{}_{}_import_example".format(*info),
            ),
            *super().get_urls(),
        ]

    def _import_specs(self):
        return [registry[key] for key in self.import_resources if key in registry]

    def import_upload_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        specs = self._import_specs()
        form = UploadForm(request.POST or None, request.FILES or None, resources=specs)
        if request.method == "POST" and form.is_valid():
            try:
                batch = engine.upload(
                    form.cleaned_data["file"], resource=form.cleaned_data["resource"], user=request.user
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error("file", message)
            else:
                return HttpResponseRedirect(_after_upload(batch, request.user))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import %(name)s") % {"name": self.opts.verbose_name_plural},
            "form": form,
            "examples": [
                (
                    spec.label,
                    [
                        (
                            fmt.upper(),
                            reverse(
                                f"admin:{self.opts.app_label}_{self.opts.model_name}_import_example",
                                args=[spec.key.replace(".", "-"), fmt],
                            ),
                        )
                        for fmt in ("csv", "xlsx")
                    ],
                )
                for spec in specs
            ],
            "recent": ImportBatch.objects.filter(resource__in=[s.key for s in specs], created_by=request.user)[:5],
            "max_mb": engine.max_bytes() // 1_000_000,
            "max_rows": engine.max_rows(),
        }
        return TemplateResponse(request, "backoffice/imports/upload.html", context)

    def import_example_view(self, request, resource, fmt):
        if not self.has_import_permission(request):
            raise PermissionDenied
        key = resource.replace("-", ".", 1)
        if key not in self.import_resources or key not in registry or fmt not in ("csv", "xlsx"):
            raise Http404(_("There is no such example file."))
        data, filename, content_type = engine.example_file(key, fmt)
        return _attachment(data, filename, content_type)

    # --- export

    def get_export_resource_fields_from_form(self, form):
        fields = super().get_export_resource_fields_from_form(form)
        return fields or None

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        if not self.has_export_permission(request):
            raise PermissionDenied
        fmt = FORMAT_NAMES.get(type(file_format))
        if fmt is None:
            raise PermissionDenied
        resource_class = (
            self.choose_export_resource_class(export_form, request)
            if export_form
            else self.get_export_resource_classes(request)[0]
        )
        resource = resource_class()
        selected = self.get_export_resource_fields_from_form(export_form) if export_form else None
        queryset = resource.for_queryset(queryset) if hasattr(resource, "for_queryset") else queryset
        count = queryset.count()
        try:
            exports.check_size(fmt, count)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))
        filename = slugify(str(self.opts.verbose_name_plural)) or "export"
        if count > exports.job_threshold():
            job = exports.start_export(
                resource_class,
                queryset,
                fmt,
                fields=selected,
                user=request.user,
                filename=filename,
                permission=self._perm("export"),
            )
            self.message_user(
                request,
                format_html(
                    "{} <a class='underline' href='{}'>{}</a>",
                    _("%(count)s rows are exported in the background.") % {"count": f"{count:,}"},
                    reverse("admin:backoffice_job_change", args=[job.pk]),
                    _("Download the file from the job when it is done."),
                ),
            )
            return HttpResponseRedirect(reverse("admin:backoffice_job_change", args=[job.pk]))
        data = exports.export_bytes(resource, queryset, fmt, selected)
        return _attachment(data, f"{filename}.{fmt}", exports.CONTENT_TYPES[fmt])


def _attachment(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _after_upload(batch, user) -> str:
    if engine.needs_mapping(batch):
        return reverse("admin:backoffice_importbatch_map", args=[batch.pk])
    engine.start_validation(batch, user=user)
    return reverse("admin:backoffice_importbatch_preview", args=[batch.pk])


# --- the batches ----------------------------------------------------------------------------------------------------

STATUS_COLOURS = {
    ImportBatch.Status.VALIDATED: "info",
    ImportBatch.Status.INVALID: "warning",
    ImportBatch.Status.APPLIED: "success",
    ImportBatch.Status.FAILED: "danger",
    ImportBatch.Status.UNDONE: None,
}


@admin.register(ImportBatch)
class ImportBatchAdmin(BaseModelAdmin):
    list_display = ["file_name", "resource_label", "status", "counts", "created_by", "created_at"]
    list_filter = ["status", "resource"]
    list_select_related = ["created_by"]
    search_fields = ["file_name", "=id"]
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        if super().has_view_permission(request, obj):
            return True
        return any(can_import(request.user, spec) for spec in registry.values())

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser or request.user.has_perm("backoffice.view_importbatch"):
            return queryset
        # An importer sees their own batches, and only of what they may still import.
        allowed = [key for key, spec in registry.items() if can_import(request.user, spec)]
        return queryset.filter(created_by=request.user, resource__in=allowed)

    @display(description=gettext_lazy("Resource"), ordering="resource")
    def resource_label(self, obj):
        spec = registry.get(obj.resource)
        return spec.label if spec else obj.resource

    @display(description=gettext_lazy("New / updated / unchanged / invalid"))
    def counts(self, obj):
        return f"{obj.new_rows:,} / {obj.updated_rows:,} / {obj.unchanged_rows:,} / {obj.invalid_rows:,}"

    def get_urls(self):
        views = [
            ("map", self.map_view),
            ("preview", self.preview_view),
            ("confirm", self.confirm_view),
            ("validate", self.validate_view),
            ("failed", self.failed_view),
            ("undo", self.undo_view),
        ]
        return [
            *[
                path(
                    f"<path:object_id>/{name}/",
                    self.admin_site.admin_view(view),
                    name=f"backoffice_importbatch_{name}",
                )
                for name, view in views
            ],
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:backoffice_importbatch_preview", args=[object_id]))

    # --- helpers

    def _batch(self, request, object_id) -> ImportBatch:
        batch = get_object_or_404(self.get_queryset(request), pk=object_id)
        spec = registry.get(batch.resource)
        if spec is None or not can_import(request.user, spec):
            raise PermissionDenied
        return batch

    def _context(self, request, batch, **extra):
        spec = get_spec(batch.resource)
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "batch": batch,
            "spec": spec,
            "title": _("Import of %(name)s") % {"name": batch.file_name},
            **extra,
        }

    def _back(self, batch, view="preview"):
        return HttpResponseRedirect(reverse(f"admin:backoffice_importbatch_{view}", args=[batch.pk]))

    # --- views

    def map_view(self, request, object_id):
        batch = self._batch(request, object_id)
        if batch.status not in (ImportBatch.Status.UPLOADED, ImportBatch.Status.VALIDATED, ImportBatch.Status.INVALID):
            return self._back(batch)
        resource = get_spec(batch.resource).get_resource()
        columns = list(resource.import_columns())
        remembered = batch.saved_mapping.columns if batch.saved_mapping else {}
        form = MappingForm(
            request.POST or None, batch=batch, columns=columns, initial_mapping={**remembered, **batch.mapping}
        )
        if request.method == "POST" and form.is_valid():
            try:
                engine.save_mapping(batch, form.mapping(), user=request.user)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                engine.start_validation(batch, user=request.user)
                return self._back(batch)
        return TemplateResponse(
            request,
            "backoffice/imports/mapping.html",
            self._context(request, batch, form=form, columns=columns, required=resource.required_columns()),
        )

    def preview_view(self, request, object_id):
        batch = self._batch(request, object_id)
        status = request.GET.get("status", "")
        rows = ImportRow.objects.filter(batch=batch).order_by("number")
        if status in ImportRow.Status.values:
            rows = rows.filter(status=status)
        paginator = Paginator(rows, PREVIEW_PAGE)
        page = paginator.get_page(request.GET.get("p"))
        return TemplateResponse(
            request,
            "backoffice/imports/preview.html",
            self._context(
                request,
                batch,
                page=page,
                status=status,
                statuses=ImportRow.Status.choices,
                can_confirm=batch.status == ImportBatch.Status.VALIDATED and (batch.new_rows or batch.updated_rows),
                can_undo=batch.status == ImportBatch.Status.APPLIED and get_spec(batch.resource).undo is not None,
                can_revalidate=batch.status
                in (ImportBatch.Status.VALIDATED, ImportBatch.Status.INVALID, ImportBatch.Status.FAILED),
                can_map=batch.status
                in (ImportBatch.Status.UPLOADED, ImportBatch.Status.VALIDATED, ImportBatch.Status.INVALID),
                busy=batch.status in (ImportBatch.Status.VALIDATING, ImportBatch.Status.APPLYING),
            ),
        )

    def confirm_view(self, request, object_id):
        batch = self._batch(request, object_id)
        if request.method != "POST":
            return self._back(batch)
        try:
            job = engine.start_apply(batch, user=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return self._back(batch)
        if job is not None:
            self.message_user(request, _("The import runs in the background; this page shows it when it is done."))
        else:
            batch.refresh_from_db()
            self.message_user(
                request,
                _("Imported: %(new)s new, %(updated)s updated, %(unchanged)s unchanged.")
                % {"new": batch.new_rows, "updated": batch.updated_rows, "unchanged": batch.unchanged_rows},
                messages.SUCCESS,
            )
        return self._back(batch)

    def validate_view(self, request, object_id):
        batch = self._batch(request, object_id)
        if request.method == "POST" and batch.status in (
            ImportBatch.Status.VALIDATED,
            ImportBatch.Status.INVALID,
            ImportBatch.Status.FAILED,
        ):
            engine.start_validation(batch, user=request.user)
        return self._back(batch)

    def failed_view(self, request, object_id):
        batch = self._batch(request, object_id)
        if not ImportRow.objects.filter(batch=batch, status=ImportRow.Status.INVALID).exists():
            self.message_user(request, _("This import has no invalid rows."), messages.WARNING)
            return self._back(batch)
        try:
            data, filename, content_type = engine.failed_rows_file(batch)
        except (SourceError, OSError) as exc:
            self.message_user(request, _("The uploaded file cannot be read any more: %(error)s") % {"error": exc})
            return self._back(batch)
        return _attachment(data, filename, content_type)

    def undo_view(self, request, object_id):
        batch = self._batch(request, object_id)
        if request.method != "POST":
            return self._back(batch)
        try:
            job = engine.start_undo(batch, user=request.user)
        except ValidationError as exc:  # UndoRefused included: the rows that changed since are named
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            if job is None:
                self.message_user(request, _("The import was undone."), messages.SUCCESS)
            else:
                self.message_user(request, _("The undo runs in the background; this page shows it when it is done."))
        return self._back(batch)


__all__ = ["EMPTY", "ImportBatchAdmin", "ImportExportAdminMixin", "action", "redirect_after_action"]
