"""Chainable reads of the catalogue. Annotations are correlated subqueries or row expressions, so a
page of the admin costs work proportional to the page, not to the table."""

from __future__ import annotations

from django.db import models
from django.db.models import Case, Count, DecimalField, ExpressionWrapper, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from backoffice.models import SoftDeleteQuerySet
from catalog.choices import ProductStatus
from media_pipeline.querysets import variant_file


class CategoryQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class ProductQuerySet(SoftDeleteQuerySet):
    def active(self):
        return self.filter(status=ProductStatus.ACTIVE)

    def low_stock(self):
        # Matches the partial index product_low_stock.
        return self.filter(stock__lte=F("low_stock_threshold"))

    def search(self, term: str):
        """Exact SKU or barcode first (an index hit each); else words of the name (and the SKU prefix).

        On PostgreSQL the name match uses the trigram index (``product_name_trgm``), so a
        substring search over a million names stays fast.
        """
        term = (term or "").strip()
        if not term:
            return self
        exact = self.filter(Q(sku=term) | Q(barcode=term))
        if exact.exists():
            return exact
        query = Q(sku__istartswith=term)
        words = term.split()
        name_match = Q()
        for word in words:
            name_match &= Q(name__icontains=word)
        return self.filter(query | name_match)

    def with_primary_asset(self):
        from catalog.models import ProductImage

        first_image = ProductImage.objects.filter(product=OuterRef("pk")).order_by("-is_primary", "position")
        return self.annotate(primary_asset_id=Subquery(first_image.values("asset_id")[:1]))

    def admin_sort_expressions(self) -> dict:
        """The admin's computed columns: row expressions and correlated subqueries (an index hit each)."""
        from catalog.models import ProductImage, StockMovement

        money = DecimalField(max_digits=20, decimal_places=2)
        percent = DecimalField(max_digits=12, decimal_places=1)
        return {
            "image_count": count_of(ProductImage.objects.filter(product=OuterRef("pk")), "product"),
            "stock_value": ExpressionWrapper(F("stock") * F("cost"), output_field=money),
            "margin_pct": Case(
                When(price__gt=0, then=ExpressionWrapper(F("margin") * Value(100) / F("price"), output_field=percent)),
                default=None,
                output_field=percent,
            ),
            "last_movement_at": Subquery(
                StockMovement.objects.filter(product=OuterRef("pk")).order_by("-id").values("created_at")[:1]
            ),
        }

    def with_admin_annotations(self):
        """Every computed column of the admin, for a page of rows."""
        return (
            self.with_primary_asset()
            .annotate(**self.admin_sort_expressions())
            .annotate(thumb_file=variant_file("primary_asset_id"))
        )

    def with_admin_aliases(self):
        """The same columns as aliases: usable by order_by() and filter(), computed only when used."""
        return self.alias(**self.admin_sort_expressions())


def count_of(queryset, group_field: str) -> Coalesce:
    """COUNT(*) of a queryset correlated on ``group_field`` (grouped on it, so one row per outer row)."""
    counted = queryset.order_by().values(group_field).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=models.IntegerField()), 0)
