"""Undo handlers of the catalogue's imports (registered with backoffice.imports in catalog.resources)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.translation import gettext as _

from backoffice.history import acting_as
from backoffice.imports import UndoRefused
from backoffice.imports.undo import field_values, refuse_changed_since, touched_by
from catalog import services
from catalog.models import Product, StockMovement, Tag


def _reference(batch) -> str:
    return str(_("Undo of import %(id)s") % {"id": str(batch.pk)[:8]})


def undo_products(batch, *, user) -> dict:
    """Products back to their version before ``batch`` (tags included), the batch's stock movements reversed
    by compensating ones, products it created soft-deleted. Refused when any changed since."""
    touched = touched_by(Product, batch)
    refuse_changed_since(touched, batch, label=lambda record: record.sku)
    counts = {"restored": 0, "deleted": 0, "stock": 0}
    movements = (
        StockMovement.objects.filter(import_batch_id=batch.pk)
        .values("product_id")
        .annotate(total=Sum("delta"))
        .order_by("product_id")
    )
    with acting_as(user=user):
        for row in movements:
            if not row["total"]:
                continue
            product = Product.all_objects.get(pk=row["product_id"])
            try:
                services.adjust_stock(
                    product, -row["total"], reason=StockMovement.Reason.IMPORT, reference=_reference(batch), user=user
                )
            except ValidationError as exc:
                raise UndoRefused(
                    _("The import cannot be undone: %(error)s Nothing was undone.") % {"error": " ".join(exc.messages)},
                    rows=[product.sku],
                ) from exc
            counts["stock"] += 1
        for entry in touched:
            product = Product.all_objects.get(pk=entry.pk)
            if entry.created:
                if product.order_lines.exists():
                    raise UndoRefused(
                        _(
                            "The import cannot be undone: the product %(sku)s it created is on orders now. "
                            "Nothing was undone."
                        )
                        % {"sku": product.sku},
                        rows=[product.sku],
                    )
                product._change_reason = _reference(batch)
                services.soft_delete_product(product)
                counts["deleted"] += 1
                continue
            values = field_values(entry.before, Product, services.PRODUCT_FIELDS)
            for name in ("category", "brand", "supplier"):
                pk = values.pop(name)
                values[name] = Product._meta.get_field(name).related_model._base_manager.filter(pk=pk).first()
            values["tags"] = list(Tag.objects.filter(pk__in=[row.tag_id for row in entry.before.tags.all()]))
            services.update_product(product, user=user, **values)
            counts["restored"] += 1
    return counts


def undo_references(model, save):
    """An undo handler for brands, suppliers and categories: fields back, created rows deleted when nothing
    uses them."""

    names = [
        f.name
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and f.name not in ("created_at", "updated_at")
    ]

    def undo(batch, *, user) -> dict:
        touched = touched_by(model, batch)
        refuse_changed_since(touched, batch, label=lambda record: str(getattr(record, "name", record.pk)))
        counts = {"restored": 0, "deleted": 0}
        with acting_as(user=user):
            for entry in touched:
                obj = model._default_manager.get(pk=entry.pk)
                if entry.created:
                    if Product.all_objects.filter(**{model._meta.model_name: obj}).exists() or (
                        model._meta.model_name == "category" and obj.children.exists()
                    ):
                        raise UndoRefused(
                            _("The import cannot be undone: %(name)s, which it created, is in use now.")
                            % {"name": obj},
                            rows=[str(obj)],
                        )
                    obj._change_reason = _reference(batch)
                    obj.delete()
                    counts["deleted"] += 1
                    continue
                for name, value in field_values(entry.before, model, names).items():
                    setattr(obj, model._meta.get_field(name).attname, value)
                obj._change_reason = _reference(batch)
                save(obj, user=user)
                counts["restored"] += 1
        return counts

    return undo
