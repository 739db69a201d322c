"""PostgreSQL writers of the bulk import path (catalog.bulk).

Rows go in with ``COPY ... FROM STDIN``, straight into the table (new products, tag links) or into a temporary
table that one set-based statement reads (``UPDATE ... FROM``, ``INSERT ... SELECT``): no value passes through
Django's SQL compiler or psycopg's client-side quoting, which took most of the time of ``bulk_create`` and
``UPDATE ... FROM (VALUES ...)`` at 100,000 rows. History rows are copied from the written product rows by one
``INSERT ... SELECT`` (tags through a data-modifying CTE), so they hold exactly what was stored.

Temporary tables are created once per transaction (``ON COMMIT DROP``) and truncated before each use. Every
function runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from catalog.models import Product, StockMovement


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _copy(cursor, table: str, columns: list[str], rows: Iterable) -> None:
    # cursor.cursor is psycopg's own cursor (Django's wrapper has no COPY).
    with cursor.cursor.copy(f"COPY {table} ({', '.join(map(_q, columns))}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _temp(cursor, name: str, definition: str) -> str:
    """A temporary table ``name`` (created once per transaction), emptied."""
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} {definition}")
    cursor.execute(f"TRUNCATE {name}")
    return name


def _ids_table(cursor, rows: list[tuple]) -> str:
    """``import_ids (id, kind)`` holding ``rows``, analysed (the planner then joins it by hash)."""
    table = _temp(cursor, "import_ids", "(id uuid PRIMARY KEY, kind char(1)) ON COMMIT DROP")
    _copy(cursor, table, ["id", "kind"], rows)
    cursor.execute(f"ANALYZE {table}")
    return table


PRODUCT_COLUMNS = [f for f in Product._meta.concrete_fields if not f.generated]


def insert_products(rows: list[dict]) -> None:
    """New product rows (``{attname: value}`` with every column) copied into the table."""
    if not rows:
        return
    attnames = [f.attname for f in PRODUCT_COLUMNS]
    with connection.cursor() as cursor:
        _copy(
            cursor,
            _q(Product._meta.db_table),
            [f.column for f in PRODUCT_COLUMNS],
            ([row[name] for name in attnames] for row in rows),
        )


def update_products(products: list[Product], names: list[str]) -> None:
    """Write the fields ``names`` of ``products`` (their in-memory values): copied into a temporary table, then
    one ``UPDATE ... FROM``."""
    if not products:
        return
    fields = [Product._meta.get_field(name) for name in names]
    columns = [f.column for f in fields]
    writable = ", ".join(_q(f.column) for f in PRODUCT_COLUMNS if f.column != "id")
    product_table = _q(Product._meta.db_table)
    with connection.cursor() as cursor:
        table = _temp(
            cursor,
            "import_product_updates",
            f"ON COMMIT DROP AS SELECT id, {writable} FROM {product_table} WITH NO DATA",  # noqa: S608
        )
        attnames = [f.attname for f in fields]
        _copy(
            cursor,
            table,
            ["id", *columns],
            ([product.pk, *(getattr(product, name) for name in attnames)] for product in products),
        )
        cursor.execute(f"ANALYZE {table}")
        assignments = ", ".join(f"{_q(c)} = u.{_q(c)}" for c in columns)
        cursor.execute(f"UPDATE {product_table} AS p SET {assignments} FROM {table} AS u WHERE p.id = u.id")  # noqa: S608


def replace_tags(tag_sets: dict) -> None:
    """``{product id: {tag id}}``: each product's tag links replaced by the given set."""
    if not tag_sets:
        return
    through = Product.tags.through
    with connection.cursor() as cursor:
        ids = _ids_table(cursor, [(pk, "t") for pk in tag_sets])
        cursor.execute(f"DELETE FROM {_q(through._meta.db_table)} WHERE product_id IN (SELECT id FROM {ids})")  # noqa: S608
        _copy(
            cursor,
            _q(through._meta.db_table),
            ["product_id", "tag_id"],
            ((pk, tag) for pk, tags in tag_sets.items() for tag in tags),
        )


