"""The import flow around django-import-export's resources: upload, column mapping, validation (the preview),
apply (all or nothing), the failed-rows file, and the Jobs that run the big ones.

- **Upload** (:func:`upload`): the size is checked before anything is parsed; the file is kept in the default
  storage (shared by web and workers); its rows are counted as a stream, stopping at ``IMPORT_MAX_ROWS``.
- **Mapping**: a batch whose headers are not the resource's columns gets ``{header: column or ""}``;
  :func:`mapped_rows` renames the columns as they are read.
- **Validation** (:func:`validate`): every row is classified new/updated/unchanged/invalid with its changes and
  its errors by column; the result is stored (``ImportRow``) for the paginated preview. Duplicate keys are an
  error on every row that has them.
- **Apply** (:func:`apply`): validates every row again while writing through the resource (services) in one
  transaction; a row that turned invalid since the preview raises, so nothing at all is written.

Above ``IMPORT_JOB_THRESHOLD`` rows, validation and apply run as one-stream Jobs (``backoffice.jobs``).
"""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter
from collections.abc import Iterator
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backoffice import jobs, webhooks
from backoffice.history import acting_as
from backoffice.imports import check_undoable, get_spec, undo_import, upkeep
from backoffice.imports.models import ImportBatch, ImportMapping, ImportRow
from backoffice.imports.readers import SourceError, Table, format_of
from backoffice.imports.text import escape_formula
from backoffice.live import events as live_events
from backoffice.models import Job

logger = logging.getLogger(__name__)
CHUNK = 1000


def max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def max_rows() -> int:
    return settings.IMPORT_MAX_ROWS


def job_threshold() -> int:
    return settings.IMPORT_JOB_THRESHOLD


class RowInvalid(ValidationError):
    """A row is invalid during apply: the whole import is rolled back."""

    def __init__(self, number: int, errors: list):
        self.number, self.errors = number, errors
        text = "; ".join(f"{column}: {message}" if column else message for column, message in errors)
        super().__init__(
            _("Row %(row)s is not valid (any more): %(errors)s. Nothing was imported.")
            % {"row": number, "errors": text},
            code="row_invalid",
        )


# --- upload --------------------------------------------------------------------------------------------


def table_of(batch: ImportBatch) -> Table:
    storage, name = batch.file.storage, batch.file.name
    if not name:
        raise SourceError(
            _("The uploaded file was deleted (files are kept %(hours)s hours, or until imported). Upload it again.")
            % {"hours": settings.IMPORT_FILE_RETENTION_HOURS},
            code="file_deleted",
        )
    return Table(lambda: storage.open(name, "rb"), batch.file_format)


