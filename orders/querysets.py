from django.db import models
from django.db.models import Count, DecimalField, IntegerField, Max, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from backoffice.models import SoftDeleteQuerySet
from orders.choices import OrderStatus


class CustomerQuerySet(SoftDeleteQuerySet):
    def with_order_stats(self):
        """Lifetime value (orders not cancelled), order count, last order: a subquery each per row."""
        from orders.models import Order

        mine = Order.objects.filter(customer=OuterRef("pk")).order_by().values("customer")
        counted = mine.exclude(status=OrderStatus.CANCELLED)
        return self.annotate(
            lifetime_value=Coalesce(
                Subquery(counted.annotate(v=Sum("total")).values("v")[:1]),
                Value(0),
                output_field=DecimalField(max_digits=16, decimal_places=2),
            ),
            order_count=Coalesce(Subquery(mine.annotate(n=Count("pk")).values("n")[:1]), Value(0)),
            last_order_at=Subquery(mine.annotate(m=Max("placed_at")).values("m")[:1]),
        )


class OrderQuerySet(models.QuerySet):
    def line_stat_expressions(self) -> dict:
        from orders.models import OrderLine

        lines = OrderLine.objects.filter(order=OuterRef("pk")).order_by().values("order")
        return {
            "line_count": Coalesce(Subquery(lines.annotate(n=Count("pk")).values("n")[:1]), Value(0)),
            "units": Coalesce(
                Subquery(lines.annotate(u=Sum("quantity")).values("u")[:1]), Value(0), output_field=IntegerField()
            ),
        }

    def with_line_stats(self):
        return self.annotate(**self.line_stat_expressions())

    def with_line_aliases(self):
        """The same as aliases, for ordering a changelist without computing them for every row."""
        return self.alias(**self.line_stat_expressions())

    def search(self, term: str):
        term = (term or "").strip()
        if not term:
            return self
        exact = self.filter(models.Q(number__iexact=term) | models.Q(external_ref=term))
        if exact.exists():
            return exact
        return self.filter(
            models.Q(customer__email__iexact=term)
            | models.Q(customer__name__icontains=term)
            | models.Q(number__icontains=term)
        )
