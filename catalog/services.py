"""Writes of the catalogue. Admin actions, jobs, imports, the API and the orders app all call these."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from backoffice import webhooks
from backoffice.history import acting_as, current_actor
from catalog.models import PATH_SEPARATOR, PRODUCT_WRITABLE_FIELDS, Category, Product, StockMovement

CENT = Decimal("0.01")


class InsufficientStock(ValidationError):
    def __init__(self, product, requested: int, available: int | None = None):
        self.product, self.requested, self.available = product, requested, available
        super().__init__(
            _("Not enough stock of %(sku)s: %(requested)s requested, %(available)s available.")
            % {"sku": product.sku, "requested": requested, "available": "?" if available is None else available},
            code="insufficient_stock",
        )


# --- products --------------------------------------------------------------------------------

PRODUCT_FIELDS = frozenset(PRODUCT_WRITABLE_FIELDS)
PRODUCT_M2M_FIELDS = frozenset({"tags", "related"})


def _check_fields(changes: dict) -> None:
    if "stock" in changes:
        raise ValidationError(
            {"stock": _("Stock changes go through a stock adjustment, so the ledger records every unit.")},
            code="stock_readonly",
        )
    unknown = set(changes) - PRODUCT_FIELDS - PRODUCT_M2M_FIELDS
    if unknown:
        raise ValidationError(
            _("Unknown product fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}, code="unknown_field"
        )


def check_sku_available(sku: str, *, exclude_pk=None) -> None:
    """SKUs are unique regardless of case among live products (also a database constraint)."""
    taken = Product.objects.filter(sku__iexact=sku).exclude(pk=exclude_pk).values_list("sku", flat=True).first()
    if sku and taken is not None:
        raise ValidationError(
            {"sku": _("Another product already uses the SKU %(sku)s.") % {"sku": taken}}, code="sku_taken"
        )


def _stamp_publication(product: Product) -> None:
    """A product activated for the first time is published now (set_status follows the same rule)."""
    if product.status == Product.Status.ACTIVE and product.published_at is None:
        product.published_at = timezone.now()


def _save_product(product: Product, m2m: dict) -> None:
    if not product.slug and product.name:
        product.slug = slugify(product.name)[:280] or slugify(product.sku)[:280]
    if product.deleted_at is None:
        check_sku_available(product.sku, exclude_pk=product.pk)
    product.full_clean()
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        # A concurrent writer took the SKU between our check and our insert.
        check_sku_available(product.sku, exclude_pk=product.pk)
        raise ValidationError(_("The product could not be saved: %(error)s") % {"error": exc}) from exc
    for name, values in m2m.items():
        getattr(product, name).set(values)


def _to_python(changes: dict) -> dict:
    """Values as the model holds them ("9.90" -> Decimal), so an unchanged value compares equal."""
    result, errors = {}, {}
    for name, value in changes.items():
        field = Product._meta.get_field(name)
        try:
            result[name] = value if field.is_relation else field.to_python(value)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return result


def create_product(*, opening_stock: int = 0, images=(), user=None, **fields) -> Product:
    """Create a product: opening stock through the ledger, ``images`` (ingested ImageAssets) attached
    in order. Raises ValidationError (per field where it can) and writes nothing on bad input."""
    _check_fields(fields)
    opening_stock = int(opening_stock or 0)
    if opening_stock < 0:
        raise ValidationError({"stock": _("Opening stock cannot be negative.")}, code="negative_stock")
    m2m = {name: list(fields.pop(name)) for name in PRODUCT_M2M_FIELDS & set(fields)}
    product = Product(**fields)
    _stamp_publication(product)
    with acting_as(user=user), transaction.atomic():
        _save_product(product, m2m)
        if opening_stock:
            adjust_stock(product, opening_stock, reason=StockMovement.Reason.RECEIPT, reference=_("Opening stock"))
        attach_images(product, images)
        webhooks.emit("product.created", product)
    return product


def update_product(product: Product, *, user=None, **changes) -> Product:
    """Change only the fields given. Nothing changed: nothing is written, and no history row."""
    _check_fields(changes)
    with acting_as(user=user), transaction.atomic():
        locked = Product.all_objects.select_for_update().get(pk=product.pk)
        m2m = {name: list(changes.pop(name)) for name in PRODUCT_M2M_FIELDS & set(changes)}
        changes = _to_python(changes)
        changed = [name for name, value in changes.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, changes[name])
        if "status" in changed:
            _stamp_publication(locked)
        m2m_changed = {
            name: values
            for name, values in m2m.items()
            if set(getattr(locked, name).values_list("pk", flat=True)) != {v.pk for v in values}
        }
        if not changed and not m2m_changed:
            return locked
        if changed:
            _save_product(locked, m2m_changed)
        else:
            for name, values in m2m_changed.items():
                getattr(locked, name).set(values)
        webhooks.emit("product.updated", locked)
    return locked


# --- stock ---------------------------------------------------------------------------------


def adjust_stock(
    product: Product, delta: int, *, reason: str, reference: str = "", user=None, _extra: dict | None = None
) -> StockMovement:
    """Change stock by ``delta`` and write the ledger row, in one transaction.

    The update is conditional (``stock >= -delta``) and relative (``F``), so concurrent callers can
    never take stock below zero: on PostgreSQL a racing update waits for the row lock and then
    re-checks the condition against the committed value.
    """
    delta = int(delta)
    if delta == 0:
        raise ValidationError(_("A stock change cannot be zero."), code="zero_delta")
    if reason not in StockMovement.Reason.values:
        raise ValidationError(_("Unknown stock movement reason: %(reason)s.") % {"reason": reason}, code="reason")
    actor = current_actor()
    if user is not None and user.is_authenticated:
        actor = replace(actor, user=user)
    with transaction.atomic():
        rows = Product.all_objects.filter(pk=product.pk)
        if delta < 0:
            rows = rows.filter(stock__gte=-delta)
        updated = rows.update(stock=F("stock") + delta, updated_at=timezone.now(), **(_extra or {}))
        if not updated:
            available = Product.all_objects.filter(pk=product.pk).values_list("stock", flat=True).first()
            if available is None:
                raise ValidationError(_("This product no longer exists."), code="gone")
            raise InsufficientStock(product, -delta, available)
        # Our update holds the row lock until commit, so this reads our own result.
        balance = Product.all_objects.filter(pk=product.pk).values_list("stock", flat=True).get()
        movement = StockMovement.objects.create(
            product_id=product.pk,
            delta=delta,
            balance_after=balance,
            reason=reason,
            reference=reference[:120],
            user=actor.acting_user,
            job=actor.job,
            **{
                name.removeprefix("history_"): value
                for name, value in actor.historical_attrs().items()
                if name != "history_job_id"
            },
        )
        webhooks.emit(
            "stock.changed", product.pk, extra={"delta": delta, "reason": reason, "reference": movement.reference}
        )
    product.stock = balance
    return movement


def record_sale(product: Product, quantity: int, *, reference: str = "", user=None) -> StockMovement:
    """Take ``quantity`` for a sale: stock, the sold-units counter and the last sale time at once."""
    if quantity <= 0:
        raise ValidationError(_("A sale needs a positive quantity."), code="quantity")
    return adjust_stock(
        product,
        -quantity,
        reason=StockMovement.Reason.SALE,
        reference=reference,
        user=user,
        _extra={"units_sold": F("units_sold") + quantity, "last_sold_at": timezone.now()},
    )


def restock_sale(product: Product, quantity: int, *, reason: str, reference: str = "", user=None) -> StockMovement:
    """Put back the units of a cancelled or returned sale."""
    if quantity <= 0:
        raise ValidationError(_("A restock needs a positive quantity."), code="quantity")
    if reason not in (StockMovement.Reason.CANCELLATION, StockMovement.Reason.RETURN):
        raise ValidationError(_("A sale is put back only on cancellation or return."), code="reason")
    return adjust_stock(
        product,
        quantity,
        reason=reason,
        reference=reference,
        user=user,
        _extra={"units_sold": Greatest(F("units_sold") - quantity, 0)},
    )


# --- prices --------------------------------------------------------------------------------

ROUNDING_RULES = {
    "cent": _("to the cent"),
    "ninety_nine": _("to .99"),
    "whole": _("to whole units"),
}


def new_price(price: Decimal, *, mode: str, value: Decimal, rounding: str = "cent") -> Decimal:
    """The price after a change by ``value`` percent or by a fixed ``value``; never negative."""
    if mode == "percent":
        result = price * (Decimal(100) + value) / Decimal(100)
    elif mode == "amount":
        result = price + value
    else:
        raise ValidationError(_("Choose a percentage or a fixed amount."), code="mode")
    if rounding == "whole":
        result = result.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    elif rounding == "ninety_nine":
        result = result.quantize(Decimal(1), rounding=ROUND_HALF_UP) - CENT if result >= 1 else result.quantize(CENT)
    else:
        result = result.quantize(CENT, rounding=ROUND_HALF_UP)
    if result < 0:
        raise ValidationError(
            _("The new price would be negative (%(price)s).") % {"price": result}, code="negative_price"
        )
    return result


def change_price(product: Product, *, mode: str, value: Decimal, rounding: str = "cent") -> bool:
    """Apply one price change; True when the price changed. History names the user or the job."""
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        price = new_price(locked.price, mode=mode, value=Decimal(value), rounding=rounding)
        if price == locked.price:
            return False
        locked.price = price
        locked._change_reason = _("Price change")
        locked.save(update_fields=["price", "updated_at"])
        webhooks.emit("product.updated", locked)
    return True


# --- status, tags, deletion ------------------------------------------------------------------


def set_status(product: Product, status: str) -> bool:
    if status not in Product.Status.values:
        raise ValidationError(_("Unknown status: %(status)s.") % {"status": status}, code="status")
    if product.status == status:
        return False
    product.status = status
    _stamp_publication(product)
    product._change_reason = _("Status changed to %(status)s") % {"status": product.get_status_display()}
    product.save(update_fields=["status", "published_at", "updated_at"])
    webhooks.emit("product.updated", product)
    return True


def add_tags(product: Product, tags) -> int:
    tags = list(tags)
    missing = [tag for tag in tags if not product.tags.filter(pk=tag.pk).exists()]
    if missing:
        product.tags.add(*missing)
        webhooks.emit("product.updated", product)
    return len(missing)


def remove_tags(product: Product, tags) -> int:
    tags = list(tags)
    present = list(product.tags.filter(pk__in=[t.pk for t in tags]))
    if present:
        product.tags.remove(*present)
        webhooks.emit("product.updated", product)
    return len(present)


def soft_delete_product(product: Product) -> bool:
    if product.deleted_at is not None:
        return False
    product._change_reason = _("Deleted")
    with transaction.atomic():
        product.soft_delete()
        webhooks.emit("product.deleted", product)
    return True


def restore_product(product: Product) -> bool:
    if product.deleted_at is None:
        return False
    if Product.objects.filter(sku__iexact=product.sku).exists():
        raise ValidationError(
            _("Cannot restore %(sku)s: another product now uses this SKU.") % {"sku": product.sku}, code="sku_taken"
        )
    product._change_reason = _("Restored")
    with transaction.atomic():
        product.restore()
        webhooks.emit("product.updated", product)
    return True


# --- categories ------------------------------------------------------------------------------


def check_parent(category: Category, parent: Category | None) -> None:
    """Refuse cycles: a category cannot sit below itself or one of its children."""
    walker = parent
    while walker is not None:
        if category.pk is not None and walker.pk == category.pk:
            raise ValidationError({"parent": _("A category cannot be placed below itself or one of its children.")})
        walker = walker.parent


def save_reference(instance, *, user=None):
    """Save a brand, supplier or tag: validated, and its history naming who acted."""
    instance.full_clean()
    with acting_as(user=user), transaction.atomic():
        instance.save()
    return instance


def save_category(category: Category, *, user=None) -> Category:
    """Save a category and keep its path, and its descendants' paths, up to date."""
    category.full_clean(exclude=["path", "depth"])
    with acting_as(user=user), transaction.atomic():
        if category.parent_id:
            ancestor = Category.objects.select_for_update().filter(pk=category.parent_id).first()
            if ancestor is None:
                raise ValidationError({"parent": _("The parent category no longer exists.")}, code="gone")
            check_parent(category, ancestor)
            category.path = _checked_path(f"{ancestor.path}{PATH_SEPARATOR}{category.name}")
            category.depth = ancestor.depth + 1
        else:
            category.path, category.depth = category.name, 0
        category.save()
        _refresh_descendants(category)
    return category


