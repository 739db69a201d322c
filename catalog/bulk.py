"""The bulk path of product imports: set-based writes, explicit ``updated_at``, bulk history stamped with the user, job
and batch, and a bulk stock ledger with the never-below-zero rule. Re-exported by catalog.services.

On PostgreSQL the writes of each chunk are ``COPY`` plus set-based statements (catalog.bulk_postgres): new rows
copied in, changed rows copied to a temporary table and written by one ``UPDATE ... FROM``, history and tag history
by one ``INSERT ... SELECT``, the ledger's balances computed and checked in SQL. Elsewhere ``bulk_create``, one
prepared ``UPDATE`` run for every row (``executemany``) and simple-history's bulk helpers. Everything runs in the
caller's transaction (``import_products`` opens one): on SQLite that transaction holds the database's write lock
until it commits, so other writers (the admin, workers) wait up to the busy timeout and readers go on seeing the
data as it was before the import.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from backoffice import webhooks
from backoffice.history import acting_as, bulk_history_kwargs, current_actor
from backoffice.locking import lock_in_order
from catalog import bulk_postgres
from catalog.models import PRODUCT_WRITABLE_FIELDS, Product, StockMovement

CHUNK = 2000
# COPY and set-based statements cost little per row but a round trip or two per statement: bigger chunks.
POSTGRES_CHUNK = 10_000


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stock_changed: int = 0
    created_ids: list = field(default_factory=list)
    updated_ids: list = field(default_factory=list)

    @property
    def counts(self) -> dict:
        return {"new": self.created, "updated": self.updated, "unchanged": self.unchanged}


def _same(old, new) -> bool:
    if hasattr(old, "pk") or hasattr(new, "pk"):
        return getattr(old, "pk", old) == getattr(new, "pk", new)
    if old in (None, "") and new in (None, ""):
        return True
    if isinstance(old, datetime) and isinstance(new, datetime):
        return old.replace(microsecond=0) == new.replace(microsecond=0)  # files carry whole seconds
    return old == new


RELATIONS = {name: Product._meta.get_field(name).attname for name in ("category", "brand", "supplier")}


def _current(product: Product, name: str):
    """The stored value of ``name``: a relation by its id (no query for the related row)."""
    return getattr(product, RELATIONS[name]) if name in RELATIONS else getattr(product, name)


def import_products(rows: Iterable, *, user, batch, chunk: int | None = None) -> ImportSummary:
    """Create or update products from ``rows`` (dicts of cleaned values keyed by field, or ``(instance or None,
    values)`` pairs), all or nothing. ``stock`` in values is the new quantity, moved through the bulk ledger with
    reason import; ``tags`` a list of tags. Values are trusted to be validated (the import engine does that)."""
    summary = ImportSummary()
    chunk = chunk or (POSTGRES_CHUNK if connection.vendor == "postgresql" else CHUNK)
    iterator = iter(rows)
    with transaction.atomic(), acting_as(user=user, import_batch=batch):
        while True:
            block = list(islice(iterator, chunk))
            if not block:
                break
            _import_block([item if isinstance(item, tuple) else (None, item) for item in block], summary)
    return summary


def _create_defaults() -> dict:
    """{attname: default} of every stored product column (the database columns a new row must have)."""
    return {f.attname: f.get_default() for f in bulk_postgres.PRODUCT_COLUMNS}


def _import_block(block: list[tuple], summary: ImportSummary) -> None:
    now = timezone.now()
    skus = {str(values["sku"]).lower() for _instance, values in block}
    locked = {
        product.sku.lower(): product
        for product in lock_in_order(Product.objects.annotate(_sku=Lower("sku")).filter(_sku__in=skus))
    }
    defaults = _create_defaults()
    creates, updates, tag_sets, stock = [], [], {}, []
    changed_fields: set[str] = set()
    for _instance, values in block:
        product = locked.get(str(values["sku"]).lower())
        fields = {name: values[name] for name in PRODUCT_WRITABLE_FIELDS if name in values}
        for name in ("description", "barcode"):
            if name in fields and fields[name] is None:
                fields[name] = ""
        if "status" in fields and not fields["status"]:
            fields.pop("status")
        if product is None:
            row = {**defaults, "id": uuid.uuid4(), "created_at": now, "updated_at": now, "stock": 0}
            for name, value in fields.items():
                if name in RELATIONS:
                    row[RELATIONS[name]] = getattr(value, "pk", value)
                else:
                    row[name] = value
            if not row["slug"]:
                row["slug"] = slugify(row["name"])[:280] or slugify(row["sku"])[:280]
            creates.append(row)
            summary.created += 1
            if values.get("tags"):
                tag_sets[row["id"]] = {tag.pk for tag in values["tags"]}
            if values.get("stock"):
                stock.append((row["id"], values["stock"]))
            continue
        fields.pop("sku", None)  # the key, matched ignoring case
        changed = [name for name, value in fields.items() if not _same(_current(product, name), value)]
        if "tags" in values:
            current = {tag.pk for tag in _instance.tags.all()} if _instance is not None else None
            if current is None:
                current = set(product.tags.values_list("pk", flat=True))
            wanted = {tag.pk for tag in values["tags"] or []}
            if wanted != current:
                tag_sets[product.pk] = wanted
        target = values.get("stock")
        if target is not None and target != product.stock:
            stock.append((product.pk, target - product.stock))
        if changed or product.pk in tag_sets:
            for name in changed:
                setattr(product, name, fields[name])
            product.updated_at = now
            changed_fields.update(changed)
            updates.append(product)
            summary.updated += 1
        elif target is not None and target != product.stock:
            summary.updated += 1
        else:
            summary.unchanged += 1
    # The products this block created and changed (a bulk event recorder hooks in here).
    created_ids = [row["id"] for row in creates]
    updated_ids = [product.pk for product in updates]
    summary.created_ids.extend(created_ids)
    summary.updated_ids.extend(updated_ids)
    with webhooks.collecting():  # both kinds in one INSERT, nothing when no endpoint subscribes
        webhooks.emit_many("product.created", created_ids)
        webhooks.emit_many("product.updated", updated_ids)
    history = bulk_history_kwargs()
    if connection.vendor == "postgresql":
        bulk_postgres.insert_products(creates)
        bulk_postgres.update_products(updates, sorted({*changed_fields, "updated_at"}))
        bulk_postgres.replace_tags(tag_sets)
        bulk_postgres.write_history(
            created_ids, updated_ids, now=now, history=history, tag_history_model=_tag_history_model()
        )
    else:
        created = [Product(**row) for row in creates]
        if created:
            Product.objects.bulk_create(created, batch_size=500)
        if updates:
            _update_rows(updates, sorted({*changed_fields, "updated_at"}))
        _replace_tags(tag_sets)
        if created or updates:
            records = Product.history.bulk_history_create(created, default_date=now, **history) or []
            records += Product.history.bulk_history_create(updates, update=True, default_date=now, **history) or []
            _tag_history(records)
    if stock:
        summary.stock_changed += len(
            bulk_adjust_stock(
                stock,
                reason=StockMovement.Reason.IMPORT,
                reference=str(_("Import %(id)s") % {"id": str(current_actor().import_batch.pk)[:8]})
                if current_actor().import_batch is not None
                else "",
            )
        )


def _update_rows(products: list[Product], names: list[str]) -> None:
    """Write the fields ``names`` of ``products`` (their in-memory values)."""
    if connection.vendor == "postgresql":
        bulk_postgres.update_products(products, names)
        return
    # One prepared UPDATE run for every row (executemany): far cheaper than bulk_update's CASE WHEN.
    fields = [Product._meta.get_field(name) for name in names]
    table = connection.ops.quote_name(Product._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    pk = Product._meta.pk
    sql = f"UPDATE {table} SET {assignments} WHERE {connection.ops.quote_name(pk.column)} = %s"  # noqa: S608
    params = [
        [
            *(f.get_db_prep_save(getattr(product, f.attname), connection) for f in fields),
            pk.get_db_prep_value(product.pk, connection),
        ]
        for product in products
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _replace_tags(tag_sets: dict) -> None:
    if not tag_sets:
        return
    through = Product.tags.through
    through.objects.filter(product_id__in=list(tag_sets)).delete()
    through.objects.bulk_create(
        [through(product_id=pk, tag_id=tag) for pk, tags in tag_sets.items() for tag in tags], batch_size=1000
    )


def _tag_history(records) -> None:
    """The tags each new history record saw (simple-history's bulk helpers skip many-to-many)."""
    records = [r for r in records if r.pk is not None]
    if not records:
        return
    m2m_model = _tag_history_model()
    through = Product.tags.through
    by_product: dict = {}
    for product_id, tag_id, row_id in through.objects.filter(product_id__in=[r.id for r in records]).values_list(
        "product_id", "tag_id", "id"
    ):
        by_product.setdefault(product_id, []).append((tag_id, row_id))
    m2m_model.objects.bulk_create(
        [
            m2m_model(history_id=record.pk, product_id=record.id, tag_id=tag_id, id=row_id)
            for record in records
            for tag_id, row_id in by_product.get(record.id, [])
        ],
        batch_size=1000,
    )


def _tag_history_model():
    from simple_history.models import HistoricalRecords

    for m2m_field, model in HistoricalRecords.m2m_models.items():
        if m2m_field.model is Product and m2m_field.name == "tags":
            return model
    raise LookupError("Product tags have no history model")


# --- the bulk ledger ----------------------------------------------------------------------------------------------


class StockChange(NamedTuple):
    product_id: object
    delta: int
    balance_after: int


def bulk_adjust_stock(changes: list[tuple], *, reason: str, reference: str = "") -> list[StockChange]:
    """Apply ``[(product id, delta)]`` at once: rows locked in order, refused as a whole (ValidationError naming
    the SKUs) if any balance would go below zero, one ledger row per change stamped like ``adjust_stock``'s.
    Returns the changes made with each balance after."""
    changes = [(pk, int(delta)) for pk, delta in changes if int(delta)]
    if not changes:
        return []
    if reason not in StockMovement.Reason.values:
        raise ValidationError(_("Unknown stock movement reason: %(reason)s.") % {"reason": reason}, code="reason")
    actor = current_actor()
    now = timezone.now()
    stamps = {
        "reason": reason,
        "reference": reference[:120],
        "user_id": getattr(actor.acting_user, "pk", None),
        "job_id": getattr(actor.job, "pk", actor.job),
        "api_key_id": getattr(actor.api_key, "pk", actor.api_key),
        "import_batch_id": getattr(actor.import_batch, "pk", actor.import_batch),
    }
    with transaction.atomic():
        if connection.vendor == "postgresql":
            short, moved = bulk_postgres.adjust_stock(changes, stamps=stamps, now=now)
        else:
            short, moved = _adjust_stock_rows(changes, stamps=stamps, now=now)
        if short:
            raise ValidationError(
                _("Stock cannot go below zero for %(skus)s; nothing was changed.") % {"skus": ", ".join(short[:20])},
                code="insufficient_stock",
            )
        webhooks.emit_many(
            "stock.changed",
            moved,
            id_of=lambda row: row[0],
            extra_of=lambda row: {"delta": row[1], "reason": reason, "reference": stamps["reference"]},
        )
    return [StockChange(*row) for row in moved]


def _adjust_stock_rows(changes: list[tuple], *, stamps: dict, now) -> tuple[list[str], list[tuple]]:
    locked = Product.all_objects.filter(pk__in=[pk for pk, _d in changes]).only("pk", "sku", "stock")
    products = {p.pk: p for p in lock_in_order(locked)}
    if any(pk not in products for pk, _d in changes):
        raise ValidationError(_("This product no longer exists."), code="gone")
    balances = {pk: product.stock for pk, product in products.items()}
    moved, short = [], []
    for pk, delta in changes:
        balances[pk] += delta
        if balances[pk] < 0:
            short.append(products[pk].sku)
        moved.append((pk, delta, balances[pk]))
    if short:
        return short, []
    for pk, product in products.items():
        product.stock = balances[pk]
        product.updated_at = now
    _update_rows(list(products.values()), ["stock", "updated_at"])
    StockMovement.objects.bulk_create(
        [
            StockMovement(product_id=pk, delta=delta, balance_after=balance, created_at=now, **stamps)
            for pk, delta, balance in moved
        ],
        batch_size=1000,
    )
    return [], moved