def upload(file, *, resource: str, user) -> ImportBatch:
    """Store ``file`` and count its rows. Raises ValidationError (stores nothing) when it cannot be imported."""
    spec = get_spec(resource)
    limit = max_bytes()
    if file.size is not None and file.size > limit:
        raise ValidationError(
            _("The file is %(size)s MB; imports take at most %(limit)s MB. Split it into smaller files.")
            % {"size": f"{file.size / 1e6:.1f}", "limit": f"{limit / 1e6:.0f}"},
            code="too_big",
        )
    fmt = format_of(file.name or "")
    batch = ImportBatch(
        resource=spec.key,
        file_name=(file.name or "")[-255:],
        file_format=fmt,
        file_size=file.size or 0,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    batch.file.save(f"{batch.pk}.{fmt}", file, save=False)
    try:
        table = table_of(batch)
        batch.headers = table.headers()
        batch.total_rows = table.count_rows(max_rows())
    except SourceError:
        batch.file.delete(save=False)
        raise
    if batch.total_rows == 0:
        batch.file.delete(save=False)
        raise ValidationError(_("The file has column names but no rows to import."), code="no_rows")
    resource_obj = spec.get_resource()
    columns = set(resource_obj.import_columns())
    if set(batch.headers) <= columns:
        batch.mapping = {header: header for header in batch.headers}
    else:
        remembered = ImportMapping.objects.filter(user=batch.created_by, resource=spec.key).first()
        if remembered is not None:
            batch.saved_mapping = remembered
    batch.save()
    return batch


def needs_mapping(batch: ImportBatch) -> bool:
    return not batch.mapping or any(header not in batch.mapping for header in batch.headers)


def mapping_problems(resource_obj, mapping: dict) -> list[str]:
    problems = []
    targets = [column for column in mapping.values() if column]
    doubled = sorted({column for column in targets if targets.count(column) > 1})
    if doubled:
        problems.append(
            _("Each column can be read from one header only: %(columns)s chosen twice.")
            % {"columns": ", ".join(doubled)}
        )
    missing = [column for column in resource_obj.required_columns() if column not in targets]
    if missing:
        problems.append(_("Choose a header for %(columns)s: it identifies the rows.") % {"columns": ", ".join(missing)})
    return problems


def save_mapping(batch: ImportBatch, mapping: dict, *, user) -> ImportBatch:
    """Use ``mapping`` ({header: column or ""}) for this batch and remember it for the user and resource."""
    resource_obj = get_spec(batch.resource).get_resource()
    columns = set(resource_obj.import_columns())
    clean = {header: (mapping.get(header) or "") for header in batch.headers}
    if any(value and value not in columns for value in clean.values()):
        raise ValidationError(_("The mapping names a column this import does not know."), code="mapping")
    problems = mapping_problems(resource_obj, clean)
    if problems:
        raise ValidationError(problems, code="mapping")
    with transaction.atomic():
        saved = None
        if getattr(user, "is_authenticated", False):
            saved, _created = ImportMapping.objects.update_or_create(
                user=user, resource=batch.resource, defaults={"columns": clean}
            )
        ImportBatch.objects.filter(pk=batch.pk).update(
            mapping=clean, saved_mapping=saved, status=ImportBatch.Status.UPLOADED, updated_at=timezone.now()
        )
    batch.refresh_from_db()
    return batch


def mapped_rows(batch: ImportBatch) -> Iterator[tuple[int, dict, list]]:
    """``(number, {column: value}, [(column, message)])`` with the batch's mapping applied."""
    headers, rows = table_of(batch).read()
    mapping = batch.mapping or {h: h for h in headers}
    targets = [mapping.get(header, "") for header in headers]
    try:
        for number, cells, problems in rows:
            row = {target: value for target, value in zip(targets, cells, strict=False) if target}
            yield (
                number,
                row,
                [(targets[index] or headers[index], message) for index, message in problems],
            )
    finally:
        rows.close()


# --- evaluating rows -------------------------------------------------------------------------------------


def _duplicates(resource_obj, batch) -> dict[int, list[int]]:
    """{row number: [other row numbers with the same key]} for keys that appear more than once."""
    seen: dict[str, list[int]] = {}
    for number, row, _problems in mapped_rows(batch):
        key = resource_obj.key_of(row)
        if key:
            seen.setdefault(key, []).append(number)
    return {n: [m for m in numbers if m != n] for numbers in seen.values() if len(numbers) > 1 for n in numbers}


def _evaluate(resource_obj, number, row, problems, existing, duplicates, with_changes=True):
    key_column = resource_obj.key_column()
    key = resource_obj.key_of(row)
    errors = list(problems)
    if not key:
        errors.append((key_column, _("This column is required: it identifies the row.")))
    others = duplicates.get(number)
    if others:
        errors.append(
            (
                key_column,
                ngettext(
                    "“%(key)s” is also on row %(rows)s; each %(column)s may appear once per file.",
                    "“%(key)s” is also on rows %(rows)s; each %(column)s may appear once per file.",
                    len(others),
                )
                % {"key": row.get(key_column), "rows": ", ".join(map(str, others[:10])), "column": key_column},
            )
        )
    instance = existing.get(key)
    values, row_errors = resource_obj.clean_row(row, instance)
    errors.extend(row_errors)
    if errors:
        return ImportRow.Status.INVALID, key, instance, values, {}, errors
    if not with_changes:  # the bulk writer compares the rows it locks itself
        return (ImportRow.Status.NEW if instance is None else ImportRow.Status.UPDATED), key, instance, values, {}, []
    changes = resource_obj.diff(instance, values)
    if instance is None:
        status = ImportRow.Status.NEW
    else:
        status = ImportRow.Status.UPDATED if changes else ImportRow.Status.UNCHANGED
    return status, key, instance, values, changes, []


def evaluated_rows(resource_obj, batch, duplicates=None, *, with_changes=True):
    """Every row of the batch evaluated: ``(number, status, key, instance, values, changes, errors)``. Without
    ``with_changes`` a valid existing row is "updated" and its changes are not computed."""
    if duplicates is None:
        duplicates = _duplicates(resource_obj, batch)
    mapping = batch.mapping or {header: header for header in batch.headers}
    resource_obj.file_columns = frozenset(target for target in mapping.values() if target)
    rows = mapped_rows(batch)
    try:
        while True:
            chunk = list(islice(rows, CHUNK))
            if not chunk:
                return
            keys = [resource_obj.key_of(row) for _n, row, _p in chunk]
            existing = resource_obj.existing([key for key in keys if key])
            for number, row, problems in chunk:
                status, key, instance, values, changes, errors = _evaluate(
                    resource_obj, number, row, problems, existing, duplicates, with_changes
                )
                yield number, status, key, instance, values, changes, errors
    finally:
        rows.close()


# --- validation (the preview) ------------------------------------------------------------------------------


def validate(batch: ImportBatch, *, progress=None) -> ImportBatch:
    """Classify every row and store the preview. The batch ends VALIDATED or INVALID (or FAILED when the
    file can no longer be read)."""
    resource_obj = get_spec(batch.resource).get_resource()
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.VALIDATING, updated_at=timezone.now())
    ImportRow.objects.filter(batch=batch).delete()
    counts: Counter = Counter()
    pending: list[ImportRow] = []
    try:
        for number, status, key, _instance, _values, changes, errors in evaluated_rows(resource_obj, batch):
            counts[status] += 1
            if status != ImportRow.Status.UNCHANGED:
                pending.append(
                    ImportRow(
                        batch=batch,
                        number=number,
                        status=status,
                        key=str(key)[:255],
                        changes=changes,
                        errors=[[column, str(message)] for column, message in errors],
                    )
                )
            if len(pending) >= CHUNK:
                ImportRow.objects.bulk_create(pending)
                pending = []
                if progress:
                    progress(sum(counts.values()))
        ImportRow.objects.bulk_create(pending)
    except SourceError as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.FAILED, message=" ".join(exc.messages), updated_at=timezone.now()
        )
        batch.refresh_from_db()
        return batch
    invalid = counts[ImportRow.Status.INVALID]
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.INVALID if invalid else ImportBatch.Status.VALIDATED,
        total_rows=sum(counts.values()),
        new_rows=counts[ImportRow.Status.NEW],
        updated_rows=counts[ImportRow.Status.UPDATED],
        unchanged_rows=counts[ImportRow.Status.UNCHANGED],
        invalid_rows=invalid,
        validated_at=timezone.now(),
        updated_at=timezone.now(),
        message=""
        if not invalid
        else ngettext(
            "%(count)s row is invalid: fix it (download the failed rows) and upload again. Nothing is imported "
            "while a row is invalid.",
            "%(count)s rows are invalid: fix them (download the failed rows) and upload again. Nothing is "
            "imported while a row is invalid.",
            invalid,
        )
        % {"count": invalid},
    )
    batch.refresh_from_db()
    return batch