def _checked_path(path: str) -> str:
    limit = Category._meta.get_field("path").max_length
    if len(path) > limit:
        raise ValidationError(
            {
                "name": _(
                    "The full path of this category (or of one below it) would be longer than %(limit)d characters."
                )
                % {"limit": limit}
            },
            code="path_too_long",
        )
    return path


def _refresh_descendants(parent: Category) -> None:
    for child in Category.objects.filter(parent=parent):
        path = _checked_path(f"{parent.path}{PATH_SEPARATOR}{child.name}")
        if child.path != path or child.depth != parent.depth + 1:
            child.path, child.depth = path, parent.depth + 1
            child.save(update_fields=["path", "depth", "updated_at"])
            _refresh_descendants(child)


# --- images ------------------------------------------------------------------------------------


def attach_images(product: Product, assets) -> list:
    """Attach ingested images after the product's existing ones; the first becomes primary if none is."""
    from catalog.models import ProductImage

    created = []
    with transaction.atomic():
        existing = list(product.images.select_for_update().values_list("asset_id", "position", "is_primary"))
        attached = {asset_id for asset_id, _pos, _primary in existing}
        position = max((pos for _a, pos, _p in existing), default=-1) + 1
        has_primary = any(primary for _a, _pos, primary in existing)
        for asset in assets:
            if asset.pk in attached:
                continue
            created.append(
                ProductImage.objects.create(
                    product=product, asset=asset, position=position, is_primary=not has_primary, alt_text=product.name
                )
            )
            attached.add(asset.pk)
            position += 1
            has_primary = True
    return created


