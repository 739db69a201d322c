"""The text export's rows rendered by PostgreSQL: ``COPY (SELECT ...) TO STDOUT`` over the changelist's own query.

Each cell is formatted in SQL exactly as the fast exporter's Python renderers format it (text as it is, numbers
as their text, date-times in the current time zone to the second, related rows by their render field, tag names
sorted ignoring case and joined with ", ") and escaped by the same rule as
:func:`backoffice.imports.text.escape_formula`. psycopg parses the stream into rows of strings: no Django model
or value conversion per row, and memory stays flat (the server streams, nothing is fetched ahead). The columns it
cannot render in SQL return ``None`` from :func:`sql_of`, and the Python path is used.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import (
    CharField,
    DateTimeField,
    DecimalField,
    ForeignKey,
    IntegerField,
    SlugField,
    TextField,
)
from django.utils import timezone

from backoffice.imports.text import DateTimeWidget, DecimalWidget, IntegerWidget, LookupWidget, TextWidget

# escape_formula's trigger (PostgreSQL text holds no NUL): any leading quotes, then one of = + @ tab CR -.
_TRIGGER = "^'*[=+@\t\r-]"
_TEXT_FIELDS = (CharField, TextField, SlugField)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _final_field(model, path: str):
    """The model field ``path`` (``a__b``) ends on, or None."""
    field = None
    for part in path.split("__"):
        if part == "pk":
            part = model._meta.pk.name
        try:
            field = model._meta.get_field(part)
        except Exception:  # noqa: BLE001 - not a field
            return None
        if part != path.split("__")[-1]:
            if not isinstance(field, ForeignKey):
                return None
            model = field.related_model
    return field


def _escaped(expression: str, params: list) -> str:
    params.append(_TRIGGER)
    return f"(CASE WHEN {expression} ~ %s THEN '''' || {expression} ELSE {expression} END)"


def _cell(column, ref: str, model, params: list) -> str | None:
    widget = column.field.widget
    if column.m2m is not None:
        through, source, target = column.m2m
        target_fk, target_field = target.split("__", 1)
        fk = through._meta.get_field(target_fk)
        related = fk.related_model._meta.get_field(target_field)
        if not isinstance(related, _TEXT_FIELDS) or "__" in target_field:
            return None
        name = f"r.{_q(related.column)}"
        joined = (
            f"(SELECT string_agg({name}, ', ' ORDER BY lower({name}) COLLATE \"C\") "  # noqa: S608
            f"FROM {_q(through._meta.db_table)} AS m JOIN {_q(fk.related_model._meta.db_table)} AS r "
            f"ON r.{_q(fk.related_model._meta.pk.column)} = m.{_q(fk.column)} "
            f"WHERE m.{_q(through._meta.get_field(source.removesuffix('_id')).column)} = q.c0)"
        )
        return f"COALESCE({_escaped(joined, params)}, '')"
    field = _final_field(model, column.path)
    kind = type(widget)
    if isinstance(widget, LookupWidget) or kind is TextWidget:
        if not isinstance(field, _TEXT_FIELDS):
            return None
        return f"COALESCE({_escaped(ref, params)}, '')"
    if kind in (DecimalWidget, IntegerWidget) and isinstance(field, (DecimalField, IntegerField)):
        return f"COALESCE({_escaped(f'{ref}::text', params)}, '')"
    if kind is DateTimeWidget and isinstance(field, DateTimeField):
        params.append(str(timezone.get_current_timezone()))
        # The widget's form for years before 1000 differs (no catalogue date is that old).
        return f"COALESCE(to_char({ref} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS'), '')"
    return None


def sql_of(columns, queryset) -> tuple[str, list] | None:
    """``(COPY statement, params)`` rendering ``columns`` of ``queryset`` in its order, or None when a column
    needs the Python renderers."""
    if connection.vendor != "postgresql":
        return None
    paths = ["pk", *[column.path for column in columns if column.path]]
    inner, inner_params = queryset.values_list(*paths).query.sql_with_params()
    params: list = []
    cells, index = [], 1
    for column in columns:
        ref = None
        if column.path:
            ref, index = f"q.c{index}", index + 1
        cell = _cell(column, ref, queryset.model, params)
        if cell is None:
            return None
        cells.append(cell)
    aliases = ", ".join(f"c{i}" for i in range(len(paths)))
    # The subquery keeps its ORDER BY: a plain projection over it streams in that order.
    sql = f"COPY (SELECT {', '.join(cells)} FROM ({inner}) AS q({aliases})) TO STDOUT"  # noqa: S608
    return sql, [*params, *inner_params]  # the cells come first in the statement


def iter_rows(sql: str, params: list, width: int):
    """Rows of strings from the COPY statement, streamed."""
    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        copy.set_types(["text"] * width)
        for row in copy.rows():
            yield list(row)