# --- apply ----------------------------------------------------------------------------------------------------


def claim_for_apply(batch: ImportBatch) -> bool:
    """VALIDATED -> APPLYING, once: a repeated confirm finds the batch taken and does nothing."""
    return bool(
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.VALIDATED).update(
            status=ImportBatch.Status.APPLYING, updated_at=timezone.now()
        )
    )


def apply(batch: ImportBatch, *, user, progress=None) -> ImportBatch:
    """Write every row through the resource in one transaction, re-validating each first. Call
    :func:`claim_for_apply` before. Any invalid row or refused write rolls everything back; the batch is then
    validated again so the preview shows why."""
    spec = get_spec(batch.resource)
    resource_obj = spec.get_resource()
    counts: Counter = Counter()
    try:
        with transaction.atomic(), acting_as(user=user, import_batch=batch):
            duplicates = _duplicates(resource_obj, batch)
            bulk = getattr(resource_obj, "apply_bulk", None)
            rows = evaluated_rows(resource_obj, batch, duplicates, with_changes=bulk is None)
            # The bulk path in the request too: row by row through the services, 5,000 rows took ~30 s.
            if bulk is not None:
                summary = bulk(_reported(_valid_only(rows, Counter()), progress), user=user, batch=batch)
                counts.update(getattr(summary, "counts", {}) or {})
            else:
                for number, status, _key, instance, values, _changes, _errors in _valid_only(rows, counts):
                    if status == ImportRow.Status.UNCHANGED:
                        continue
                    try:
                        with transaction.atomic():
                            resource_obj.apply(instance, values, user=user, batch=batch)
                    except ValidationError as exc:
                        raise RowInvalid(number, resource_obj.errors_by_column(exc)) from exc
                    if progress and sum(counts.values()) % CHUNK == 0:
                        progress(sum(counts.values()))
    except (RowInvalid, SourceError, ValidationError) as exc:
        message = " ".join(exc.messages)
        validate(batch)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.INVALID if batch.invalid_rows else ImportBatch.Status.FAILED,
            message=message,
            updated_at=timezone.now(),
        )
        batch.refresh_from_db()
        raise
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.APPLIED,
            applied_at=timezone.now(),
            new_rows=counts[ImportRow.Status.NEW],
            updated_rows=counts[ImportRow.Status.UPDATED],
            unchanged_rows=counts[ImportRow.Status.UNCHANGED],
            invalid_rows=0,
            message="",
            updated_at=timezone.now(),
        )
        webhooks.emit("import.finished", batch)
        upkeep.discard_upload(batch)  # imported: the file is needed no more (undo works from history)
    batch.refresh_from_db()
    return batch


