"""Imports: the registry of importable resources, the undo of a batch, and where the rest lives.

The apps register what they import (``register``) from their own modules; backoffice never imports them::

    register("catalog.product", label=_("Products"), model="catalog.Product",
             resource="catalog.resources.ProductResource", undo=undo_products)

- ``backoffice.imports.models``: ``ImportBatch``, ``ImportRow`` (the stored preview), ``ImportMapping``;
- ``backoffice.imports.text``: the formula escape and its exact inverse, the widgets with the decimal rule;
- ``backoffice.imports.readers``: CSV (BOM, ``,``/``;`` sniffed) and XLSX (cached formula values) read as a
  stream, with the row limit;
- ``backoffice.imports.engine``: upload, validate (preview), apply (all or nothing), failed rows, the Jobs;
- ``backoffice.imports.admin``: the admin mixin (Import/Export buttons, permissions) and the batch admin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class ImportSpec:
    key: str
    label: str
    model: str  # "app_label.ModelName": whose import permission the flow checks
    resource: str  # dotted path of the resource class
    undo: Callable | None = None  # (batch, *, user) -> dict; raises ValidationError to refuse

    def resource_class(self):
        return import_string(self.resource)

    def get_resource(self):
        return self.resource_class()()

    @property
    def app_label(self) -> str:
        return self.model.split(".")[0]

    @property
    def model_name(self) -> str:
        return self.model.split(".")[1].lower()

    @property
    def import_permission(self) -> str:
        return f"{self.app_label}.import_{self.model_name}"


registry: dict[str, ImportSpec] = {}


def register(key: str, *, label, model: str, resource: str, undo: Callable | None = None) -> ImportSpec:
    spec = ImportSpec(key=key, label=label, model=model, resource=resource, undo=undo)
    registry[key] = spec
    return spec


def get_spec(key: str) -> ImportSpec:
    spec = registry.get(key)
    if spec is None:
        raise ValidationError(_("Unknown import resource: %(key)s.") % {"key": key}, code="unknown_resource")
    return spec


class UndoRefused(ValidationError):
    """The undo would overwrite later changes (or take stock below zero); ``rows`` names them."""

    def __init__(self, message, rows=()):
        self.rows = list(rows)
        super().__init__(message, code="undo_refused")


def check_undoable(batch) -> None:
    """ValidationError unless ``batch`` (read under lock) is an applied import of an undoable resource."""
    from backoffice.imports.models import ImportBatch

    if get_spec(batch.resource).undo is None:
        raise ValidationError(
            _("Imports of %(label)s cannot be undone.") % {"label": get_spec(batch.resource).label}, code="no_undo"
        )
    if batch.status == ImportBatch.Status.UNDONE:
        raise ValidationError(_("This import was undone already."), code="undone")
    if batch.status != ImportBatch.Status.APPLIED:
        raise ValidationError(_("Only a completed import can be undone."), code="not_applied")


def undo_import(batch, *, user) -> dict:
    """Undo an applied batch through the handler its app registered: every touched row back to its version
    before the batch (only where its latest history is still this batch's), stock reversed through the
    ledger, created rows soft-deleted. All or nothing; refused (``UndoRefused``) when a row changed since."""
    from backoffice.imports.models import ImportBatch

    spec = get_spec(batch.resource)
    if spec.undo is None:
        raise ValidationError(_("Imports of %(label)s cannot be undone.") % {"label": spec.label}, code="no_undo")
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        check_undoable(locked)
        result = spec.undo(locked, user=user)
        ImportBatch.objects.filter(pk=locked.pk).update(
            status=ImportBatch.Status.UNDONE,
            undone_at=timezone.now(),
            undone_by=user if getattr(user, "is_authenticated", False) else None,
            message=_("Undone: %(summary)s") % {"summary": _summary(result)},
            updated_at=timezone.now(),
        )
    batch.refresh_from_db()
    return result


def _summary(result: dict) -> str:
    return ", ".join(f"{name} {count}" for name, count in result.items())