def write_history(created: list, updated: list, *, now, history: dict, tag_history_model) -> None:
    """One history record per product in ``created`` (``+``) and ``updated`` (``~``), copied from the stored
    rows and stamped like simple-history's bulk helpers (``history`` is ``bulk_history_kwargs()``), with the
    tags each record saw."""
    if not created and not updated:
        return
    model = Product.history.model
    user = history.get("default_user")
    stamps = {
        "history_date": now,
        "history_change_reason": history.get("default_change_reason"),
        "history_user_id": getattr(user, "pk", user),
        **(history.get("custom_historical_attrs") or {}),
    }
    targets, sources, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.attname == "history_id":
            continue
        targets.append(_q(field.column))
        if field.attname == "history_type":
            sources.append("t.kind")
        elif field.attname in stamps:
            sources.append("%s")
            params.append(stamps[field.attname])
        else:
            sources.append(f"p.{_q(field.column)}")
    through = Product.tags.through
    tags_table = _q(tag_history_model._meta.db_table)
    with connection.cursor() as cursor:
        ids = _ids_table(cursor, [*((pk, "+") for pk in created), *((pk, "~") for pk in updated)])
        cursor.execute(
            f"WITH h AS (INSERT INTO {_q(model._meta.db_table)} ({', '.join(targets)}) "  # noqa: S608
            f"SELECT {', '.join(sources)} FROM {_q(Product._meta.db_table)} AS p JOIN {ids} AS t ON t.id = p.id "
            f"RETURNING history_id, id) "
            f"INSERT INTO {tags_table} (id, product_id, tag_id, history_id) "
            f"SELECT pt.id, pt.product_id, pt.tag_id, h.history_id FROM h "
            f"JOIN {_q(through._meta.db_table)} AS pt ON pt.product_id = h.id",
            params,
        )


def adjust_stock(changes: list[tuple], *, stamps: dict, now) -> tuple[list[str], list[tuple]]:
    """Apply ``[(product id, delta)]`` as the bulk ledger does: rows locked in id order, balances as running
    sums in the given order. Returns ``(SKUs that would go below zero, [])`` having written nothing, or
    ``([], [(product id, delta, balance after)])`` having moved the stock and written one ledger row each."""
    product_table = _q(Product._meta.db_table)
    ledger = _q(StockMovement._meta.db_table)
    with connection.cursor() as cursor:
        table = _temp(cursor, "import_stock", "(ord integer, product_id uuid, delta integer) ON COMMIT DROP")
        _copy(cursor, table, ["ord", "product_id", "delta"], ((i, pk, d) for i, (pk, d) in enumerate(changes)))
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(
            f"SELECT id FROM {product_table} WHERE id IN (SELECT product_id FROM {table}) ORDER BY id FOR UPDATE"  # noqa: S608
        )
        locked = len(cursor.fetchall())
        cursor.execute(f"SELECT COUNT(DISTINCT product_id) FROM {table}")  # noqa: S608
        if locked != cursor.fetchone()[0]:
            raise ValidationError(_("This product no longer exists."), code="gone")
        balances = (
            f"SELECT s.ord, s.product_id, s.delta, p.sku, "  # noqa: S608
            f"p.stock + SUM(s.delta) OVER (PARTITION BY s.product_id ORDER BY s.ord) AS balance "
            f"FROM {table} AS s JOIN {product_table} AS p ON p.id = s.product_id"
        )
        cursor.execute(f"SELECT sku FROM ({balances}) AS b WHERE balance < 0 ORDER BY ord LIMIT 20")  # noqa: S608
        short = [row[0] for row in cursor.fetchall()]
        if short:
            return short, []
        columns = list(stamps)
        cursor.execute(
            f"INSERT INTO {ledger} (product_id, delta, balance_after, created_at, {', '.join(map(_q, columns))}) "  # noqa: S608
            f"SELECT product_id, delta, balance, %s, {', '.join(['%s'] * len(columns))} FROM ({balances}) AS b "
            f"ORDER BY ord RETURNING product_id, delta, balance_after",
            [now, *stamps.values()],
        )
        moved = cursor.fetchall()
        cursor.execute(
            f"UPDATE {product_table} AS p SET stock = p.stock + s.total, updated_at = %s "  # noqa: S608
            f"FROM (SELECT product_id, SUM(delta) AS total FROM {table} GROUP BY product_id) AS s "
            f"WHERE p.id = s.product_id",
            [now],
        )
    return [], moved