def price_change_preview(queryset, *, mode: str, value, rounding: str = "cent", sample: int = 10) -> dict:
    """How many products a price change would change or refuse, and a sample of old and new prices.

    Grouped by current price, so a preview of 100,000 products reads a few hundred distinct prices.
    """
    from django.db.models import Count

    changed = unchanged = refused = 0
    for row in queryset.order_by().values("price").annotate(n=Count("pk")):
        try:
            price = new_price(row["price"], mode=mode, value=Decimal(value), rounding=rounding)
        except ValidationError:
            refused += row["n"]
            continue
        if price == row["price"]:
            unchanged += row["n"]
        else:
            changed += row["n"]
    rows = []
    for product in queryset.order_by("sku")[:sample]:
        try:
            after = new_price(product.price, mode=mode, value=Decimal(value), rounding=rounding)
        except ValidationError:
            after = _("refused (negative)")
        rows.append((product.sku, product.name, product.price, after))
    return {
        "summary": _(
            "%(changed)s will change, %(unchanged)s stay the same, %(refused)s would become negative and are skipped."
        )
        % {"changed": changed, "unchanged": unchanged, "refused": refused},
        "headings": [_("SKU"), _("Name"), _("Price now"), _("New price")],
        "rows": rows,
        "changed": changed,
        "unchanged": unchanged,
        "refused": refused,
    }


from catalog.bulk import ImportSummary, bulk_adjust_stock, import_products  # noqa: E402, F401 - the bulk import path