def _reported(rows, progress):
    """``rows`` as they are, reporting how many were taken every CHUNK (the bulk path writes them chunk by
    chunk as it takes them; a Job's progress goes through its own connection on PostgreSQL)."""
    for index, row in enumerate(rows, 1):
        yield row
        if progress and index % CHUNK == 0:
            progress(index)


def _valid_only(rows, counts):
    for number, status, key, instance, values, changes, errors in rows:
        if status == ImportRow.Status.INVALID:
            raise RowInvalid(number, errors)
        counts[status] += 1
        yield number, status, key, instance, values, changes, errors


# --- failed rows -------------------------------------------------------------------------------------------------


def failed_rows_file(batch: ImportBatch) -> tuple[bytes, str, str]:
    """The invalid rows as a file of the batch's format (original headers) plus an ``error`` column."""
    errors = {
        number: "; ".join(f"{column}: {message}" if column else message for column, message in row_errors)
        for number, row_errors in ImportRow.objects.filter(batch=batch, status=ImportRow.Status.INVALID).values_list(
            "number", "errors"
        )
    }
    headers, rows = table_of(batch).read()
    error_header = _("error")
    selected = []
    try:
        for number, cells, _problems in rows:
            if number in errors:
                selected.append([*cells, errors[number]])
    finally:
        rows.close()
    stem = batch.file_name.rsplit(".", 1)[0][:80] or "import"
    if batch.file_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append([*headers, error_header])
        for row in selected:
            sheet.append([_as_written(sheet, value) for value in row])  # cells back exactly as they were read
        buffer = io.BytesIO()
        workbook.save(buffer)
        return (
            buffer.getvalue(),
            f"{stem}-failed.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*headers, error_header])
    for row in selected:
        writer.writerow(row)  # CSV cells are written back exactly as they were read
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), f"{stem}-failed.csv", "text/csv; charset=utf-8"


