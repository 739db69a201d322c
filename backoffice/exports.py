"""Exports: the fast exporter (a resource's columns and formatting, rows streamed from the database) and the
export Job.

The fast exporter reads ``values_list`` rows in chunks through ``iterator()`` (a server-side cursor on
PostgreSQL) and writes them as they come: ``csv`` for CSV, xlsxwriter in ``constant_memory`` mode for XLSX,
so memory stays flat whatever the number of rows. Each cell is rendered by the resource field's widget and then
escaped against formula injection (:func:`backoffice.imports.text.escape_formula`) exactly as the resource's own
``export()`` does, which a test checks. Many-to-many columns (tags) are read per chunk with one query.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import pickle
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from itertools import islice

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db.models import ManyToManyField
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from backoffice import exports_postgres, jobs
from backoffice.imports.text import (
    DateTimeWidget,
    DecimalWidget,
    IntegerWidget,
    LookupWidget,
    TextWidget,
    escape_formula,
)

XLSX_MAX_ROWS = 1_048_576  # the sheet's limit, header included
CHUNK = 2000
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def job_threshold() -> int:
    return settings.EXPORT_JOB_THRESHOLD


@dataclass
class Column:
    header: str
    field: object  # the resource's Field
    path: str | None  # values_list path, None for many-to-many
    m2m: tuple | None = None  # (through model, source fk attname, target path) for many-to-many


def columns_of(resource, queryset, selected_fields=None) -> list[Column]:
    model = queryset.model
    columns = []
    for field in resource.get_export_fields(selected_fields):
        attribute = field.attribute
        widget = field.widget
        m2m = None
        path = attribute
        try:
            model_field = model._meta.get_field(attribute) if attribute and "__" not in attribute else None
        except Exception:  # noqa: BLE001 - not a model field
            model_field = None
        if isinstance(model_field, ManyToManyField):
            through = model_field.remote_field.through
            source = model_field.m2m_field_name()
            target = model_field.m2m_reverse_field_name()
            m2m = (through, f"{source}_id", f"{target}__{getattr(widget, 'field', 'pk')}")
            path = None
        elif isinstance(widget, LookupWidget):
            path = f"{attribute}__{widget.render_field}"
        if path is None and m2m is None:
            raise ValueError(f"Column {field.column_name} cannot be exported by the fast exporter.")
        columns.append(Column(header=str(field.column_name), field=field, path=path, m2m=m2m))
    return columns


def _render(column: Column, value, native: bool):
    widget = column.field.widget
    if column.m2m is not None:
        return escape_formula(widget.render_names(value))
    if isinstance(widget, LookupWidget):
        return escape_formula("" if value is None else str(value))
    return escape_formula(widget.render(value, force_native_type=native))


_ESCAPE_FIRST = frozenset("=+-@\t\r\x00'")


def _escaped(text: str) -> str:
    # The cheap test first: most cells start with none of the characters escape_formula looks at.
    return escape_formula(text) if text and text[0] in _ESCAPE_FIRST else text


def _renderer(column: Column, native: bool):
    """A function rendering one value of ``column`` exactly as :func:`_render` does, specialised once per
    column instead of dispatching per cell (a million rows are fifteen million cells)."""
    widget = column.field.widget
    if column.m2m is not None:
        return lambda names: _escaped(widget.render_names(names))
    if isinstance(widget, LookupWidget) or type(widget) is TextWidget:
        return lambda value: "" if value is None else _escaped(value if isinstance(value, str) else str(value))
    if type(widget) in (DecimalWidget, IntegerWidget):
        if native:
            return lambda value: value
        return lambda value: "" if value is None else _escaped(str(value))
    if type(widget) is DateTimeWidget and settings.USE_TZ:
        zone = timezone.get_current_timezone()

        def render_datetime(value):
            if value is None:
                return None if native else ""
            if timezone.is_aware(value):
                value = value.astimezone(zone)
            value = value.replace(microsecond=0)
            if native:
                return value.replace(tzinfo=None)
            return value.isoformat(" ", "seconds")[:19] if value.year >= 1000 else value.strftime(widget.FORMAT)

        return render_datetime
    return lambda value: _render(column, value, native)


def iter_rows(resource, queryset, selected_fields=None, *, native: bool = False, chunk: int = CHUNK):
    """Rendered, escaped rows of ``queryset`` in its order (headers first), streamed in chunks."""
    columns = columns_of(resource, queryset, selected_fields)
    yield [column.header for column in columns]
    copy = None if native else exports_postgres.sql_of(columns, queryset)
    if copy is not None:
        yield from exports_postgres.iter_rows(*copy, width=len(columns))
        return
    paths = ["pk", *[column.path for column in columns if column.path]]
    m2m_columns = [column for column in columns if column.m2m]
    renderers = [_renderer(column, native) for column in columns]
    plain = not m2m_columns
    rows = queryset.values_list(*paths).iterator(chunk_size=chunk)
    while True:
        block = []
        for row in rows:
            block.append(row)
            if len(block) >= chunk:
                break
        if not block:
            return
        related = {}
        for column in m2m_columns:
            through, source, target = column.m2m
            values = defaultdict(list)
            for owner, name in through.objects.filter(**{f"{source}__in": [r[0] for r in block]}).values_list(
                source, target
            ):
                values[owner].append(str(name))
            related[column.header] = values
        if plain:
            for row in block:
                yield [render(value) for render, value in zip(renderers, row[1:], strict=True)]
        else:
            for row in block:
                values = iter(row[1:])
                yield [
                    render(related[column.header].get(row[0], []) if column.m2m is not None else next(values))
                    for render, column in zip(renderers, columns, strict=True)
                ]
        if len(block) < chunk:
            return


def check_size(fmt: str, count: int) -> None:
    if fmt == "xlsx" and count + 1 > XLSX_MAX_ROWS:
        raise ValidationError(
            _(
                "%(count)s rows do not fit in an XLSX sheet (at most %(limit)s rows with the header). "
                "Export them as CSV, or filter the list first."
            )
            % {"count": f"{count:,}", "limit": f"{XLSX_MAX_ROWS:,}"},
            code="xlsx_too_many_rows",
        )


def write(fmt: str, rows, target, *, progress=None, every: int = 10_000) -> int:
    """Write ``rows`` (headers first) to ``target`` (a binary file object); returns the data rows written."""
    written = 0
    rows = iter(rows)
    if fmt == "csv":
        text = io.TextIOWrapper(target, encoding="utf-8", newline="", write_through=False)
        text.write("\ufeff")  # so Excel reads UTF-8
        writer = csv.writer(text)
        writer.writerow(next(rows))
        while True:
            block = list(islice(rows, every))
            if not block:
                break
            writer.writerows(block)
            written += len(block)
            if progress:
                progress(written)
        text.flush()
        text.detach()
        return written
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd hh:mm:ss",
            "remove_timezone": True,
        },
    )
    sheet = workbook.add_worksheet()
    for index, row in enumerate(rows):
        for col, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(index, col, value)
            elif value is None:
                continue
            else:
                sheet.write(index, col, value)
        if index and index % every == 0 and progress:
            progress(index)
        written = index
    workbook.close()
    return written


def export_bytes(resource, queryset, fmt: str, selected_fields=None) -> bytes:
    """The whole export in memory: for the small exports answered in the request."""
    buffer = io.BytesIO()
    write(fmt, iter_rows(resource, queryset, selected_fields, native=fmt == "xlsx"), buffer)
    return buffer.getvalue()


# --- the export Job ------------------------------------------------------------------------------------------


def dump_queryset(queryset) -> str:
    # The query (filters, search, ordering of the changelist) travels to the worker as Django pickles it.
    return base64.b64encode(pickle.dumps(queryset.query)).decode("ascii")


def load_queryset(model_label: str, dumped: str):
    queryset = apps.get_model(model_label)._base_manager.all()
    queryset.query = pickle.loads(base64.b64decode(dumped))  # noqa: S301 - written by dump_queryset only
    return queryset


def start_export(resource_class, queryset, fmt: str, *, fields=None, user, filename: str, permission: str = ""):
    """Export ``queryset`` as a Job that streams into its result file."""
    count = queryset.count()
    check_size(fmt, count)
    return jobs.start_stream_job(
        "backoffice.export",
        total=count,
        params={
            "resource": f"{resource_class.__module__}.{resource_class.__qualname__}",
            "model": queryset.model._meta.label,
            "query": dump_queryset(queryset),
            "format": fmt,
            "fields": list(fields or []),
            "filename": filename,
            "download_permission": permission,
        },
        user=user,
    )


@jobs.stream_kind("backoffice.export", label=_("Export"))
def export_job(job, report) -> dict:
    params = job.params
    resource = import_string(params["resource"])()
    queryset = load_queryset(params["model"], params["query"])
    fmt = params["format"]
    check_size(fmt, job.total)
    with tempfile.NamedTemporaryFile(suffix=f".{fmt}", delete=False) as handle:
        scratch = handle.name
        try:
            rows = iter_rows(resource, queryset, params.get("fields") or None, native=fmt == "xlsx")
            written = write(fmt, rows, handle, progress=report)
        except BaseException:
            os.unlink(scratch)
            raise
    try:
        with open(scratch, "rb") as finished:
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            name = f"{params.get('filename') or 'export'}-{stamp}.{fmt}"
            job.result_file.save(name, File(finished), save=False)
        type(job).objects.filter(pk=job.pk).update(result_file=job.result_file.name)
    finally:
        os.unlink(scratch)
    return {"rows": written, "format": fmt, "file": job.result_file.name.rsplit("/", 1)[-1]}
