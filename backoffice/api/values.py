"""Reading UUID and date-time columns as text for the list endpoints.

A page of 100 products reads ~900 UUIDs (ids, foreign keys, image and asset ids) and ~400 date-times; turning
each into a ``uuid.UUID`` or ``datetime`` only for orjson to turn it back into text costs several ms per page.
Read as text they cost nothing; :func:`uuid_text` and :func:`datetime_text` give the form a JSON answer shows
(SQLite stores 32 hex digits and naive UTC times; PostgreSQL answers dashed UUIDs and ``...+00``, the
connection's time zone being UTC under ``USE_TZ``).
"""

from __future__ import annotations

from django.db.models import Aggregate, TextField
from django.db.models.functions import Cast


def as_text(field: str) -> Cast:
    return Cast(field, output_field=TextField())


def uuid_text(value: str | None) -> str | None:
    if value is None or len(value) != 32:
        return value
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def datetime_text(value: str | None) -> str | None:
    """ISO 8601 with the UTC offset, as orjson writes an aware datetime: ``2026-11-25T21:04:49.108924+00:00``."""
    if value is None:
        return None
    value = value.replace(" ", "T", 1)
    if value.endswith("+00"):
        return value + ":00"
    if value.endswith(("Z", "+00:00")):
        return value.removesuffix("Z") + ("+00:00" if value.endswith("Z") else "")
    return value + "+00:00"


class CommaJoin(Aggregate):
    """The values of a group joined with commas (STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite), for short
    lists of slugs read in the row's own query instead of one more query per page."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)