def _as_written(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text stays text, never a formula
        return cell
    return value


def example_file(resource_key: str, fmt: str) -> tuple[bytes, str, str]:
    spec = get_spec(resource_key)
    headers, rows = spec.get_resource().example()
    name = f"{spec.key.replace('.', '-')}-example"
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(headers)
        for row in rows:
            sheet.append([escape_formula(v) for v in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue(), f"{name}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([escape_formula(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), f"{name}.csv", "text/csv; charset=utf-8"


# --- the Jobs --------------------------------------------------------------------------------------------------


@jobs.stream_kind("imports.validate", label=_("Validate an import"))
def validate_job(job, report) -> None:
    batch = ImportBatch.objects.get(pk=job.params["batch"])
    batch = validate(batch, progress=report)
    job_result = {
        "batch": str(batch.pk),
        "status": batch.status,
        "new": batch.new_rows,
        "updated": batch.updated_rows,
        "unchanged": batch.unchanged_rows,
        "invalid": batch.invalid_rows,
    }
    if batch.status == ImportBatch.Status.FAILED:
        raise ValidationError(batch.message)
    return job_result


@jobs.stream_kind("imports.apply", label=_("Apply an import"))
def apply_job(job, report) -> dict:
    batch = ImportBatch.objects.get(pk=job.params["batch"])
    apply(batch, user=job.requested_by, progress=report)
    return {"batch": str(batch.pk), "new": batch.new_rows, "updated": batch.updated_rows}


def start_validation(batch: ImportBatch, *, user):
    """Validate now (small files) or as a Job (above the threshold). Returns the Job or None."""
    if batch.total_rows <= job_threshold():
        validate(batch)
        return None
    job = jobs.start_stream_job("imports.validate", total=batch.total_rows, params={"batch": str(batch.pk)}, user=user)
    ImportBatch.objects.filter(pk=batch.pk).update(
        job=job, status=ImportBatch.Status.VALIDATING, updated_at=timezone.now()
    )
    return job


def start_apply(batch: ImportBatch, *, user):
    """Apply now (small files) or as a Job. Raises ValidationError when the batch is not ready (or was
    confirmed already)."""
    if not claim_for_apply(batch):
        batch.refresh_from_db()
        if batch.status in (ImportBatch.Status.APPLYING, ImportBatch.Status.APPLIED):
            raise ValidationError(_("This import was confirmed already."), code="already")
        raise ValidationError(_("This import is not ready: check its preview first."), code="not_ready")
    if batch.total_rows <= job_threshold():
        try:
            apply(batch, user=user)
        finally:
            live_events.import_finished(batch, user=user)  # a Job's end notifies through backoffice.jobs
        return None
    job = jobs.start_stream_job("imports.apply", total=batch.total_rows, params={"batch": str(batch.pk)}, user=user)
    ImportBatch.objects.filter(pk=batch.pk).update(job=job, updated_at=timezone.now())
    return job


def undo_size(batch: ImportBatch) -> int:
    return batch.new_rows + batch.updated_rows


@jobs.stream_kind("imports.undo", label=_("Undo an import"))
def undo_job(job, report) -> dict:
    batch = ImportBatch.objects.get(pk=job.params["batch"])
    try:
        counts = undo_import(batch, user=job.requested_by)
    except ValidationError as exc:
        # The refusal (rows changed since, stock) is shown on the batch too, where the undo was asked for.
        ImportBatch.objects.filter(pk=batch.pk).update(message=" ".join(exc.messages), updated_at=timezone.now())
        raise
    report(undo_size(batch))
    return {"batch": str(batch.pk), **counts}


def start_undo(batch: ImportBatch, *, user):
    """Undo now (small batches) or as a Job (above the import threshold, counting the rows the batch wrote).
    Returns the Job or None; raises ValidationError when the batch cannot be undone (or is being undone)."""
    if undo_size(batch) <= job_threshold():
        undo_import(batch, user=user)
        return None
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        check_undoable(locked)
        if (
            locked.job_id is not None
            and Job.objects.filter(pk=locked.job_id, kind="imports.undo", status__in=Job.ACTIVE_STATUSES).exists()
        ):
            raise ValidationError(_("This import is being undone already."), code="undoing")
        job = jobs.start_stream_job(
            "imports.undo", total=undo_size(locked), params={"batch": str(locked.pk)}, user=user
        )
        ImportBatch.objects.filter(pk=locked.pk).update(job=job, updated_at=timezone.now())
    return job


def storage_content(data: bytes, name: str) -> ContentFile:
    return ContentFile(data, name=name)
