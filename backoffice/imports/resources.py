"""The base of every resource the admin imports and exports (django-import-export ``ModelResource``).

Exports go through the library (``resource.export()``) or the fast exporter (``backoffice.exports``); both
render each cell with the field's widget and then :func:`~backoffice.imports.text.escape_formula`, so they agree.

Imports are run by ``backoffice.imports.engine``, which asks the resource, per row: the key
(:meth:`key_of`), the existing rows for a chunk of keys (:meth:`existing`), the cleaned values and the errors
by column (:meth:`clean_row`), what would change (:meth:`diff`) and finally to write (:meth:`apply`), which
calls the app's services: a resource never saves a model itself.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import ManyToManyField
from django.utils.translation import gettext as _
from import_export import resources

from backoffice.imports.text import NamesWidget, escape_formula, unescape_formula


def messages_of(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return list(exc.messages)
    return [str(exc)]


class ServiceResource(resources.ModelResource):
    #: the resource field that identifies a row (compared ignoring case)
    key = "id"
    #: resource fields that are exported but never imported
    export_only: tuple[str, ...] = ()
    #: a few rows for the example file, as {column: value}
    example_rows: list[dict] = []
    #: the columns of the file being imported (set by the engine; None when unknown)
    file_columns: frozenset | None = None

    # --- export -----------------------------------------------------------------------------------

    def export_field(self, field, instance, **kwargs):
        return escape_formula(super().export_field(field, instance, **kwargs))

    # --- import: columns ----------------------------------------------------------------------------

    def import_columns(self) -> dict[str, object]:
        """{column name: field} of the columns an import reads (computed once per resource instance: it is
        asked for every row)."""
        columns = self.__dict__.get("_import_columns")
        if columns is None:
            columns = self._import_columns = {
                field.column_name: field
                for name, field in self.fields.items()
                if name not in self.export_only and not field.readonly
            }
        return columns

    def key_column(self) -> str:
        return self.fields[self.key].column_name

    def required_columns(self) -> list[str]:
        return [self.key_column()]

    def normalise_key(self, value) -> str:
        if value is None:
            return ""
        return unescape_formula(str(value)).strip().lower()

    def key_of(self, row: dict) -> str:
        return self.normalise_key(row.get(self.key_column()))

    # --- import: per row ----------------------------------------------------------------------------

    def existing(self, keys: list[str]) -> dict:
        """{normalised key: instance} for ``keys``; override to look up efficiently."""
        raise NotImplementedError

    def clean_row(self, row: dict, instance) -> tuple[dict, list[tuple[str, str]]]:
        """Cleaned values of the columns present ({field attribute: value}) and ``[(column, message)]``."""
        values, errors = {}, []
        for column, field in self.import_columns().items():
            if column not in row:
                continue
            try:
                values[field.attribute] = field.widget.clean(row[column], row=row)
            except (ValidationError, ValueError, ObjectDoesNotExist, TypeError) as exc:
                errors.extend((column, message) for message in messages_of(exc))
        if not errors:
            errors.extend(self.validate(values, instance))
        return values, errors

    def validate(self, values: dict, instance) -> list[tuple[str, str]]:
        """Rules of the model and the service, without writing. Returns ``[(column, message)]``."""
        return []

    def column_of(self, attribute: str) -> str:
        columns = self.__dict__.get("_columns_by_attribute")
        if columns is None:
            columns = self._columns_by_attribute = {}
            for field in self.fields.values():
                columns.setdefault(field.attribute, field.column_name)
        return columns.get(attribute, attribute)

    def errors_by_column(self, exc: ValidationError) -> list[tuple[str, str]]:
        if hasattr(exc, "error_dict"):
            return [
                (self.column_of(name) if name != "__all__" else "", message)
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
        return [("", message) for message in exc.messages]

    def current_value(self, instance, attribute: str):
        value = getattr(instance, attribute)
        if hasattr(value, "all"):
            return list(value.all())
        return value

    def same(self, attribute: str, old, new) -> bool:
        if isinstance(old, list) or isinstance(new, list):
            return {getattr(o, "pk", o) for o in old or []} == {getattr(n, "pk", n) for n in new or []}
        if hasattr(old, "pk") or hasattr(new, "pk"):
            return getattr(old, "pk", old) == getattr(new, "pk", new)
        if old in (None, "") and new in (None, ""):
            return True
        if isinstance(old, datetime) and isinstance(new, datetime):
            # Files carry whole seconds (exports drop the microseconds): an unchanged round trip is unchanged.
            return old.replace(microsecond=0) == new.replace(microsecond=0)
        return old == new

    def render(self, attribute: str, value) -> str:
        fields = self.__dict__.get("_fields_by_attribute")
        if fields is None:  # asked for every changed cell of every row: the map is built once
            fields = self._fields_by_attribute = {}
            for field in self.fields.values():
                fields.setdefault(field.attribute, field)
        field = fields.get(attribute)
        if field is None:
            return "" if value is None else str(value)
        widget = field.widget
        if isinstance(widget, NamesWidget):
            return widget.render_names(str(getattr(v, widget.field)) for v in value or [])
        return str(widget.render(value))

    def diff(self, instance, values: dict) -> dict:
        """{column: [old, new]} of what the row changes (old is empty for a new row)."""
        changes = {}
        key_attribute = self.fields[self.key].attribute
        for attribute, new in values.items():
            old = None if instance is None else self.current_value(instance, attribute)
            if attribute == key_attribute and instance is not None:
                continue  # the key matched ignoring case: it identifies the row, it is not a change
            if instance is not None and self.same(attribute, old, new):
                continue
            if instance is None and new in (None, "", []):
                continue
            changes[self.column_of(attribute)] = [
                "" if instance is None else self.render(attribute, old),
                self.render(attribute, new),
            ]
        return changes

    def apply(self, instance, values: dict, *, user, batch):
        raise NotImplementedError

    # --- the example file -------------------------------------------------------------------------------

    def example(self) -> tuple[list[str], list[list]]:
        headers = list(self.import_columns())
        return headers, [[row.get(column, "") for column in headers] for row in self.example_rows]


def is_m2m(model, attribute: str) -> bool:
    try:
        return isinstance(model._meta.get_field(attribute), ManyToManyField)
    except Exception:  # noqa: BLE001 - not a model field
        return False


__all__ = ["ServiceResource", "_", "is_m2m", "messages_of"]
