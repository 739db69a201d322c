"""Undo handler of customer imports (registered with backoffice.imports in orders.resources)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from backoffice.history import acting_as
from backoffice.imports import UndoRefused
from backoffice.imports.undo import field_values, refuse_changed_since, touched_by
from orders import services
from orders.models import Customer


def undo_customers(batch, *, user) -> dict:
    touched = touched_by(Customer, batch)
    refuse_changed_since(touched, batch, label=lambda record: record.email)
    counts = {"restored": 0, "deleted": 0}
    reason = str(_("Undo of import %(id)s") % {"id": str(batch.pk)[:8]})
    with acting_as(user=user):
        for entry in touched:
            customer = Customer.all_objects.get(pk=entry.pk)
            if entry.created:
                if customer.orders.exists():
                    raise UndoRefused(
                        _("The import cannot be undone: the customer %(email)s it created has orders now.")
                        % {"email": customer.email},
                        rows=[customer.email],
                    )
                customer._change_reason = reason
                customer.soft_delete()
                counts["deleted"] += 1
                continue
            values = field_values(entry.before, Customer, sorted(services.CUSTOMER_FIELDS | {"email"}))
            values = {name: ("" if value is None else value) for name, value in values.items()}
            services.update_customer(customer, user=user, **values)
            counts["restored"] += 1
    return counts
