"""Money in the active language: 1,234.50 (en), 1.234,50 (de), 1 234,50 (fr, es: a no-break space).

A DecimalField shown as it is only gets the decimal separator of the language (thousands separators are off
project-wide, so ids and counts in URLs and inputs stay plain); amounts are grouped on purpose, here.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format
from unfold.decorators import display

from backoffice.admin_helpers import EMPTY


def money(amount: Decimal | int | None, currency: str | None = None) -> str:
    if amount is None:
        return EMPTY
    text = number_format(amount, 2, force_grouping=True)
    return f"{text} {currency}" if currency else text


def money_column(field: str, description, currency_field: str | None = None):
    """A list_display/readonly_fields column for a money field, sortable by that field."""

    @display(description=description, ordering=field)
    def column(obj) -> str:
        return money(getattr(obj, field), getattr(obj, currency_field) if currency_field else None)

    column.__name__ = f"{field}_money"
    return column
