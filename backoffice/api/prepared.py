"""Keyset pages of a values() query compiled once per shape, not once per request.

Building and compiling the products list's queryset (eight text casts, the tags and images subqueries, the
keyset bound) costs more CPU than the database takes to answer it (about 3 ms of a page of 100 on SQLite). A
page without filters has a handful of shapes: the ordering, whether a cursor is given, the page size. For each,
the query is compiled once with sentinel cursor values and kept with the positions of those values among its
parameters; a request only puts its own cursor in those positions. Anything the sentinels cannot be found for
exactly (a shape that would read them differently) is not kept and goes through the ORM each time.

The compiled form is kept on the connection object (one per thread and database), so a compiler and the
converters it found are only ever used with the connection they were made for.
"""

from __future__ import annotations

import datetime
import uuid

from django.db import connections, router

SENTINEL_TIME = datetime.datetime(1999, 12, 31, 23, 59, 58, 123457, tzinfo=datetime.UTC)
SENTINEL_ID = uuid.UUID("5e171e15-5e17-4e15-8e17-5e171e155e17")
TIME, ID = 0, 1
UNCACHEABLE = object()


class _Compiled:
    __slots__ = ("compiler", "converters", "names", "params", "slots", "sql")

    def __init__(self, queryset, page):
        query = queryset.query
        self.compiler = query.get_compiler(queryset.db)
        self.sql, params = self.compiler.as_sql()
        self.params = list(params)
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        self.converters = self.compiler.get_converters(
            [column[0] for column in self.compiler.select[: self.compiler.col_count]]
        )
        self.slots = [None] * len(self.params)
        if page.after is not None:
            connection = self.compiler.connection
            model = query.model
            sentinels = {
                TIME: model._meta.get_field(page.field).get_db_prep_value(SENTINEL_TIME, connection),
                ID: model._meta.pk.get_db_prep_value(SENTINEL_ID, connection),
            }
            for position, value in enumerate(self.params):
                for slot, sentinel in sentinels.items():
                    if type(value) is type(sentinel) and value == sentinel:
                        self.slots[position] = slot

    def usable(self, page) -> bool:
        if page.after is None:
            return True
        # The bound on the sort key and the tuple comparison (which SQLite spells out as an OR): the time two or
        # three times, the id once or twice.
        return self.slots.count(TIME) >= 2 and self.slots.count(ID) >= 1

    def rows(self, page) -> list[dict]:
        params = self.params
        if page.after is not None:
            connection = self.compiler.connection
            model = self.compiler.query.model
            values = {
                TIME: model._meta.get_field(page.field).get_db_prep_value(page.after[0], connection),
                ID: model._meta.pk.get_db_prep_value(page.after[1], connection),
            }
            params = [value if slot is None else values[slot] for value, slot in zip(params, self.slots, strict=True)]
        with self.compiler.connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in rows]


def keyset_rows(page, model, shape: str, build) -> list[dict]:
    """The rows of ``page`` (a KeysetPage) of ``build(page)``, a values() queryset of ``model``; ``shape`` names
    what else the query depends on (which base queryset ``build`` starts from)."""
    connection = connections[router.db_for_read(model)]
    cache = connection.__dict__.setdefault("_api_keyset_queries", {})
    key = (model._meta.label, shape, page.order, page.after is not None, page.size)
    compiled = cache.get(key)
    if compiled is None:
        probe = build(_with_sentinels(page) if page.after is not None else page)
        compiled = _Compiled(probe, page)
        if not compiled.usable(page) or compiled.compiler.connection is not connection:
            compiled = UNCACHEABLE
        cache[key] = compiled
    if compiled is UNCACHEABLE:
        return list(build(page))
    return compiled.rows(page)


def _with_sentinels(page):
    probe = object.__new__(type(page))
    probe.__dict__.update(page.__dict__)
    probe.after = (SENTINEL_TIME, SENTINEL_ID)
    return probe
